"""Restore points of the cell's RDS database, taken before a rollout changes anything.

With automated backups on (BackupRetentionPeriod > 0) RDS can restore to any second up to the instance's
LatestRestorableTime, so recording that time is enough and costs nothing: no snapshot, no wait. Only when PITR is
off — or RDS reports no restorable time yet, as for an instance whose first backup has not finished — is an
on-demand snapshot taken, and then the rollout waits until the snapshot is available, because a restore point that
may still fail is not one.

The RDS client is injected (a boto3 `rds` client), so tests point it at moto's server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ops.backup.restore_point import RestorePoint, RestorePointError
from ops.common.timestamps import require_aware

SNAPSHOT_WAIT_DELAY_SECONDS = 30
SNAPSHOT_WAIT_MAX_ATTEMPTS = 120  # an hour at the default delay
_MAX_SNAPSHOT_ID_LENGTH = 255


def capture_rds_restore_point(
    rds: Any,
    db_instance_id: str,
    now: datetime,
    *,
    snapshot_prefix: str = "gitpod-cell",
    snapshot_tags: dict[str, str] | None = None,
    wait_delay_seconds: int = SNAPSHOT_WAIT_DELAY_SECONDS,
    wait_max_attempts: int = SNAPSHOT_WAIT_MAX_ATTEMPTS,
) -> RestorePoint:
    """PITR time when automated backups are on, else an on-demand snapshot waited for until available."""
    from botocore.exceptions import BotoCoreError, ClientError

    now = require_aware(now, "now")
    try:
        instances = rds.describe_db_instances(DBInstanceIdentifier=db_instance_id)["DBInstances"]
    except (ClientError, BotoCoreError) as error:
        raise RestorePointError(f"cannot describe RDS instance {db_instance_id!r}: {error}") from error
    if not instances:
        raise RestorePointError(f"RDS instance {db_instance_id!r} not found")
    instance = instances[0]
    latest_restorable = instance.get("LatestRestorableTime")
    # Decide by the retention period, not by the field's presence: a disabled backup has no PITR window even
    # where an API (moto, for one) still reports a restorable time.
    if int(instance.get("BackupRetentionPeriod") or 0) > 0 and latest_restorable is not None:
        return RestorePoint("pitr", db_instance_id, require_aware(latest_restorable), now)
    snapshot_id = snapshot_identifier(snapshot_prefix, db_instance_id, now)
    return _take_snapshot(rds, db_instance_id, snapshot_id, now, snapshot_tags or {}, wait_delay_seconds,
                          wait_max_attempts)


def _take_snapshot(
    rds: Any,
    db_instance_id: str,
    snapshot_id: str,
    now: datetime,
    tags: dict[str, str],
    wait_delay_seconds: int,
    wait_max_attempts: int,
) -> RestorePoint:
    from botocore.exceptions import BotoCoreError, ClientError, WaiterError

    try:
        rds.create_db_snapshot(
            DBSnapshotIdentifier=snapshot_id,
            DBInstanceIdentifier=db_instance_id,
            Tags=[{"Key": key, "Value": value} for key, value in sorted(tags.items())],
        )
        rds.get_waiter("db_snapshot_available").wait(
            DBSnapshotIdentifier=snapshot_id,
            WaiterConfig={"Delay": wait_delay_seconds, "MaxAttempts": wait_max_attempts},
        )
        snapshots = rds.describe_db_snapshots(DBSnapshotIdentifier=snapshot_id)["DBSnapshots"]
    except WaiterError as error:
        raise RestorePointError(f"snapshot {snapshot_id!r} of {db_instance_id!r} did not become available: "
                                f"{error}") from error
    except (ClientError, BotoCoreError) as error:
        raise RestorePointError(f"cannot snapshot RDS instance {db_instance_id!r}: {error}") from error
    created = snapshots[0].get("SnapshotCreateTime") if snapshots else None
    return RestorePoint("snapshot", db_instance_id, require_aware(created) if created else now, now, snapshot_id)


def snapshot_identifier(prefix: str, db_instance_id: str, now: datetime) -> str:
    """A valid, unique-per-second RDS snapshot id: letters, digits, single hyphens, starting with a letter."""
    raw = f"{prefix}-{db_instance_id}-{require_aware(now):%Y%m%d-%H%M%S}".lower()
    cleaned = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", raw)).strip("-")
    if not cleaned[:1].isalpha():
        cleaned = f"s-{cleaned}"
    # Keep the timestamp suffix when trimming: it is what makes the id unique.
    if len(cleaned) > _MAX_SNAPSHOT_ID_LENGTH:
        suffix = cleaned[-15:]
        cleaned = f"{cleaned[: _MAX_SNAPSHOT_ID_LENGTH - 16].rstrip('-')}-{suffix}"
    return cleaned


@dataclass
class RdsRestorePoints:
    """The RestorePointSource the rollout hooks use on AWS."""

    rds: Any
    db_instance_id: str
    snapshot_prefix: str = "gitpod-cell"
    snapshot_tags: dict[str, str] | None = None
    wait_delay_seconds: int = SNAPSHOT_WAIT_DELAY_SECONDS
    wait_max_attempts: int = SNAPSHOT_WAIT_MAX_ATTEMPTS

    def capture(self, now: datetime) -> RestorePoint:
        return capture_rds_restore_point(
            self.rds,
            self.db_instance_id,
            now,
            snapshot_prefix=self.snapshot_prefix,
            snapshot_tags=self.snapshot_tags,
            wait_delay_seconds=self.wait_delay_seconds,
            wait_max_attempts=self.wait_max_attempts,
        )
