"""`ops backup status` for a cell on an existing cluster: what can be seen from here, and what cannot.

The database: binary logging, its retention and GTIDs, and the current position (the restore points the rollouts
record are positions in these logs). Base backups are the operator's and invisible to ops/: always listed as a gap.
The bucket: versioning (config backups are found through object versions).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from ops.common.cell_target import CellTarget

if TYPE_CHECKING:
    from ops.clouds.kubernetes.cell import ExistingClusterCellClients

MIN_BINLOG_RETENTION_DAYS = 7
BASE_BACKUPS_GAP = ("database: base backups are the operator's and not visible here; a recorded restore point "
                    "(binary-log position) is only restorable from a base backup taken before it")


class ExistingClusterStatus:
    def __init__(self, cell: ExistingClusterCellClients) -> None:
        self.cell = cell

    def database(self, target: CellTarget, now: datetime, gaps: list[str]) -> dict[str, Any]:
        import pymysql

        from ops.checks.mysql import tls_connector
        from ops.clouds.base import DatabaseAddressError
        from ops.clouds.kubernetes.binlog import binlog_position

        gaps.append(BASE_BACKUPS_GAP)
        section: dict[str, Any] = {"kind": "existing MySQL", "instance": target.db_instance_id,
                                   "pointInTimeRecovery": "none managed: binary logs kept by the operator"}
        try:
            connection = tls_connector(self.cell.database_endpoint())()
        except (DatabaseAddressError, pymysql.err.MySQLError, OSError) as error:
            gaps.append(f"database: not checked ({error})")
            return {**section, "checked": False}
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT @@GLOBAL.log_bin, @@GLOBAL.binlog_expire_logs_seconds")
                log_bin, expire_seconds = cursor.fetchone()
            section["binaryLog"] = bool(log_bin)
            if not log_bin:
                gaps.append("database: binary logging is off: a rollout cannot record a restore point")
                return section
            section["binlogRetentionSeconds"] = int(expire_seconds or 0)
            section["currentPosition"] = binlog_position(connection).describe()
        finally:
            connection.close()
        days = section["binlogRetentionSeconds"] / 86400
        if 0 < days < MIN_BINLOG_RETENTION_DAYS:
            gaps.append(f"database: binary logs expire after {days:g} days (binlog_expire_logs_seconds); a restore "
                        f"point older than that cannot be reached; keep at least {MIN_BINLOG_RETENTION_DAYS} days")
        return section

    def object_storage(self, target: CellTarget, gaps: list[str]) -> dict[str, Any]:
        section: dict[str, Any] = {"bucket": target.bucket, "endpoint": self.cell.setting("object_storage_endpoint")}
        try:
            versioning = self.cell.s3().get_bucket_versioning(Bucket=target.bucket).get("Status") or "Off"
        except Exception as error:  # botocore's errors, whatever the store answered
            gaps.append(f"object storage: not checked ({error})")
            return {**section, "checked": False}
        section["versioning"] = versioning
        if versioning != "Enabled":
            gaps.append(f"object storage: versioning is {versioning} on {target.bucket}: an overwritten config "
                        "backup is lost")
        section["replication"] = "the store operator's (not visible here)"
        return section

    def registry(self, target: CellTarget) -> dict[str, Any]:
        return {"kind": "registry given in config", "backups": "the registry operator's (not visible here)"}
