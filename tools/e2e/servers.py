"""The servers `make e2e` runs on loopback, each started and stopped here: the local API server (tools.localkube),
MariaDB with TLS and binary logging (tests/ops/support/mariadb.py's server, standing in for MySQL 8.0), moto's S3
server, and a TEST-ONLY stand-in for a registry's API root (`/v2/` with basic auth: the one call preflight makes;
no images are ever pushed here)."""

from __future__ import annotations

import base64
import http.server
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.ops.support.mariadb import MariaDbServer, free_port
from tests.ops.support.tls import TlsMaterial, make_loopback_tls

DATABASE = "gitpod"
DATABASE_USER = "gitpod"


Tls = TlsMaterial


def make_tls(directory: Path) -> Tls:
    """A CA made for the run and a server certificate for 127.0.0.1 signed by it (MariaDB's)."""
    return make_loopback_tls(directory, "gitpod-cell e2e CA")


@dataclass
class Database:
    server: MariaDbServer
    password: str = field(default_factory=lambda: secrets.token_urlsafe(18), repr=False)

    @classmethod
    def start(cls, directory: Path, tls: Tls, databases: tuple[str, ...] = (DATABASE,)) -> Database:
        database = cls(MariaDbServer(directory, tls.server_cert, tls.server_key, tls.ca_pem, binlog=True).start())
        with database.server.connect() as connection, connection.cursor() as cursor:
            cursor.execute("CREATE USER IF NOT EXISTS %s@'127.0.0.1' IDENTIFIED BY %s REQUIRE SSL",
                           (DATABASE_USER, database.password))
            for name in databases:
                cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 "
                               "COLLATE utf8mb4_general_ci")
                cursor.execute(f"GRANT ALL PRIVILEGES ON `{name}`.* TO %s@'127.0.0.1'", (DATABASE_USER,))
            # The binlog status queries need this on MariaDB (BINLOG MONITOR) and MySQL (REPLICATION CLIENT).
            cursor.execute("GRANT REPLICATION CLIENT ON *.* TO %s@'127.0.0.1'", (DATABASE_USER,))
        return database

    @property
    def port(self) -> int:
        return self.server.port

    def stop(self) -> None:
        self.server.stop()


@dataclass
class ObjectStore:
    """moto's S3 server on loopback, with the run's buckets created versioned (as the cell expects its store)."""

    port: int = field(default_factory=free_port)
    access_key_id: str = "e2eAccessKey"
    secret_access_key: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)
    _server: Any = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, buckets: tuple[str, ...]) -> ObjectStore:
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        s3 = self.client()
        for bucket in buckets:
            s3.create_bucket(Bucket=bucket)
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        return self

    def client(self) -> Any:
        import boto3

        return boto3.client("s3", endpoint_url=f"http://{self.endpoint}", region_name="us-east-1",
                            aws_access_key_id=self.access_key_id, aws_secret_access_key=self.secret_access_key)

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()


class _RegistryRoot(http.server.BaseHTTPRequestHandler):
    expected = ""

    def do_GET(self) -> None:
        ok = self.path.rstrip("/") == "/v2" and self.headers.get("Authorization") == f"Basic {self.expected}"
        self.send_response(200 if ok else 401)
        if not ok:
            self.send_header("WWW-Authenticate", 'Basic realm="e2e"')
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        return


@dataclass
class RegistryRoot:
    """TEST-ONLY stand-in for a registry's `/v2/` (what preflight asks); answers 200 to the run's credentials."""

    username: str = "gitpod"
    password: str = field(default_factory=lambda: secrets.token_urlsafe(18), repr=False)
    port: int = field(default_factory=free_port)
    _server: http.server.ThreadingHTTPServer | None = None

    @property
    def server_address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> RegistryRoot:
        handler = type("Handler", (_RegistryRoot,), {
            "expected": base64.b64encode(f"{self.username}:{self.password}".encode()).decode()})
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        threading.Thread(target=self._server.serve_forever, name="e2e-registry", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
