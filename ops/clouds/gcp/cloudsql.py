"""A Cloud SQL instance as ops/ reads it through the Admin API v1 (an injected ops.clouds.gcp.api.GoogleApi):
its address, server CA and certificate identity, its long-running operations, and its point-in-time window.

Cloud SQL reports neither end of its window; `cloudsql_pitr_window` derives them from the instance's binary-log
setting and retention and from its successful backup runs, so both clouds share ops.backup.pitr_window.PitrWindow.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from ops.backup.pitr_window import PitrWindow, PitrWindowError
from ops.checks.mysql import ServerIdentity
from ops.clouds.gcp.api import GoogleApi, GoogleApiError
from ops.common.timestamps import parse_rfc3339, require_aware

CLOUDSQL_DEFAULT_LOG_RETENTION_DAYS = 7  # Cloud SQL's default transactionLogRetentionDays


def pitr_enabled(instance: dict[str, Any]) -> bool:
    backup = ((instance.get("settings") or {}).get("backupConfiguration")) or {}
    return bool(backup.get("pointInTimeRecoveryEnabled") or backup.get("binaryLogEnabled"))


def private_ip(instance: dict[str, Any]) -> str | None:
    """The instance's private IP address (the cell's instances have no public one)."""
    return next((str(address["ipAddress"]) for address in instance.get("ipAddresses") or []
                 if address.get("type") == "PRIVATE" and address.get("ipAddress")), None)


def server_ca_pem(instance: dict[str, Any]) -> str | None:
    return ((instance.get("serverCaCert") or {}).get("cert")) or None


def server_identity(project: str, name: str, instance: dict[str, Any] | None = None) -> ServerIdentity:
    """What the instance's server certificate names: CN `<project>:<instance>` (its IP is in no certificate), or
    its `dnsName` as a SAN on a CAS-based instance."""
    dns_name = (instance or {}).get("dnsName")
    return ServerIdentity.cloud_sql(project, name, str(dns_name) if dns_name else None)


def wait_for_operation(api: GoogleApi, project: str, operation: dict[str, Any], poll_seconds: float,
                       max_polls: int, sleep: Callable[[float], None]) -> dict[str, Any]:
    """Poll a Cloud SQL operation (`GET projects/{project}/operations/{name}`) until DONE; the DONE resource, which
    may carry an `error` (operation_errors)."""
    name = operation.get("name")
    if not name:
        raise GoogleApiError("the answer is not an operation (no name)")
    for _ in range(max_polls):
        if operation.get("status") == "DONE":
            return operation
        sleep(poll_seconds)
        operation = api.call("GET", f"projects/{project}/operations/{name}")
    if operation.get("status") == "DONE":
        return operation
    raise GoogleApiError(f"operation {name} is still {operation.get('status')} after "
                         f"{max_polls * poll_seconds:g}s")


def operation_errors(operation: dict[str, Any]) -> str | None:
    """The errors a DONE operation reports, as one line; None when it succeeded."""
    errors = ((operation.get("error") or {}).get("errors")) or []
    if not errors:
        return None
    return "; ".join(f"{item.get('code')}: {item.get('message')}" for item in errors)



def cloudsql_pitr_window(instance_name: str, instance: dict[str, Any], backup_runs: list[dict[str, Any]],
                         now: datetime) -> PitrWindow:
    """A Cloud SQL instance's point-in-time window from its resource and its backup runs.

    Cloud SQL reports neither end: it clones to any moment covered by a successful backup plus the binary log kept
    after it. So the window starts at the later of the oldest successful backup run and `now` minus the
    transaction-log retention, and ends now. Without a successful backup run only the current state can be cloned
    (earliest = latest = now). Binary logging off: no window (retention 0).
    """
    now = require_aware(now, "now")
    backup = ((instance.get("settings") or {}).get("backupConfiguration")) or {}
    log_days = int(backup.get("transactionLogRetentionDays") or CLOUDSQL_DEFAULT_LOG_RETENTION_DAYS)
    if not pitr_enabled(instance):
        return PitrWindow(instance_name, 0, None, None)
    finished = [_run_time(run) for run in backup_runs if run.get("status") == "SUCCESSFUL"]
    known = [moment for moment in finished if moment is not None]
    if not known:
        return PitrWindow(instance_name, log_days, now, now)
    earliest = max(min(known), now - timedelta(days=log_days))
    return PitrWindow(instance_name, log_days, min(earliest, now), now)


def read_cloudsql_pitr_window(api: Any, project: str, instance_name: str, now: datetime,
                              instance: dict[str, Any] | None = None) -> PitrWindow:
    """GET the instance (unless given) and its backup runs; the window as cloudsql_pitr_window computes it."""
    path = f"projects/{project}/instances/{instance_name}"
    try:
        instance = instance or api.call("GET", path)
    except GoogleApiError as error:
        if error.status == 404:
            raise PitrWindowError(f"Cloud SQL instance {instance_name!r} not found in project {project!r}") \
                from error
        raise PitrWindowError(f"cannot read Cloud SQL instance {instance_name!r}: {error}") from error
    try:
        runs = list_backup_runs(api, project, instance_name)
    except GoogleApiError as error:
        raise PitrWindowError(f"cannot list the backup runs of {instance_name!r}: {error}") from error
    return cloudsql_pitr_window(instance_name, instance, runs, now)


def list_backup_runs(api: Any, project: str, instance_name: str, max_pages: int = 50) -> list[dict[str, Any]]:
    """Every backup run of the instance (newest first, as the API lists them), following nextPageToken."""
    path = f"projects/{project}/instances/{instance_name}/backupRuns"
    runs: list[dict[str, Any]] = []
    token: str | None = None
    for _ in range(max_pages):
        page = api.call("GET", f"{path}?pageToken={token}" if token else path)
        runs.extend(page.get("items") or [])
        token = page.get("nextPageToken")
        if not token:
            break
    return runs


def _run_time(run: dict[str, Any]) -> datetime | None:
    # The backup is usable from when it finished; older answers (and some run types) carry only the start.
    text = run.get("endTime") or run.get("windowStartTime") or run.get("startTime")
    try:
        return parse_rfc3339(str(text)) if text else None
    except ValueError:
        return None
