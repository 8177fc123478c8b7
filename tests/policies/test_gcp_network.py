"""GCP network: custom mode, an explicit default-deny firewall, no public ingress, subnet flow logs and private
Google access."""

from __future__ import annotations

from tests.policies.records import resource

NETWORK = "gcp:compute/network:Network"
SUBNET = "gcp:compute/subnetwork:Subnetwork"
FIREWALL = "gcp:compute/firewall:Firewall"


def network(**inputs):
    return resource(NETWORK, "vpc", {"name": "vpc", "autoCreateSubnetworks": False, **inputs})


def deny_all(vpc):
    return resource(FIREWALL, "deny", {"network": "projects/p/global/networks/vpc", "direction": "INGRESS",
                                       "priority": 65534, "sourceRanges": ["0.0.0.0/0"],
                                       "denies": [{"protocol": "all"}]}, dependencies=[vpc])


def allow(sources, vpc=None):
    return resource(FIREWALL, "allow", {"network": "projects/p/global/networks/vpc", "direction": "INGRESS",
                                        "sourceRanges": sources, "allows": [{"protocol": "tcp", "ports": ["443"]}]},
                    dependencies=[vpc] if vpc else [])


class TestCustomMode:
    rule = "gcp-vpc-custom-mode"

    def test_passes(self, check):
        assert check(self.rule, network()) == []

    def test_fails_in_auto_mode_and_when_absent(self, check):
        auto = network(autoCreateSubnetworks=True)
        assert check(self.rule, auto) == [(auto["urn"], "autoCreateSubnetworks is not false; the network gets a "
                                                        "subnet in every region.")]
        assert len(check(self.rule, resource(NETWORK, "vpc", {}))) == 1


class TestDefaultDeny:
    rule = "gcp-vpc-firewall-default-deny"

    def test_passes(self, check):
        vpc = network()
        assert check(self.rule, vpc, deny_all(vpc), allow(["10.0.0.0/16"], vpc)) == []

    def test_fails_without_firewall_rules(self, check):
        vpc = network()
        assert check(self.rule, vpc) == [(vpc["urn"], "the network has no firewall rules of its own.")]

    def test_fails_without_a_deny_all(self, check):
        vpc = network()
        assert check(self.rule, vpc, allow(["10.0.0.0/16"], vpc)) == [
            (vpc["urn"], "no firewall rule denies all ingress from 0.0.0.0/0; add an explicit default deny.")]


class TestNoPublicIngress:
    rule = "gcp-firewall-no-public-ingress"

    def test_passes_for_named_ranges_and_denies(self, check):
        vpc = network()
        assert check(self.rule, allow(["35.191.0.0/16"]), deny_all(vpc)) == []

    def test_fails_from_anywhere(self, check):
        rule = allow(["0.0.0.0/0"])
        assert check(self.rule, rule) == [(rule["urn"], "the rule allows ingress from 0.0.0.0/0.")]

    def test_fails_without_sources(self, check):
        rule = resource(FIREWALL, "allow", {"allows": [{"protocol": "tcp"}]})
        assert check(self.rule, rule) == [(rule["urn"], "the rule allows ingress without sourceRanges (any "
                                                        "source).")]


class TestSubnet:
    def test_passes(self, check):
        subnet = resource(SUBNET, "nodes", {"privateIpGoogleAccess": True, "logConfig": {"flowSampling": 0.5}})
        assert check("gcp-subnet-private-google-access", subnet) == []
        assert check("gcp-subnet-flow-logs", subnet) == []

    def test_fails_when_absent(self, check):
        subnet = resource(SUBNET, "nodes", {})
        assert check("gcp-subnet-private-google-access", subnet) == [
            (subnet["urn"], "privateIpGoogleAccess must be true.")]
        assert check("gcp-subnet-flow-logs", subnet) == [
            (subnet["urn"], "logConfig is not set; the subnet records no flow logs.")]

    def test_fails_when_off(self, check):
        subnet = resource(SUBNET, "nodes", {"privateIpGoogleAccess": False, "logConfig": {}})
        assert len(check("gcp-subnet-private-google-access", subnet)) == 1
