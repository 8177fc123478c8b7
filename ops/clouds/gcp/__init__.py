"""GCP: Cloud SQL for MySQL, GCS, Artifact Registry, with Application Default Credentials. Google's libraries are
imported only when a client is built.

    target.py             a stack's identifiers on GCP (components/gcp names)
    api.py                credentials, REST calls to Google APIs, the Cloud Storage client
    cell.py               GcpCellClients: the CellClients of a GCP cell
    gcs.py                the bucket as an ObjectStore (generations are versions)
    artifact_registry.py  preflight's registry check
    cloudsql.py           an instance's address, CA and identity, its operations, its point-in-time window
    restore_points.py     the rollout's restore point ("now" with the binary log, or a backup run waited for)
    drill.py              the recovery drill's backend (a clone of the source)
    restore.py            where a restore plan reads the backups
    backup_status.py      the database, bucket and registry sections of `ops backup status`
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ops.clouds.base import CellClients, CloudAdapter
from ops.common.cell_target import CellTarget


def _resolve_target(stack: str, config: Mapping[str, Any], **options: Any) -> CellTarget:
    from ops.clouds.gcp.target import resolve_target

    return resolve_target(stack, config, **options)


def _cell_clients(target: CellTarget, *, profile: str | None, sleep: Callable[[float], None]) -> CellClients:
    from ops.clouds.gcp.cell import GcpCellClients

    return GcpCellClients(target, sleep)


ADAPTER = CloudAdapter(
    name="gcp",
    title="GCP",
    restore_target_kind="cloudsql",
    object_storage_kind="gcs",
    hook_context_fields=("gcp_project",),
    resolve_target=_resolve_target,
    cell_clients=_cell_clients,
)
