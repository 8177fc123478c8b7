"""A GCP cell as the tests set it up: its stack, names and region (the fixtures that build it on the doubles are
in tests/ops/clouds/gcp/conftest.py)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from ops.common.cell_target import CellTarget, resolve_cell_target
from tests.ops.support.stacks import stack_text
from tests.ops.support.values import GCP_PROJECT

GCP_REGION = "europe-west1"
GCP_STACK = "prod-gcp"
GCP_INSTANCE = "gitpod-prod-gcp-db"
GCP_REPOSITORY = "gitpod-prod-gcp"
GCP_CONFIG = {"gcp:project": GCP_PROJECT, "gcp:region": GCP_REGION, "gitpod-cell:cloud": "gcp",
              "gitpod-cell:environment": "prod", "gitpod-cell:replicaRegion": "europe-west4"}
GCP_STACK_FILE = stack_text("prod-gcp", {"gcp:project": GCP_PROJECT, "gcp:region": GCP_REGION,
                                         "gitpod-cell:replicaRegion": "europe-west4",
                                         "gitpod-cell:database": {"crossRegionBackups": True}})


def gcp_target(stack: str = GCP_STACK, **overrides: Any) -> CellTarget:
    return resolve_cell_target(stack, GCP_CONFIG, account_id=lambda: pytest.fail("no AWS account on GCP"),
                               clouds=("aws", "gcp"), **overrides)


def unique_bucket() -> str:
    """A new bucket name: fake-gcs-server keeps buckets for the whole run."""
    return f"gitpod-status-{uuid.uuid4().hex[:12]}"
