"""Which live resources a stack is: one place that turns `--stack NAME` (+ overrides) into identifiers.

The names follow the program's conventions. AWS (components/aws): prefix `gitpod-<stack>` (at most 40
characters), RDS instance `<prefix>-db`, buckets `<prefix>-<account>-<region>` and
`<prefix>-<account>-<replicaRegion>`, ECR repositories `<prefix>/<name>`. GCP (components/gcp, stacks with
`gitpod-cell:cloud: gcp`, `gcp:project` and `gcp:region`): Cloud SQL instance `<prefix>-db`, one bucket
`<prefix>-<project>` (shortened with a digest past 63 characters, as components/gcp/naming.py does; a multi- or
dual-region bucket has no replica), Artifact Registry repository `<prefix>` in the region. `--db-instance`,
`--bucket` and `--region` override what the conventions give, for cells whose names differ (adopted resources,
restored cells).
"""

from __future__ import annotations

import argparse
import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contract.cluster import DEFAULT_GITPOD_NAMESPACE as DEFAULT_NAMESPACE
from contract.naming import (
    CONFIG_NAMESPACE,
    SUPPORTED_CLOUDS,
    db_instance_identifier,
    gcs_bucket_name,
    name_prefix,
    registry_repositories,
    s3_bucket_name,
)
from ops.cli import EXIT_CONFIG_ERROR, OpsError

NAMESPACE = CONFIG_NAMESPACE
DEFAULT_GITPOD_NAMESPACE = DEFAULT_NAMESPACE
__all__ = ["SUPPORTED_CLOUDS"]


@dataclass(frozen=True)
class CellTarget:
    stack: str
    cloud: str
    region: str
    replica_region: str | None
    db_instance_id: str
    bucket: str
    replica_bucket: str | None
    gitpod_namespace: str
    gitpod_version: str | None
    installer_image: str | None
    cross_region_backups: bool
    project: str | None = None  # GCP only

    @property
    def name_prefix(self) -> str:
        return name_prefix(self.stack)

    @property
    def repositories(self) -> tuple[str, ...]:
        return cell_repositories(self.stack, self.cloud)


cell_repositories = registry_repositories
bucket_name = s3_bucket_name


def config_object(config: Mapping[str, Any], key: str) -> dict[str, Any]:
    """A structured stack-config value: a mapping, or JSON text as `pulumi config set --path` may leave it."""
    value = config.get(key)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return dict(value) if isinstance(value, dict) else {}


def resolve_cell_target(
    stack: str,
    config: Mapping[str, Any],
    *,
    account_id: Callable[[], str],
    db_instance: str | None = None,
    bucket: str | None = None,
    region: str | None = None,
    clouds: tuple[str, ...] = ("aws",),
) -> CellTarget:
    """The cell's identifiers from its stack config; `account_id` is only called when an AWS bucket name needs it.
    `clouds`: the clouds the calling command supports (a command that only knows AWS APIs passes the default)."""
    cloud = str(config.get(f"{NAMESPACE}:cloud") or "aws")
    if cloud not in clouds:
        supported = " and ".join(clouds)
        raise OpsError(f"stack {stack!r} is a {cloud} cell; this command supports {supported} cells so far",
                       EXIT_CONFIG_ERROR)
    if cloud == "gcp":
        return _gcp_cell_target(stack, config, db_instance=db_instance, bucket=bucket, region=region)
    resolved_region = region or config.get("aws:region")
    if not resolved_region:
        raise OpsError(f"stack {stack!r} sets no aws:region; pass --region", EXIT_CONFIG_ERROR)
    replica_region = config.get(f"{NAMESPACE}:replicaRegion")
    gitpod = config_object(config, f"{NAMESPACE}:gitpod")
    database = config_object(config, f"{NAMESPACE}:database")
    account: str | None = None

    def account_once() -> str:
        nonlocal account
        if account is None:
            account = account_id()
        return account

    primary_bucket = bucket or bucket_name(stack, account_once(), str(resolved_region))
    replica_bucket = bucket_name(stack, account_once(), str(replica_region)) if replica_region else None
    environment = config.get(f"{NAMESPACE}:environment")
    return CellTarget(
        stack=stack,
        cloud=cloud,
        region=str(resolved_region),
        replica_region=str(replica_region) if replica_region else None,
        db_instance_id=db_instance or db_instance_identifier(stack),
        bucket=primary_bucket,
        replica_bucket=replica_bucket if not bucket else None,
        gitpod_namespace=str(gitpod.get("namespace") or DEFAULT_GITPOD_NAMESPACE),
        gitpod_version=str(gitpod["version"]) if gitpod.get("version") else None,
        installer_image=str(gitpod["installerImage"]) if gitpod.get("installerImage") else None,
        cross_region_backups=bool(database.get("crossRegionBackups", environment == "prod")),
    )


def _gcp_cell_target(stack: str, config: Mapping[str, Any], *, db_instance: str | None, bucket: str | None,
                     region: str | None) -> CellTarget:
    project = config.get("gcp:project")
    if not project:
        raise OpsError(f"stack {stack!r} sets no gcp:project", EXIT_CONFIG_ERROR)
    resolved_region = region or config.get("gcp:region")
    if not resolved_region:
        raise OpsError(f"stack {stack!r} sets no gcp:region; pass --region", EXIT_CONFIG_ERROR)
    gitpod = config_object(config, f"{NAMESPACE}:gitpod")
    database = config_object(config, f"{NAMESPACE}:database")
    environment = config.get(f"{NAMESPACE}:environment")
    cross_region_backups = bool(database.get("crossRegionBackups", environment == "prod"))
    replica_region = config.get(f"{NAMESPACE}:replicaRegion")
    return CellTarget(
        stack=stack,
        cloud="gcp",
        region=str(resolved_region),
        # Where Cloud SQL keeps its backups when they are kept in another region; the bucket has no replica.
        replica_region=str(replica_region) if replica_region and cross_region_backups else None,
        db_instance_id=db_instance or db_instance_identifier(stack),
        bucket=bucket or gcs_bucket_name(stack, str(project)),
        replica_bucket=None,
        gitpod_namespace=str(gitpod.get("namespace") or DEFAULT_GITPOD_NAMESPACE),
        gitpod_version=str(gitpod["version"]) if gitpod.get("version") else None,
        installer_image=str(gitpod["installerImage"]) if gitpod.get("installerImage") else None,
        cross_region_backups=cross_region_backups,
        project=str(project),
    )


# -- the command-line side ---------------------------------------------------------------------------------------


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", required=True, help="stack name (stacks/Pulumi.<stack>.yaml)")
    parser.add_argument("--stack-file", type=Path, default=None, help="read this stack file instead")
    parser.add_argument("--db-instance", default=None,
                        help="RDS or Cloud SQL instance name (default gitpod-<stack>-db)")
    parser.add_argument("--bucket", default=None,
                        help="the cell's bucket (default gitpod-<stack>-<account>-<region> on AWS, "
                             "gitpod-<stack>-<project> on GCP)")
    parser.add_argument("--region", default=None,
                        help="region of the cell (default: the stack's aws:region or gcp:region)")
    parser.add_argument("--aws-profile", default=None, help="AWS profile (default: the standard credential chain)")


def stack_config(args: argparse.Namespace) -> dict[str, Any]:
    from ops import stackfile

    if getattr(args, "stack_file", None):
        return dict(stackfile.load_stack_file(args.stack_file, args.stack).config)
    return dict(stackfile.load_stack(args.stack, stackfile.STACKS_DIR).config)


def aws_session(profile: str | None, region: str) -> Any:
    """One boto3 session per profile: building one parses the service models again (~0.3 s each)."""
    return _RegionalSession(_session(profile), region)


@functools.cache
def _session(profile: str | None) -> Any:
    import boto3

    return boto3.session.Session(profile_name=profile)


@dataclass(frozen=True)
class _RegionalSession:
    session: Any
    region: str

    def client(self, service: str) -> Any:
        return self.session.client(service, region_name=self.region)


def target_from_args(args: argparse.Namespace, clouds: tuple[str, ...] = ("aws",)) -> CellTarget:
    config = stack_config(args)

    def account_id() -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        region = args.region or str(config.get("aws:region") or "us-east-1")
        try:
            return str(aws_session(args.aws_profile, region).client("sts").get_caller_identity()["Account"])
        except (ClientError, BotoCoreError) as error:
            raise OpsError(f"cannot find the AWS account for the bucket name (pass --bucket): {error}") from error

    return resolve_cell_target(args.stack, config, account_id=account_id, db_instance=args.db_instance,
                               bucket=args.bucket, region=args.region, clouds=clouds)


