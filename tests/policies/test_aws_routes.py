"""Routes: database subnets have no way out, node subnets go out only through NAT."""

from __future__ import annotations

from tests.policies.records import resource

TABLE = "aws:ec2/routeTable:RouteTable"
ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
SUBNET = "aws:ec2/subnet:Subnet"


def table(name, **route):
    return resource(TABLE, name, {"routes": [{"cidrBlock": "0.0.0.0/0", **route}]})


def associate(subnet, route_table):
    return resource(ASSOCIATION, f"{subnet}-{route_table['name']}", {"subnetId": subnet, "routeTableId": "rtb-x"},
                    dependencies=[route_table])


class TestDatabaseSubnets:
    rule = "aws-database-subnets-no-route-out"

    def test_passes_without_associations(self, check):
        assert check(self.rule, resource(SUBNET_GROUP, "db", {"subnetIds": ["subnet-db"]})) == []

    def test_fails_with_a_nat_route(self, check):
        nat, group = table("private", natGatewayId="nat-1"), resource(SUBNET_GROUP, "db", {"subnetIds": ["subnet-db"]})
        assert check(self.rule, group, nat, associate("subnet-db", nat)) == [
            (group["urn"], "subnet subnet-db routes 0.0.0.0/0 out of the VPC; database subnets keep only the local "
                           "route.")]

    def test_other_subnets_may_route_out(self, check):
        nat = table("private", natGatewayId="nat-1")
        group = resource(SUBNET_GROUP, "db", {"subnetIds": ["subnet-db"]})
        assert check(self.rule, group, nat, associate("subnet-nodes", nat)) == []


class TestNodeSubnets:
    rule = "aws-nodes-private-subnets"

    def test_passes_behind_nat(self, check):
        nat = table("private", natGatewayId="nat-1")
        nodes = resource(NODE_GROUP, "nodes", {"subnetIds": ["subnet-a"]})
        assert check(self.rule, nodes, nat, associate("subnet-a", nat)) == []

    def test_fails_behind_an_internet_gateway(self, check):
        public = table("public", gatewayId="igw-1")
        nodes = resource(NODE_GROUP, "nodes", {"subnetIds": ["subnet-a"]})
        assert check(self.rule, nodes, public, associate("subnet-a", public)) == [
            (nodes["urn"], "subnet subnet-a is public (a route to an internet gateway or public IPs on launch); "
                           "node groups belong in the private subnets.")]

    def test_absent_subnets_pass(self, check):
        assert check(self.rule, resource(NODE_GROUP, "nodes", {})) == []
