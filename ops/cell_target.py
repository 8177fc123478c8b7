"""Which live resources a stack is: one place that turns `--stack NAME` (+ overrides) into identifiers.

The names follow the program's conventions (components/aws): prefix `gitpod-<stack>` (at most 40 characters),
RDS instance `<prefix>-db`, buckets `<prefix>-<account>-<region>` and `<prefix>-<account>-<replicaRegion>`, ECR
repositories `<prefix>/<name>`. `--db-instance`, `--bucket` and `--region` override what the conventions give, for
cells whose names differ (adopted resources, restored cells).
"""

from __future__ import annotations

import argparse
import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ops.cli import EXIT_CONFIG_ERROR, OpsError

NAMESPACE = "gitpod-cell"
GITPOD_REPOSITORIES: tuple[str, ...] = ("base-images", "workspace-images")  # components/aws/registry.py
DEFAULT_GITPOD_NAMESPACE = "gitpod"
_MAX_PREFIX_LENGTH = 40


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

    @property
    def name_prefix(self) -> str:
        return name_prefix(self.stack)

    @property
    def repositories(self) -> tuple[str, ...]:
        return tuple(f"{self.name_prefix}/{name}" for name in GITPOD_REPOSITORIES)


def name_prefix(stack: str) -> str:
    """As CellConfig.name_prefix (components/config.py); a test keeps the two equal."""
    return f"gitpod-{stack}"[:_MAX_PREFIX_LENGTH].rstrip("-")


def db_instance_identifier(stack: str) -> str:
    return f"{name_prefix(stack)}-db"


def bucket_name(stack: str, account_id: str, region: str) -> str:
    return f"{name_prefix(stack)}-{account_id}-{region}"


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
) -> CellTarget:
    """The cell's identifiers from its stack config; `account_id` is only called when a bucket name needs it."""
    cloud = str(config.get(f"{NAMESPACE}:cloud") or "aws")
    if cloud != "aws":
        raise OpsError(f"stack {stack!r} is a {cloud} cell; these commands support AWS cells so far",
                       EXIT_CONFIG_ERROR)
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


# -- the command-line side ---------------------------------------------------------------------------------------


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", required=True, help="stack name (stacks/Pulumi.<stack>.yaml)")
    parser.add_argument("--stack-file", type=Path, default=None, help="read this stack file instead")
    parser.add_argument("--db-instance", default=None, help="RDS instance identifier (default gitpod-<stack>-db)")
    parser.add_argument("--bucket", default=None,
                        help="the cell's bucket (default gitpod-<stack>-<account>-<region>)")
    parser.add_argument("--region", default=None, help="AWS region of the cell (default: the stack's aws:region)")
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


def target_from_args(args: argparse.Namespace) -> CellTarget:
    config = stack_config(args)

    def account_id() -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        region = args.region or str(config.get("aws:region") or "us-east-1")
        try:
            return str(aws_session(args.aws_profile, region).client("sts").get_caller_identity()["Account"])
        except (ClientError, BotoCoreError) as error:
            raise OpsError(f"cannot find the AWS account for the bucket name (pass --bucket): {error}") from error

    return resolve_cell_target(args.stack, config, account_id=account_id, db_instance=args.db_instance,
                               bucket=args.bucket, region=args.region)


