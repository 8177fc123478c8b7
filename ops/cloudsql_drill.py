"""The recovery drill on Cloud SQL: ops/drill.py's steps, with a clone of the source as the scratch instance.

Calls (Cloud SQL Admin API v1, through an injected ops.gcp_api.GoogleApi):

    GET    projects/{project}/instances/{source}                the window: binary log on, log retention
    GET    projects/{project}/instances/{source}/backupRuns     the window: the oldest successful backup
    POST   projects/{project}/instances/{source}/clone          cloneContext.destinationInstanceName = the scratch,
                                                                cloneContext.pointInTime = the restore time
    GET    projects/{project}/operations/{operation}            until the clone (patch, delete) is DONE
    GET    projects/{project}/instances/{scratch}               its private IP and its server CA
    PATCH  projects/{project}/instances/{scratch}               settings.deletionProtectionEnabled = false
    DELETE projects/{project}/instances/{scratch}

A clone is created in the source's region, on the source's private network, with the source's settings — deletion
protection included (Cloud SQL copies that option to clones, and the clone request cannot override it). So the
scratch instance's deletion protection is switched off as soon as it is running, and again before the delete if
need be; without that, the delete that must run whatever happened would be refused. For "latest" the clone names no
time: Cloud SQL then clones the source up to its most recent binary-log position. The report is written to the
cell's GCS bucket (a google.cloud.storage.Client).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ops.cloudsql_restore_point import operation_errors, wait_for_operation
from ops.drill import DrillSettings
from ops.gcp_api import GoogleApi, GoogleApiError
from ops.mysql_checks import MYSQL_PORT
from ops.pitr_window import PitrWindow, read_cloudsql_pitr_window
from ops.timestamps import format_rfc3339, utc_now


class CloudSqlDrillError(Exception):
    pass


def private_ip(instance: dict[str, Any]) -> str | None:
    """The instance's private IP address (the cell's instances have no public one)."""
    return next((str(address["ipAddress"]) for address in instance.get("ipAddresses") or []
                 if address.get("type") == "PRIVATE" and address.get("ipAddress")), None)


def server_ca_pem(instance: dict[str, Any]) -> str | None:
    return ((instance.get("serverCaCert") or {}).get("cert")) or None


@dataclass
class CloudSqlDrillBackend:
    """ops.drill.DrillBackend on Cloud SQL. `restored_ca_pem` is the scratch instance's server CA once it runs (a
    clone has its own), for the connector that verifies it."""

    api: GoogleApi
    gcs: Any
    project: str
    settings: DrillSettings
    clock: Callable[[], datetime] = utc_now
    sleep: Callable[[float], None] = time.sleep
    restored_ca_pem: str | None = field(default=None, init=False)
    _clone: dict[str, Any] | None = field(default=None, init=False, repr=False)

    def pitr_window(self) -> PitrWindow:
        return read_cloudsql_pitr_window(self.api, self.project, self.settings.db_instance_id, self.clock())

    def restore(self, scratch: str, restore_time: datetime, *, latest: bool) -> None:
        context: dict[str, Any] = {"kind": "sql#cloneContext", "destinationInstanceName": scratch}
        if not latest:
            context["pointInTime"] = format_rfc3339(restore_time)
        self._clone = self.api.call("POST", f"{self._path(self.settings.db_instance_id)}/clone",
                                    {"cloneContext": context})

    def wait_available(self, scratch: str) -> tuple[str, int]:
        if self._clone is None:
            raise CloudSqlDrillError("no clone was started")
        self._finish(self._clone, f"the clone of {self.settings.db_instance_id} into {scratch}")
        instance = self.api.call("GET", self._path(scratch))
        if instance.get("state") != "RUNNABLE":
            raise CloudSqlDrillError(f"{scratch} is {instance.get('state')}, not RUNNABLE, after its clone finished")
        self._unprotect(scratch, instance)
        address = private_ip(instance)
        if address is None:
            raise CloudSqlDrillError(f"{scratch} is running but reports no private IP address")
        self.restored_ca_pem = server_ca_pem(instance)
        return address, MYSQL_PORT

    def delete(self, scratch: str) -> None:
        try:
            instance = self.api.call("GET", self._path(scratch))
        except GoogleApiError as error:
            if error.status == 404:
                return  # the clone never created it
            raise
        self._unprotect(scratch, instance)
        self._finish(self.api.call("DELETE", self._path(scratch)), f"the delete of {scratch}")

    def write_report(self, key: str, body: bytes, content_type: str) -> str:
        from ops.gcs_config_store import REQUEST_TIMEOUT_SECONDS

        self.gcs.bucket(self.settings.bucket).blob(key).upload_from_string(body, content_type=content_type,
                                                                            timeout=REQUEST_TIMEOUT_SECONDS)
        return f"gs://{self.settings.bucket}/{key}"

    def _unprotect(self, scratch: str, instance: dict[str, Any]) -> None:
        if (instance.get("settings") or {}).get("deletionProtectionEnabled"):
            operation = self.api.call("PATCH", self._path(scratch), {"settings": {"deletionProtectionEnabled": False}})
            self._finish(operation, f"switching off the deletion protection {scratch} inherited from its source")

    def _finish(self, operation: dict[str, Any], what: str) -> None:
        done = wait_for_operation(self.api, self.project, operation, self.settings.wait_delay_seconds,
                                  self.settings.wait_max_attempts, self.sleep)
        errors = operation_errors(done)
        if errors:
            raise CloudSqlDrillError(f"{what} failed: {errors}")

    def _path(self, instance: str) -> str:
        return f"projects/{self.project}/instances/{instance}"
