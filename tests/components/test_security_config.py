"""The security keys of the stack config: defaults per environment, and one error per bad value naming its key."""

from __future__ import annotations

from typing import Any

import pytest

from components.config import CellConfig
from tests.config_helpers import issues_for, shipped
from tests.conftest import with_changes


def config(base: str, changes: dict[str, Any] | None = None) -> CellConfig:
    return CellConfig.from_stack_config(base, with_changes(shipped(base), changes or {}))


@pytest.mark.parametrize(("stack", "log_days", "access_log_days"), [("dev", 90, 90), ("staging", 90, 90),
                                                                     ("prod", 365, 365), ("prod-gcp", None, 365)])
def test_retention_defaults_per_environment(stack: str, log_days: int | None, access_log_days: int) -> None:
    cell = config(stack)
    if log_days is not None:  # CloudWatch Logs: AWS only
        assert cell.network.log_retention_days == log_days
        assert cell.network.flow_logs_days == log_days
    assert cell.storage.access_log_retention_days == access_log_days


def test_other_security_defaults() -> None:
    prod = config("prod")
    assert prod.database.monitoring_interval == 60
    assert prod.cluster.allow_public_endpoint is False
    assert prod.cluster.public_access_cidrs == []
    gcp = config("prod-gcp").gcp_settings
    assert (gcp.security_group, gcp.binary_authorization) == ("gke-security-groups@example.com", "audit")
    dev_gcp = config("dev-gcp").gcp_settings
    assert (dev_gcp.security_group, dev_gcp.binary_authorization, dev_gcp.allowed_image_patterns) == (None, "audit",
                                                                                                      [])


def test_flow_logs_may_keep_longer_than_the_rest() -> None:
    assert config("prod", {"gitpod-cell:network.flowLogRetentionDays": 731}).network.flow_logs_days == 731


def test_prod_public_endpoint_with_intent_is_valid() -> None:
    cell = config("prod", {"gitpod-cell:cluster.publicAccessCidrs": ["203.0.113.0/24"],
                           "gitpod-cell:cluster.allowPublicEndpoint": True})
    assert cell.cluster.public_access_cidrs == ["203.0.113.0/24"]


@pytest.mark.parametrize(
    ("base", "changes", "key", "fragment"),
    [
        ("dev", {"gitpod-cell:network.logRetentionDays": 100}, "gitpod-cell:network.logRetentionDays",
         "CloudWatch Logs accepts only 1, 3, 5"),
        ("prod", {"gitpod-cell:network.logRetentionDays": 180}, "gitpod-cell:network.logRetentionDays",
         "prod keeps logs at least 365 days"),
        ("prod", {"gitpod-cell:network.flowLogRetentionDays": 90}, "gitpod-cell:network.flowLogRetentionDays",
         "prod keeps logs at least 365 days"),
        ("prod", {"gitpod-cell:cluster.publicAccessCidrs": ["203.0.113.0/24"]}, "gitpod-cell:cluster.publicAccessCidrs",
         "set cluster.allowPublicEndpoint: true"),
        ("prod", {"gitpod-cell:cluster.allowPublicEndpoint": True}, "gitpod-cell:cluster.allowPublicEndpoint",
         "cluster.publicAccessCidrs is empty"),
        ("dev", {"gitpod-cell:database.monitoringInterval": 0}, "gitpod-cell:database.monitoringInterval",
         "accepts 1, 5, 10, 15, 30, 60"),
        ("dev", {"gitpod-cell:storage.accessLogRetentionDays": 0}, "gitpod-cell:storage.accessLogRetentionDays",
         "at least 1"),
        ("dev-gcp", {"gitpod-cell:gcp.securityGroup": "admins@example.com"}, "gitpod-cell:gcp.securityGroup",
         "gke-security-groups@<domain>"),
        ("dev-gcp", {"gitpod-cell:gcp.binaryAuthorization": "off"}, "gitpod-cell:gcp.binaryAuthorization",
         "'audit' or 'enforce'"),
        ("dev-gcp", {"gitpod-cell:gcp.allowedImagePatterns": ["**"]}, "gitpod-cell:gcp.allowedImagePatterns",
         "a registry host first"),
    ],
)
def test_bad_security_value_names_the_key(base: str, changes: dict[str, Any], key: str, fragment: str) -> None:
    issues = issues_for(base, changes)
    assert key in issues, issues
    assert fragment in issues[key]
    assert "\n" not in issues[key]


def test_dev_may_open_its_endpoint_without_the_prod_opt_in() -> None:
    assert config("dev").cluster.public_access_cidrs == ["203.0.113.0/24"]
