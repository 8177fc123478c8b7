"""EKS cluster and node group rules."""

from __future__ import annotations

from tests.policies.records import resource

CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
ALL_LOGS = ["api", "audit", "authenticator", "controllerManager", "scheduler"]


def cluster(**inputs):
    return resource(CLUSTER, "eks", inputs)


def node_group(**inputs):
    return resource(NODE_GROUP, "services", inputs)


class TestEndpointNotPublic:
    rule = "aws-eks-endpoint-not-public"

    def test_passes_when_private_only(self, check):
        assert check(self.rule, cluster(vpcConfig={"endpointPublicAccess": False})) == []

    def test_passes_with_restricted_cidrs(self, check):
        config = {"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]}
        assert check(self.rule, cluster(vpcConfig=config)) == []

    def test_fails_open_to_the_world(self, check):
        eks = cluster(vpcConfig={"endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]})
        assert check(self.rule, eks) == [
            (eks["urn"], "vpcConfig.publicAccessCidrs includes 0.0.0.0/0; list only the CIDRs that need the API.")
        ]

    def test_fails_when_absent(self, check):
        eks = cluster()
        assert check(self.rule, eks) == [
            (eks["urn"], "the public endpoint is on and vpcConfig.publicAccessCidrs is not set (EKS then allows "
                         "0.0.0.0/0); turn endpointPublicAccess off or list the CIDRs allowed.")
        ]


class TestPrivateEndpoint:
    rule = "aws-eks-private-endpoint"

    def test_passes(self, check):
        assert check(self.rule, cluster(vpcConfig={"endpointPrivateAccess": True})) == []

    def test_fails(self, check):
        eks = cluster(vpcConfig={"endpointPrivateAccess": False})
        assert check(self.rule, eks) == [(eks["urn"], "vpcConfig.endpointPrivateAccess must be true.")]

    def test_fails_when_absent(self, check):
        eks = cluster()
        assert check(self.rule, eks) == [(eks["urn"], "vpcConfig.endpointPrivateAccess must be true.")]


class TestSecretsEncryption:
    rule = "aws-eks-secrets-encryption"

    def test_passes(self, check):
        config = {"resources": ["secrets"], "provider": {"keyArn": "arn:aws:kms:eu-west-1:1:key/k"}}
        assert check(self.rule, cluster(encryptionConfig=config)) == []

    def test_fails_without_secrets(self, check):
        eks = cluster(encryptionConfig={"resources": [], "provider": {"keyArn": "arn:aws:kms:eu-west-1:1:key/k"}})
        assert check(self.rule, eks) == [(eks["urn"], "encryptionConfig.resources does not include 'secrets'.")]

    def test_fails_without_key(self, check):
        eks = cluster(encryptionConfig={"resources": ["secrets"], "provider": {}})
        assert check(self.rule, eks) == [(eks["urn"], "encryptionConfig.provider.keyArn is not set.")]

    def test_fails_when_absent(self, check):
        eks = cluster()
        assert check(self.rule, eks) == [(eks["urn"], "encryptionConfig is not set; encrypt secrets with a KMS key.")]


class TestControlPlaneLogging:
    rule = "aws-eks-control-plane-logging"

    def test_passes(self, check):
        assert check(self.rule, cluster(enabledClusterLogTypes=ALL_LOGS)) == []

    def test_fails_with_some_missing(self, check):
        eks = cluster(enabledClusterLogTypes=["api", "audit"])
        assert check(self.rule, eks) == [
            (eks["urn"], "enabledClusterLogTypes is missing authenticator, controllerManager, scheduler.")
        ]

    def test_fails_when_absent(self, check):
        eks = cluster()
        assert check(self.rule, eks) == [
            (eks["urn"], "enabledClusterLogTypes is missing api, audit, authenticator, controllerManager, scheduler.")
        ]


class TestSupportedVersion:
    rule = "aws-eks-supported-version"

    def test_passes(self, check):
        assert check(self.rule, cluster(version="1.35")) == []

    def test_fails_when_old(self, check):
        eks = cluster(version="1.29")
        assert check(self.rule, eks) == [(eks["urn"], "version '1.29' is older than 1.33, the oldest supported.")]

    def test_minor_versions_compare_numerically(self, check):
        assert check(self.rule, cluster(version="1.100")) == []

    def test_fails_when_absent(self, check):
        eks = cluster()
        assert check(self.rule, eks) == [
            (eks["urn"], "version is not set; pin a Kubernetes version (>= 1.33) so upgrades are deliberate.")
        ]

    def test_minimum_is_configurable(self, check):
        assert check(self.rule, cluster(version="1.31"), config={"minimumVersion": "1.31"}) == []


class TestNodeGroupLaunchTemplate:
    rule = "aws-eks-nodegroup-launch-template"

    def test_passes(self, check):
        assert check(self.rule, node_group(launchTemplate={"id": "lt-1", "version": "3"})) == []

    def test_fails_without_version(self, check):
        group = node_group(launchTemplate={"id": "lt-1"})
        assert check(self.rule, group) == [
            (group["urn"], "launchTemplate.version is not set; pin the template version the node group rolls out.")
        ]

    def test_fails_when_absent(self, check):
        group = node_group()
        assert check(self.rule, group) == [
            (group["urn"], "launchTemplate is not set; node groups must use the cell's launch template.")
        ]


class TestNodeAutoRepair:
    rule = "aws-eks-node-auto-repair"

    def test_passes(self, check):
        assert check(self.rule, node_group(nodeRepairConfig={"enabled": True})) == []

    def test_fails(self, check):
        group = node_group(nodeRepairConfig={"enabled": False})
        assert check(self.rule, group) == [(group["urn"], "nodeRepairConfig.enabled should be true.")]

    def test_fails_when_absent(self, check):
        group = node_group()
        assert check(self.rule, group) == [(group["urn"], "nodeRepairConfig.enabled should be true.")]
