"""A GCP cell's clients (ops.clouds.base.CellClients): Application Default Credentials, the Cloud SQL Admin and
Artifact Registry REST APIs through ops.clouds.gcp.api, google-cloud-storage for GCS; each built when first used."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ops.clouds.base import DatabaseAddress, DatabaseAddressError, ObjectStore, RegistryProbe
from ops.common.cell_target import CellTarget

if TYPE_CHECKING:
    from ops.backup.restore_plan import RestoreSources
    from ops.backup.restore_point import RestorePointSource
    from ops.backup.status import StatusSource
    from ops.checks.drill import DrillBackend, DrillSettings
    from ops.clouds.gcp.api import GoogleApi


@dataclass
class GcpCellClients:
    target: CellTarget
    sleep: Callable[[float], None] = time.sleep
    _built: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def project(self) -> str:
        if not self.target.project:
            raise ValueError(f"GCP cell {self.target.stack!r} has no project")
        return self.target.project

    @property
    def sqladmin(self) -> GoogleApi:
        from ops.clouds.gcp import api

        return self._once("sqladmin", lambda: api.GoogleApi(api.authorized_session(), api.SQLADMIN_URL))

    @property
    def artifact_registry(self) -> GoogleApi:
        from ops.clouds.gcp import api

        return self._once("artifact_registry",
                          lambda: api.GoogleApi(api.authorized_session(), api.ARTIFACT_REGISTRY_URL))

    @property
    def gcs(self) -> Any:
        from ops.clouds.gcp import api

        return self._once("gcs", lambda: api.storage_client(self.project))

    def object_store(self, bucket: str | None = None, region: str | None = None) -> ObjectStore:
        """`region` is ignored: a bucket is reached the same from anywhere (the cell's is multi- or dual-region)."""
        from ops.clouds.gcp.gcs import GcsObjectStore

        return GcsObjectStore(self.gcs, bucket or self.target.bucket)

    def database_address(self, host: str | None = None, port: int | None = None, *,
                         need_ca: bool = True) -> DatabaseAddress:
        """The instance's private IP (unless `host`), its server CA (`serverCaCert.cert`) and the identity its
        certificate carries (CN `<project>:<instance>`; `dnsName` on CAS-based instances), from the Admin API."""
        from ops.checks.mysql import MYSQL_PORT, PinnedCa
        from ops.clouds.gcp.api import GoogleApiError
        from ops.clouds.gcp.cloudsql import private_ip, server_ca_pem, server_identity

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

    def registry_probe(self) -> RegistryProbe:
        from ops.clouds.gcp import api
        from ops.clouds.gcp.artifact_registry import ArtifactRegistry

        return ArtifactRegistry(self.artifact_registry, self.project, self.target.region, api.access_token)

    def restore_points(self, snapshot_prefix: str, wait_seconds: float) -> RestorePointSource:
        # A Cloud SQL backup run is named by its id; `snapshot_prefix` names RDS snapshots only.
        from ops.clouds.gcp.restore_points import OPERATION_POLL_SECONDS, CloudSqlRestorePoints

        return CloudSqlRestorePoints(
            self.project, self.target.db_instance_id, api=self.sqladmin,
            description=f"gitpod-cell {self.target.stack}: before a rollout",
            max_polls=max(1, int(wait_seconds / OPERATION_POLL_SECONDS)), sleep=self.sleep,
        )

    def check_drill_settings(self, settings: DrillSettings) -> None:
        if settings.scratch_instance_class:
            raise ValueError("--scratch-instance-class: a Cloud SQL clone takes its source's tier; leave it out on "
                             "GCP")

    def drill_backend(self, settings: DrillSettings, clock: Callable[[], datetime]) -> DrillBackend:
        from ops.clouds.gcp.drill import CloudSqlDrillBackend

        return CloudSqlDrillBackend(self.sqladmin, self.project, settings, clock=clock, sleep=self.sleep)

    def restore_sources(self, region: str | None) -> RestoreSources:
        from ops.clouds.gcp.restore import CloudSqlRestoreSources

        return CloudSqlRestoreSources(self.sqladmin, self.gcs, self.project)

    def backup_status(self) -> StatusSource:
        from ops.clouds.gcp.backup_status import GcpStatusSource

        return GcpStatusSource(sqladmin=self.sqladmin, gcs=self.gcs, artifact_registry=self.artifact_registry)

    def _once(self, name: str, build: Callable[[], Any]) -> Any:
        if name not in self._built:
            self._built[name] = build()
        return self._built[name]
