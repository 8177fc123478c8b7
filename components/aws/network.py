"""The cell's VPC: private subnets for nodes and the database, public subnets only for load balancers."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_aws import ec2, iam

from components.aws.logs import encrypted_log_group, flow_logs_group
from components.aws.policy_documents import allow, document, service_trust
from components.component import child


@dataclass(frozen=True)
class SubnetPlan:
    """CIDR blocks per availability zone, carved from the VPC range so they never overlap."""

    private: list[str]
    public: list[str]
    database: list[str]


def plan_subnets(vpc_cidr: str, zone_count: int) -> SubnetPlan:
    """Nodes get large private blocks (the VPC CNI gives every pod a VPC address); load balancers and the
    database get small ones. The VPC range is split in eight: one block per zone for nodes, the seventh
    block for public subnets and the eighth for database subnets."""
    vpc = ipaddress.ip_network(vpc_cidr)
    eighths = list(vpc.subnets(prefixlen_diff=3))
    small = [list(block.subnets(new_prefix=min(block.prefixlen + 3, 28))) for block in eighths[6:8]]
    return SubnetPlan(
        private=[str(block) for block in eighths[:zone_count]],
        public=[str(block) for block in small[0][:zone_count]],
        database=[str(block) for block in small[1][:zone_count]],
    )


@dataclass(frozen=True)
class NetworkArgs:
    name: str
    vpc_cidr: str
    availability_zones: Sequence[str]
    nat_gateway_per_az: bool
    flow_log_retention_days: int
    cluster_name: str
    tags: Mapping[str, str]
    # The account the flow logs belong to: the flow-logs service may assume the role only for it.
    account_id: pulumi.Input[str]
    # The primary region's CloudWatch Logs key (components/aws/logs.py).
    log_key_arn: pulumi.Input[str]


class Network(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    private_subnet_ids: list[pulumi.Output[str]]
    public_subnet_ids: list[pulumi.Output[str]]
    database_subnet_ids: list[pulumi.Output[str]]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gitpod-cell:aws:Network", name, None, opts)
        tags = dict(args.tags)
        subnets = plan_subnets(args.vpc_cidr, len(args.availability_zones))

        vpc = ec2.Vpc(
            name,
            cidr_block=args.vpc_cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={**tags, "Name": name},
            opts=child(self),
        )
        # Strip every rule from the default security group so nothing lands in it by accident.
        ec2.DefaultSecurityGroup(
            f"{name}-default-sg", vpc_id=vpc.id, tags={**tags, "Name": f"{name}-default"}, opts=child(self)
        )
        gateway = ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags={**tags, "Name": name}, opts=child(self))

        public_routes = ec2.RouteTable(
            f"{name}-public",
            vpc_id=vpc.id,
            routes=[ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=gateway.id)],
            tags={**tags, "Name": f"{name}-public"},
            opts=child(self),
        )
        cluster_tag = {f"kubernetes.io/cluster/{args.cluster_name}": "shared"}
        self.public_subnet_ids = []
        self.private_subnet_ids = []
        self.database_subnet_ids = []
        nat_gateways: list[ec2.NatGateway] = []
        for index, zone in enumerate(args.availability_zones):
            public = ec2.Subnet(
                f"{name}-public-{zone}",
                vpc_id=vpc.id,
                availability_zone=zone,
                cidr_block=subnets.public[index],
                map_public_ip_on_launch=False,
                tags={**tags, **cluster_tag, "Name": f"{name}-public-{zone}", "kubernetes.io/role/elb": "1"},
                opts=child(self),
            )
            ec2.RouteTableAssociation(
                f"{name}-public-{zone}", subnet_id=public.id, route_table_id=public_routes.id, opts=child(self)
            )
            self.public_subnet_ids.append(public.id)
            if index == 0 or args.nat_gateway_per_az:
                address = ec2.Eip(f"{name}-nat-{zone}", domain="vpc", tags={**tags, "Name": f"{name}-nat-{zone}"},
                                  opts=child(self))
                nat_gateways.append(
                    ec2.NatGateway(
                        f"{name}-nat-{zone}",
                        allocation_id=address.id,
                        subnet_id=public.id,
                        tags={**tags, "Name": f"{name}-nat-{zone}"},
                        opts=child(self, depends_on=[gateway]),
                    )
                )

        for index, zone in enumerate(args.availability_zones):
            nat = nat_gateways[index if args.nat_gateway_per_az else 0]
            private_routes = ec2.RouteTable(
                f"{name}-private-{zone}",
                vpc_id=vpc.id,
                routes=[ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)],
                tags={**tags, "Name": f"{name}-private-{zone}"},
                opts=child(self),
            )
            private = ec2.Subnet(
                f"{name}-private-{zone}",
                vpc_id=vpc.id,
                availability_zone=zone,
                cidr_block=subnets.private[index],
                map_public_ip_on_launch=False,
                tags={
                    **tags,
                    **cluster_tag,
                    "Name": f"{name}-private-{zone}",
                    "kubernetes.io/role/internal-elb": "1",
                },
                opts=child(self),
            )
            ec2.RouteTableAssociation(
                f"{name}-private-{zone}", subnet_id=private.id, route_table_id=private_routes.id, opts=child(self)
            )
            self.private_subnet_ids.append(private.id)
            # Database subnets have no route out of the VPC at all.
            database = ec2.Subnet(
                f"{name}-database-{zone}",
                vpc_id=vpc.id,
                availability_zone=zone,
                cidr_block=subnets.database[index],
                map_public_ip_on_launch=False,
                tags={**tags, "Name": f"{name}-database-{zone}"},
                opts=child(self),
            )
            self.database_subnet_ids.append(database.id)

        self._flow_logs(name, vpc, args, tags)
        self.vpc_id = vpc.id
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "private_subnet_ids": self.private_subnet_ids,
                "public_subnet_ids": self.public_subnet_ids,
                "database_subnet_ids": self.database_subnet_ids,
            }
        )

    def _flow_logs(self, name: str, vpc: ec2.Vpc, args: NetworkArgs, tags: Mapping[str, str]) -> None:
        log_group = encrypted_log_group(f"{name}-flow-logs", flow_logs_group(name), args.flow_log_retention_days,
                                        args.log_key_arn, tags, self)
        role = iam.Role(
            f"{name}-flow-logs",
            assume_role_policy=pulumi.Output.from_input(args.account_id).apply(
                lambda account: service_trust("vpc-flow-logs.amazonaws.com", account)),
            tags=dict(tags),
            opts=child(self),
        )
        iam.RolePolicy(
            f"{name}-flow-logs",
            role=role.id,
            policy=log_group.arn.apply(
                lambda arn: document(
                    [allow(["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                           [arn, f"{arn}:*"])]
                )
            ),
            opts=child(self),
        )
        ec2.FlowLog(
            f"{name}-flow-logs",
            vpc_id=vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags=dict(tags),
            opts=child(self),
        )
