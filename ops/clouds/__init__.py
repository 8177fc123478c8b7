"""The clouds ops/ reaches, and the one place that picks a cell's.

    base.py   CellClients (one cell's clients), ObjectStore (one versioned bucket), CloudAdapter
    aws/      boto3: RDS (restore points, PITR window, drill, restore sources), S3, ECR
    gcp/      Cloud SQL Admin and Artifact Registry REST APIs, google-cloud-storage

`cloud_adapter(name)` is where a cloud is chosen: `cell_clients(target)` (used by the commands, the rollout hooks
and preflight) and `ops.common.cell_target.resolve_cell_target` both go through it. A new cloud is a folder here
exposing `ADAPTER` (a base.CloudAdapter) and one line in ADAPTERS. Adapters are imported on first use, so a command
on an AWS cell never imports Google's libraries, and the other way round.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ops.clouds.base import CellClients, CloudAdapter
    from ops.common.cell_target import CellTarget

ADAPTERS: dict[str, str] = {
    "aws": "ops.clouds.aws",
    "gcp": "ops.clouds.gcp",
    "kubernetes": "ops.clouds.kubernetes",
}
SUPPORTED_CLOUDS: tuple[str, ...] = tuple(ADAPTERS)


class UnknownCloud(ValueError):
    """A cloud name no adapter serves."""


def cloud_adapter(cloud: str) -> CloudAdapter:
    """The adapter of `cloud`: the only place ops/ decides which cloud's code runs."""
    module = ADAPTERS.get(cloud)
    if module is None:
        raise UnknownCloud(f"unknown cloud {cloud!r}; expected one of {', '.join(ADAPTERS)}")
    adapter: CloudAdapter = importlib.import_module(module).ADAPTER
    return adapter


def cell_clients(target: CellTarget, *, profile: str | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> CellClients:
    """The clients of `target`'s cloud. `profile`: a named credential profile (AWS); `sleep` paces the polling of
    long-running operations (Cloud SQL)."""
    return cloud_adapter(target.cloud).cell_clients(target, profile=profile, sleep=sleep)
