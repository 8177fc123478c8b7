"""The GCP cell's security controls, asserted on what the real program registers under the mock engine: explicit
firewall rules, usage logs, Google Groups for RBAC, Binary Authorization."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from components.config import CellConfigError
from components.gcp.binary_authorization import image_patterns
from components.gcp.network import HEALTH_CHECK_RANGES
from ops.plan.runner import PlanDocument, run_program
from tests.components.gcp_plan import PROJECT

Registered = Callable[[str], PlanDocument]


def test_firewall_denies_by_default_and_allows_only_the_clusters_sources(registered: Registered) -> None:
    plan = registered("prod-gcp")
    network_urn = plan.one("gcp:compute/network:Network")["urn"]
    rules = {r["inputs"]["name"]: r for r in plan.by_type("gcp:compute/firewall:Firewall")}
    assert set(rules) == {f"gitpod-prod-gcp-{n}" for n in ("deny-all-ingress", "allow-cluster-internal",
                                                           "allow-control-plane", "allow-health-checks")}
    for rule in rules.values():
        assert network_urn in rule["dependencies"]
        assert rule["inputs"]["logConfig"] == {"metadata": "INCLUDE_ALL_METADATA"}
    deny = rules["gitpod-prod-gcp-deny-all-ingress"]["inputs"]
    assert (deny["sourceRanges"], deny["denies"], deny["priority"]) == (["0.0.0.0/0"], [{"protocol": "all"}], 65534)
    internal = rules["gitpod-prod-gcp-allow-cluster-internal"]["inputs"]["sourceRanges"]
    subnet = plan.one("gcp:compute/subnetwork:Subnetwork")["inputs"]
    assert internal == [subnet["ipCidrRange"], subnet["secondaryIpRanges"][0]["ipCidrRange"]]
    control_plane = rules["gitpod-prod-gcp-allow-control-plane"]["inputs"]
    cluster = plan.one("gcp:container/cluster:Cluster")["inputs"]
    assert control_plane["sourceRanges"] == [cluster["privateClusterConfig"]["masterIpv4CidrBlock"]]
    assert control_plane["allows"] == [{"protocol": "tcp", "ports": ["443", "8443", "9443", "10250"]}]
    assert rules["gitpod-prod-gcp-allow-health-checks"]["inputs"]["sourceRanges"] == list(HEALTH_CHECK_RANGES)
    for name, rule in rules.items():
        if rule["inputs"].get("allows"):
            assert "0.0.0.0/0" not in rule["inputs"]["sourceRanges"], name


def test_workspace_bucket_logs_usage_to_an_expiring_log_bucket(registered: Registered) -> None:
    plan = registered("prod-gcp")
    data = plan.one("gcp:storage/bucket:Bucket", "gitpod-prod-gcp-workspaces")["inputs"]
    logs = plan.one("gcp:storage/bucket:Bucket", "gitpod-prod-gcp-usage-logs")
    assert data["logging"]["logBucket"] == logs["inputs"]["name"] == f"gitpod-prod-gcp-{PROJECT}-logs"
    assert logs["options"]["protect"] is True
    inputs = logs["inputs"]
    assert (inputs["publicAccessPrevention"], inputs["uniformBucketLevelAccess"]) == ("enforced", True)
    assert inputs["versioning"] == {"enabled": True}
    assert "logging" not in inputs
    ages = [rule["condition"].get("age") for rule in inputs["lifecycleRules"]]
    assert 365 in ages


def test_google_groups_and_binary_authorization(registered: Registered) -> None:
    plan = registered("prod-gcp")
    cluster = plan.one("gcp:container/cluster:Cluster")
    assert cluster["inputs"]["authenticatorGroupsConfig"] == {"securityGroup": "gke-security-groups@example.com"}
    assert cluster["inputs"]["binaryAuthorization"] == {"evaluationMode": "PROJECT_SINGLETON_POLICY_ENFORCE"}
    policy = plan.one("gcp:binaryauthorization/policy:Policy")
    assert policy["urn"] in cluster["options"]["dependsOn"]
    assert policy["inputs"]["defaultAdmissionRule"] == {"evaluationMode": "ALWAYS_DENY",
                                                        "enforcementMode": "DRYRUN_AUDIT_LOG_ONLY"}
    patterns = [p["namePattern"] for p in policy["inputs"]["admissionWhitelistPatterns"]]
    assert f"europe-west1-docker.pkg.dev/{PROJECT}/gitpod-prod-gcp/**" in patterns
    assert "eu.gcr.io/gitpod-core-dev/build/**" in patterns
    assert "reg.gitpod.example.com:20000/**" in patterns


def test_binary_authorization_enforces_when_configured(stack_variant) -> None:
    resources, _ = run_program(stack_variant("dev-gcp", {"gitpod-cell:gcp.binaryAuthorization": "enforce",
                                                         "gitpod-cell:gcp.allowedImagePatterns": ["ghcr.io/acme/*"]}))
    policy = next(r for r in resources if r["type"] == "gcp:binaryauthorization/policy:Policy")["inputs"]
    assert policy["defaultAdmissionRule"]["enforcementMode"] == "ENFORCED_BLOCK_AND_AUDIT_LOG"
    assert "ghcr.io/acme/*" in [p["namePattern"] for p in policy["admissionWhitelistPatterns"]]
    cluster = next(r for r in resources if r["type"] == "gcp:container/cluster:Cluster")["inputs"]
    assert "authenticatorGroupsConfig" not in cluster  # dev-gcp sets no securityGroup


@pytest.mark.parametrize(("key", "value", "message"), [
    ("gcp.securityGroup", "admins@example.com", "gcp.securityGroup: 'admins@example.com' is neither a domain"),
    ("gcp.binaryAuthorization", "strict", "gcp.binaryAuthorization: got 'strict'"),
    ("gcp.allowedImagePatterns", ["*"], "gcp.allowedImagePatterns"),
])
def test_bad_security_keys_name_the_key(stack_variant, key: str, value: object, message: str) -> None:
    with pytest.raises(CellConfigError, match=message.replace(".", r"\.").replace("*", r"\*")):
        run_program(stack_variant("dev-gcp", {f"gitpod-cell:{key}": value}))


def test_image_patterns_follow_the_installer_image() -> None:
    patterns = image_patterns("p", "us-central1", "repo", "ghcr.io/acme/gitpod/installer@sha256:" + "a" * 64,
                              "gitpod.acme.dev", [])
    assert patterns[:2] == ["us-central1-docker.pkg.dev/p/repo/**", "ghcr.io/acme/gitpod/**"]
