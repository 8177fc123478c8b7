"""AWS: RDS for MySQL, S3, ECR, through boto3 (imported only when a client is built).

    target.py          a stack's identifiers on AWS (components/aws names)
    session.py         boto3 sessions per profile, clients per region, the caller's account
    cell.py            AwsCellClients: the CellClients of an AWS cell
    s3.py              the bucket as an ObjectStore
    ecr.py             preflight's registry check
    rds.py             an instance's point-in-time window
    restore_points.py  the rollout's restore point (PITR time, or a snapshot waited for)
    drill.py           the recovery drill's backend
    restore.py         where a restore plan reads the backups
    backup_status.py   the database, bucket and registry sections of `ops backup status`
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ops.clouds.base import CellClients, CloudAdapter
from ops.common.cell_target import CellTarget


def _resolve_target(stack: str, config: Mapping[str, Any], **options: Any) -> CellTarget:
    from ops.clouds.aws.target import resolve_target

    return resolve_target(stack, config, **options)


def _cell_clients(target: CellTarget, *, profile: str | None, sleep: Callable[[float], None]) -> CellClients:
    from ops.clouds.aws.cell import AwsCellClients

    return AwsCellClients(target, profile, sleep)


ADAPTER = CloudAdapter(
    name="aws",
    title="AWS",
    restore_target_kind="rds",
    object_storage_kind="s3",
    hook_context_fields=(),
    resolve_target=_resolve_target,
    cell_clients=_cell_clients,
)
