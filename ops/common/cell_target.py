"""Which live resources a stack is: one place that turns `--stack NAME` (+ overrides) into identifiers.

The names follow the program's conventions (contract.naming), per cloud: each adapter under ops/clouds resolves
its own (AWS: ops.clouds.aws.target, GCP: ops.clouds.gcp.target). `--db-instance`, `--bucket` and `--region`
override what the conventions give, for cells whose names differ (adopted resources, restored cells).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from contract.cluster import DEFAULT_GITPOD_NAMESPACE as DEFAULT_NAMESPACE
from contract.naming import CONFIG_NAMESPACE, name_prefix, registry_repositories
from ops.errors import EXIT_BAD_INPUT, OpsError

NAMESPACE = CONFIG_NAMESPACE
DEFAULT_GITPOD_NAMESPACE = DEFAULT_NAMESPACE


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
    # What else the cloud's adapter needs to reach the cell (e.g. an endpoint), as it resolved it from the stack
    # config or the rollout hooks' context (CloudAdapter.hook_context_fields); empty for AWS and GCP.
    settings: Mapping[str, str] = field(default_factory=dict, hash=False)

    @property
    def name_prefix(self) -> str:
        return name_prefix(self.stack)

    @property
    def repositories(self) -> tuple[str, ...]:
        return registry_repositories(self.stack, self.cloud)


def config_object(config: Mapping[str, Any], key: str) -> dict[str, Any]:
    """A structured stack-config value: a mapping, or JSON text as `pulumi config set --path` may leave it."""
    value = config.get(key)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return dict(value) if isinstance(value, dict) else {}


@dataclass(frozen=True)
class CellSettings:
    """What every cloud's target reads the same way from the stack config."""

    gitpod_namespace: str
    gitpod_version: str | None
    installer_image: str | None
    cross_region_backups: bool
    replica_region: str | None


def cell_settings(config: Mapping[str, Any]) -> CellSettings:
    gitpod = config_object(config, f"{NAMESPACE}:gitpod")
    database = config_object(config, f"{NAMESPACE}:database")
    environment = config.get(f"{NAMESPACE}:environment")
    replica_region = config.get(f"{NAMESPACE}:replicaRegion")
    return CellSettings(
        gitpod_namespace=str(gitpod.get("namespace") or DEFAULT_GITPOD_NAMESPACE),
        gitpod_version=str(gitpod["version"]) if gitpod.get("version") else None,
        installer_image=str(gitpod["installerImage"]) if gitpod.get("installerImage") else None,
        cross_region_backups=bool(database.get("crossRegionBackups", environment == "prod")),
        replica_region=str(replica_region) if replica_region else None,
    )


def resolve_cell_target(
    stack: str,
    config: Mapping[str, Any],
    *,
    account_id: Callable[[], str] | None = None,
    profile: str | None = None,
    db_instance: str | None = None,
    bucket: str | None = None,
    region: str | None = None,
    clouds: tuple[str, ...] = ("aws",),
) -> CellTarget:
    """The cell's identifiers from its stack config. `account_id` gives the AWS account when a bucket name needs
    it (default: asked of STS with `profile`). `clouds`: the clouds the calling command supports (a command that
    only knows AWS APIs passes the default)."""
    from ops.clouds import cloud_adapter

    cloud = str(config.get(f"{NAMESPACE}:cloud") or "aws")
    if cloud not in clouds:
        supported = " and ".join(clouds)
        raise OpsError(f"stack {stack!r} is a {cloud} cell; this command supports {supported} cells so far",
                       EXIT_BAD_INPUT)
    return cloud_adapter(cloud).resolve_target(stack, config, account_id=account_id, profile=profile,
                                               db_instance=db_instance, bucket=bucket, region=region)
