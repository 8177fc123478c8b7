"""EKS access: a private production endpoint unless opted in, access entries, IRSA's OIDC provider, the EBS CSI
driver's own role."""

from __future__ import annotations

from tests.policies.records import aws_tags, resource

CLUSTER = "aws:eks/cluster:Cluster"
ADDON = "aws:eks/addon:Addon"
OIDC = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"


def cluster(public, environment="prod", opted_in=False, **extra):
    tags = {**aws_tags(environment), **({"PublicEndpoint": "allowed"} if opted_in else {})}
    return resource(CLUSTER, "eks", {"vpcConfig": {"endpointPrivateAccess": True, "endpointPublicAccess": public,
                                                   **({"publicAccessCidrs": ["203.0.113.0/24"]} if public else {})},
                                     "accessConfig": {"authenticationMode": "API"}, "tags": tags, **extra})


class TestPublicEndpointProd:
    rule = "aws-eks-public-endpoint-prod"

    def test_private_passes(self, check):
        assert check(self.rule, cluster(False)) == []

    def test_public_with_opt_in_passes(self, check):
        assert check(self.rule, cluster(True, opted_in=True)) == []

    def test_public_without_opt_in_fails(self, check):
        eks = cluster(True)
        assert check(self.rule, eks) == [(eks["urn"], "the API endpoint is public (endpointPublicAccess is not "
                                                      "false) without the opt-in tag PublicEndpoint=allowed; turn "
                                                      "it off and deploy from inside the VPC, or set "
                                                      "gitpod-cell:cluster.allowPublicEndpoint.")]

    def test_absent_is_public_and_fails(self, check):
        eks = resource(CLUSTER, "eks", {"vpcConfig": {}, "tags": aws_tags("prod")})
        assert len(check(self.rule, eks)) == 1

    def test_dev_is_not_checked(self, check):
        assert check(self.rule, cluster(True, environment="dev")) == []


class TestApiAuthentication:
    rule = "aws-eks-api-authentication"

    def test_passes(self, check):
        assert check(self.rule, cluster(False)) == []

    def test_fails_with_config_map(self, check):
        eks = cluster(False, accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"})
        assert check(self.rule, eks) == [(eks["urn"], "accessConfig.authenticationMode is 'API_AND_CONFIG_MAP'; "
                                                      "set it to 'API' (access entries).")]

    def test_fails_when_absent(self, check):
        eks = resource(CLUSTER, "eks", {})
        assert check(self.rule, eks) == [(eks["urn"], "accessConfig.authenticationMode is not set (CONFIG_MAP); "
                                                      "set it to 'API' (access entries).")]


class TestEbsCsiIrsa:
    rule = "aws-eks-ebs-csi-irsa"

    def test_passes(self, check):
        assert check(self.rule, resource(ADDON, "ebs", {"addonName": "aws-ebs-csi-driver",
                                                        "serviceAccountRoleArn": "arn:aws:iam::1:role/ebs"})) == []

    def test_fails_when_absent(self, check):
        addon = resource(ADDON, "ebs", {"addonName": "aws-ebs-csi-driver"})
        assert check(self.rule, addon) == [(addon["urn"], "serviceAccountRoleArn is not set; the driver would use "
                                                          "the node role's permissions.")]

    def test_other_addons_are_not_checked(self, check):
        assert check(self.rule, resource(ADDON, "coredns", {"addonName": "coredns"})) == []


class TestIrsaOidc:
    rule = "aws-eks-irsa-oidc"

    def test_passes(self, check):
        eks = cluster(False)
        oidc = resource(OIDC, "oidc", {"clientIdLists": ["sts.amazonaws.com"], "url": "https://oidc"},
                        dependencies=[eks])
        assert check(self.rule, eks, oidc) == []

    def test_fails_when_absent(self, check):
        eks = cluster(False)
        assert check(self.rule, eks) == [(eks["urn"], "no IAM OIDC provider (client sts.amazonaws.com) for this "
                                                      "cluster's issuer; workloads would need the node role or "
                                                      "static keys.")]

    def test_fails_without_the_sts_audience(self, check):
        eks = cluster(False)
        oidc = resource(OIDC, "oidc", {"clientIdLists": ["other"]}, dependencies=[eks])
        assert len(check(self.rule, eks, oidc)) == 1
