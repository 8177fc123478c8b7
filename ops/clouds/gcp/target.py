"""A GCP cell's identifiers (components/gcp; stacks with `gitpod-cell:cloud: gcp`, `gcp:project` and
`gcp:region`): Cloud SQL instance `<prefix>-db`, one bucket `<prefix>-<project>` (shortened with a digest past 63
characters, as contract.naming does; a multi- or dual-region bucket has no replica), Artifact Registry repository
`<prefix>` in the region."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from contract.naming import db_instance_identifier, gcs_bucket_name
from ops.common.cell_target import CellTarget, cell_settings
from ops.errors import EXIT_BAD_INPUT, OpsError


def resolve_target(stack: str, config: Mapping[str, Any], *, account_id: Callable[[], str] | None,
                   profile: str | None, db_instance: str | None, bucket: str | None, region: str | None
                   ) -> CellTarget:
    project = config.get("gcp:project")
    if not project:
        raise OpsError(f"stack {stack!r} sets no gcp:project", EXIT_BAD_INPUT)
    resolved_region = region or config.get("gcp:region")
    if not resolved_region:
        raise OpsError(f"stack {stack!r} sets no gcp:region; pass --region", EXIT_BAD_INPUT)
    settings = cell_settings(config)
    return CellTarget(
        stack=stack,
        cloud="gcp",
        region=str(resolved_region),
        # Where Cloud SQL keeps its backups when they are kept in another region; the bucket has no replica.
        replica_region=settings.replica_region if settings.cross_region_backups else None,
        db_instance_id=db_instance or db_instance_identifier(stack),
        bucket=bucket or gcs_bucket_name(stack, str(project)),
        replica_bucket=None,
        gitpod_namespace=settings.gitpod_namespace,
        gitpod_version=settings.gitpod_version,
        installer_image=settings.installer_image,
        cross_region_backups=settings.cross_region_backups,
        project=str(project),
    )
