"""A GCP cell on the local doubles, as the commands reach it: its stack file, a versioned EU bucket on
fake-gcs-server, its Cloud SQL instance and Artifact Registry repository on the Google API double, and its database
served as Cloud SQL serves it (tests/ops/conftest.py `cloudsql_db`)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ops.common import stackfile
from ops.common.timestamps import format_rfc3339
from tests.ops.support.gcp import GCP_INSTANCE, GCP_REGION, GCP_REPOSITORY, GCP_STACK, GCP_STACK_FILE
from tests.ops.support.google_double import GoogleApiDouble
from tests.ops.support.values import GCP_PROJECT


@pytest.fixture
def stacks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "stacks"
    directory.mkdir()
    (directory / f"Pulumi.{GCP_STACK}.yaml").write_text(GCP_STACK_FILE)
    monkeypatch.setattr(stackfile, "STACKS_DIR", directory)
    return directory


@pytest.fixture
def bucket(gcs: Any) -> str:
    """A fresh versioned EU bucket (fake-gcs-server keeps buckets for the whole run)."""
    created = gcs.bucket(f"gitpod-gcp-{uuid.uuid4().hex[:12]}")
    created.versioning_enabled = True
    return str(gcs.create_bucket(created, location="EU").name)


@pytest.fixture
def cell(gcp_apis: GoogleApiDouble, stacks: Path, bucket: str) -> GoogleApiDouble:
    """The cell's Cloud SQL instance (binary log on, deletion protection on as in prod, a backup a day old) and its
    Artifact Registry repository."""
    gcp_apis.put_instance(GCP_PROJECT, GCP_INSTANCE, deletion_protection=True, private_ip="127.0.0.1")
    gcp_apis.put_backup_run(GCP_PROJECT, GCP_INSTANCE, "1741921200000",
                            started=format_rfc3339(datetime.now(UTC) - timedelta(days=1)))
    gcp_apis.put_repository(GCP_PROJECT, GCP_REGION, GCP_REPOSITORY)
    return gcp_apis
