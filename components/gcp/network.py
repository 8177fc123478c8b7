"""The cell's VPC: one regional subnet for nodes with secondary ranges for pods and services, Cloud NAT for egress
(nodes have no public addresses), private Google access, flow logs, and explicit firewall rules: ingress is denied
unless it comes from the cluster itself, its control plane or Google's load-balancer health checks."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_gcp import compute

from components.component import child
from components.gcp.ranges import PODS_RANGE, SERVICES_RANGE, RangePlan, plan_ranges


@dataclass(frozen=True)
class NetworkArgs:
    name: str
    region: str
    cidr: str
    provider: pulumi.ProviderResource


class Network(pulumi.ComponentResource):
    network: compute.Network
    subnetwork: compute.Subnetwork
    ranges: RangePlan
    firewall_rules: list[compute.Firewall]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gitpod-cell:gcp:Network", name, None, opts)
        self.ranges = plan_ranges(args.cidr)
        on = child(self, provider=args.provider)
        self.network = compute.Network(
            name,
            name=name,
            description=f"Gitpod cell {name}",
            auto_create_subnetworks=False,
            routing_mode="REGIONAL",
            opts=on,
        )
        self.subnetwork = compute.Subnetwork(
            f"{name}-nodes",
            name=f"{name}-nodes",
            network=self.network.id,
            region=args.region,
            ip_cidr_range=self.ranges.nodes,
            secondary_ip_ranges=[
                compute.SubnetworkSecondaryIpRangeArgs(range_name=PODS_RANGE, ip_cidr_range=self.ranges.pods),
                compute.SubnetworkSecondaryIpRangeArgs(range_name=SERVICES_RANGE,
                                                       ip_cidr_range=self.ranges.services),
            ],
            # Nodes have no public addresses: Google APIs (Artifact Registry, GCS, logging) over Google's network.
            private_ip_google_access=True,
            log_config=compute.SubnetworkLogConfigArgs(
                aggregation_interval="INTERVAL_5_SEC",
                flow_sampling=0.5,
                metadata="INCLUDE_ALL_METADATA",
            ),
            opts=on,
        )
        router = compute.Router(
            f"{name}-router", name=f"{name}-router", network=self.network.id, region=args.region, opts=on
        )
        compute.RouterNat(
            f"{name}-nat",
            name=f"{name}-nat",
            router=router.name,
            region=args.region,
            nat_ip_allocate_option="AUTO_ONLY",
            source_subnetwork_ip_ranges_to_nat="LIST_OF_SUBNETWORKS",
            subnetworks=[
                compute.RouterNatSubnetworkArgs(name=self.subnetwork.id, source_ip_ranges_to_nats=["ALL_IP_RANGES"])
            ],
            # Workspaces open many outbound connections (git, package registries).
            enable_dynamic_port_allocation=True,
            min_ports_per_vm=256,
            max_ports_per_vm=16384,
            enable_endpoint_independent_mapping=False,
            log_config=compute.RouterNatLogConfigArgs(enable=True, filter="ERRORS_ONLY"),
            opts=on,
        )
        self.firewall_rules = firewall_rules(name, self.network, self.ranges, args.provider, self)
        self.register_outputs(
            {"network": self.network.id, "subnetwork": self.subnetwork.id, "ranges": self.ranges.__dict__}
        )


# Google's load-balancer and health-check probers (Cloud Load Balancing docs, "Probe IP ranges and firewall rules").
HEALTH_CHECK_RANGES: tuple[str, ...] = ("35.191.0.0/16", "130.211.0.0/22", "209.85.152.0/22", "209.85.204.0/22")
# What the control plane calls on nodes: kubelet (10250) and admission webhooks served by pods (443, 8443, 9443:
# cert-manager's and Gitpod's). GKE adds its own rule for 443/10250 too; this one states the full need.
CONTROL_PLANE_PORTS: tuple[str, ...] = ("443", "8443", "9443", "10250")
# Health-checked node ports: kube-proxy's health check and the NodePort range LoadBalancer Services use.
HEALTH_CHECK_PORTS: tuple[str, ...] = ("10256", "30000-32767")
DENY_ALL_PRIORITY = 65534


def firewall_rules(name: str, network: compute.Network, ranges: RangePlan, provider: pulumi.ProviderResource,
                   parent: pulumi.Resource) -> list[compute.Firewall]:
    """Deny by default, and allow only what the cluster needs. GKE's service controller adds (and removes) its own
    rules for each LoadBalancer Service's traffic at priority 1000, which the default deny below does not override.
    Egress stays open: workspaces clone repositories and pull packages from anywhere."""
    on = child(parent, provider=provider)
    log_all = compute.FirewallLogConfigArgs(metadata="INCLUDE_ALL_METADATA")

    def ingress(rule: str, description: str, sources: list[str], allows: list[compute.FirewallAllowArgs],
                priority: int = 1000) -> compute.Firewall:
        return compute.Firewall(
            f"{name}-{rule}", name=f"{name}-{rule}", network=network.id, direction="INGRESS", priority=priority,
            description=description, source_ranges=sources, allows=allows, log_config=log_all, opts=on)

    return [
        compute.Firewall(
            f"{name}-deny-all-ingress", name=f"{name}-deny-all-ingress", network=network.id, direction="INGRESS",
            priority=DENY_ALL_PRIORITY, description="Deny every ingress the rules above do not allow",
            source_ranges=["0.0.0.0/0"], denies=[compute.FirewallDenyArgs(protocol="all")], log_config=log_all,
            opts=on),
        ingress("allow-cluster-internal", "Nodes and pods talk to each other (pod network, kubelet, DNS)",
                [ranges.nodes, ranges.pods],
                [compute.FirewallAllowArgs(protocol=protocol) for protocol in ("tcp", "udp", "icmp", "sctp", "esp",
                                                                               "ah")]),
        ingress("allow-control-plane", "The GKE control plane reaches kubelets and admission webhooks",
                [ranges.control_plane], [compute.FirewallAllowArgs(protocol="tcp", ports=list(CONTROL_PLANE_PORTS))]),
        ingress("allow-health-checks", "Google load-balancer health checks reach node ports",
                list(HEALTH_CHECK_RANGES), [compute.FirewallAllowArgs(protocol="tcp", ports=list(HEALTH_CHECK_PORTS))]),
    ]
