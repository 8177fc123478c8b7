"""The per-cloud clients of the commands that reach a cell: the one place that knows which SDK reaches what.

`cell_clients(target)` gives AwsCellClients (boto3 from the standard credential chain, `--aws-profile`) or
GcpCellClients (Application Default Credentials: the Cloud SQL Admin and Artifact Registry REST APIs through
ops.gcp_api, google-cloud-storage for GCS). Each command asks for what it needs — the backup-status clients, the
config backup store, the database's address, a drill backend, the restore plan's sources — and stays the same on
both clouds. Clients are built on first use, so a command loads only the SDK it calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from ops.cell_target import CellTarget

if TYPE_CHECKING:
    from ops.backup_status import StatusClients
    from ops.drill import DrillBackend, DrillSettings
    from ops.gcp_api import GoogleApi
    from ops.mysql_checks import ServerIdentity
    from ops.restore_plan import RestoreSources


class DatabaseAddressError(Exception):
    """The database's address (or its CA) could not be read from the cloud's API."""


@dataclass(frozen=True)
class DatabaseAddress:
    host: str
    port: int
    # The CA that signed the server's certificate when the API gives it (a Cloud SQL instance's own); None: the
    # operator's --ca-file (RDS's published bundle) or the system trust store. On Cloud SQL it is an
    # ops.mysql_checks.PinnedCa carrying `server_identity`, so an endpoint built from it alone checks that identity.
    ca_pem: str | None = None
    # What the server's certificate names when that is not `host` (Cloud SQL: `<project>:<instance>`, which its
    # private IP is not); None: standard host name verification (RDS).
    server_identity: ServerIdentity | None = None


class ConfigStore(Protocol):
    scheme: str

    def write(self, stack: str, gitpod_version: str, config_hash: str, config_yaml: str, now: datetime) -> Any: ...


class CellClients(Protocol):
    target: CellTarget
    scheme: str  # "s3" or "gs"

    def backup_status(self) -> StatusClients: ...

    def config_store(self) -> ConfigStore: ...

    def database_address(self, host: str | None = None, port: int | None = None, *,
                         need_ca: bool = True) -> DatabaseAddress:
        """`host`/`port` as given, the rest from the cloud's API; with `need_ca`, the server's CA when the API
        has it. DatabaseAddressError when the API cannot say."""
        ...

    def drill_backend(self, settings: DrillSettings, clock: Callable[[], datetime]) -> DrillBackend: ...

    def restore_sources(self, region: str | None) -> RestoreSources: ...


def cell_clients(target: CellTarget, *, aws_profile: str | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> CellClients:
    """The clients for `target`'s cloud. `sleep` paces polling of long-running Cloud SQL operations."""
    if target.cloud == "gcp":
        return GcpCellClients(target, sleep=sleep)
    return AwsCellClients(target, aws_profile)


def object_url(scheme: str, bucket: str, key: str) -> str:
    return f"{scheme}://{bucket}/{key}"


# -- AWS ----------------------------------------------------------------------------------------------------------


@dataclass
class AwsCellClients:
    target: CellTarget
    aws_profile: str | None = None
    scheme: str = "s3"

    def client(self, service: str, region: str | None = None) -> Any:
        from ops.cell_target import aws_session

        return aws_session(self.aws_profile, region or self.target.region).client(service)

    def backup_status(self) -> StatusClients:
        from ops.backup_status import StatusClients

        replica = self.target.replica_region
        return StatusClients(
            rds=self.client("rds"), s3=self.client("s3"), ecr=self.client("ecr"),
            replica_rds=self.client("rds", replica) if replica else None,
            replica_s3=self.client("s3", replica) if replica else None,
        )

    def config_store(self) -> ConfigStore:
        from ops.config_backup import S3ConfigBackupStore

        return S3ConfigBackupStore(self.client("s3"), self.target.bucket)

    def database_address(self, host: str | None = None, port: int | None = None, *,
                         need_ca: bool = True) -> DatabaseAddress:
        # RDS's CA is a published bundle (--ca-file), never read from the API.
        from ops.pitr_window import PitrWindowError, describe_instance

        if host is not None and port is not None:
            return DatabaseAddress(host, port)
        try:
            endpoint = describe_instance(self.client("rds"), self.target.db_instance_id).get("Endpoint") or {}
        except PitrWindowError as error:
            raise DatabaseAddressError(str(error)) from error
        return DatabaseAddress(host or str(endpoint.get("Address")), port or int(endpoint.get("Port") or 3306))

    def drill_backend(self, settings: DrillSettings, clock: Callable[[], datetime]) -> DrillBackend:
        from ops.drill import RdsDrillBackend

        return RdsDrillBackend(self.client("rds"), self.client("s3"), settings)

    def restore_sources(self, region: str | None) -> RestoreSources:
        """`region`: where the new cell goes (None or the old region: the same one); its bucket copy and
        replicated backups are read there."""
        from ops.restore_plan import RdsRestoreSources

        elsewhere = region is not None and region != self.target.region
        return RdsRestoreSources(rds=self.client("rds"), s3=self.client("s3", region if elsewhere else None),
                                 replica_rds=self.client("rds", region) if elsewhere else None)


# -- GCP ----------------------------------------------------------------------------------------------------------


@dataclass
class GcpCellClients:
    target: CellTarget
    sleep: Callable[[float], None] = time.sleep
    scheme: str = "gs"
    _built: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def project(self) -> str:
        if not self.target.project:
            raise ValueError(f"GCP cell {self.target.stack!r} has no project")
        return self.target.project

    @property
    def sqladmin(self) -> GoogleApi:
        from ops import gcp_api

        return self._once("sqladmin", lambda: gcp_api.GoogleApi(gcp_api.authorized_session(), gcp_api.SQLADMIN_URL))

    @property
    def artifact_registry(self) -> GoogleApi:
        from ops import gcp_api

        return self._once("artifact_registry",
                          lambda: gcp_api.GoogleApi(gcp_api.authorized_session(), gcp_api.ARTIFACT_REGISTRY_URL))

    @property
    def gcs(self) -> Any:
        from ops import gcp_api

        return self._once("gcs", lambda: gcp_api.storage_client(self.project))

    def backup_status(self) -> StatusClients:
        from ops.backup_status import StatusClients

        return StatusClients(rds=None, s3=None, ecr=None, gcs=self.gcs, sqladmin=self.sqladmin,
                             artifact_registry=self.artifact_registry)

    def config_store(self) -> ConfigStore:
        from ops.gcs_config_store import GcsConfigBackupStore

        return GcsConfigBackupStore(self.gcs, self.target.bucket)

    def database_address(self, host: str | None = None, port: int | None = None, *,
                         need_ca: bool = True) -> DatabaseAddress:
        """The instance's private IP (unless `host`), its server CA (`serverCaCert.cert`) and the identity its
        certificate carries (CN `<project>:<instance>`; `dnsName` on CAS-based instances), from the Admin API."""
        from ops.cloudsql_drill import private_ip, server_ca_pem, server_identity
        from ops.gcp_api import GoogleApiError
        from ops.mysql_checks import MYSQL_PORT, PinnedCa

        name = self.target.db_instance_id
        if host is not None and not need_ca:
            return DatabaseAddress(host, port or MYSQL_PORT, server_identity=server_identity(self.project, name))
        try:
            instance = self.sqladmin.call("GET", f"projects/{self.project}/instances/{name}")
        except GoogleApiError as error:
            what = "not found" if error.status == 404 else f"unreadable ({error})"
            raise DatabaseAddressError(f"Cloud SQL instance {name!r} in project {self.project!r} is {what}") \
                from error
        address = host or private_ip(instance)
        if not address:
            raise DatabaseAddressError(f"Cloud SQL instance {name!r} reports no private IP address")
        identity = server_identity(self.project, name, instance)
        ca_pem = server_ca_pem(instance)
        return DatabaseAddress(address, port or MYSQL_PORT, PinnedCa(ca_pem, identity) if ca_pem else None, identity)

    def drill_backend(self, settings: DrillSettings, clock: Callable[[], datetime]) -> DrillBackend:
        from ops.cloudsql_drill import CloudSqlDrillBackend

        return CloudSqlDrillBackend(self.sqladmin, self.gcs, self.project, settings, clock=clock, sleep=self.sleep)

    def restore_sources(self, region: str | None) -> RestoreSources:
        from ops.restore_plan import CloudSqlRestoreSources

        return CloudSqlRestoreSources(self.sqladmin, self.gcs, self.project)

    def _once(self, name: str, build: Callable[[], Any]) -> Any:
        if name not in self._built:
            self._built[name] = build()
        return self._built[name]

