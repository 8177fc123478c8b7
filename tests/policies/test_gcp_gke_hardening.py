"""GKE hardening: authentication, admission, intranode visibility, regional production, node identity."""

from __future__ import annotations

import pytest

from tests.policies.records import gcp_labels, resource

CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"
BINAUTHZ = "gcp:binaryauthorization/policy:Policy"
GOOD = {
    "location": "europe-west1",
    "enableLegacyAbac": False,
    "masterAuth": {"clientCertificateConfig": {"issueClientCertificate": False}},
    "enableIntranodeVisibility": True,
    "binaryAuthorization": {"evaluationMode": "PROJECT_SINGLETON_POLICY_ENFORCE"},
    "authenticatorGroupsConfig": {"securityGroup": "gke-security-groups@example.com"},
    "resourceLabels": gcp_labels("prod"),
}
CLUSTER_RULES = ["gcp-gke-no-legacy-abac", "gcp-gke-no-client-certificate", "gcp-gke-intranode-visibility",
                 "gcp-gke-regional-prod", "gcp-gke-binary-authorization", "gcp-gke-google-groups-rbac"]


def cluster(**changes):
    inputs = {**GOOD, **changes}
    return resource(CLUSTER, "gke", {k: v for k, v in inputs.items() if v is not None})


@pytest.mark.parametrize("rule", CLUSTER_RULES)
def test_good_cluster_passes(check, rule):
    assert check(rule, cluster()) == []


def test_legacy_abac_fails(check):
    gke = cluster(enableLegacyAbac=True)
    assert check("gcp-gke-no-legacy-abac", gke) == [
        (gke["urn"], "enableLegacyAbac is true; legacy ABAC grants broad static permissions outside RBAC.")]


def test_legacy_abac_absent_is_off(check):
    assert check("gcp-gke-no-legacy-abac", cluster(enableLegacyAbac=None)) == []


def test_client_certificate_fails(check):
    gke = cluster(masterAuth={"clientCertificateConfig": {"issueClientCertificate": True}})
    assert check("gcp-gke-no-client-certificate", gke) == [
        (gke["urn"], "masterAuth.clientCertificateConfig.issueClientCertificate is true; turn it off.")]


def test_client_certificate_absent_is_off(check):
    assert check("gcp-gke-no-client-certificate", cluster(masterAuth=None)) == []


@pytest.mark.parametrize("value", [False, None])
def test_intranode_visibility_off_or_absent_fails(check, value):
    gke = cluster(enableIntranodeVisibility=value)
    assert check("gcp-gke-intranode-visibility", gke) == [(gke["urn"], "enableIntranodeVisibility must be true.")]


def test_zonal_prod_cluster_fails(check):
    gke = cluster(location="europe-west1-b")
    assert check("gcp-gke-regional-prod", gke) == [
        (gke["urn"], "location is 'europe-west1-b'; a production cluster is regional (e.g. europe-west1).")]


def test_regional_rule_absent_location_fails_and_dev_is_free(check):
    assert len(check("gcp-gke-regional-prod", cluster(location=None))) == 1
    assert check("gcp-gke-regional-prod", cluster(location="europe-west1-b", resourceLabels=gcp_labels("dev"))) == []


@pytest.mark.parametrize("value", [{"evaluationMode": "DISABLED"}, None])
def test_binary_authorization_off_or_absent_fails(check, value):
    gke = cluster(binaryAuthorization=value)
    assert len(check("gcp-gke-binary-authorization", gke)) == 1


def test_google_groups_absent_and_wrong_group(check):
    gke = cluster(authenticatorGroupsConfig=None)
    assert check("gcp-gke-google-groups-rbac", gke) == [
        (gke["urn"], "authenticatorGroupsConfig.securityGroup is not set; RBAC can name only users and service "
                     "accounts.")]
    assert len(check("gcp-gke-google-groups-rbac",
                     cluster(authenticatorGroupsConfig={"securityGroup": "admins@example.com"}))) == 1


class TestBinaryAuthorizationAllowlist:
    rule = "gcp-binary-authorization-allowlist"

    def test_passes(self, check):
        policy = resource(BINAUTHZ, "p", {"globalPolicyEvaluationMode": "ENABLE", "defaultAdmissionRule": {
            "evaluationMode": "ALWAYS_DENY", "enforcementMode": "DRYRUN_AUDIT_LOG_ONLY"}})
        assert check(self.rule, policy) == []

    def test_always_allow_fails(self, check):
        policy = resource(BINAUTHZ, "p", {"globalPolicyEvaluationMode": "ENABLE", "defaultAdmissionRule": {
            "evaluationMode": "ALWAYS_ALLOW", "enforcementMode": "ENFORCED_BLOCK_AND_AUDIT_LOG"}})
        assert len(check(self.rule, policy)) == 1

    def test_absent_fails(self, check):
        assert len(check(self.rule, resource(BINAUTHZ, "p", {}))) == 2


class TestNodeServiceAccount:
    rule = "gcp-gke-node-service-account"

    def test_passes(self, check):
        pool = resource(NODE_POOL, "p", {"nodeConfig": {"serviceAccount": "nodes@p.iam.gserviceaccount.com"}})
        assert check(self.rule, pool) == []

    def test_default_compute_account_fails(self, check):
        pool = resource(NODE_POOL, "p", {"nodeConfig": {
            "serviceAccount": "123-compute@developer.gserviceaccount.com"}})
        assert len(check(self.rule, pool)) == 1

    def test_absent_fails(self, check):
        pool = resource(NODE_POOL, "p", {"nodeConfig": {}})
        assert check(self.rule, pool) == [(pool["urn"], "nodeConfig.serviceAccount is not set (the Compute Engine "
                                                        "default); use the cell's least-privilege node account.")]
