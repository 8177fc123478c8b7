"""The GCP network: a custom-mode VPC whose ingress is denied by an explicit firewall rule and allowed only from
named ranges, subnets with flow logs and private Google access."""

from __future__ import annotations

from typing import Any

from policies.core.props import as_list, get, is_false, truthy
from policies.core.rule import Report, resource_rule, stack_rule
from policies.core.stack import StackView
from policies.rules.aws_network import WORLD
from policies.rules.tokens import GCP_FIREWALL, GCP_NETWORK, GCP_SUBNETWORK


@resource_rule(
    name="gcp-vpc-custom-mode",
    summary="VPC networks are custom mode (autoCreateSubnetworks false): no default subnet in every region.",
    types=[GCP_NETWORK],
)
def vpc_custom_mode(args: Any, report: Report) -> None:
    if not is_false(get(args.props, "autoCreateSubnetworks")):
        report("autoCreateSubnetworks is not false; the network gets a subnet in every region.")


def _denies_all_ingress(firewall: Any) -> bool:
    if get(firewall.props, "direction", "INGRESS") != "INGRESS" or truthy(get(firewall.props, "disabled")):
        return False
    sources = [str(r) for r in as_list(get(firewall.props, "sourceRanges"))]
    denies = as_list(get(firewall.props, "denies"))
    return "0.0.0.0/0" in sources and any(get(d, "protocol") == "all" and not get(d, "ports") for d in denies)


@stack_rule(
    name="gcp-vpc-firewall-default-deny",
    summary="Every VPC network has its own firewall rules, among them one denying all ingress from 0.0.0.0/0 "
    "(the network's explicit default, logged), so nothing depends on the implied rules.",
    control="CKV2_GCP_18",
)
def vpc_firewall_default_deny(args: Any, report: Report) -> None:
    view = StackView(args.resources)
    for network in view.of_type(GCP_NETWORK):
        rules = view.attached_to(network, (GCP_FIREWALL,), key="network", target_key="name")
        if not rules:
            report("the network has no firewall rules of its own.", network.urn)
        elif not any(_denies_all_ingress(rule) for rule in rules):
            report("no firewall rule denies all ingress from 0.0.0.0/0; add an explicit default deny.", network.urn)


@resource_rule(
    name="gcp-firewall-no-public-ingress",
    summary="No firewall rule allows ingress from 0.0.0.0/0 or ::/0 (GKE adds its own rules for LoadBalancer "
    "Services; the cell's rules admit only the cluster, its control plane and Google's health checks).",
    types=[GCP_FIREWALL],
    control="CKV_GCP_2, CKV_GCP_3, CKV_GCP_106",
)
def firewall_no_public_ingress(args: Any, report: Report) -> None:
    if get(args.props, "direction", "INGRESS") != "INGRESS" or not get(args.props, "allows"):
        return
    sources = [str(r) for r in as_list(get(args.props, "sourceRanges"))]
    if not sources and not get(args.props, "sourceTags") and not get(args.props, "sourceServiceAccounts"):
        report("the rule allows ingress without sourceRanges (any source).")
    elif open_to := [r for r in sources if r in WORLD]:
        report(f"the rule allows ingress from {', '.join(open_to)}.")


@resource_rule(
    name="gcp-subnet-private-google-access",
    summary="Subnets reach Google APIs privately (privateIpGoogleAccess): nodes without public IPs pull images "
    "and write logs without going through NAT.",
    types=[GCP_SUBNETWORK],
    control="CKV_GCP_74",
)
def subnet_private_google_access(args: Any, report: Report) -> None:
    if not truthy(get(args.props, "privateIpGoogleAccess")):
        report("privateIpGoogleAccess must be true.")


@resource_rule(
    name="gcp-subnet-flow-logs",
    summary="Subnets record VPC flow logs (logConfig).",
    types=[GCP_SUBNETWORK],
    control="CKV_GCP_26",
)
def subnet_flow_logs(args: Any, report: Report) -> None:
    if get(args.props, "logConfig") is None:
        report("logConfig is not set; the subnet records no flow logs.")
