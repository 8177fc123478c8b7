"""The AWS half of `ops backup status` (ops.backup.status): RDS (PITR window, cross-region backup replication,
last snapshot), S3 (versioning, replication, the replica bucket) and ECR. boto3 clients are injected: the cell's
region's, and the replica region's rds and s3 when the cell has one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ops.clouds.aws.rds import PitrWindowError, describe_instance, read_pitr_window
from ops.common.cell_target import CellTarget
from ops.common.timestamps import format_rfc3339


@dataclass(frozen=True)
class AwsStatusSource:
    rds: Any
    s3: Any
    ecr: Any
    replica_rds: Any | None = None
    replica_s3: Any | None = None

    def database(self, target: CellTarget, now: datetime, gaps: list[str]) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            instance = describe_instance(self.rds, target.db_instance_id)
            window = read_pitr_window(self.rds, target.db_instance_id, instance)
        except PitrWindowError as error:
            gaps.append(f"database: {error}")
            return {"instance": target.db_instance_id, "error": str(error)}
        section: dict[str, Any] = {"instance": target.db_instance_id, "pointInTimeRecovery": window.to_dict()}
        if not window.enabled:
            gaps.append("database: point-in-time recovery is off; only manual snapshots can restore it")
        replications = [entry.get("DBInstanceAutomatedBackupsArn") for entry in
                        instance.get("DBInstanceAutomatedBackupsReplications") or []]
        section["crossRegionBackups"] = self._replicated_backups(target, replications)
        if not section["crossRegionBackups"]["replicated"]:
            gaps.append(f"database: automated backups are not copied to another region; losing {target.region} "
                        "loses the database backups with it")
        try:
            snapshots = self.rds.describe_db_snapshots(DBInstanceIdentifier=target.db_instance_id)["DBSnapshots"]
        except (ClientError, BotoCoreError) as error:
            snapshots = []
            section["lastSnapshotError"] = str(error)
        if snapshots:
            last = max(snapshots, key=lambda snapshot: snapshot.get("SnapshotCreateTime") or datetime.min)
            section["lastSnapshot"] = {
                "id": last["DBSnapshotIdentifier"],
                "type": last.get("SnapshotType"),
                "status": last.get("Status"),
                "createdAt": format_rfc3339(last["SnapshotCreateTime"]) if last.get("SnapshotCreateTime") else None,
            }
        else:
            section["lastSnapshot"] = None
        return section

    def _replicated_backups(self, target: CellTarget, arns: list[Any]) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        result: dict[str, Any] = {"replicated": bool(arns), "region": target.replica_region, "arns": arns}
        if self.replica_rds is None or not target.replica_region:
            return result
        try:
            backups = self.replica_rds.describe_db_instance_automated_backups(
                DBInstanceIdentifier=target.db_instance_id).get("DBInstanceAutomatedBackups") or []
        except (ClientError, BotoCoreError) as error:
            result["replicaError"] = str(error)
            return result
        windows = [backup.get("RestoreWindow") or {} for backup in backups]
        if backups:
            result["replicated"] = True
            result["replicaRestoreWindows"] = [
                {key: format_rfc3339(value) for key, value in window.items() if isinstance(value, datetime)}
                for window in windows
            ]
        return result

    def object_storage(self, target: CellTarget, gaps: list[str]) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        versioning = self.s3.get_bucket_versioning(Bucket=target.bucket).get("Status") or "Disabled"
        section: dict[str, Any] = {"bucket": target.bucket, "versioning": versioning}
        if versioning != "Enabled":
            gaps.append(f"object storage: versioning of {target.bucket} is {versioning}; an overwrite or delete "
                        "cannot be undone")
        try:
            rules = self.s3.get_bucket_replication(Bucket=target.bucket)["ReplicationConfiguration"]["Rules"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ReplicationConfigurationNotFoundError":
                raise
            rules = []
        enabled = [rule for rule in rules if rule.get("Status") == "Enabled"]
        section["replication"] = [{"id": rule.get("ID"), "status": rule.get("Status"),
                                   "destination": (rule.get("Destination") or {}).get("Bucket")} for rule in rules]
        if not enabled:
            gaps.append(f"object storage: {target.bucket} is not replicated; workspace content is lost with "
                        f"{target.region}")
        if target.replica_bucket and self.replica_s3 is not None:
            try:
                replica = self.replica_s3.get_bucket_versioning(Bucket=target.replica_bucket).get("Status")
                section["replicaBucket"] = {"bucket": target.replica_bucket, "versioning": replica or "Disabled"}
            except ClientError as error:
                section["replicaBucket"] = {"bucket": target.replica_bucket, "error": str(error)}
                gaps.append(f"object storage: replica bucket {target.replica_bucket} cannot be read ({error})")
        return section



    def registry(self, target: CellTarget) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        found: dict[str, Any] = {}
        for name in target.repositories:
            try:
                (repository,) = self.ecr.describe_repositories(repositoryNames=[name])["repositories"]
                found[name] = {"uri": repository.get("repositoryUri"),
                               "scanOnPush": (repository.get("imageScanningConfiguration") or {}).get("scanOnPush")}
            except ClientError as error:
                found[name] = {"error": error.response.get("Error", {}).get("Code", str(error))}
        return {"repositories": found}
