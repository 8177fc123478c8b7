"""An AWS cell's clients (ops.clouds.base.CellClients): boto3 from the standard credential chain or a named profile,
one client per service and region, built when first asked for."""

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


@dataclass
class AwsCellClients:
    target: CellTarget
    profile: str | None = None
    sleep: Callable[[float], None] = time.sleep
    _built: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)

    def client(self, service: str, region: str | None = None) -> Any:
        from ops.clouds.aws.session import aws_session

        where = region or self.target.region
        if (service, where) not in self._built:
            self._built[(service, where)] = aws_session(self.profile, where).client(service)
        return self._built[(service, where)]

    def object_store(self, bucket: str | None = None, region: str | None = None) -> ObjectStore:
        from ops.clouds.aws.s3 import S3ObjectStore

        return S3ObjectStore(self.client("s3", region), bucket or self.target.bucket)

    def database_address(self, host: str | None = None, port: int | None = None, *,
                         need_ca: bool = True) -> DatabaseAddress:
        # RDS's CA is a published bundle (--ca-file), never read from the API.
        from ops.backup.pitr_window import PitrWindowError
        from ops.clouds.aws.rds import describe_instance

        if host is not None and port is not None:
            return DatabaseAddress(host, port)
        try:
            endpoint = describe_instance(self.client("rds"), self.target.db_instance_id).get("Endpoint") or {}
        except PitrWindowError as error:
            raise DatabaseAddressError(str(error)) from error
        return DatabaseAddress(host or str(endpoint.get("Address")), port or int(endpoint.get("Port") or 3306))

    def registry_probe(self) -> RegistryProbe:
        from ops.clouds.aws.ecr import EcrRegistry

        return EcrRegistry(self.client("ecr"))

    def restore_points(self, snapshot_prefix: str, wait_seconds: float) -> RestorePointSource:
        from ops.clouds.aws.restore_points import SNAPSHOT_WAIT_DELAY_SECONDS, RdsRestorePoints

        return RdsRestorePoints(
            self.client("rds"),
            self.target.db_instance_id,
            snapshot_prefix=snapshot_prefix,
            snapshot_tags={"Cell": self.target.stack, "ManagedBy": "gitpod-cell-ops", "Purpose": "pre-rollout"},
            wait_max_attempts=max(1, int(wait_seconds / SNAPSHOT_WAIT_DELAY_SECONDS)),
        )

    def check_drill_settings(self, settings: DrillSettings) -> None:
        return None  # RDS honours every drill setting

    def drill_backend(self, settings: DrillSettings, clock: Callable[[], datetime]) -> DrillBackend:
        from ops.clouds.aws.drill import RdsDrillBackend

        return RdsDrillBackend(self.client("rds"), settings)

    def restore_sources(self, region: str | None) -> RestoreSources:
        """`region`: where the new cell goes (None or the old region: the same one); its bucket copy and
        replicated backups are read there."""
        from ops.clouds.aws.restore import RdsRestoreSources

        elsewhere = region is not None and region != self.target.region
        return RdsRestoreSources(rds=self.client("rds"), s3=self.client("s3", region if elsewhere else None),
                                 replica_rds=self.client("rds", region) if elsewhere else None)

    def backup_status(self) -> StatusSource:
        from ops.clouds.aws.backup_status import AwsStatusSource

        replica = self.target.replica_region
        return AwsStatusSource(
            rds=self.client("rds"), s3=self.client("s3"), ecr=self.client("ecr"),
            replica_rds=self.client("rds", replica) if replica else None,
            replica_s3=self.client("s3", replica) if replica else None,
        )
