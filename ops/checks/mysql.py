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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ops.common.check_result import CheckResult, failed, passed

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
# Gitpod's tables stamp every row change (TIMESTAMP(6) ... ON UPDATE CURRENT_TIMESTAMP(6)).
LAST_MODIFIED_COLUMN = "_lastModified"
_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)")

Connector = Callable[[], Any]


class DatabaseCheckError(Exception):
    """A query a check depends on failed."""


@dataclass(frozen=True)
class ServerIdentity:
    """Who a server's certificate must name when that is not the host connected to: a Cloud SQL instance.

    Cloud SQL server certificates signed by the instance's own CA (GOOGLE_MANAGED_INTERNAL_CA) carry no IP address
    in their subjectAltName; their subject CN is `<project>:<instance>`, which is what Google's connectors check
    (cloud-sql-go-connector, cloud-sql-proxy). Instances on a CAS-based CA also name their DNS name (the instance's
    `dnsName`) as a SAN. So the certificate is accepted when a SAN DNS name equals `dns_name`, or else when its
    CN equals `name` — the connectors' order, as a CAS certificate may lag its instance's DNS name."""

    name: str  # "<project>:<instance>"
    dns_name: str | None = None

    @classmethod
    def cloud_sql(cls, project: str, instance: str, dns_name: str | None = None) -> ServerIdentity:
        return cls(f"{project}:{instance}", (dns_name or "").rstrip(".") or None)

    def describe(self) -> str:
        return f"CN {self.name!r}" + (f" or DNS name {self.dns_name!r}" if self.dns_name else "")

    def mismatch(self, certificate: Mapping[str, Any]) -> str | None:
        """Why `certificate` (ssl.SSLSocket.getpeercert() of a verified peer) does not name this identity; None
        when it does."""
        names = [str(value).rstrip(".").lower() for kind, value in certificate.get("subjectAltName") or ()
                 if kind == "DNS"]
        if self.dns_name and self.dns_name.lower() in names:
            return None
        common_names = [str(value) for rdn in certificate.get("subject") or () for key, value in rdn
                        if key == "commonName"]
        if common_names and common_names[-1] == self.name:
            return None
        found = f"CN {common_names[-1]!r}" if common_names else "no CN"
        if names:
            found += f", DNS names {', '.join(names)}"
        return f"the server certificate names {found}, not {self.describe()}"


class PinnedCa(str):
    """A PEM CA text that vouches for one server identity only: a Cloud SQL instance's own server CA, with the
    instance it belongs to. A DatabaseEndpoint given one as `ca_pem` checks that identity (see ServerIdentity)
    even when its caller knows nothing of Cloud SQL."""

    server_identity: ServerIdentity

    def __new__(cls, pem: str, server_identity: ServerIdentity) -> PinnedCa:
        pinned = super().__new__(cls, pem)
        pinned.server_identity = server_identity
        return pinned


class _IdentityCheckingContext(ssl.SSLContext):
    """Verifies the chain (CERT_REQUIRED) but not the host name, then the peer certificate's identity, right after
    the handshake: before the MySQL client sends its credentials or any query."""

    server_identity: ServerIdentity

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:  # type: ignore[override]
        wrapped = super().wrap_socket(*args, **kwargs)
        if not wrapped.do_handshake_on_connect:
            wrapped.do_handshake()
        reason = self.server_identity.mismatch(wrapped.getpeercert() or {})
        if reason is not None:
            wrapped.close()
            raise ssl.SSLCertVerificationError(1, f"certificate verify failed: {reason}")
        return wrapped


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
    # Set (or given by a PinnedCa `ca_pem`): the certificate must name this identity, not `host` (Cloud SQL's
    # private IP is in no certificate). None: standard host name verification (RDS).
    server_identity: ServerIdentity | None = None

    @property
    def expected_identity(self) -> ServerIdentity | None:
        return self.server_identity or getattr(self.ca_pem, "server_identity", None)

    def ssl_context(self) -> ssl.SSLContext:
        identity = self.expected_identity
        if identity is None:
            context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None,
                                                 cadata=self.ca_pem)
        else:
            context = _IdentityCheckingContext(ssl.PROTOCOL_TLS_CLIENT)
            context.server_identity = identity
            if self.ca_file or self.ca_pem:
                context.load_verify_locations(cafile=str(self.ca_file) if self.ca_file else None,
                                              cadata=str(self.ca_pem) if self.ca_pem else None)
            else:
                context.load_default_certs()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_REQUIRED
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context


def tls_connector(endpoint: DatabaseEndpoint, timeout_seconds: int = CONNECT_TIMEOUT_SECONDS) -> Connector:
    """Connections that require TLS and verify the server's certificate: its chain, and its host name or, for a
    Cloud SQL instance, the identity it must name (`endpoint.expected_identity`)."""

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


def newest_write(connection: Any, database: str, tables: Sequence[str] = GITPOD_KEY_TABLES,
                 column: str = LAST_MODIFIED_COLUMN) -> datetime | None:
    """The newest `_lastModified` (Gitpod's row-change timestamp) across `tables` that have one: the latest write
    this server shows. None when no table has the column or every one is empty."""
    import pymysql

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT TABLE_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s AND "
                           "COLUMN_NAME = %s", (database, column))
            stamped = {str(row[0]) for row in cursor.fetchall()}
    except pymysql.err.MySQLError as error:
        raise DatabaseCheckError(f"cannot list the {column} columns of {database!r}: {error}") from error
    newest: datetime | None = None
    for table in tables:
        if table not in stamped:
            continue
        # UNIX_TIMESTAMP of a TIMESTAMP column does not depend on the session's time zone.
        row = query_one(connection, f"SELECT UNIX_TIMESTAMP(MAX({_identifier(column)})) FROM "
                                    f"{_identifier(database)}.{_identifier(table)}")
        if row and row[0] is not None:
            moment = datetime.fromtimestamp(float(row[0]), UTC)
            newest = moment if newest is None or moment > newest else newest
    return newest


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
