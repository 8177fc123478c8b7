"""VPC networking: security-group exposure, the default security group, flow logs, public IPs on subnets."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from policies.core.context import aws_tags
from policies.core.props import as_int, as_list, get, truthy
from policies.core.rule import Report, configured, resource_rule, stack_rule
from policies.core.stack import StackView, dependency_urns
from policies.rules.tokens import (
    DEFAULT_SECURITY_GROUP,
    FLOW_LOG,
    SECURITY_GROUP,
    SECURITY_GROUP_INGRESS_RULE,
    SECURITY_GROUP_RULE,
    SUBNET,
    VPC,
)

WORLD = ("0.0.0.0/0", "::/0")
INGRESS_SCHEMA = {
    "publicPorts": {
        "type": "array",
        "items": {"type": "integer", "minimum": 0, "maximum": 65535},
        "default": [80, 443],
        "description": "TCP ports a load balancer's security group may open to 0.0.0.0/0 or ::/0.",
    },
    "loadBalancerTag": {
        "type": "string",
        "default": "Role=load-balancer",
        "description": "KEY=VALUE tag marking a security group (or ingress rule) as a load balancer's.",
    },
}


@dataclass(frozen=True)
class Ingress:
    urn: str
    cidr: str
    protocol: str
    from_port: int | None
    to_port: int | None
    tags: Mapping[str, Any]

    def describe(self) -> str:
        if self.protocol in ("-1", "all"):
            return "all traffic"
        if self.from_port == self.to_port:
            return f"{self.protocol}/{self.from_port}"
        return f"{self.protocol}/{self.from_port}-{self.to_port}"


def _world_cidrs(*lists: Any) -> list[str]:
    return [cidr for value in lists for cidr in as_list(value) if cidr in WORLD]


def _group_tags(view: StackView, rule: Any) -> dict[str, Any]:
    deps = dependency_urns(rule)
    tags = dict(aws_tags(rule))
    for group in view.of_type(SECURITY_GROUP):
        if group.urn in deps:
            tags = {**aws_tags(group), **tags}
    return tags


def world_ingress(view: StackView) -> Iterator[Ingress]:
    for group in view.of_type(SECURITY_GROUP):
        for entry in as_list(get(group.props, "ingress")):
            for cidr in _world_cidrs(get(entry, "cidrBlocks"), get(entry, "ipv6CidrBlocks")):
                yield Ingress(group.urn, cidr, str(get(entry, "protocol") or "-1").lower(),
                              as_int(get(entry, "fromPort")), as_int(get(entry, "toPort")), aws_tags(group))
    for rule in view.of_type(SECURITY_GROUP_INGRESS_RULE):
        for cidr in _world_cidrs(get(rule.props, "cidrIpv4"), get(rule.props, "cidrIpv6")):
            yield Ingress(rule.urn, cidr, str(get(rule.props, "ipProtocol") or "-1").lower(),
                          as_int(get(rule.props, "fromPort")), as_int(get(rule.props, "toPort")),
                          _group_tags(view, rule))
    for rule in view.of_type(SECURITY_GROUP_RULE):
        if get(rule.props, "type") != "ingress":
            continue
        for cidr in _world_cidrs(get(rule.props, "cidrBlocks"), get(rule.props, "ipv6CidrBlocks")):
            yield Ingress(rule.urn, cidr, str(get(rule.props, "protocol") or "-1").lower(),
                          as_int(get(rule.props, "fromPort")), as_int(get(rule.props, "toPort")),
                          _group_tags(view, rule))


@stack_rule(
    name="aws-sg-no-public-ingress",
    summary="No security group accepts traffic from 0.0.0.0/0 or ::/0, except a load balancer's (tagged "
    "`loadBalancerTag`) on TCP `publicPorts` (default 80 and 443).",
    control="CKV_AWS_24, CKV_AWS_25, CKV_AWS_260, AWS FSBP EC2.18, EC2.19",
    config=INGRESS_SCHEMA,
)
def sg_no_public_ingress(args: Any, report: Report) -> None:
    settings = configured(args, INGRESS_SCHEMA)
    ports = set(settings["publicPorts"])
    tag_key, _, tag_value = str(settings["loadBalancerTag"]).partition("=")
    for ingress in world_ingress(StackView(args.resources)):
        port_ok = ingress.protocol in ("tcp", "6") and ingress.from_port == ingress.to_port and (
            ingress.from_port in ports
        )
        if not port_ok:
            allowed = " and ".join(str(port) for port in sorted(ports))
            report(f"allows {ingress.cidr} on {ingress.describe()}; only TCP {allowed} may be open to the "
                   "internet, and only on a load balancer.", ingress.urn)
        elif ingress.tags.get(tag_key) != tag_value:
            report(f"allows {ingress.cidr} on {ingress.describe()}, but its security group is not tagged "
                   f"{tag_key}={tag_value} as a load balancer's.", ingress.urn)


@resource_rule(
    name="aws-default-sg-closed",
    summary="The VPC's default security group has no ingress or egress rules.",
    types=[DEFAULT_SECURITY_GROUP],
    control="CKV2_AWS_12, AWS FSBP EC2.2",
)
def default_sg_closed(args: Any, report: Report) -> None:
    ingress = len(as_list(get(args.props, "ingress")))
    egress = len(as_list(get(args.props, "egress")))
    if ingress or egress:
        report(f"the default security group has {ingress} ingress and {egress} egress rule(s); leave both empty "
               "so it denies all traffic.")


@stack_rule(
    name="aws-vpc-flow-logs",
    summary="Every VPC has a flow log.",
    control="CKV2_AWS_11, AWS FSBP EC2.6",
)
def vpc_flow_logs(args: Any, report: Report) -> None:
    view = StackView(args.resources)
    for vpc in view.of_type(VPC):
        if not view.attached_to(vpc, [FLOW_LOG], key="vpcId", target_key="id"):
            report("no FlowLog captures this VPC's traffic.", vpc.urn)


@resource_rule(
    name="aws-subnet-no-public-ip",
    summary="Subnets do not assign public IPs on launch (load balancers and NAT gateways get their own).",
    types=[SUBNET],
    control="CKV_AWS_130, AWS FSBP EC2.15",
)
def subnet_no_public_ip(args: Any, report: Report) -> None:
    if truthy(get(args.props, "mapPublicIpOnLaunch")):
        report("mapPublicIpOnLaunch is true; instances launched here would get public IPs.")
