"""GKE cluster and node pool rules (pulumi-gcp 10 input names)."""

from __future__ import annotations

import pytest

from tests.policies.records import resource

CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"

GOOD_CLUSTER = {
    "location": "europe-west1",
    "privateClusterConfig": {"enablePrivateNodes": True, "masterIpv4CidrBlock": "172.16.0.0/28"},
    "masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "203.0.113.0/24", "displayName": "office"}]},
    "databaseEncryption": {"state": "ENCRYPTED", "keyName": "projects/p/locations/l/keyRings/r/cryptoKeys/gke"},
    "releaseChannel": {"channel": "REGULAR"},
    "enableShieldedNodes": True,
    "workloadIdentityConfig": {"workloadPool": "p.svc.id.goog"},
    "networkPolicy": {"enabled": True, "provider": "CALICO"},
}
GOOD_POOL = {
    "cluster": "cell",
    "management": {"autoRepair": True, "autoUpgrade": True},
    "nodeConfig": {
        "shieldedInstanceConfig": {"enableSecureBoot": True, "enableIntegrityMonitoring": True},
        "workloadMetadataConfig": {"mode": "GKE_METADATA"},
        "labels": {"gitpod.io/workload_meta": "true"},
    },
}
CLUSTER_RULES = ["gcp-gke-private-nodes", "gcp-gke-master-authorized-networks", "gcp-gke-secrets-encryption",
                 "gcp-gke-release-channel", "gcp-gke-shielded-nodes", "gcp-gke-workload-identity",
                 "gcp-gke-network-policy"]
POOL_RULES = ["gcp-gke-node-shielded-instance", "gcp-gke-node-auto-repair", "gcp-gke-node-auto-upgrade",
              "gcp-gke-metadata-server"]


def cluster(**changes):
    inputs = {**GOOD_CLUSTER, **changes}
    return resource(CLUSTER, "gke", {k: v for k, v in inputs.items() if v is not None})


def pool(management=None, node_config=None, drop=()):
    inputs = {**GOOD_POOL, "management": {**GOOD_POOL["management"], **(management or {})},
              "nodeConfig": {**GOOD_POOL["nodeConfig"], **(node_config or {})}}
    for key in drop:
        inputs.pop(key, None)
    return resource(NODE_POOL, "workspaces", inputs)


@pytest.mark.parametrize("rule", CLUSTER_RULES)
def test_good_cluster_passes(check, rule):
    assert check(rule, cluster()) == []


@pytest.mark.parametrize("rule", POOL_RULES)
def test_good_pool_passes(check, rule):
    assert check(rule, pool()) == []


class TestPrivateNodes:
    rule = "gcp-gke-private-nodes"

    def test_fails(self, check):
        gke = cluster(privateClusterConfig={"enablePrivateNodes": False})
        assert check(self.rule, gke) == [(gke["urn"], "privateClusterConfig.enablePrivateNodes must be true.")]

    def test_fails_when_absent(self, check):
        gke = cluster(privateClusterConfig=None)
        assert check(self.rule, gke) == [(gke["urn"], "privateClusterConfig.enablePrivateNodes must be true.")]


class TestMasterAuthorizedNetworks:
    rule = "gcp-gke-master-authorized-networks"

    def test_fails_for_world(self, check):
        gke = cluster(masterAuthorizedNetworksConfig={"cidrBlocks": [{"cidrBlock": "0.0.0.0/0"}],
                                                      "gcpPublicCidrsAccessEnabled": True})
        assert check(self.rule, gke) == [
            (gke["urn"], "masterAuthorizedNetworksConfig allows 0.0.0.0/0."),
            (gke["urn"], "masterAuthorizedNetworksConfig.gcpPublicCidrsAccessEnabled lets every Google Cloud IP "
                         "reach the control plane; turn it off."),
        ]

    def test_fails_when_absent(self, check):
        gke = cluster(masterAuthorizedNetworksConfig=None)
        assert check(self.rule, gke) == [
            (gke["urn"], "masterAuthorizedNetworksConfig is not set; the control plane accepts any source address.")
        ]


class TestSecretsEncryption:
    rule = "gcp-gke-secrets-encryption"

    def test_fails_when_decrypted(self, check):
        gke = cluster(databaseEncryption={"state": "DECRYPTED"})
        assert check(self.rule, gke) == [
            (gke["urn"], "databaseEncryption.state is 'DECRYPTED'; it must be 'ENCRYPTED'.")
        ]

    def test_fails_without_key(self, check):
        gke = cluster(databaseEncryption={"state": "ENCRYPTED"})
        assert check(self.rule, gke) == [(gke["urn"], "databaseEncryption.keyName is not set.")]

    def test_fails_when_absent(self, check):
        gke = cluster(databaseEncryption=None)
        assert check(self.rule, gke) == [
            (gke["urn"], "databaseEncryption.state is not set; it must be 'ENCRYPTED'.")
        ]


class TestReleaseChannel:
    rule = "gcp-gke-release-channel"

    def test_fails_when_unspecified(self, check):
        gke = cluster(releaseChannel={"channel": "UNSPECIFIED"})
        assert check(self.rule, gke) == [
            (gke["urn"], "releaseChannel.channel is 'UNSPECIFIED'; choose one of RAPID, REGULAR, STABLE, EXTENDED.")
        ]

    def test_fails_when_absent(self, check):
        gke = cluster(releaseChannel=None)
        assert check(self.rule, gke) == [
            (gke["urn"], "releaseChannel.channel is not set; choose one of RAPID, REGULAR, STABLE, EXTENDED.")
        ]


class TestShieldedNodes:
    rule = "gcp-gke-shielded-nodes"

    def test_fails(self, check):
        gke = cluster(enableShieldedNodes=False)
        assert check(self.rule, gke) == [(gke["urn"], "enableShieldedNodes is false.")]

    def test_passes_when_absent_because_the_default_is_on(self, check):
        assert check(self.rule, cluster(enableShieldedNodes=None)) == []


class TestWorkloadIdentity:
    rule = "gcp-gke-workload-identity"

    def test_fails_when_empty(self, check):
        gke = cluster(workloadIdentityConfig={"workloadPool": ""})
        assert check(self.rule, gke) == [(gke["urn"], "workloadIdentityConfig.workloadPool is not set.")]

    def test_fails_when_absent(self, check):
        gke = cluster(workloadIdentityConfig=None)
        assert check(self.rule, gke) == [(gke["urn"], "workloadIdentityConfig.workloadPool is not set.")]


class TestNetworkPolicy:
    rule = "gcp-gke-network-policy"

    def test_dataplane_v2_passes(self, check):
        assert check(self.rule, cluster(networkPolicy=None, datapathProvider="ADVANCED_DATAPATH")) == []

    def test_fails(self, check):
        gke = cluster(networkPolicy={"enabled": False})
        assert check(self.rule, gke) == [
            (gke["urn"], "neither networkPolicy.enabled nor datapathProvider 'ADVANCED_DATAPATH' is set.")
        ]

    def test_fails_when_absent(self, check):
        gke = cluster(networkPolicy=None)
        assert check(self.rule, gke) == [
            (gke["urn"], "neither networkPolicy.enabled nor datapathProvider 'ADVANCED_DATAPATH' is set.")
        ]


class TestNodeShieldedInstance:
    rule = "gcp-gke-node-shielded-instance"

    def test_fails(self, check):
        nodes = pool(node_config={"shieldedInstanceConfig": {"enableSecureBoot": False,
                                                             "enableIntegrityMonitoring": False}})
        assert check(self.rule, nodes) == [
            (nodes["urn"], "nodeConfig.shieldedInstanceConfig.enableIntegrityMonitoring is false."),
            (nodes["urn"], "nodeConfig.shieldedInstanceConfig.enableSecureBoot must be true."),
        ]

    def test_fails_when_absent(self, check):
        nodes = pool(node_config={"shieldedInstanceConfig": None})
        assert check(self.rule, nodes) == [
            (nodes["urn"], "nodeConfig.shieldedInstanceConfig.enableSecureBoot must be true.")
        ]


class TestNodeAutoRepairAndUpgrade:
    def test_fail_when_off(self, check):
        nodes = pool(management={"autoRepair": False, "autoUpgrade": False})
        assert check("gcp-gke-node-auto-repair", nodes) == [(nodes["urn"], "management.autoRepair is false.")]
        assert check("gcp-gke-node-auto-upgrade", nodes) == [(nodes["urn"], "management.autoUpgrade is false.")]

    def test_pass_when_absent_because_gke_enables_them(self, check):
        nodes = pool(drop=["management"])
        assert check("gcp-gke-node-auto-repair", nodes) == []
        assert check("gcp-gke-node-auto-upgrade", nodes) == []


class TestMetadataServer:
    rule = "gcp-gke-metadata-server"

    def test_fails_with_node_metadata(self, check):
        nodes = pool(node_config={"workloadMetadataConfig": {"mode": "GCE_METADATA"}})
        assert check(self.rule, nodes) == [
            (nodes["urn"], "nodeConfig.workloadMetadataConfig.mode is 'GCE_METADATA'; set it to 'GKE_METADATA'.")
        ]

    def test_fails_when_absent(self, check):
        nodes = pool(node_config={"workloadMetadataConfig": None})
        assert check(self.rule, nodes) == [
            (nodes["urn"], "nodeConfig.workloadMetadataConfig.mode is not set; set it to 'GKE_METADATA'.")
        ]
