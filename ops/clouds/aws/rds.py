"""An RDS instance's point-in-time recovery window.

RDS reports the window's end as the instance's LatestRestorableTime and its start as the automated backup's
RestoreWindow.EarliestTime. Where that is absent (older APIs, moto), the oldest automated snapshot marks the start,
and never earlier than the retention period allows. The client is injected (a boto3 `rds` client).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ops.backup.pitr_window import PitrWindow, PitrWindowError
from ops.common.timestamps import require_aware


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
