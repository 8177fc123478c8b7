"""An AWS cell's identifiers (components/aws): prefix `gitpod-<stack>`, RDS instance `<prefix>-db`, buckets
`<prefix>-<account>-<region>` and `<prefix>-<account>-<replicaRegion>`, ECR repositories `<prefix>/<name>`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from contract.naming import db_instance_identifier, s3_bucket_name
from ops.common.cell_target import CellTarget, cell_settings
from ops.errors import EXIT_BAD_INPUT, OpsError


def resolve_target(stack: str, config: Mapping[str, Any], *, account_id: Callable[[], str] | None,
                   profile: str | None, db_instance: str | None, bucket: str | None, region: str | None
                   ) -> CellTarget:
    resolved_region = region or config.get("aws:region")
    if not resolved_region:
        raise OpsError(f"stack {stack!r} sets no aws:region; pass --region", EXIT_BAD_INPUT)
    settings = cell_settings(config)
    replica_region = settings.replica_region
    account: str | None = None

    def account_once() -> str:
        nonlocal account
        if account is None:
            account = account_id() if account_id is not None else _caller_account(profile, str(resolved_region))
        return account

    # With --bucket the account is not needed: no replica is derived (it names no other bucket), so no STS call.
    primary_bucket = bucket or s3_bucket_name(stack, account_once(), str(resolved_region))
    replica_bucket = s3_bucket_name(stack, account_once(), replica_region) if replica_region and not bucket else None
    return CellTarget(
        stack=stack,
        cloud="aws",
        region=str(resolved_region),
        replica_region=replica_region,
        db_instance_id=db_instance or db_instance_identifier(stack),
        bucket=primary_bucket,
        replica_bucket=replica_bucket,
        gitpod_namespace=settings.gitpod_namespace,
        gitpod_version=settings.gitpod_version,
        installer_image=settings.installer_image,
        cross_region_backups=settings.cross_region_backups,
    )


def _caller_account(profile: str | None, region: str) -> str:
    from ops.clouds.aws.session import account_id

    try:
        return account_id(profile, region)
    except RuntimeError as error:
        # Exit 1 here; ops.cli reports an unreachable STS or refused credentials as "could not check" (3).
        raise OpsError(f"cannot read the AWS account (STS GetCallerIdentity), which names the cell's buckets: "
                       f"{error}") from error
