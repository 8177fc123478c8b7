"""Local HTTP doubles of exactly the Google REST endpoints ops/ calls.

Cloud SQL Admin API v1 (ops/cloudsql_restore_point.py, ops/backup_status.py, ops/pitr_window.py,
ops/clouds/, ops/cloudsql_drill.py):

    GET    /v1/projects/{project}/instances                         all of the project's, in pages of `page_size`
    GET    /v1/projects/{project}/instances/{instance}
    PATCH  /v1/projects/{project}/instances/{instance}              settings.deletionProtectionEnabled, userLabels
    DELETE /v1/projects/{project}/instances/{instance}
    POST   /v1/projects/{project}/instances/{instance}/clone
    POST   /v1/projects/{project}/instances/{instance}/backupRuns
    GET    /v1/projects/{project}/instances/{instance}/backupRuns
    GET    /v1/projects/{project}/operations/{operation}

Artifact Registry API v1 (ops/checks/preflight.py, ops/backup_status.py):

    GET    /v1/projects/{project}/locations/{location}/repositories/{repository}

They answer as Google does for these calls: JSON resources, `{"error": {"code", "message", "status"}}` on errors,
404 for unknown instances, repositories and operations. A backup run's operation is PENDING, then RUNNING, then DONE
(with `backupContext.backupId`) as it is polled, or DONE with an `error` when told to fail. A clone's operation
likewise. As in Cloud SQL, the destination instance exists from the clone request on, PENDING_CREATE, and while it
is, a PATCH or DELETE of it is refused with HTTP 409 (another operation is in progress); when the clone's operation
is DONE it is RUNNABLE, a copy of the source's settings (deletion protection included, as Cloud SQL copies it) with
its own private IP, or gone if the clone failed. A DELETE of a protected instance is refused (HTTP 400, as Cloud SQL
does); `busy_deletes` more DELETEs are answered 409 before one is accepted; otherwise the instance is gone once its
operation is DONE. Anything else gets 404, so a client
calling an endpoint the double does not know fails loudly. Loopback only.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_INSTANCES = re.compile(r"^/v1/projects/([^/]+)/instances$")
_INSTANCE = re.compile(r"^/v1/projects/([^/]+)/instances/([^/]+)$")
_BACKUP_RUNS = re.compile(r"^/v1/projects/([^/]+)/instances/([^/]+)/backupRuns$")
_CLONE = re.compile(r"^/v1/projects/([^/]+)/instances/([^/]+)/clone$")
_OPERATION = re.compile(r"^/v1/projects/([^/]+)/operations/([^/]+)$")
_REPOSITORY = re.compile(r"^/v1/projects/([^/]+)/locations/([^/]+)/repositories/([^/]+)$")


@dataclass
class _Operation:
    resource: dict[str, Any]
    # Statuses still to report, one per GET, before DONE.
    pending: list[str] = field(default_factory=list)
    # Runs once, when the operation turns DONE; returns an error message to report instead of success, or None.
    on_done: Callable[[], str | None] | None = None


class GoogleApiDouble:
    def __init__(self) -> None:
        self.instances: dict[tuple[str, str], dict[str, Any]] = {}
        self.repositories: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.operations: dict[tuple[str, str], _Operation] = {}
        self.backup_run_items: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.requests: list[tuple[str, str, Any]] = []
        self.backup_polls_before_done = 2
        self.fail_backups_with: str | None = None
        self.operation_polls_before_done = 2  # clone, patch and delete operations
        self.clone_polls_before_done: int | None = None  # None: as operation_polls_before_done
        self.fail_clones_with: str | None = None
        self.busy_deletes = 0  # DELETEs answered 409 ("another operation is in progress") before one succeeds
        self.page_size = 100  # instances per page of the list
        self.status_for: dict[tuple[str, str], int] = {}  # (method, path) -> HTTP status to answer with instead
        self._lock = threading.Lock()
        self._backup_ids = iter(range(1741940000000, 1741950000000))
        self._addresses = iter(range(10, 250))
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="google-api-double", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1/"

    def start(self) -> GoogleApiDouble:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- state ----------------------------------------------------------------------------------------------------

    def put_instance(self, project: str, name: str, *, binary_log: bool = True, backups: bool = True,
                     private_ip: str = "10.52.16.3", server_ca_pem: str = "", retained_backups: int = 14,
                     transaction_log_days: int = 7, backup_location: str | None = None,
                     deletion_protection: bool = False, region: str = "europe-west1",
                     create_time: str = "2025-03-01T08:00:00.000Z", state: str = "RUNNABLE",
                     labels: dict[str, str] | None = None, dns_name: str | None = None) -> None:
        backup_configuration: dict[str, Any] = {
            "enabled": backups, "binaryLogEnabled": binary_log, "startTime": "02:00",
            "transactionLogRetentionDays": transaction_log_days,
            "backupRetentionSettings": {"retentionUnit": "COUNT", "retainedBackups": retained_backups},
        }
        if backup_location:
            backup_configuration["location"] = backup_location
        with self._lock:
            self.instances[(project, name)] = {
                "kind": "sql#instance", "name": name, "project": project, "databaseVersion": "MYSQL_8_0",
                "region": region, "state": state, "createTime": create_time,
                "settings": {"tier": "db-custom-2-7680", "availabilityType": "REGIONAL",
                             "deletionProtectionEnabled": deletion_protection,
                             "backupConfiguration": backup_configuration, "userLabels": dict(labels or {})},
                "ipAddresses": [{"type": "PRIVATE", "ipAddress": private_ip}],
                "serverCaCert": {"kind": "sql#sslCert", "cert": server_ca_pem},
            }
            if dns_name:
                self.instances[(project, name)]["dnsName"] = dns_name

    def put_repository(self, project: str, location: str, repository: str, fmt: str = "DOCKER") -> None:
        with self._lock:
            self.repositories[(project, location, repository)] = {
                "name": f"projects/{project}/locations/{location}/repositories/{repository}", "format": fmt,
                "mode": "STANDARD_REPOSITORY",
            }

    def put_backup_run(self, project: str, instance: str, run_id: str, *, started: str,
                       run_type: str = "AUTOMATED", status: str = "SUCCESSFUL") -> None:
        with self._lock:
            self.backup_run_items.setdefault((project, instance), []).append(
                {"kind": "sql#backupRun", "id": run_id, "type": run_type, "status": status, "instance": instance,
                 "windowStartTime": started, "startTime": started})

    def backup_runs(self) -> list[dict[str, Any]]:
        return [body for method, path, body in self.requests if method == "POST" and path.endswith("/backupRuns")]

    def clones(self) -> list[tuple[str, Any]]:
        """(source instance, request body) of every clone request."""
        return [(path.split("/")[-2], body) for method, path, body in self.requests
                if method == "POST" and path.endswith("/clone")]

    def deletes(self) -> list[str]:
        return [path.rsplit("/", 1)[-1] for method, path, _body in self.requests if method == "DELETE"]

    # -- the API --------------------------------------------------------------------------------------------------

    def handle(self, method: str, path: str, body: Any, query: str = "") -> tuple[int, Any]:
        with self._lock:
            self.requests.append((method, path, body))
            if (method, path) in self.status_for:
                code = self.status_for[(method, path)]
                return code, _error(code, "injected failure")
            if method == "GET" and (match := _INSTANCES.match(path)):
                return self._list_instances(match.group(1), query)
            if method == "GET" and (match := _INSTANCE.match(path)):
                instance = self.instances.get((match.group(1), match.group(2)))
                return (200, instance) if instance else (404, _error(404, "The Cloud SQL instance does not "
                                                                          "exist."))
            if method == "PATCH" and (match := _INSTANCE.match(path)):
                return self._patch_instance(match.group(1), match.group(2), body)
            if method == "DELETE" and (match := _INSTANCE.match(path)):
                return self._delete_instance(match.group(1), match.group(2))
            if method == "POST" and (match := _CLONE.match(path)):
                return self._clone(match.group(1), match.group(2), body)
            if method == "POST" and (match := _BACKUP_RUNS.match(path)):
                return self._insert_backup_run(match.group(1), match.group(2), body)
            if method == "GET" and (match := _BACKUP_RUNS.match(path)):
                if (match.group(1), match.group(2)) not in self.instances:
                    return 404, _error(404, "The Cloud SQL instance does not exist.")
                items = self.backup_run_items.get((match.group(1), match.group(2)), [])
                return 200, {"kind": "sql#backupRunsList", "items": [dict(item) for item in items]}
            if method == "GET" and (match := _OPERATION.match(path)):
                return self._get_operation(match.group(1), match.group(2))
            if method == "GET" and (match := _REPOSITORY.match(path)):
                repository = self.repositories.get((match.group(1), match.group(2), match.group(3)))
                return (200, repository) if repository else (404, _error(404, "Requested entity was not found."))
        return 404, _error(404, f"the double does not serve {method} {path}")

    def _list_instances(self, project: str, query: str) -> tuple[int, Any]:
        names = sorted(name for owner, name in self.instances if owner == project)
        token = dict(part.split("=", 1) for part in query.split("&") if "=" in part).get("pageToken")
        start = int(token) if token else 0
        page = names[start:start + self.page_size]
        answer: dict[str, Any] = {"kind": "sql#instancesList",
                                  "items": [copy.deepcopy(self.instances[(project, name)]) for name in page]}
        if start + self.page_size < len(names):
            answer["nextPageToken"] = str(start + self.page_size)
        return 200, answer

    def _insert_backup_run(self, project: str, instance: str, body: Any) -> tuple[int, Any]:
        if (project, instance) not in self.instances:
            return 404, _error(404, "The Cloud SQL instance does not exist.")
        name = str(uuid.uuid4())
        resource = {
            "kind": "sql#operation", "name": name, "operationType": "BACKUP_VOLUME", "status": "PENDING",
            "targetId": instance, "targetProject": project, "insertTime": "2025-03-14T09:26:54.120Z",
            "startTime": "2025-03-14T09:26:55.481Z",
            "selfLink": f"https://sqladmin.googleapis.com/v1/projects/{project}/operations/{name}",
        }
        pending = ["RUNNING"] * max(0, self.backup_polls_before_done - 1)
        self.operations[(project, name)] = _Operation(resource, pending)
        return 200, dict(resource)

    def _operation(self, project: str, instance: str, kind: str, on_done: Callable[[], str | None],
                   polls_before_done: int | None = None) -> tuple[int, Any]:
        name = str(uuid.uuid4())
        resource = {
            "kind": "sql#operation", "name": name, "operationType": kind, "status": "PENDING",
            "targetId": instance, "targetProject": project, "insertTime": "2025-03-14T09:26:54.120Z",
            "selfLink": f"https://sqladmin.googleapis.com/v1/projects/{project}/operations/{name}",
        }
        polls = self.operation_polls_before_done if polls_before_done is None else polls_before_done
        pending = ["RUNNING"] * max(0, polls - 1)
        self.operations[(project, name)] = _Operation(resource, pending, on_done)
        return 200, dict(resource)

    def _clone(self, project: str, source: str, body: Any) -> tuple[int, Any]:
        context = (body or {}).get("cloneContext") if isinstance(body, dict) else None
        destination = (context or {}).get("destinationInstanceName")
        if not destination:
            return 400, _error(400, "Invalid request: cloneContext.destinationInstanceName is required.")
        original = self.instances.get((project, source))
        if original is None:
            return 404, _error(404, "The Cloud SQL instance does not exist.")
        if (project, destination) in self.instances:
            return 409, _error(409, "The Cloud SQL instance already exists.")
        backup = original["settings"]["backupConfiguration"]
        if context.get("pointInTime") and not backup.get("binaryLogEnabled"):
            return 400, _error(400, "Invalid request: point-in-time recovery is not enabled on the source.")

        pending = copy.deepcopy(original)
        pending.update({"name": destination, "state": "PENDING_CREATE", "ipAddresses": [],
                        "createTime": "2025-03-14T09:26:54.120Z"})
        self.instances[(project, destination)] = pending

        def create() -> str | None:
            if self.fail_clones_with:
                self.instances.pop((project, destination), None)
                return self.fail_clones_with
            clone = copy.deepcopy(original)
            clone.update({"name": destination, "state": "RUNNABLE", "createTime": "2025-03-14T09:26:54.120Z"})
            clone["ipAddresses"] = [{"type": "PRIVATE", "ipAddress": f"10.52.17.{next(self._addresses)}"}]
            self.instances[(project, destination)] = clone
            return None

        return self._operation(project, destination, "CLONE", create, self.clone_polls_before_done)

    def _patch_instance(self, project: str, name: str, body: Any) -> tuple[int, Any]:
        instance = self.instances.get((project, name))
        if instance is None:
            return 404, _error(404, "The Cloud SQL instance does not exist.")
        if instance.get("state") == "PENDING_CREATE":
            return 409, _error(409, "Operation failed because another operation was already in progress.")
        settings = (body or {}).get("settings") if isinstance(body, dict) else None
        if not isinstance(settings, dict) or not settings or \
                not set(settings) <= {"deletionProtectionEnabled", "userLabels"}:
            return 400, _error(400, "the double patches settings.deletionProtectionEnabled and userLabels only")
        if "deletionProtectionEnabled" in settings:
            instance["settings"]["deletionProtectionEnabled"] = bool(settings["deletionProtectionEnabled"])
        if "userLabels" in settings:
            instance["settings"]["userLabels"] = dict(settings["userLabels"] or {})
        return self._operation(project, name, "UPDATE", lambda: None)

    def _delete_instance(self, project: str, name: str) -> tuple[int, Any]:
        instance = self.instances.get((project, name))
        if instance is None:
            return 404, _error(404, "The Cloud SQL instance does not exist.")
        busy = _error(409, "Operation failed because another operation was already in progress.")
        if instance.get("state") == "PENDING_CREATE":
            return 409, busy
        if self.busy_deletes > 0:
            self.busy_deletes -= 1
            return 409, busy
        if instance["settings"].get("deletionProtectionEnabled"):
            return 400, _error(400, "The instance is protected. Please disable the deletion protection and try "
                                    "again.")

        def delete() -> str | None:
            self.instances.pop((project, name), None)
            return None

        return self._operation(project, name, "DELETE", delete)

    def _get_operation(self, project: str, name: str) -> tuple[int, Any]:
        operation = self.operations.get((project, name))
        if operation is None:
            return 404, _error(404, "The operation does not exist.")
        if operation.pending:
            operation.resource["status"] = operation.pending.pop(0)
        elif operation.on_done is not None:
            done, operation.on_done = operation.on_done, None
            failure = done()
            operation.resource["status"] = "DONE"
            operation.resource["endTime"] = "2025-03-14T09:41:02.007Z"
            if failure:
                operation.resource["error"] = {"kind": "sql#operationErrors",
                                               "errors": [{"code": "INTERNAL_ERROR", "message": failure}]}
        elif operation.resource["operationType"] != "BACKUP_VOLUME":
            pass  # DONE already, as it stays
        else:
            operation.resource["status"] = "DONE"
            operation.resource["endTime"] = "2025-03-14T09:31:02.007Z"
            if self.fail_backups_with:
                operation.resource["error"] = {"kind": "sql#operationErrors",
                                               "errors": [{"code": "BACKUP_FAILED",
                                                           "message": self.fail_backups_with}]}
            elif "backupContext" not in operation.resource:
                backup_id = str(next(self._backup_ids))
                operation.resource["backupContext"] = {"kind": "sql#backupContext", "backupId": backup_id}
                self.backup_run_items.setdefault((project, str(operation.resource["targetId"])), []).append(
                    {"kind": "sql#backupRun", "id": backup_id, "type": "ON_DEMAND", "status": "SUCCESSFUL",
                     "instance": operation.resource["targetId"], "windowStartTime": operation.resource["startTime"],
                     "startTime": operation.resource["startTime"]})
        return 200, dict(operation.resource)


def _error(code: int, message: str) -> dict[str, Any]:
    status = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 409: "ALREADY_EXISTS",
              500: "INTERNAL", 503: "UNAVAILABLE"}.get(code, "UNKNOWN")
    return {"error": {"code": code, "message": message, "status": status}}


def _handler_for(double: GoogleApiDouble) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode(errors="replace")
            path, _, query = self.path.partition("?")
            status, answer = double.handle(self.command, path, body, query)
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # the base class's signature
            pass

    return Handler


# -- a database behind the double: MariaDB with a Cloud SQL server certificate -----------------------------------

_CLOUDSQL_SERVERS: dict[str, Any] = {}


@dataclass(frozen=True)
class CloudSqlLikeServer:
    """A MariaDB whose certificate is shaped as a Cloud SQL instance's (GOOGLE_MANAGED_INTERNAL_CA): signed by a CA
    of its own, subject CN `<project>:<instance>`, and no subjectAltName at all — so no IP address to match."""

    server: Any  # tests.ops.support.mariadb.MariaDbServer
    ca_pem: str
    common_name: str

    @property
    def port(self) -> int:
        return int(self.server.port)


def cloudsql_like_server(directory: Any, common_name: str, cleanups: Callable[[Callable[[], None]], None]
                         ) -> CloudSqlLikeServer:
    """Started once per test process and common name (binary log on, an empty `gitpod` database);
    `cleanups(fn)` stops it."""
    if common_name in _CLOUDSQL_SERVERS:
        return _CLOUDSQL_SERVERS[common_name]
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    from tests.ops.support.mariadb import ROOT_PASSWORD, MariaDbServer, require_mariadb

    require_mariadb()
    now = dt.datetime.now(dt.UTC)

    def name(*attributes: tuple[Any, str]) -> x509.Name:
        return x509.Name([x509.NameAttribute(oid, value) for oid, value in attributes])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = name((NameOID.COUNTRY_NAME, "US"), (NameOID.ORGANIZATION_NAME, "Google, Inc"),
                   (NameOID.COMMON_NAME, "Google Cloud SQL Server CA"))
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (x509.CertificateBuilder()
                   .subject_name(name((NameOID.COUNTRY_NAME, "US"), (NameOID.ORGANIZATION_NAME, "Google, Inc"),
                                      (NameOID.COMMON_NAME, common_name)))
                   .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                   .sign(ca_key, hashes.SHA256()))
    assert not [extension for extension in certificate.extensions
                if isinstance(extension.value, x509.SubjectAlternativeName)]
    directory.mkdir(parents=True, exist_ok=True)
    cert_file, key_file = directory / "server.crt", directory / "server.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    ca_pem = ca.public_bytes(serialization.Encoding.PEM)
    server = MariaDbServer(directory / "mariadb", cert_file, key_file, ca_pem, binlog=True).start()
    cleanups(server.stop)
    # Over the unix socket: MariaDbServer.connect's TLS context would check the host name this certificate lacks.
    import pymysql

    with pymysql.connect(unix_socket=str(server.socket_path), user="root", password=ROOT_PASSWORD,
                         autocommit=True) as connection, connection.cursor() as cursor:
        cursor.execute("CREATE DATABASE gitpod CHARACTER SET utf8mb4")
    _CLOUDSQL_SERVERS[common_name] = CloudSqlLikeServer(server, ca_pem.decode(), common_name)
    return _CLOUDSQL_SERVERS[common_name]
