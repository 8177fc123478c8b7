"""A cell on an existing cluster (`gitpod-cell:cloud: kubernetes`): no cloud API, only the endpoints the stack names.

    target.py         a stack's identifiers from its `gitpod-cell:kubernetes` section
    cell.py           ExistingClusterCellClients: the CellClients of such a cell
    binlog.py         the rollout's restore point: the MySQL server's binary-log position (and GTID set)
    registry.py       preflight's registry check: the registry API answers the configured credentials
    backup_status.py  `ops backup status`: binary logging and its retention, the bucket's versioning

What has no meaning here says so instead of pretending: there is no point-in-time recovery service (a binary-log
position is a restore point only while the operator keeps the binary logs and a base backup before it), no
recovery drill and no `restore plan` (the operator restores the database; docs/existing-cluster.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ops.clouds.base import CellClients, CloudAdapter
from ops.common.cell_target import CellTarget

# What the rollout hooks hand this adapter (contract.rollout.HookContext fields), as CellTarget.settings.
HOOK_CONTEXT_FIELDS: tuple[str, ...] = (
    "object_storage_endpoint", "object_storage_access_key_id", "object_storage_secret_access_key",
    "registry_docker_config", "registry_insecure_http",
    "database_host", "database_port", "database_username", "database_password", "database_name", "database_ca_pem",
)


def _resolve_target(stack: str, config: Mapping[str, Any], **options: Any) -> CellTarget:
    from ops.clouds.kubernetes.target import resolve_target

    return resolve_target(stack, config, **options)


def _cell_clients(target: CellTarget, *, profile: str | None, sleep: Callable[[float], None]) -> CellClients:
    from ops.clouds.kubernetes.cell import ExistingClusterCellClients

    return ExistingClusterCellClients(target)


ADAPTER = CloudAdapter(
    name="kubernetes",
    title="Kubernetes (existing cluster)",
    restore_target_kind="mysql-binlog",
    object_storage_kind="s3",
    hook_context_fields=HOOK_CONTEXT_FIELDS,
    resolve_target=_resolve_target,
    cell_clients=_cell_clients,
)
