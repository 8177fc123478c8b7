"""The recovery drill on Cloud SQL: ops.checks.drill's steps, with a clone of the source as the scratch instance.

Calls (Cloud SQL Admin API v1, through an injected ops.clouds.gcp.api.GoogleApi):

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
time: Cloud SQL then clones the source up to its most recent binary-log position, a moment the API does not report —
so the drill records the clone operation's times and measures RPO from the data (ops.checks.drill), never as "now
minus now".

While the clone operation runs, the scratch instance exists (PENDING_CREATE) and Cloud SQL refuses to patch or
delete it (HTTP 409: another operation is in progress). So `delete` first waits for the clone operation to finish
(bounded by `settings.delete_timeout_seconds`), then retries a 409 with backoff within the same bound, and says
plainly what is left if it still cannot delete. `leftover_scratch_instances` lists a stack's old scratch instances
for `python -m ops drill --cleanup`:

    GET    projects/{project}/instances                          every instance (paged), for the sweeper
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ops.backup.pitr_window import PitrWindow
from ops.checks.drill import DRILL_LABEL_KEY, DRILL_LABEL_VALUE, DrillSettings, LeftoverInstance, scratch_name_time
from ops.checks.mysql import MYSQL_PORT, ServerIdentity
from ops.clouds.gcp.api import GoogleApi, GoogleApiError
from ops.clouds.gcp.cloudsql import (
    operation_errors,
    private_ip,
    read_cloudsql_pitr_window,
    server_ca_pem,
    server_identity,
    wait_for_operation,
)
from ops.common.timestamps import format_rfc3339, parse_rfc3339, utc_now

CONFLICT = 409  # Cloud SQL: "another operation is in progress" on this instance
RETRY_FIRST_DELAY_SECONDS = 5.0
RETRY_MAX_DELAY_SECONDS = 60.0
# Cloud SQL clones to the latest binary-log position at a moment the API does not report.
LATEST_RESTORE_POINT_NOTE = "not measured (Cloud SQL clones to the latest binlog position)"


class CloudSqlDrillError(Exception):
    pass


@dataclass
class CloudSqlDrillBackend:
    """ops.checks.drill.DrillBackend on Cloud SQL. `restored_ca_pem` is the scratch instance's server CA once it runs (a
    clone has its own) and `restored_identity` what its certificate names, for the connector that verifies it."""

    api: GoogleApi
    project: str
    settings: DrillSettings
    clock: Callable[[], datetime] = utc_now
    sleep: Callable[[float], None] = time.sleep
    restored_ca_pem: str | None = field(default=None, init=False)
    restored_identity: ServerIdentity | None = field(default=None, init=False)
    # ops.checks.drill reads these: a "latest" clone's restore point is not a time the drill knows.
    latest_restore_time_exact: bool = field(default=False, init=False)
    latest_restore_note: str = field(default=LATEST_RESTORE_POINT_NOTE, init=False)
    # The clone operation's insertTime/startTime/endTime, as Cloud SQL reports them (for the report).
    restore_operation: dict[str, str] = field(default_factory=dict, init=False)
    _clone: dict[str, Any] | None = field(default=None, init=False, repr=False)
    _clone_done: bool = field(default=False, init=False, repr=False)

    def pitr_window(self) -> PitrWindow:
        return read_cloudsql_pitr_window(self.api, self.project, self.settings.db_instance_id, self.clock())

    def restore(self, scratch: str, restore_time: datetime, *, latest: bool) -> None:
        context: dict[str, Any] = {"kind": "sql#cloneContext", "destinationInstanceName": scratch}
        if not latest:
            context["pointInTime"] = format_rfc3339(restore_time)
        self._clone = self.api.call("POST", f"{self._path(self.settings.db_instance_id)}/clone",
                                    {"cloneContext": context})
        self._record_operation_times(self._clone)

    def wait_available(self, scratch: str) -> tuple[str, int]:
        if self._clone is None:
            raise CloudSqlDrillError("no clone was started")
        done = wait_for_operation(self.api, self.project, self._clone, self.settings.wait_delay_seconds,
                                  self.settings.wait_max_attempts, self.sleep)
        self._clone, self._clone_done = done, True
        self._record_operation_times(done)
        errors = operation_errors(done)
        if errors:
            raise CloudSqlDrillError(f"the clone of {self.settings.db_instance_id} into {scratch} failed: {errors}")
        instance = self.api.call("GET", self._path(scratch))
        if instance.get("state") != "RUNNABLE":
            raise CloudSqlDrillError(f"{scratch} is {instance.get('state')}, not RUNNABLE, after its clone finished")
        self._label_and_unprotect(scratch, instance)
        address = private_ip(instance)
        if address is None:
            raise CloudSqlDrillError(f"{scratch} is running but reports no private IP address")
        self.restored_ca_pem = server_ca_pem(instance)
        self.restored_identity = server_identity(self.project, scratch, instance)
        return address, MYSQL_PORT

    def delete(self, scratch: str) -> None:
        """Wait for a running clone to finish, then delete, retrying Cloud SQL's 409 with backoff; all within
        `settings.delete_timeout_seconds`."""
        deadline = self.clock() + timedelta(seconds=self.settings.delete_timeout_seconds)
        clone_state = self._settle_clone(deadline)
        delay = RETRY_FIRST_DELAY_SECONDS
        attempts = 0
        while True:
            attempts += 1
            try:
                self._delete_once(scratch)
                return
            except GoogleApiError as error:
                if error.status != CONFLICT:
                    raise
                last_conflict = error
            if self.clock() + timedelta(seconds=delay) > deadline:
                break
            self.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_DELAY_SECONDS)
        pending = f"; its clone operation is still {clone_state}" if clone_state else ""
        raise CloudSqlDrillError(
            f"could not delete {scratch}: Cloud SQL still refuses (HTTP 409, another operation in progress) after "
            f"{attempts} attempts over {self.settings.delete_timeout_seconds:g}s{pending}: {last_conflict}. It is "
            f"left behind: run `python -m ops drill --cleanup --stack {self.settings.stack}` once the operation "
            f"has finished, or `gcloud sql instances patch {scratch} --no-deletion-protection` and `gcloud sql "
            f"instances delete {scratch}`")

    def leftover_scratch_instances(self, prefix: str, now: datetime) -> list[LeftoverInstance]:
        """The project's instances named `<prefix>-drill-<time>` (and, when labelled, labelled as a drill's)."""
        pattern = re.compile(rf"^{re.escape(prefix)}-drill-\d{{14}}$")
        found: list[LeftoverInstance] = []
        page_token: str | None = None
        while True:
            path = f"projects/{self.project}/instances" + (f"?pageToken={page_token}" if page_token else "")
            page = self.api.call("GET", path)
            for instance in page.get("items") or []:
                name = str(instance.get("name") or "")
                if not pattern.match(name) or name == self.settings.db_instance_id:
                    continue
                labels = (instance.get("settings") or {}).get("userLabels") or {}
                if DRILL_LABEL_KEY in labels and labels[DRILL_LABEL_KEY] != DRILL_LABEL_VALUE:
                    continue
                created_text = instance.get("createTime")
                created = parse_rfc3339(str(created_text)) if created_text else scratch_name_time(name)
                found.append(LeftoverInstance(name, created, str(instance.get("state") or "")))
            page_token = page.get("nextPageToken")
            if not page_token:
                return found

    def _settle_clone(self, deadline: datetime) -> str | None:
        """Wait (until `deadline`) for the clone operation, when one was started and is not known finished; its
        status if it is still not DONE, else None. A failed clone is fine here: there may be nothing to delete."""
        if self._clone is None or self._clone_done or not self._clone.get("name"):
            return None
        path = f"projects/{self.project}/operations/{self._clone['name']}"
        while (operation := self.api.call("GET", path)).get("status") != "DONE":
            if self.clock() + timedelta(seconds=self.settings.wait_delay_seconds) > deadline:
                return str(operation.get("status") or "unknown")
            self.sleep(self.settings.wait_delay_seconds)
        self._clone, self._clone_done = operation, True
        self._record_operation_times(operation)
        return None

    def _delete_once(self, scratch: str) -> None:
        try:
            instance = self.api.call("GET", self._path(scratch))
        except GoogleApiError as error:
            if error.status == 404:
                return  # the clone never created it, or it is gone already
            raise
        self._unprotect(scratch, instance)
        try:
            operation = self.api.call("DELETE", self._path(scratch))
        except GoogleApiError as error:
            if error.status == 404:
                return
            raise
        self._finish(operation, f"the delete of {scratch}")

    def _label_and_unprotect(self, scratch: str, instance: dict[str, Any]) -> None:
        """Label the scratch instance as a drill's (for the sweeper) and switch off the deletion protection it
        inherited, in one patch."""
        settings = instance.get("settings") or {}
        labels = dict(settings.get("userLabels") or {})
        labels.update({DRILL_LABEL_KEY: DRILL_LABEL_VALUE, "cell": _label_value(self.settings.stack)})
        operation = self.api.call("PATCH", self._path(scratch),
                                  {"settings": {"deletionProtectionEnabled": False, "userLabels": labels}})
        self._finish(operation, f"labelling {scratch} and switching off the deletion protection it inherited")

    def _unprotect(self, scratch: str, instance: dict[str, Any]) -> None:
        if (instance.get("settings") or {}).get("deletionProtectionEnabled"):
            operation = self.api.call("PATCH", self._path(scratch), {"settings": {"deletionProtectionEnabled": False}})
            self._finish(operation, f"switching off the deletion protection {scratch} inherited from its source")

    def _finish(self, operation: dict[str, Any], what: str) -> dict[str, Any]:
        done = wait_for_operation(self.api, self.project, operation, self.settings.wait_delay_seconds,
                                  self.settings.wait_max_attempts, self.sleep)
        errors = operation_errors(done)
        if errors:
            raise CloudSqlDrillError(f"{what} failed: {errors}")
        return done

    def _record_operation_times(self, operation: dict[str, Any]) -> None:
        for key in ("insertTime", "startTime", "endTime"):
            if operation.get(key):
                self.restore_operation[key] = str(operation[key])

    def _path(self, instance: str) -> str:
        return f"projects/{self.project}/instances/{instance}"


def _label_value(text: str) -> str:
    """A Cloud SQL label value: lower-case letters, digits, '-' and '_', at most 63."""
    return re.sub(r"[^a-z0-9_-]", "-", text.lower())[:63]
