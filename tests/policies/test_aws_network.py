"""Network rules: public ingress, the default security group, flow logs, public IPs on subnets."""

from __future__ import annotations

from tests.policies.records import resource

SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
DEFAULT_SG = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
VPC = "aws:ec2/vpc:Vpc"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
SUBNET = "aws:ec2/subnet:Subnet"
LB_TAGS = {"Role": "load-balancer"}


def ingress(group, port, cidr="0.0.0.0/0", protocol="tcp", to_port=None, **extra):
    inputs = {"securityGroupId": "sg-0123", "cidrIpv4": cidr, "ipProtocol": protocol,
              "fromPort": port, "toPort": port if to_port is None else to_port, **extra}
    return resource(INGRESS, f"{group['name']}-{port}", inputs, dependencies=[group])


class TestNoPublicIngress:
    rule = "aws-sg-no-public-ingress"

    def test_passes_for_load_balancer_on_443(self, check):
        lb = resource(SG, "lb", {"tags": LB_TAGS})
        assert check(self.rule, lb, ingress(lb, 443), ingress(lb, 80)) == []

    def test_passes_for_private_cidr(self, check):
        nodes = resource(SG, "nodes", {})
        assert check(self.rule, nodes, ingress(nodes, 22, cidr="10.0.0.0/16")) == []

    def test_fails_for_ssh_from_anywhere(self, check):
        nodes = resource(SG, "nodes", {})
        rule = ingress(nodes, 22)
        assert check(self.rule, nodes, rule) == [
            (rule["urn"], "allows 0.0.0.0/0 on tcp/22; only TCP 80 and 443 may be open to the internet, and only "
                          "on a load balancer.")
        ]

    def test_fails_for_443_on_a_non_load_balancer_group(self, check):
        nodes = resource(SG, "nodes", {})
        rule = ingress(nodes, 443)
        assert check(self.rule, nodes, rule) == [
            (rule["urn"], "allows 0.0.0.0/0 on tcp/443, but its security group is not tagged Role=load-balancer "
                          "as a load balancer's.")
        ]

    def test_fails_for_port_range_and_all_traffic(self, check):
        lb = resource(SG, "lb", {"tags": LB_TAGS})
        wide = ingress(lb, 80, to_port=443)
        everything = ingress(lb, 0, cidr="::/0", protocol="-1", cidrIpv4=None, cidrIpv6="::/0")
        assert check(self.rule, lb, wide, everything) == [
            (everything["urn"], "allows ::/0 on all traffic; only TCP 80 and 443 may be open to the internet, and "
                                "only on a load balancer."),
            (wide["urn"], "allows 0.0.0.0/0 on tcp/80-443; only TCP 80 and 443 may be open to the internet, and "
                          "only on a load balancer."),
        ]

    def test_checks_inline_ingress(self, check):
        group = resource(SG, "inline", {"ingress": [{"protocol": "tcp", "fromPort": 3306, "toPort": 3306,
                                                     "cidrBlocks": ["0.0.0.0/0"]}]})
        assert check(self.rule, group) == [
            (group["urn"], "allows 0.0.0.0/0 on tcp/3306; only TCP 80 and 443 may be open to the internet, and "
                           "only on a load balancer.")
        ]

    def test_checks_legacy_security_group_rule(self, check):
        rule = resource(SG_RULE, "legacy", {"type": "ingress", "protocol": "tcp", "fromPort": 22, "toPort": 22,
                                            "cidrBlocks": ["0.0.0.0/0"], "securityGroupId": "sg-1"})
        egress = resource(SG_RULE, "egress", {"type": "egress", "protocol": "-1", "fromPort": 0, "toPort": 0,
                                              "cidrBlocks": ["0.0.0.0/0"], "securityGroupId": "sg-1"})
        assert check(self.rule, rule, egress) == [
            (rule["urn"], "allows 0.0.0.0/0 on tcp/22; only TCP 80 and 443 may be open to the internet, and only "
                          "on a load balancer.")
        ]

    def test_passes_when_cidr_absent(self, check):
        group = resource(SG, "nodes", {})
        rule = resource(INGRESS, "peer", {"referencedSecurityGroupId": "sg-2", "ipProtocol": "tcp",
                                          "fromPort": 443, "toPort": 443}, dependencies=[group])
        assert check(self.rule, group, rule) == []

    def test_ports_and_tag_are_configurable(self, check):
        lb = resource(SG, "lb", {"tags": {"Tier": "edge"}})
        rule = ingress(lb, 8443)
        assert check(self.rule, lb, rule, config={"publicPorts": [8443], "loadBalancerTag": "Tier=edge"}) == []


class TestDefaultSecurityGroupClosed:
    rule = "aws-default-sg-closed"

    def test_passes_with_no_rules(self, check):
        assert check(self.rule, resource(DEFAULT_SG, "default", {"vpcId": "vpc-1", "ingress": [], "egress": []})) == []

    def test_fails_with_rules(self, check):
        group = resource(DEFAULT_SG, "default", {"vpcId": "vpc-1", "egress": [
            {"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}]})
        assert check(self.rule, group) == [
            (group["urn"], "the default security group has 0 ingress and 1 egress rule(s); leave both empty so it "
                           "denies all traffic.")
        ]

    def test_passes_when_absent(self, check):
        assert check(self.rule, resource(DEFAULT_SG, "default", {"vpcId": "vpc-1"})) == []


class TestVpcFlowLogs:
    rule = "aws-vpc-flow-logs"

    def test_passes(self, check):
        vpc = resource(VPC, "vpc", {"cidrBlock": "10.0.0.0/16"})
        log = resource(FLOW_LOG, "flow", {"vpcId": "vpc-0123", "trafficType": "ALL"}, dependencies=[vpc])
        assert check(self.rule, vpc, log) == []

    def test_fails_when_the_flow_log_is_for_another_vpc(self, check):
        vpc = resource(VPC, "vpc", {"cidrBlock": "10.0.0.0/16"})
        other = resource(VPC, "other", {"cidrBlock": "10.1.0.0/16"})
        log = resource(FLOW_LOG, "flow", {"vpcId": "vpc-other"}, dependencies=[other])
        assert check(self.rule, vpc, other, log) == [(vpc["urn"], "no FlowLog captures this VPC's traffic.")]

    def test_fails_when_absent(self, check):
        vpc = resource(VPC, "vpc", {"cidrBlock": "10.0.0.0/16"})
        assert check(self.rule, vpc) == [(vpc["urn"], "no FlowLog captures this VPC's traffic.")]


class TestSubnetNoPublicIp:
    rule = "aws-subnet-no-public-ip"

    def test_passes(self, check):
        assert check(self.rule, resource(SUBNET, "private", {"mapPublicIpOnLaunch": False})) == []

    def test_fails(self, check):
        subnet = resource(SUBNET, "public", {"mapPublicIpOnLaunch": True})
        assert check(self.rule, subnet) == [
            (subnet["urn"], "mapPublicIpOnLaunch is true; instances launched here would get public IPs.")
        ]

    def test_passes_when_absent(self, check):
        assert check(self.rule, resource(SUBNET, "private", {})) == []
