"""CellConfig for GCP cells: gcp:project/gcp:region, the gitpod-cell:gcp section, per-cloud validation."""

from __future__ import annotations

from typing import Any

import pytest

from components.config import CellConfig, CellConfigError
from tests.config_helpers import issues_for, shipped
from tests.conftest import with_changes


@pytest.mark.parametrize("stack", ["dev-gcp", "prod-gcp"])
def test_shipped_gcp_stacks_are_valid(stack: str) -> None:
    config = CellConfig.from_stack_config(stack, shipped(stack))
    assert config.cloud == "gcp"
    assert config.region == "europe-west1"
    assert config.project is not None
    assert config.storage_location == "EU"


def test_gcp_environment_defaults() -> None:
    raw = with_changes(shipped("prod-gcp"), {"gitpod-cell:database": None, "gitpod-cell:cluster.nodePools": None,
                                             "gitpod-cell:gcp": None})
    prod = CellConfig.from_stack_config("prod-gcp", raw)
    assert prod.database.instance_class == "db-custom-8-32768"
    assert prod.database.multi_az
    assert prod.database.cross_region_backups
    assert prod.cluster.node_pools.services.instance_types == ["n2-standard-8"]
    assert prod.gcp_settings.release_channel == "REGULAR"
    assert prod.gcp_settings.transaction_log_retention_days == 7
    # No storage location set: the multi-region of gcp:region's continent.
    assert prod.storage_location == "EU"
    dev = CellConfig.from_stack_config("dev-gcp", shipped("dev-gcp"))
    assert dev.database.instance_class == "db-custom-2-7680"
    assert not dev.protect
    assert dev.replica_region is None
    assert dev.labels == {"team": "platform", "cost-center": "dev-environments", "environment": "dev",
                          "cell": "dev-gcp", "managed-by": "pulumi"}


def test_aws_stacks_still_read_aws_region_and_reject_the_gcp_section() -> None:
    config = CellConfig.from_stack_config("prod", shipped("prod"))
    assert (config.cloud, config.region, config.project) == ("aws", "eu-west-1", None)
    issues = issues_for("prod", {"gitpod-cell:gcp": {"releaseChannel": "STABLE"}})
    assert "only read when gitpod-cell:cloud is gcp" in issues["gitpod-cell:gcp"]


@pytest.mark.parametrize(
    ("base", "changes", "key", "fragment"),
    [
        ("prod-gcp", {"gitpod-cell:gcp.storageLocation": "europe-west1"}, "gitpod-cell:gcp.storageLocation",
         "is a single region; prod needs a multi-region"),
        ("prod-gcp", {"gitpod-cell:gcp.storageLocation": "mars"}, "gitpod-cell:gcp.storageLocation",
         "is not a GCS location; accepted: EU, US, ASIA"),
        ("prod-gcp", {"gitpod-cell:gcp.storageLocation": "europe-west1+us-east1"}, "gitpod-cell:gcp.storageLocation",
         "one continent"),
        ("prod-gcp", {"gcp:project": "My_Project"}, "gcp:project", "is not a GCP project id"),
        ("prod-gcp", {"gcp:project": "abc"}, "gcp:project", "6-30 characters"),
        ("prod-gcp", {"gcp:project": "acme-gitpod-"}, "gcp:project", "not ending with a hyphen"),
        ("prod-gcp", {"gcp:project": "1acme-gitpod"}, "gcp:project", "starting with a letter"),
        ("prod-gcp", {"gcp:project": None}, "gcp:project", "pulumi config set gcp:project"),
        ("prod-gcp", {"gcp:region": "eu-west-1"}, "gcp:region", "not a GCP region such as europe-west1"),
        ("prod-gcp", {"gcp:region": None}, "gcp:region", "is required"),
        ("prod-gcp", {"gitpod-cell:replicaRegion": "europe-west1"}, "gitpod-cell:replicaRegion",
         "must differ from gcp:region"),
        ("prod-gcp", {"gitpod-cell:replicaRegion": None}, "gitpod-cell:replicaRegion", "is required"),
        ("prod-gcp", {"gitpod-cell:gcp.releaseChannel": "UNSPECIFIED"}, "gitpod-cell:gcp.releaseChannel",
         "'RAPID', 'REGULAR' or 'STABLE'"),
        ("prod-gcp", {"gitpod-cell:gcp.transactionLogRetentionDays": 8},
         "gitpod-cell:gcp.transactionLogRetentionDays", "at most 7"),
        ("prod-gcp", {"gitpod-cell:gcp.clusterZone": "europe-west1-b"}, "gitpod-cell:gcp.clusterZone",
         "must not be set in prod"),
        ("dev-gcp", {"gitpod-cell:gcp.clusterZone": "us-east1-b"}, "gitpod-cell:gcp.clusterZone",
         "not a zone of gcp:region"),
        ("prod-gcp", {"gitpod-cell:gcp.maintenanceWindow": {"days": ["SU"], "hours": 4}},
         "gitpod-cell:gcp.maintenanceWindow", "48 hours"),
        ("prod-gcp", {"gitpod-cell:cluster.nodePools.services.instanceTypes": ["m6i.2xlarge"]},
         "gitpod-cell:cluster.nodePools.services.instanceTypes", "not a GCE machine type"),
        ("prod-gcp", {"gitpod-cell:cluster.nodePools.services.instanceTypes": ["n2-standard-8", "n2-standard-16"]},
         "gitpod-cell:cluster.nodePools.services.instanceTypes", "exactly one machine type"),
        ("prod-gcp", {"gitpod-cell:database.instanceClass": "db.r6g.large"}, "gitpod-cell:database.instanceClass",
         "not a Cloud SQL"),
        ("prod-gcp", {"gitpod-cell:database.multiAz": False}, "gitpod-cell:database.multiAz", "true in prod"),
        ("prod-gcp", {"gitpod-cell:tags": {"Team": "Platform"}}, "gitpod-cell:tags", "is not a GCP label"),
        ("prod-gcp", {"gitpod-cell:tags": {"environment": "x"}}, "gitpod-cell:tags", "set by the cell itself"),
        ("prod-gcp", {"gitpod-cell:dns": {"zoneId": "Z0123456789ABC"}}, "gitpod-cell:dns.zoneId",
         "gcp.existingZoneName"),
        ("prod-gcp", {"gitpod-cell:cluster.adminRoleArns": ["arn:aws:iam::123456789012:role/x"]},
         "gitpod-cell:cluster.adminRoleArns", "AWS only"),
        ("prod-gcp", {"gitpod-cell:gcp.existingZoneName": "Not A Zone"}, "gitpod-cell:gcp.existingZoneName",
         "not a Cloud DNS managed zone name"),
    ],
)
def test_bad_gcp_value_names_the_key_and_what_is_accepted(base: str, changes: dict[str, Any], key: str,
                                                          fragment: str) -> None:
    issues = issues_for(base, changes)
    assert key in issues, issues
    assert fragment in issues[key]


@pytest.mark.parametrize("location", ["EU", "us", "ASIA", "eur4", "NAM4", "europe-west1+europe-west4"])
def test_prod_accepts_multi_and_dual_region_locations(location: str) -> None:
    raw = with_changes(shipped("prod-gcp"), {"gitpod-cell:gcp.storageLocation": location})
    config = CellConfig.from_stack_config("prod-gcp", raw)
    assert config.storage_location in ("EU", "US", "ASIA", "EUR4", "NAM4", "europe-west1+europe-west4")


def test_single_region_location_is_allowed_outside_prod() -> None:
    raw = with_changes(shipped("dev-gcp"), {"gitpod-cell:gcp.storageLocation": "europe-west1"})
    assert CellConfig.from_stack_config("dev-gcp", raw).storage_location == "europe-west1"


@pytest.mark.parametrize(("changes", "line"), [
    ({"gitpod-cell:gcp.storageLocation": "europe-west1"},
     "  gitpod-cell:gcp.storageLocation: 'europe-west1' is a single region; prod needs a multi-region (EU, US, "
     "ASIA) or a dual-region (ASIA1, EUR4, EUR5, EUR7, EUR8, NAM4, or a pair such as europe-west1+europe-west4) so "
     "workspace content survives a regional outage"),
    ({"gcp:project": "x"},
     "  gcp:project: 'x' is not a GCP project id: 6-30 characters, lowercase letters, digits and hyphens, starting "
     "with a letter and not ending with a hyphen (e.g. acme-gitpod-prod)"),
])
def test_messages_are_clear(changes: dict[str, Any], line: str) -> None:
    with pytest.raises(CellConfigError) as caught:
        CellConfig.from_stack_config("prod-gcp", with_changes(shipped("prod-gcp"), changes))
    assert line in str(caught.value).splitlines()


def test_structured_values_arrive_as_json_strings_under_the_engine() -> None:
    import json

    raw = {k: (v if isinstance(v, str) else json.dumps(v)) for k, v in shipped("prod-gcp").items()}
    assert CellConfig.from_stack_config("prod-gcp", raw) == CellConfig.from_stack_config("prod-gcp",
                                                                                         shipped("prod-gcp"))
