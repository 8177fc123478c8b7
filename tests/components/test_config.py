"""CellConfig: defaults per environment, and every bad value named by its stack-config key."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components.config import CellConfig, CellConfigError, parse_duration
from tests.config_helpers import issues_for, shipped
from tests.conftest import with_changes


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_shipped_stacks_are_valid(stack: str) -> None:
    config = CellConfig.from_stack_config(stack, shipped(stack))
    assert config.environment == stack
    assert config.database.backup_retention_days >= 7


def test_environment_drives_defaults() -> None:
    dev = CellConfig.from_stack_config("dev", shipped("dev"))
    prod = CellConfig.from_stack_config("prod", shipped("prod"))
    assert (dev.protect, prod.protect) == (False, True)
    assert (dev.database.multi_az, prod.database.multi_az) == (False, True)
    assert (dev.network.availability_zones, prod.network.availability_zones) == (2, 3)
    assert prod.network.nat_gateway_per_az
    assert not dev.network.nat_gateway_per_az
    assert dev.gitpod.workspace.timeout_after_close == "5m"
    assert dev.gitpod.workspace.garbage_collection.enabled is True
    assert dev.gitpod.workspace.garbage_collection.min_age_days == 14


def test_prod_defaults_apply_when_the_stack_omits_sections() -> None:
    raw = with_changes(shipped("prod"), {"gitpod-cell:database": None, "gitpod-cell:network": None})
    config = CellConfig.from_stack_config("prod", raw)
    assert config.database.multi_az
    assert config.database.cross_region_backups
    assert config.database.backup_retention_days == 14
    assert config.network.availability_zones == 3


@pytest.mark.parametrize(
    ("base", "changes", "key", "fragment"),
    [
        ("prod", {"gitpod-cell:database.backupRetentionDays": 1}, "gitpod-cell:database.backupRetentionDays",
         "at least 7"),
        ("prod", {"gitpod-cell:replicaRegion": "eu-west-1"}, "gitpod-cell:replicaRegion", "must differ"),
        ("dev", {"gitpod-cell:cluster.nodePools.services": {"instanceTypes": ["m6i.large"], "minSize": 5,
                                                             "maxSize": 2}},
         "gitpod-cell:cluster.nodePools.services.minSize", "above maxSize"),
        ("dev", {"gitpod-cell:domain": "not a domain"}, "gitpod-cell:domain", "not a DNS name"),
        ("dev", {"gitpod-cell:domain": "localhost"}, "gitpod-cell:domain", "not a DNS name"),
        ("prod", {"gitpod-cell:database.multiAz": False}, "gitpod-cell:database.multiAz", "true in prod"),
        ("prod", {"gitpod-cell:database.crossRegionBackups": False}, "gitpod-cell:database.crossRegionBackups",
         "true in prod"),
        ("prod", {"gitpod-cell:network.availabilityZones": 2}, "gitpod-cell:network.availabilityZones", "3 in prod"),
        ("dev", {"gitpod-cell:environment": "production"}, "gitpod-cell:environment", "'dev', 'staging' or 'prod'"),
        ("dev", {"aws:region": "europe"}, "aws:region", "not an AWS region"),
        ("dev", {"gitpod-cell:cluster.kubernetesVersion": "1.20"}, "gitpod-cell:cluster.kubernetesVersion",
         "accepted: 1.33"),
        ("dev", {"gitpod-cell:cluster.publicAccessCidrs": ["0.0.0.0/0"]}, "gitpod-cell:cluster.publicAccessCidrs",
         "too much of the internet"),
        ("dev", {"gitpod-cell:database.engineVersion": "5.7"}, "gitpod-cell:database.engineVersion", "MySQL 8.0"),
        ("dev", {"gitpod-cell:databse": {}}, "gitpod-cell:databse", "unknown key"),
        ("dev", {"gitpod-cell:database.backupRetentionDay": 7}, "gitpod-cell:database.backupRetentionDay",
         "unknown key"),
        ("dev", {"gitpod-cell:gitpod.installerImage": "eu.gcr.io/gitpod/installer:latest"},
         "gitpod-cell:gitpod.installerImage", "never latest"),
        ("dev", {"gitpod-cell:gitpod.installerImage": "eu.gcr.io/gitpod/installer"},
         "gitpod-cell:gitpod.installerImage", "pinned"),
        ("dev", {"gitpod-cell:gitpod.workspace.timeoutExtended": "25h"}, "gitpod-cell:gitpod.workspace.timeoutExtended",
         "24h maximum"),
        ("dev", {"gitpod-cell:gitpod.workspace.maxLifetime": "48h"}, "gitpod-cell:gitpod.workspace.maxLifetime",
         "36h maximum"),
        ("dev", {"gitpod-cell:gitpod.workspace.timeoutDefault": "soon"}, "gitpod-cell:gitpod.workspace.timeoutDefault",
         "not a duration"),
        ("prod", {"gitpod-cell:storage.noncurrentVersionRetentionDays": 7},
         "gitpod-cell:storage.noncurrentVersionRetentionDays", "at least database.backupRetentionDays (14)"),
        ("dev", {"gitpod-cell:gitpod.maintenanceLeaseMinutes": 30}, "gitpod-cell:gitpod.maintenanceLeaseMinutes",
         "at least 60"),
        ("dev", {"gitpod-cell:gitpod.maintenanceLeaseMinutes": 1000}, "gitpod-cell:gitpod.maintenanceLeaseMinutes",
         "at most 240"),
        ("prod", {"gitpod-cell:gitpod.letsencrypt.staging": True}, "gitpod-cell:gitpod.letsencrypt.staging",
         "false in prod"),
        ("dev", {"gitpod-cell:tags": {"Environment": "x"}}, "gitpod-cell:tags", "set by the cell itself"),
        ("dev", {"gitpod-cell:network.vpcCidr": "8.8.0.0/16"}, "gitpod-cell:network.vpcCidr", "private IPv4"),
        ("dev", {"gitpod-cell:domain": None}, "gitpod-cell:domain", "is required"),
    ],
)
def test_bad_value_names_the_key_and_what_is_accepted(base: str, changes: dict[str, Any], key: str,
                                                      fragment: str) -> None:
    issues = issues_for(base, changes)
    assert key in issues, issues
    assert fragment in issues[key]


def test_error_message_lists_every_issue_one_per_line() -> None:
    with pytest.raises(CellConfigError) as caught:
        CellConfig.from_stack_config("prod", with_changes(shipped("prod"), {
            "gitpod-cell:replicaRegion": "eu-west-1", "gitpod-cell:database.multiAz": False}))
    text = str(caught.value)
    assert text.startswith("invalid stack configuration:")
    assert "gitpod-cell:replicaRegion" in text
    assert "gitpod-cell:database.multiAz" in text


def test_structured_values_arrive_as_json_strings_under_the_engine() -> None:
    raw = {k: (v if isinstance(v, str) else __import__("json").dumps(v)) for k, v in shipped("prod").items()}
    assert CellConfig.from_stack_config("prod", raw) == CellConfig.from_stack_config("prod", shipped("prod"))


@pytest.mark.parametrize(("text", "seconds"), [("30m", 1800), ("1h30m", 5400), ("24h", 86400), ("90s", 90)])
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
config_keys = st.sampled_from([
    "gitpod-cell:environment", "gitpod-cell:domain", "gitpod-cell:replicaRegion", "gitpod-cell:cluster",
    "gitpod-cell:database", "gitpod-cell:network", "gitpod-cell:gitpod", "gitpod-cell:tags", "gitpod-cell:dns",
    "gitpod-cell:storage", "aws:region", "gitpod-cell:cloud",
]) | st.text(min_size=1, max_size=30)
nested_paths = st.sampled_from([
    "gitpod-cell:database.backupRetentionDays", "gitpod-cell:cluster.nodePools.services.minSize",
    "gitpod-cell:cluster.nodePools.regular-workspaces", "gitpod-cell:gitpod.workspace.timeoutDefault",
    "gitpod-cell:gitpod.installerImage", "gitpod-cell:network.vpcCidr", "gitpod-cell:cluster.publicAccessCidrs",
    "gitpod-cell:database.instanceClass", "gitpod-cell:dns.zoneId",
])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=st.sampled_from(["dev", "staging", "prod"]),
       changes=st.dictionaries(config_keys | nested_paths, json_values, min_size=1, max_size=4))
def test_random_bad_configs_never_raise_anything_but_a_config_error(base: str, changes: dict[str, Any]) -> None:
    raw = shipped(base)
    try:
        with_changes(raw, changes)
    except (AttributeError, TypeError):
        return  # the change itself cannot be applied to this shape (e.g. a path through a scalar)
    try:
        CellConfig.from_stack_config(base, raw)
    except CellConfigError as error:
        issues = error.issues
    else:
        return
    assert issues
    for key, message in issues:
        assert key.startswith(("gitpod-cell", "aws:")) or key in raw, key
        assert message


def test_config_and_policy_pack_agree_on_the_oldest_supported_kubernetes_version() -> None:
    from components.config import SUPPORTED_KUBERNETES_VERSIONS
    from policies.rules.aws_eks import VERSION_SCHEMA

    assert VERSION_SCHEMA["minimumVersion"]["default"] == min(SUPPORTED_KUBERNETES_VERSIONS)
    for version in SUPPORTED_KUBERNETES_VERSIONS:
        from components.gitpod.cluster_autoscaler import AUTOSCALER_IMAGE_TAGS

        assert AUTOSCALER_IMAGE_TAGS[version].startswith(f"v{version}.")


# Review findings: values the cloud would reject, caught before any resource is registered.
@pytest.mark.parametrize(
    ("base", "changes", "key", "fragment"),
    [
        ("dev", {"gitpod-cell:network.flowLogRetentionDays": 45}, "gitpod-cell:network.flowLogRetentionDays",
         "CloudWatch Logs accepts only 1, 3, 5"),
        ("prod", {"gitpod-cell:database.maxAllocatedStorageGb": 105}, "gitpod-cell:database.maxAllocatedStorageGb",
         "at least 110"),
        ("dev", {"gitpod-cell:database.backupWindow": "02:00-02:20"}, "gitpod-cell:database.backupWindow",
         "at least 30"),
        ("dev", {"gitpod-cell:database.backupWindow": "23:50-00:10"}, "gitpod-cell:database.backupWindow",
         "lasts 20 minutes"),
        ("dev", {"gitpod-cell:database.maintenanceWindow": "sun:04:00-sun:04:15"},
         "gitpod-cell:database.maintenanceWindow", "at least 30"),
        ("dev", {"gitpod-cell:database.maintenanceWindow": "sun:02:30-sun:03:30"},
         "gitpod-cell:database.maintenanceWindow", "overlaps the daily backup window"),
        ("dev", {"gitpod-cell:database.backupWindow": "23:30-00:30",
                 "gitpod-cell:database.maintenanceWindow": "mon:00:00-mon:01:00"},
         "gitpod-cell:database.maintenanceWindow", "overlaps"),
        ("dev", {"gitpod-cell:database.instanceClass": "db.t4g.micro"}, "gitpod-cell:database.instanceClass",
         "no Performance Insights"),
        ("dev", {"gitpod-cell:database.instanceClass": "db.t3.small"}, "gitpod-cell:database.instanceClass",
         "no Performance Insights"),
        ("dev", {"gitpod-cell:database.instanceClass": "db.t2.large"}, "gitpod-cell:database.instanceClass",
         "no Performance Insights"),
        ("dev", {"gitpod-cell:cluster.nodePools.services": {"instanceTypes": ["m7g.2xlarge"], "minSize": 1,
                                                             "maxSize": 3}},
         "gitpod-cell:cluster.nodePools.services.instanceTypes", "Arm64 (Graviton)"),
        ("prod", {"gitpod-cell:cluster.nodePools.regular-workspaces.instanceTypes": ["m6i.4xlarge", "c6gn.4xlarge"]},
         "gitpod-cell:cluster.nodePools.regular-workspaces.instanceTypes", "AL2023_x86_64_STANDARD"),
        ("dev", {"gitpod-cell:cluster.publicAccessCidrs": ["2001:db8::/32"]}, "gitpod-cell:cluster.publicAccessCidrs",
         "IPv6"),
        ("staging", {"gitpod-cell:cluster.adminRoleArns": ["arn:aws:iam::123456789012:role/platform-admins",
                                                           "arn:aws:iam::123456789012:role/Platform-Admins"]},
         "gitpod-cell:cluster.adminRoleArns", "listed twice"),
    ],
)
def test_values_the_cloud_would_reject_are_config_errors(base: str, changes: dict[str, Any], key: str,
                                                         fragment: str) -> None:
    issues = issues_for(base, changes)
    assert key in issues, issues
    assert fragment in issues[key]


@pytest.mark.parametrize("instance_type", ["m7g.large", "c6gn.xlarge", "r8g.2xlarge", "t4g.medium", "m6gd.large",
                                           "im4gn.large", "is4gen.xlarge", "a1.large", "hpc7g.4xlarge", "g5g.xlarge"])
def test_graviton_instance_types_are_recognised(instance_type: str) -> None:
    from components.config import is_arm64_instance_type

    assert is_arm64_instance_type(instance_type)


@pytest.mark.parametrize("instance_type", ["m6i.2xlarge", "m6a.4xlarge", "m7i-flex.large", "g4dn.xlarge",
                                           "g5.xlarge", "x2iedn.xlarge", "z1d.large", "c7i.large", "r7iz.large"])
def test_x86_instance_types_are_accepted(instance_type: str) -> None:
    from components.config import is_arm64_instance_type

    assert not is_arm64_instance_type(instance_type)
    raw = with_changes(shipped("dev"), {"gitpod-cell:cluster.nodePools.services.instanceTypes": [instance_type]})
    CellConfig.from_stack_config("dev", raw)


@pytest.mark.parametrize("retention", [1, 90, 365, 3653])
def test_cloudwatch_retention_values_are_accepted(retention: int) -> None:
    raw = with_changes(shipped("dev"), {"gitpod-cell:network.flowLogRetentionDays": retention})
    assert CellConfig.from_stack_config("dev", raw).network.flow_log_retention_days == retention


def test_windows_far_apart_and_long_enough_pass() -> None:
    raw = with_changes(shipped("dev"), {"gitpod-cell:database.backupWindow": "23:30-00:30",
                                        "gitpod-cell:database.maintenanceWindow": "sat:23:00-sun:00:30"})
    with pytest.raises(CellConfigError) as caught:  # sat 23:30-00:30 overlaps the nightly backup
        CellConfig.from_stack_config("dev", raw)
    assert "overlaps" in dict(caught.value.issues)["gitpod-cell:database.maintenanceWindow"]
    raw = with_changes(shipped("dev"), {"gitpod-cell:database.backupWindow": "23:30-00:30",
                                        "gitpod-cell:database.maintenanceWindow": "sun:03:00-sun:03:30"})
    CellConfig.from_stack_config("dev", raw)


def test_storage_ceiling_exactly_ten_percent_above_passes() -> None:
    raw = with_changes(shipped("prod"), {"gitpod-cell:database.maxAllocatedStorageGb": 110})
    assert CellConfig.from_stack_config("prod", raw).database.max_allocated_storage_gb == 110


@pytest.mark.parametrize("stack", ["dev", "staging", "prod", "prod-restored", "prod-dr", "prod-gcp-variant",
                                   "a", "cell-7", "abcdefghijklmnopq"])
def test_usable_stack_names(stack: str) -> None:
    assert CellConfig.from_stack_config(stack, shipped("dev")).name_prefix == f"gitpod-{stack}"


@pytest.mark.parametrize(("stack", "fragment"), [
    ("Prod", "lowercase"), ("prod--a", "single"), ("prod-", "ending with a letter or digit"),
    ("7prod", "starting with a letter"), ("prod_dr", "hyphens"), ("prod.dr", "hyphens"),
    ("abcdefghijklmnopqr", "1-17"),
])
def test_unusable_stack_names_are_config_errors_naming_the_stack(stack: str, fragment: str) -> None:
    with pytest.raises(CellConfigError) as caught:
        CellConfig.from_stack_config(stack, shipped("dev"))
    issues = dict(caught.value.issues)
    assert "pulumi:stack" in issues, issues
    assert fragment in issues["pulumi:stack"]


def test_long_stack_names_are_never_truncated_into_another_cells_names() -> None:
    # Both were once `gitpod-` + the first 33 characters: the same buckets, database and roles.
    for stack in ("a" * 34, "a" * 33 + "b"):
        with pytest.raises(CellConfigError):
            CellConfig.from_stack_config(stack, shipped("dev"))


def test_stack_name_limit_is_the_tightest_derived_name() -> None:
    from components.config import DERIVED_NAME_LIMITS, MAX_STACK_NAME_LENGTH

    for cloud, names in DERIVED_NAME_LIMITS.items():
        longest = "a" * MAX_STACK_NAME_LENGTH[cloud]
        assert all(len(template.format(stack=longest)) <= limit for template, limit, _ in names)
        assert any(len(template.format(stack=longest + "a")) > limit for template, limit, _ in names)
    assert MAX_STACK_NAME_LENGTH == {"aws": 17, "gcp": 18, "kubernetes": 56}


def test_gcp_stack_names_allow_the_gcp_limit() -> None:
    from tests.config_helpers import shipped as shipped_stack

    CellConfig.from_stack_config("a" * 18, shipped_stack("prod-gcp"))
    with pytest.raises(CellConfigError) as caught:
        CellConfig.from_stack_config("a" * 19, shipped_stack("prod-gcp"))
    assert "pulumi:stack" in dict(caught.value.issues)
