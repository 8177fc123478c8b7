"""Checks of a Gitpod MySQL database, shared by preflight and the recovery drill.

Gitpod's installer required: TLS, MySQL 8.0, `explicit_defaults_for_timestamp` OFF (its migrations rely on the old
TIMESTAMP defaults), binary logging on (point-in-time recovery), utf8mb4. The drill adds: the Gitpod schema is
present and the key tables' row counts. Every check takes an open DB-API connection (PyMySQL), so tests run them
against a local MariaDB.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ops.check_result import CheckResult, failed, passed

DEFAULT_DATABASE = "gitpod"
DEFAULT_USER = "gitpod"
MYSQL_PORT = 3306
CONNECT_TIMEOUT_SECONDS = 10
# Tables whose rows are users' work: a restore that lost rows here lost something someone will miss.
GITPOD_KEY_TABLES: tuple[str, ...] = (
    "d_b_user", "d_b_team", "d_b_project", "d_b_workspace", "d_b_workspace_instance",
)
# Present in every migrated Gitpod database (TypeORM's migration ledger plus the key tables).
GITPOD_SCHEMA_TABLES: tuple[str, ...] = ("migrations", *GITPOD_KEY_TABLES)
_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)")

Connector = Callable[[], Any]


class DatabaseCheckError(Exception):
    """A query a check depends on failed."""


@dataclass(frozen=True)
class DatabaseEndpoint:
    host: str
    port: int = MYSQL_PORT
    user: str = DEFAULT_USER
    password: str = ""
    database: str = DEFAULT_DATABASE
    # PEM CA bundle (text) or a file with one; neither: the system trust store.
    ca_pem: str | None = None
    ca_file: Path | None = None

    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None,
                                             cadata=self.ca_pem)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context


def tls_connector(endpoint: DatabaseEndpoint, timeout_seconds: int = CONNECT_TIMEOUT_SECONDS) -> Connector:
    """Connections that require TLS and verify the server's certificate and host name."""

    def connect() -> Any:
        import pymysql

        return pymysql.connect(
            host=endpoint.host, port=endpoint.port, user=endpoint.user, password=endpoint.password,
            database=endpoint.database, ssl=endpoint.ssl_context(), connect_timeout=timeout_seconds,
            read_timeout=timeout_seconds * 6, autocommit=True, charset="utf8mb4",
        )

    return connect


@dataclass(frozen=True)
class ServerVersionRequirement:
    """MySQL 8.0, as Gitpod supports. MariaDB is accepted only when asked for (local test servers)."""

    mysql_major_minor: tuple[int, int] = (8, 0)
    accept_mariadb: bool = False

    def judge(self, version: str) -> tuple[bool, str]:
        match = _VERSION.match(version)
        if match is None:
            return False, f"cannot read a version from {version!r}"
        major, minor, _patch = (int(part) for part in match.groups())
        wanted = ".".join(str(part) for part in self.mysql_major_minor)
        if "mariadb" in version.lower():
            if self.accept_mariadb:
                return True, f"MariaDB {match.group(0)} (accepted for this run)"
            return False, f"MariaDB {match.group(0)} is not MySQL {wanted}, which Gitpod requires"
        if (major, minor) != self.mysql_major_minor:
            return False, f"MySQL {match.group(0)} is not MySQL {wanted}, which Gitpod requires"
        return True, f"MySQL {match.group(0)}"


def query_one(connection: Any, sql: str, parameters: Sequence[Any] = ()) -> tuple[Any, ...] | None:
    import pymysql

    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, tuple(parameters))
            return cursor.fetchone()
    except pymysql.err.MySQLError as error:
        raise DatabaseCheckError(f"{sql!r} failed: {error}") from error


def check_tls(connection: Any) -> CheckResult:
    cipher_row = query_one(connection, "SHOW SESSION STATUS LIKE 'Ssl_cipher'")
    cipher = str(cipher_row[1]) if cipher_row and cipher_row[1] else ""
    if not cipher:
        return failed("database TLS", "this connection is not encrypted (Ssl_cipher is empty)")
    required_row = query_one(connection, "SELECT @@GLOBAL.require_secure_transport")
    if not required_row or not _on(required_row[0]):
        return failed("database TLS", f"encrypted ({cipher}), but the server accepts unencrypted connections: "
                                      "set require_secure_transport=ON")
    return passed("database TLS", f"encrypted ({cipher}); the server requires secure transport")


def check_version(connection: Any, requirement: ServerVersionRequirement) -> CheckResult:
    row = query_one(connection, "SELECT VERSION()")
    ok, reason = requirement.judge(str(row[0]) if row else "")
    return CheckResult("database version", ok, reason)


def check_explicit_defaults_for_timestamp_off(connection: Any) -> CheckResult:
    row = query_one(connection, "SELECT @@GLOBAL.explicit_defaults_for_timestamp")
    if row and not _on(row[0]):
        return passed("explicit_defaults_for_timestamp", "OFF, as Gitpod's migrations need")
    return failed("explicit_defaults_for_timestamp", "is ON; Gitpod needs it OFF (RDS: parameter group "
                                                     "explicit_defaults_for_timestamp=0)")


def check_binary_logging(connection: Any) -> CheckResult:
    row = query_one(connection, "SELECT @@GLOBAL.log_bin, @@GLOBAL.binlog_format")
    if row and _on(row[0]):
        return passed("binary logging", f"on (format {row[1]}): point-in-time recovery is possible")
    return failed("binary logging", "is off: no point-in-time recovery (RDS: automated backups on; Cloud SQL: "
                                    "binary logging enabled)")


def check_utf8mb4(connection: Any, database: str) -> CheckResult:
    server = query_one(connection, "SELECT @@GLOBAL.character_set_server")
    schema = query_one(connection, "SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA "
                                   "WHERE SCHEMA_NAME = %s", (database,))
    server_charset = str(server[0]) if server else "unknown"
    problems = []
    if server_charset != "utf8mb4":
        problems.append(f"character_set_server is {server_charset}")
    if schema is not None and str(schema[0]) != "utf8mb4":
        problems.append(f"database {database!r} defaults to {schema[0]}")
    if problems:
        return failed("utf8mb4", "; ".join(problems) + " (Gitpod needs utf8mb4)")
    where = f"server and database {database!r}" if schema is not None else "server"
    return passed("utf8mb4", f"{where} use utf8mb4")


def missing_tables(connection: Any, database: str, tables: Sequence[str]) -> list[str]:
    import pymysql

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s", (database,))
            present = {str(row[0]) for row in cursor.fetchall()}
    except pymysql.err.MySQLError as error:
        raise DatabaseCheckError(f"cannot list the tables of {database!r}: {error}") from error
    return [table for table in tables if table not in present]


def check_schema_present(connection: Any, database: str, tables: Sequence[str] = GITPOD_SCHEMA_TABLES) -> CheckResult:
    missing = missing_tables(connection, database, tables)
    if missing:
        return failed("Gitpod schema", f"database {database!r} lacks {', '.join(missing)}")
    return passed("Gitpod schema", f"database {database!r} has all {len(tables)} expected tables")


def row_counts(connection: Any, database: str, tables: Sequence[str] = GITPOD_KEY_TABLES) -> dict[str, int]:
    """Exact counts (COUNT(*)), not information_schema estimates: the drill compares them across servers."""
    counts: dict[str, int] = {}
    for table in tables:
        row = query_one(connection, f"SELECT COUNT(*) FROM {_identifier(database)}.{_identifier(table)}")
        counts[table] = int(row[0]) if row else 0
    return counts


def run_database_checks(connect: Connector, database: str, requirement: ServerVersionRequirement) -> list[CheckResult]:
    """Preflight's database checks; when the database cannot be reached, that is the one failure reported."""
    import pymysql

    try:
        connection = connect()
    except (pymysql.err.MySQLError, OSError, ssl.SSLError) as error:
        return [failed("database reachable", f"cannot connect over TLS: {error}")]
    results = [passed("database reachable", "connected over TLS with a verified certificate")]
    checks: Sequence[Callable[[], CheckResult]] = (
        lambda: check_tls(connection),
        lambda: check_version(connection, requirement),
        lambda: check_explicit_defaults_for_timestamp_off(connection),
        lambda: check_binary_logging(connection),
        lambda: check_utf8mb4(connection, database),
    )
    try:
        for check in checks:
            try:
                results.append(check())
            except DatabaseCheckError as error:
                results.append(failed("database query", str(error)))
    finally:
        connection.close()
    return results


def compare_row_counts(source: Mapping[str, int], restored: Mapping[str, int],
                       tolerance: RowCountTolerance) -> CheckResult:
    shortfalls = []
    for table, source_count in source.items():
        restored_count = restored.get(table, 0)
        allowed = tolerance.allowed_missing(source_count)
        if source_count - restored_count > allowed:
            shortfalls.append(f"{table}: {restored_count} of {source_count} rows "
                              f"({source_count - restored_count} missing, at most {allowed} allowed)")
    if shortfalls:
        return failed("row counts", "; ".join(shortfalls))
    summary = ", ".join(f"{table} {restored.get(table, 0)}/{count}" for table, count in source.items())
    return passed("row counts", f"within tolerance ({tolerance.describe()}): {summary}")


@dataclass(frozen=True)
class RowCountTolerance:
    """How many rows a restore may lack against the source, which kept writing after the restore time."""

    fraction: float = 0.01
    rows: int = 10

    def __post_init__(self) -> None:
        if not 0 <= self.fraction < 1 or self.rows < 0:
            raise ValueError("tolerance: fraction must be in [0, 1) and rows at least 0")

    def allowed_missing(self, source_count: int) -> int:
        return max(self.rows, int(source_count * self.fraction))

    def describe(self) -> str:
        return f"up to {self.fraction:.1%} or {self.rows} rows per table, whichever is more"


def _on(value: Any) -> bool:
    return str(value).strip().upper() in ("1", "ON", "TRUE", "YES")


def _identifier(name: str) -> str:
    if not re.match(r"^[A-Za-z0-9_$]{1,64}$", name):
        raise ValueError(f"{name!r} is not a plain MySQL identifier")
    return f"`{name}`"
