"""The restore point of a MySQL server the cell did not create: where its binary log stands when the rollout begins.

`SHOW BINARY LOG STATUS` (MySQL 8.2 and later) or `SHOW MASTER STATUS` (MySQL 8.0, MariaDB) gives the current file
and position; with GTIDs on, the executed GTID set (MySQL's `Executed_Gtid_Set`, MariaDB's `@@gtid_binlog_pos`)
goes with it. A restore to this point is: the last base backup from before it, then the binary logs replayed up to
it (`mysqlbinlog --stop-position`, or `--stop-datetime` at `time`). That holds only while the operator keeps the
binary logs and such a backup: this records the point, it keeps nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ops.backup.restore_point import RestorePoint, RestorePointError
from ops.checks.mysql import Connector

_STATUS_QUERIES = ("SHOW BINARY LOG STATUS", "SHOW MASTER STATUS")


@dataclass(frozen=True)
class BinlogPosition:
    file: str
    position: int
    gtid_set: str | None

    def describe(self) -> str:
        return f"{self.file}:{self.position}" + (f" gtid {self.gtid_set}" if self.gtid_set else "")


def binlog_position(connection: Any) -> BinlogPosition:
    """The server's current binary-log coordinates; RestorePointError when binary logging is off."""
    import pymysql

    row: dict[str, Any] | None = None
    last_error: Exception | None = None
    for query in _STATUS_QUERIES:
        try:
            with connection.cursor(pymysql.cursors.DictCursor) as cursor:
                cursor.execute(query)
                row = cursor.fetchone()
            last_error = None
            break
        except pymysql.err.ProgrammingError as error:  # the other server's syntax
            last_error = error
        except pymysql.err.MySQLError as error:
            raise RestorePointError(f"{query!r} failed: {error}") from error
    if last_error is not None:
        raise RestorePointError(f"neither {' nor '.join(_STATUS_QUERIES)} worked: {last_error}")
    if not row or not row.get("File"):
        raise RestorePointError("binary logging is off on the database (log_bin): there is no position to restore "
                                "to; turn it on (and keep the logs) before rolling out")
    gtid = str(row.get("Executed_Gtid_Set") or "").replace("\n", "") or _mariadb_gtid(connection)
    return BinlogPosition(str(row["File"]), int(row["Position"]), gtid or None)


def _mariadb_gtid(connection: Any) -> str | None:
    import pymysql

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT @@GLOBAL.gtid_binlog_pos")
            found = cursor.fetchone()
    except pymysql.err.MySQLError:
        return None  # MySQL has no such variable: its GTIDs, if on, came with the status row
    return str(found[0]) if found and found[0] else None


@dataclass(frozen=True)
class BinlogRestorePoints:
    """RestorePointSource of an existing MySQL server (`db_instance_id`: `<host>:<port>/<database>`)."""

    connect: Connector
    db_instance_id: str

    def capture(self, now: datetime) -> RestorePoint:
        import pymysql

        try:
            connection = self.connect()
        except (pymysql.err.MySQLError, OSError) as error:
            raise RestorePointError(f"cannot connect to {self.db_instance_id} over TLS: {error}") from error
        try:
            position = binlog_position(connection)
        finally:
            connection.close()
        return RestorePoint(kind="binlog", db_instance_id=self.db_instance_id, time=now, recorded_at=now,
                            binlog_position=position.describe())
