"""The point-in-time recovery window of an RDS or Cloud SQL instance, and choosing a restore time inside it.

RDS reports the window's end as the instance's LatestRestorableTime and its start as the automated backup's
RestoreWindow.EarliestTime. Where that is absent (older APIs, moto), the oldest automated snapshot marks the start,
and never earlier than the retention period allows. A time outside the window is refused here, with the window in
the message, rather than by RDS halfway through a restore or a `pulumi up`.

Cloud SQL reports neither end of its window; `cloudsql_pitr_window` derives them from the instance's binary-log
setting and retention and from its successful backup runs (Admin API), so both clouds share PitrWindow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ops.timestamps import format_rfc3339, require_aware


class PitrWindowError(Exception):
    """No usable window, or a requested time outside it; the message names the instance and the window."""


@dataclass(frozen=True)
class PitrWindow:
    db_instance_id: str
    retention_days: int
    earliest: datetime | None
    latest: datetime | None

    @property
    def enabled(self) -> bool:
        return self.retention_days > 0 and self.latest is not None

    def describe(self) -> str:
        if not self.enabled:
            return f"{self.db_instance_id}: point-in-time recovery is OFF (backup retention {self.retention_days} days)"
        earliest = format_rfc3339(self.earliest) if self.earliest else "unknown"
        assert self.latest is not None
        return (f"{self.db_instance_id}: restorable from {earliest} to {format_rfc3339(self.latest)} "
                f"(retention {self.retention_days} days)")

    def to_dict(self) -> dict[str, Any]:
        return {
            "dbInstanceIdentifier": self.db_instance_id,
            "enabled": self.enabled,
            "retentionDays": self.retention_days,
            "earliestRestorableTime": format_rfc3339(self.earliest) if self.earliest else None,
            "latestRestorableTime": format_rfc3339(self.latest) if self.latest else None,
        }

    def restore_time(self, requested: datetime | None) -> datetime:
        """`requested`, checked against the window; None means the latest restorable time."""
        if not self.enabled or self.latest is None:
            raise PitrWindowError(f"{self.describe()}; no point-in-time restore is possible")
        if requested is None:
            return self.latest
        requested = require_aware(requested, "restore time")
        if self.earliest is not None and requested < self.earliest:
            raise PitrWindowError(
                f"restore time {format_rfc3339(requested)} is older than the point-in-time recovery window of "
                f"{self.describe()}; pick a time in the window or restore from a snapshot"
            )
        if requested > self.latest:
            raise PitrWindowError(
                f"restore time {format_rfc3339(requested)} is after the latest restorable time of "
                f"{self.describe()}; use 'latest' or an earlier time"
            )
        return requested


def describe_instance(rds: Any, db_instance_id: str) -> dict[str, Any]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        instances = rds.describe_db_instances(DBInstanceIdentifier=db_instance_id)["DBInstances"]
    except (ClientError, BotoCoreError) as error:
        raise PitrWindowError(f"cannot describe RDS instance {db_instance_id!r}: {error}") from error
    if not instances:
        raise PitrWindowError(f"RDS instance {db_instance_id!r} not found")
    return dict(instances[0])


def read_pitr_window(rds: Any, db_instance_id: str, instance: dict[str, Any] | None = None) -> PitrWindow:
    from botocore.exceptions import BotoCoreError, ClientError

    instance = instance or describe_instance(rds, db_instance_id)
    retention = int(instance.get("BackupRetentionPeriod") or 0)
    latest_raw = instance.get("LatestRestorableTime")
    latest = require_aware(latest_raw) if latest_raw else None
    if retention <= 0 or latest is None:
        return PitrWindow(db_instance_id, retention, None, None)
    earliest: datetime | None = None
    try:
        backups = rds.describe_db_instance_automated_backups(DBInstanceIdentifier=db_instance_id)
        for backup in backups.get("DBInstanceAutomatedBackups") or []:
            start = (backup.get("RestoreWindow") or {}).get("EarliestTime")
            if start is not None:
                earliest = require_aware(start) if earliest is None else min(earliest, require_aware(start))
        if earliest is None:
            snapshots = rds.describe_db_snapshots(DBInstanceIdentifier=db_instance_id,
                                                  SnapshotType="automated")["DBSnapshots"]
            created = [require_aware(s["SnapshotCreateTime"]) for s in snapshots if s.get("SnapshotCreateTime")]
            earliest = min(created) if created else None
    except (ClientError, BotoCoreError) as error:
        raise PitrWindowError(f"cannot read the automated backups of {db_instance_id!r}: {error}") from error
    if earliest is None and instance.get("InstanceCreateTime"):
        earliest = require_aware(instance["InstanceCreateTime"])
    oldest_retained = latest - timedelta(days=retention)
    if earliest is None or earliest < oldest_retained:
        earliest = oldest_retained
    return PitrWindow(db_instance_id, retention, earliest, latest)


# -- Cloud SQL ----------------------------------------------------------------------------------------------------

CLOUDSQL_DEFAULT_LOG_RETENTION_DAYS = 7  # Cloud SQL's default transactionLogRetentionDays


def cloudsql_pitr_window(instance_name: str, instance: dict[str, Any], backup_runs: list[dict[str, Any]],
                         now: datetime) -> PitrWindow:
    """A Cloud SQL instance's point-in-time window from its resource and its backup runs.

    Cloud SQL reports neither end: it clones to any moment covered by a successful backup plus the binary log kept
    after it. So the window starts at the later of the oldest successful backup run and `now` minus the
    transaction-log retention, and ends now. Without a successful backup run only the current state can be cloned
    (earliest = latest = now). Binary logging off: no window (retention 0).
    """
    from ops.cloudsql_restore_point import pitr_enabled

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
    from ops.gcp_api import GoogleApiError

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
    from ops.timestamps import parse_rfc3339

    text = run.get("endTime") or run.get("windowStartTime") or run.get("startTime")
    try:
        return parse_rfc3339(str(text)) if text else None
    except ValueError:
        return None
