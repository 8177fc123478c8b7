"""Where `ops restore plan` reads an AWS cell's backups: RDS's point-in-time window (or, for a restore into the
replica region, the automated backups RDS replicated there) and the config backups in the adopted S3 bucket."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ops.backup.pitr_window import PitrWindow, PitrWindowError
from ops.backup.restore_plan import RestorePlanError
from ops.clouds.aws.rds import read_pitr_window
from ops.clouds.aws.s3 import S3ObjectStore
from ops.clouds.base import ObjectStore
from ops.common.cell_target import CellTarget


@dataclass
class RdsRestoreSources:
    """RDS and S3: `rds` in the old cell's region, `s3` and `replica_rds` where the new cell goes."""

    rds: Any
    s3: Any
    replica_rds: Any | None = None

    def region_refusal(self, target: CellTarget, region: str) -> str | None:
        return None  # the replica region is checked by the plan; RDS restores there from replicated backups

    def pitr_window(self, target: CellTarget) -> PitrWindow:
        try:
            return read_pitr_window(self.rds, target.db_instance_id)
        except PitrWindowError as error:
            raise RestorePlanError(str(error)) from error

    def replicated_backups(self, target: CellTarget, region: str) -> tuple[PitrWindow, str]:
        """The automated backups RDS replicated into `region`: their restore window and ARN. An RDS point-in-time
        restore never crosses regions, so without them there is nothing to restore from there."""
        from botocore.exceptions import BotoCoreError, ClientError

        if self.replica_rds is None:
            raise ValueError("a restore into another region needs an RDS client for that region")
        try:
            backups = self.replica_rds.describe_db_instance_automated_backups(
                DBInstanceIdentifier=target.db_instance_id)
        except (ClientError, BotoCoreError) as error:
            raise RestorePlanError(f"cannot list the automated backups of {target.db_instance_id} in {region}: "
                                   f"{error}") from error
        for backup in backups.get("DBInstanceAutomatedBackups") or []:
            window = backup.get("RestoreWindow") or {}
            arn = backup.get("DBInstanceAutomatedBackupsArn")
            if arn and window.get("EarliestTime") and window.get("LatestTime"):
                return (PitrWindow(target.db_instance_id, int(backup.get("BackupRetentionPeriod") or 1),
                                   window["EarliestTime"], window["LatestTime"]), arn)
        raise RestorePlanError(f"no automated backups of {target.db_instance_id} are replicated to {region}; a "
                               "restore there needs gitpod-cell:database.crossRegionBackups (on in prod). Restore "
                               f"into {target.region} instead, or from a snapshot copied to {region}")

    def object_store(self, bucket: str) -> ObjectStore:
        return S3ObjectStore(self.s3, bucket)

    def notes(self, target: CellTarget, adopt_bucket: str) -> list[str]:
        return []
