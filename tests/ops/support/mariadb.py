"""Private MariaDB servers for ops/ tests: own datadir, loopback TCP on a free port, TLS, binary logging.

`MariaDbServer.start()` initialises a datadir with `mariadb-install-db --no-defaults` (once per test process; later
servers copy it), starts `mariadbd` with exactly the options given (no system my.cnf is read), waits until it accepts
a TLS connection, and `stop()` shuts it down.
`replay_binlog` builds a point-in-time copy the way a managed service does: a dump taken earlier, then the binary
log replayed up to a stop time, piped through `mariadb-binlog` into another server.
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ops.checks.mysql import ServerVersionRequirement

ROOT_PASSWORD = "root-password-for-tests"
# MariaDB stands in for MySQL 8.0: the version check must accept it (and only here).
ACCEPT_MARIADB = ServerVersionRequirement(accept_mariadb=True)
STARTUP_TIMEOUT_SECONDS = 30.0
SERVER_BINARIES = ("mariadbd", "mysqld")


def server_binary() -> str | None:
    return next((path for name in SERVER_BINARIES if (path := shutil.which(name) or _sbin(name))), None)


def _sbin(name: str) -> str | None:
    candidate = Path("/usr/sbin") / name
    return str(candidate) if candidate.is_file() else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


_TEMPLATE: dict[str, Path] = {}


@dataclass
class MariaDbServer:
    directory: Path
    cert_file: Path
    key_file: Path
    ca_pem: bytes
    binlog: bool = True
    explicit_defaults_for_timestamp: bool = False
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def datadir(self) -> Path:
        return self.directory / "data"

    @property
    def socket_path(self) -> Path:
        return self.directory / "sock"

    @property
    def binlog_basename(self) -> Path:
        return self.directory / "binlog" / "mariadb-bin"

    def start(self) -> MariaDbServer:
        binary = server_binary()
        if binary is None:
            raise RuntimeError("no mariadbd or mysqld on PATH")
        self.binlog_basename.parent.mkdir(parents=True, exist_ok=True)
        install = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
        if install is None:
            raise RuntimeError("mariadb-install-db not found")
        # mariadb-install-db bootstraps a server (~1.2 s, mostly waiting on it): once per test process, into a
        # template every server then copies (~0.3 s). Nothing in a fresh datadir depends on the server's options.
        if "datadir" not in _TEMPLATE:
            template = MariaDbServer(self.directory.parent / f"datadir-template-{os.getpid()}", self.cert_file,
                                     self.key_file, self.ca_pem)
            template.datadir.mkdir(parents=True, exist_ok=True)
            template._initialise_datadir(install)
            _TEMPLATE["datadir"] = template.datadir
        shutil.copytree(_TEMPLATE["datadir"], self.datadir, symlinks=True)
        options = [
            binary, "--no-defaults", f"--datadir={self.datadir}", "--skip-networking=0", "--bind-address=127.0.0.1",
            f"--port={self.port}", f"--socket={self.socket_path}", f"--pid-file={self.directory / 'mariadbd.pid'}",
            f"--log-error={self.directory / 'error.log'}", "--server-id=1", "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_general_ci",
            f"--explicit-defaults-for-timestamp={'ON' if self.explicit_defaults_for_timestamp else 'OFF'}",
            f"--ssl-cert={self.cert_file}", f"--ssl-key={self.key_file}", "--require-secure-transport=ON",
            "--innodb-buffer-pool-size=32M", "--innodb-log-file-size=16M", "--skip-name-resolve",
            "--performance-schema=OFF", "--innodb-flush-log-at-trx-commit=2", "--sync-binlog=0",
            *self._user_option(),
        ]
        if self.binlog:
            options += [f"--log-bin={self.binlog_basename}", "--binlog-format=ROW"]
        else:
            options += ["--skip-log-bin"]
        self.process = subprocess.Popen(options, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait_until_ready()
        self._set_root_password()
        return self

    def _initialise_datadir(self, install: str) -> None:
        # Seen once on a loaded machine: the bootstrap server exited 1. One retry on a clean datadir; a second
        # failure is real and is reported with the tool's own output.
        for attempt in (1, 2):
            initialised = subprocess.run(
                [install, "--no-defaults", f"--datadir={self.datadir}", "--auth-root-authentication-method=normal",
                 "--skip-test-db", *self._user_option()],
                check=False, capture_output=True, timeout=120,
            )
            if initialised.returncode == 0:
                return
            output = (initialised.stdout + initialised.stderr).decode(errors="replace")[-2000:]
            if attempt == 2:
                raise RuntimeError(f"{install} failed twice (exit {initialised.returncode}):\n{output}")
            shutil.rmtree(self.datadir, ignore_errors=True)
            self.datadir.mkdir(parents=True)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None

    def connect(self, *, database: str | None = None, tls: bool = True, **options: Any) -> Any:
        import pymysql

        return pymysql.connect(
            host="127.0.0.1", port=self.port, user="root", password=ROOT_PASSWORD, database=database,
            # PyMySQL negotiates TLS opportunistically unless told not to: plaintext must be asked for explicitly.
            ssl=self.client_ssl_context() if tls else None, ssl_disabled=not tls, autocommit=True,
            connect_timeout=5, **options,
        )

    def client_ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cadata=self.ca_pem.decode())

    def client_command(self, program: str) -> list[str]:
        return [shutil.which(program) or program, "--no-defaults", "-h127.0.0.1", f"-P{self.port}", "-uroot",
                f"-p{ROOT_PASSWORD}", "--ssl"]

    def current_binlog_file(self) -> Path:
        with self.connect() as connection, connection.cursor() as cursor:
            cursor.execute("SHOW MASTER STATUS")
            row = cursor.fetchone()
        return self.binlog_basename.parent / str(row[0])

    def _user_option(self) -> list[str]:
        # mariadbd refuses to run as root unless told to; the datadir then belongs to root as well.
        return ["--user=root"] if os.geteuid() == 0 else []

    def _wait_until_ready(self) -> None:
        import pymysql

        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                log = (self.directory / "error.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"mariadbd exited with {self.process.returncode}:\n{log}")
            try:
                pymysql.connect(unix_socket=str(self.socket_path), user="root", connect_timeout=1).close()
                return
            except pymysql.err.OperationalError as error:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"mariadbd did not accept connections within "
                                       f"{STARTUP_TIMEOUT_SECONDS:g}s: {error}") from error
                time.sleep(0.05)

    def _set_root_password(self) -> None:
        import pymysql

        with pymysql.connect(unix_socket=str(self.socket_path), user="root", autocommit=True) as connection, \
                connection.cursor() as cursor:
            cursor.execute("SET sql_log_bin = 0")
            # Loopback TCP logins use root@127.0.0.1 (name resolution is off); both get the same password.
            for host in ("localhost", "127.0.0.1"):
                cursor.execute(f"CREATE USER IF NOT EXISTS 'root'@'{host}'")
                cursor.execute(f"ALTER USER 'root'@'{host}' IDENTIFIED BY %s", (ROOT_PASSWORD,))
                cursor.execute(f"GRANT ALL PRIVILEGES ON *.* TO 'root'@'{host}' WITH GRANT OPTION")


def run_sql(server: MariaDbServer, statements: Sequence[str], database: str | None = None) -> None:
    with server.connect(database=database) as connection, connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


@contextmanager
def changed_globals(server: MariaDbServer) -> Iterator[Callable[[str, str], None]]:
    """A setter of dynamic global variables on `server` for one test; every variable it changed is put back after."""
    changed: list[tuple[str, Any]] = []

    def set_variable(name: str, value: str) -> None:
        with server.connect() as connection, connection.cursor() as cursor:
            cursor.execute(f"SELECT @@GLOBAL.{name}")
            changed.append((name, cursor.fetchone()[0]))
        run_sql(server, [f"SET GLOBAL {name} = {value}"])

    try:
        yield set_variable
    finally:
        for name, value in reversed(changed):
            run_sql(server, [f"SET GLOBAL {name} = {int(value)}"])


def dump_database(server: MariaDbServer, database: str) -> bytes:
    """A consistent dump with the binlog coordinates it corresponds to (as a comment)."""
    completed = subprocess.run(
        [*server.client_command("mariadb-dump"), "--single-transaction", "--master-data=2", "--databases", database],
        check=True, capture_output=True, timeout=60,
    )
    return completed.stdout


def load_sql(server: MariaDbServer, sql: bytes) -> None:
    subprocess.run([*server.client_command("mariadb")], input=sql, check=True, capture_output=True, timeout=60)


def replay_binlog(source: MariaDbServer, target: MariaDbServer, binlog_file: Path, *, start_position: int,
                  stop_datetime: str | None = None, stop_position: int | None = None,
                  database: str | None = None) -> None:
    """Replay `binlog_file` from `start_position` to a stop time or position into `target` (point-in-time)."""
    command = [shutil.which("mariadb-binlog") or "mariadb-binlog", "--no-defaults",
               f"--start-position={start_position}"]
    if stop_datetime is not None:
        command.append(f"--stop-datetime={stop_datetime}")
    if stop_position is not None:
        command.append(f"--stop-position={stop_position}")
    if database is not None:
        command.append(f"--database={database}")
    events = subprocess.run([*command, str(binlog_file)], check=True, capture_output=True, timeout=60).stdout
    load_sql(target, events)


# -- the shared servers and the point-in-time scenario --------------------------------------------------------

GITPOD_SCHEMA = (
    "CREATE TABLE migrations (id INT AUTO_INCREMENT PRIMARY KEY, timestamp BIGINT NOT NULL, name VARCHAR(255))",
    "CREATE TABLE d_b_user (id CHAR(36) PRIMARY KEY, name VARCHAR(255) NOT NULL DEFAULT '', "
    "creationDate VARCHAR(255) NOT NULL DEFAULT '', "
    "_lastModified TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6))",
    "CREATE TABLE d_b_team (id CHAR(36) PRIMARY KEY, name VARCHAR(255) NOT NULL, "
    "_lastModified TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6))",
    "CREATE TABLE d_b_project (id CHAR(36) PRIMARY KEY, teamId CHAR(36) NOT NULL, cloneUrl VARCHAR(255), "
    "_lastModified TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6))",
    "CREATE TABLE d_b_workspace (id CHAR(36) PRIMARY KEY, ownerId CHAR(36) NOT NULL, contextUrl TEXT, "
    "_lastModified TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6))",
    "CREATE TABLE d_b_workspace_instance (id CHAR(36) PRIMARY KEY, workspaceId CHAR(36) NOT NULL, "
    "phase VARCHAR(32), _lastModified TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) "
    "ON UPDATE CURRENT_TIMESTAMP(6))",
)
# Rows per table: before the dump, between the dump and the restore time, after the restore time.
BASE_ROWS = {"d_b_user": 20, "d_b_team": 5, "d_b_project": 8, "d_b_workspace": 30, "d_b_workspace_instance": 40}
BEFORE_RESTORE_TIME = {"d_b_user": 10, "d_b_workspace": 20, "d_b_workspace_instance": 30}
AFTER_RESTORE_TIME = {"d_b_user": 3, "d_b_team": 1, "d_b_workspace": 5, "d_b_workspace_instance": 12}


@dataclass(frozen=True)
class PitrScenario:
    """`source` kept writing after `restore_time`; `restored` was rebuilt from a dump plus the binlog up to it."""

    source: MariaDbServer
    restored: MariaDbServer
    restore_time: str  # server-local DATETIME text, as mariadb-binlog --stop-datetime takes it
    source_counts: dict[str, int]
    restored_counts: dict[str, int]


_SHARED: dict[str, PitrScenario] = {}


def require_mariadb() -> None:
    import pytest

    if server_binary() is not None:
        return
    message = "MariaDB is not installed (no mariadbd/mysqld): apt-get install mariadb-server (.ci/apt-packages)"
    if os.environ.get("CI"):
        pytest.fail(f"{message}; CI installs it, so this is a broken CI setup")
    pytest.skip(message)


def pitr_scenario(work_dir: Path, cert_file: Path, key_file: Path, ca_pem: bytes, cleanups: Any) -> PitrScenario:
    """Start both servers once per test process and build the point-in-time copy; `cleanups(fn)` stops them."""
    if "scenario" in _SHARED:
        return _SHARED["scenario"]
    source = MariaDbServer(work_dir / "source", cert_file, key_file, ca_pem, binlog=True).start()
    cleanups(source.stop)
    restored = MariaDbServer(work_dir / "restored", cert_file, key_file, ca_pem, binlog=False).start()
    cleanups(restored.stop)
    run_sql(source, ["CREATE DATABASE gitpod CHARACTER SET utf8mb4"])
    run_sql(source, [*GITPOD_SCHEMA, "INSERT INTO migrations (timestamp, name) VALUES (1, 'Baseline')"], "gitpod")
    _insert_rows(source, BASE_ROWS, "base")
    dump = dump_database(source, "gitpod")
    binlog_file, start_position = _binlog_coordinates(dump)
    _insert_rows(source, BEFORE_RESTORE_TIME, "before")
    restore_time = _next_second(source)
    _insert_rows(source, AFTER_RESTORE_TIME, "after")
    load_sql(restored, dump)
    replay_binlog(source, restored, source.binlog_basename.parent / binlog_file, start_position=start_position,
                  stop_datetime=restore_time, database="gitpod")
    tables = list(BASE_ROWS)
    restored_counts = {t: BASE_ROWS[t] + BEFORE_RESTORE_TIME.get(t, 0) for t in tables}
    source_counts = {t: restored_counts[t] + AFTER_RESTORE_TIME.get(t, 0) for t in tables}
    _SHARED["scenario"] = PitrScenario(source, restored, restore_time, source_counts, restored_counts)
    return _SHARED["scenario"]


def _insert_rows(server: MariaDbServer, rows: dict[str, int], batch: str) -> None:
    statements = []
    for table, count in rows.items():
        for number in range(count):
            row_id = f"{batch}-{table}-{number}"[:36]
            values = {
                "d_b_user": f"('{row_id}', 'user {number}', '2025-01-01')",
                "d_b_team": f"('{row_id}', 'team {number}', DEFAULT)",
                "d_b_project": f"('{row_id}', 'team', 'https://example.com/repo.git', DEFAULT)",
                "d_b_workspace": f"('{row_id}', 'owner', 'https://example.com/repo', DEFAULT)",
                "d_b_workspace_instance": f"('{row_id}', 'workspace', 'running', DEFAULT)",
            }[table]
            columns = "(id, name, creationDate)" if table == "d_b_user" else ""
            statements.append(f"INSERT INTO {table} {columns} VALUES {values}")
    run_sql(server, statements, "gitpod")


def _binlog_coordinates(dump: bytes) -> tuple[str, int]:
    import re

    match = re.search(rb"MASTER_LOG_FILE='([^']+)', MASTER_LOG_POS=(\d+)", dump)
    if match is None:
        raise RuntimeError("the dump carries no binlog coordinates (--master-data)")
    return match.group(1).decode(), int(match.group(2))


def _next_second(server: MariaDbServer) -> str:
    """Wait until the server's clock has ticked past every event so far; that second is the restore time."""
    with server.connect() as connection, connection.cursor() as cursor:
        cursor.execute("SELECT NOW()")
        written_in = cursor.fetchone()[0]
        while True:
            cursor.execute("SELECT NOW()")
            now = cursor.fetchone()[0]
            if now > written_in:
                return now.strftime("%Y-%m-%d %H:%M:%S")
            time.sleep(0.05)


def _scenario_fixture() -> Any:
    import pytest

    @pytest.fixture(scope="package")
    def scenario(tls: Any, tmp_path_factory: Any, request: Any) -> PitrScenario:
        """Both MariaDB servers and the point-in-time copy, built once per test process."""
        require_mariadb()
        return pitr_scenario(tmp_path_factory.mktemp("mariadb"), tls.server_cert, tls.server_key, tls.ca_pem,
                             request.config.add_cleanup)

    return scenario


scenario = _scenario_fixture()


def endpoint_for(server: MariaDbServer, database: str = "gitpod") -> Any:
    """The production connector's endpoint for a local server: TLS verified against the test CA."""
    from ops.checks.mysql import DatabaseEndpoint

    return DatabaseEndpoint("127.0.0.1", server.port, "root", ROOT_PASSWORD, database, ca_pem=server.ca_pem.decode())
