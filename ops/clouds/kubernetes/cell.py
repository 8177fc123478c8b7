"""An existing cluster's cell clients (ops.clouds.base.CellClients): boto3 against the S3-compatible endpoint, TLS
MySQL connections to the configured server, the registry's API; nothing else exists to ask."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ops.clouds.base import DatabaseAddress, DatabaseAddressError, ObjectStore, RegistryProbe
from ops.common.cell_target import CellTarget
from ops.errors import EXIT_BAD_INPUT, OpsError

if TYPE_CHECKING:
    from ops.backup.restore_plan import RestoreSources
    from ops.backup.restore_point import RestorePointSource
    from ops.backup.status import StatusSource
    from ops.checks.drill import DrillBackend, DrillSettings
    from ops.checks.mysql import DatabaseEndpoint

NO_DRILL = ("a recovery drill clones the database at a past moment through its cloud's API; a cell on an existing "
            "cluster has no such API: drill your own backups (base backup + binary logs up to the restore point)")


@dataclass
class ExistingClusterCellClients:
    target: CellTarget
    _s3: Any = field(default=None, repr=False)

    def setting(self, name: str) -> str | None:
        value = self.target.settings.get(name)
        return str(value) if value not in (None, "") else None

    def s3(self) -> Any:
        """A boto3 S3 client for the endpoint: the hooks' key when given, else boto3's standard chain."""
        if self._s3 is None:
            import boto3
            from botocore.config import Config

            endpoint = self.setting("object_storage_endpoint")
            if endpoint is None:
                raise OpsError(f"cell {self.target.stack!r}: no object storage endpoint", EXIT_BAD_INPUT)
            self._s3 = boto3.client(
                "s3", endpoint_url=endpoint, region_name=self.target.region,
                aws_access_key_id=self.setting("object_storage_access_key_id"),
                aws_secret_access_key=self.setting("object_storage_secret_access_key"),
                # Path-style: an on-premises store rarely has a wildcard DNS name per bucket.
                config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3}),
            )
        return self._s3

    def object_store(self, bucket: str | None = None, region: str | None = None) -> ObjectStore:
        from ops.clouds.aws.s3 import S3ObjectStore

        return S3ObjectStore(self.s3(), bucket or self.target.bucket)

    def database_address(self, host: str | None = None, port: int | None = None, *,
                         need_ca: bool = True) -> DatabaseAddress:
        found_host, found_port = host or self.setting("database_host"), port or self.setting("database_port")
        if found_host is None or found_port is None:
            raise DatabaseAddressError(f"cell {self.target.stack!r}: the database's host and port are not configured")
        ca_pem = self.setting("database_ca_pem")
        if need_ca and ca_pem is None:
            raise DatabaseAddressError("the database's CA is not given: kubernetes.database.caPem in the stack, or "
                                       "MYSQL_CA_PEM")
        return DatabaseAddress(found_host, int(found_port), ca_pem=ca_pem)

    def database_endpoint(self) -> DatabaseEndpoint:
        from ops.checks.mysql import DatabaseEndpoint

        address = self.database_address()
        password = self.setting("database_password")
        if password is None:
            raise DatabaseAddressError("the database password is not given (MYSQL_PWD when run by hand)")
        return DatabaseEndpoint(address.host, address.port, self.setting("database_username") or "gitpod", password,
                                self.setting("database_name") or "gitpod", ca_pem=address.ca_pem)

    def registry_probe(self) -> RegistryProbe:
        from ops.clouds.kubernetes.registry import DockerRegistryProbe

        docker_config = self.setting("registry_docker_config") or '{"auths": {}}'
        # The hooks' docker config holds exactly the configured registry; an operator's may hold many.
        servers = list((json.loads(docker_config).get("auths") or {}).keys())
        server = self.setting("registry_server") or (servers[0] if servers else "(none configured)")
        return DockerRegistryProbe(server, docker_config, plain_http=self.setting("registry_insecure_http") == "true")

    def restore_points(self, snapshot_prefix: str, wait_seconds: float) -> RestorePointSource:
        from ops.checks.mysql import tls_connector
        from ops.clouds.kubernetes.binlog import BinlogRestorePoints

        # Nothing to wait for: a binary-log position is read, not taken.
        return BinlogRestorePoints(tls_connector(self.database_endpoint()), self.target.db_instance_id)

    def check_drill_settings(self, settings: DrillSettings) -> None:
        raise ValueError(NO_DRILL)

    def drill_backend(self, settings: DrillSettings, clock: Callable[[], datetime]) -> DrillBackend:
        raise ValueError(NO_DRILL)

    def restore_sources(self, region: str | None) -> RestoreSources:
        raise OpsError(
            f"cell {self.target.stack!r} is on an existing cluster: there is no managed backup to build a new cell "
            "from. Restore the database yourself (base backup, then the binary logs up to the restore point in "
            f"{self.target.gitpod_namespace}/gitpod-installation), then `pulumi up` the same stack; the installer "
            f"config of that time is in s3://{self.target.bucket}/gitpod-cell/{self.target.stack}/installer-config/",
            EXIT_BAD_INPUT)

    def backup_status(self) -> StatusSource:
        from ops.clouds.kubernetes.backup_status import ExistingClusterStatus

        return ExistingClusterStatus(self)
