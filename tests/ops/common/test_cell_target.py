"""Which live resources a stack is (ops.common.cell_target): the names each cloud's adapter derives from the stack,
the overrides, and commands that support fewer clouds refusing the others."""

from __future__ import annotations

import pytest

from ops.common import stackfile
from ops.common.cell_target import resolve_cell_target
from ops.errors import OpsError
from tests.ops.support.gcp import (
    GCP_CONFIG,
    gcp_target,
)


def test_the_shipped_prod_gcp_stack_resolves_to_the_names_components_gcp_gives():
    config = stackfile.load_stack("prod-gcp", stackfile.STACKS_DIR).config
    target = resolve_cell_target("prod-gcp", config, account_id=lambda: pytest.fail("no AWS account on GCP"),
                                 clouds=("aws", "gcp"))

    project = str(config["gcp:project"])
    assert target.cloud == "gcp"
    assert (target.project, target.region) == (project, config["gcp:region"])
    assert target.bucket == f"gitpod-prod-gcp-{project}"
    assert target.db_instance_id == "gitpod-prod-gcp-db"  # CloudSqlDatabase(prefix): instance `<prefix>-db`
    assert target.repositories == ("gitpod-prod-gcp",)  # ArtifactRegistry(repository_id=prefix)
    assert target.replica_bucket is None  # a multi-region bucket is its own replica
    assert target.replica_region == "europe-west4"  # where Cloud SQL keeps the backups (crossRegionBackups)
    assert target.gitpod_version == "release-2022.11.3"


def test_overrides_and_missing_settings():
    target = gcp_target(bucket="adopted-bucket", db_instance="restored-db", region="europe-west4")
    assert (target.bucket, target.db_instance_id, target.region) == ("adopted-bucket", "restored-db",
                                                                     "europe-west4")
    with pytest.raises(OpsError, match="sets no gcp:project"):
        resolve_cell_target("x", {"gitpod-cell:cloud": "gcp"}, account_id=str, clouds=("gcp",))


def test_aws_only_commands_still_refuse_a_gcp_stack():
    with pytest.raises(OpsError, match="is a gcp cell; this command supports aws cells so far"):
        resolve_cell_target("prod-gcp", GCP_CONFIG, account_id=str)
