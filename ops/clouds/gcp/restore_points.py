"""Restore points of the cell's Cloud SQL instance, taken before a rollout changes anything.

Cloud SQL for MySQL restores (clones) to any moment inside the binary-log window when point-in-time recovery is on
(`settings.backupConfiguration.binaryLogEnabled`, or `pointInTimeRecoveryEnabled`), so the restore point is simply
"now": kind "pitr", no backup, no wait. Otherwise an on-demand backup run is started and the rollout waits for its
operation to finish, because a restore point that may still fail is not one; its backup run id is the restore
point's `snapshot_id`.

Calls (Cloud SQL Admin API v1, through an injected HTTP session):
    GET  projects/{project}/instances/{instance}
    POST projects/{project}/instances/{instance}/backupRuns
    GET  projects/{project}/operations/{operation}
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from ops.backup.restore_point import RestorePoint, RestorePointError
from ops.clouds.gcp.api import GoogleApi, GoogleApiError
from ops.clouds.gcp.cloudsql import operation_errors, pitr_enabled, wait_for_operation
from ops.common.timestamps import parse_rfc3339, require_aware

OPERATION_POLL_SECONDS = 10.0
OPERATION_MAX_POLLS = 360  # an hour at the default delay


def capture_cloudsql_restore_point(
    api: GoogleApi,
    project: str,
    instance_name: str,
    now: datetime,
    *,
    description: str = "gitpod-cell pre-rollout restore point",
    poll_seconds: float = OPERATION_POLL_SECONDS,
    max_polls: int = OPERATION_MAX_POLLS,
    sleep: Callable[[float], None] = time.sleep,
) -> RestorePoint:
    """PITR "now" when the binary log is on, else an on-demand backup run waited for until done."""
    now = require_aware(now, "now")
    instance_path = f"projects/{project}/instances/{instance_name}"
    try:
        instance = api.call("GET", instance_path)
    except GoogleApiError as error:
        if error.status == 404:
            raise RestorePointError(f"Cloud SQL instance {instance_name!r} not found in project {project!r}") \
                from error
        raise RestorePointError(f"cannot read Cloud SQL instance {instance_name!r}: {error}") from error
    if pitr_enabled(instance):
        return RestorePoint("pitr", instance_name, now, now)
    try:
        operation = api.call("POST", f"{instance_path}/backupRuns", {"description": description})
        operation = wait_for_operation(api, project, operation, poll_seconds, max_polls, sleep)
    except GoogleApiError as error:
        raise RestorePointError(f"cannot back up Cloud SQL instance {instance_name!r}: {error}") from error
    reasons = operation_errors(operation)
    if reasons:
        raise RestorePointError(f"the backup of Cloud SQL instance {instance_name!r} failed: {reasons}")
    backup_id = (operation.get("backupContext") or {}).get("backupId")
    if not backup_id:
        raise RestorePointError(f"the backup operation {operation.get('name')!r} of {instance_name!r} names no "
                                "backup run")
    started = operation.get("startTime") or operation.get("insertTime")
    return RestorePoint("snapshot", instance_name, parse_rfc3339(started) if started else now, now, str(backup_id))


@dataclass
class CloudSqlRestorePoints:
    """The RestorePointSource the rollout hooks use on GCP."""

    project: str
    instance_name: str
    api: GoogleApi = field(default_factory=lambda: _default_api())
    description: str = "gitpod-cell pre-rollout restore point"
    poll_seconds: float = OPERATION_POLL_SECONDS
    max_polls: int = OPERATION_MAX_POLLS
    sleep: Callable[[float], None] = time.sleep

    def capture(self, now: datetime) -> RestorePoint:
        return capture_cloudsql_restore_point(
            self.api, self.project, self.instance_name, now, description=self.description,
            poll_seconds=self.poll_seconds, max_polls=self.max_polls, sleep=self.sleep,
        )


def _default_api() -> GoogleApi:
    from ops.clouds.gcp import api

    return GoogleApi(api.authorized_session(), api.SQLADMIN_URL)

