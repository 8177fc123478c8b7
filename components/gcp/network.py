"""The cell's VPC: one regional subnet for nodes with secondary ranges for pods and services, Cloud NAT for egress
(nodes have no public addresses), private Google access, and flow logs."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_gcp import compute

from components.component import child

PODS_RANGE = "pods"
SERVICES_RANGE = "services"
# GKE gives each node a pod range of twice its pod limit, rounded up to a power of two: 110 pods (GKE's default)
# take a /24 per node, 64 a /25. 64 leaves room for Gitpod's services and DaemonSets on a node and doubles the nodes
# a pod range can hold.
MAX_PODS_PER_NODE = 64
# Cloud SQL's private services access range is at most this large; smaller VPCs get the unused quarter (a /23 of a
# /20), still above Google's /24 minimum.
PRIVATE_SERVICES_MAX_PREFIX_LENGTH = 20


@dataclass(frozen=True)
class RangePlan:
    """Address ranges carved from the configured network range so they never overlap."""

    nodes: str
    pods: str
    services: str
    control_plane: str
    # Private services access (Cloud SQL): reserved explicitly, never auto-allocated, so Google cannot pick a block
    # that collides with the ranges above or the control plane's /28.
    private_services: str


def plan_ranges(cidr: str) -> RangePlan:
    """Pods get half the range (a /25 per node at MAX_PODS_PER_NODE: a /16 gives 256 nodes, a /20 16), nodes and
    services a quarter of the other half each; the control plane's peering range is a /28 of the third quarter and
    private services access (Cloud SQL) the fourth quarter, at most a /20 of it."""
    network = ipaddress.ip_network(cidr)
    pods, rest = network.subnets(prefixlen_diff=1)
    nodes, services, control_plane, private_services = rest.subnets(prefixlen_diff=2)
    if private_services.prefixlen < PRIVATE_SERVICES_MAX_PREFIX_LENGTH:
        private_services = next(private_services.subnets(new_prefix=PRIVATE_SERVICES_MAX_PREFIX_LENGTH))
    return RangePlan(
        nodes=str(nodes),
        pods=str(pods),
        services=str(services),
        control_plane=str(next(control_plane.subnets(new_prefix=28))),
        private_services=str(private_services),
    )


def pod_range_per_node(max_pods_per_node: int = MAX_PODS_PER_NODE) -> int:
    """The prefix length of the pod range GKE hands each node (twice the pod limit, rounded up to a power of two)."""
    addresses = 1 << (2 * max_pods_per_node - 1).bit_length()
    return 32 - (addresses.bit_length() - 1)


def node_capacity(cidr: str, max_pods_per_node: int = MAX_PODS_PER_NODE) -> int:
    """How many nodes the cell's ranges can address: the pod range split per node, capped by the node subnet
    (GCP reserves four addresses in every subnet)."""
    ranges = plan_ranges(cidr)
    pods = ipaddress.ip_network(ranges.pods)
    per_node = pod_range_per_node(max_pods_per_node)
    by_pods = 1 << (per_node - pods.prefixlen) if per_node >= pods.prefixlen else 0
    return min(by_pods, ipaddress.ip_network(ranges.nodes).num_addresses - 4)


def pod_capacity_issues(vpc_cidr: str, pool_max_sizes: Mapping[str, int], zones: int, surge_per_zone: int = 1,
                        max_pods_per_node: int = MAX_PODS_PER_NODE) -> list[tuple[str, str]]:
    """Config issues (stack-config key, message) when the node pools at their maxima, plus one surge node per pool
    and zone during upgrades, need more nodes than `network.vpcCidr` can address. Pure: the config validator and
    GcpCell both call it."""
    capacity = node_capacity(vpc_cidr, max_pods_per_node)
    surge = surge_per_zone * zones * len(pool_max_sizes)
    needed = sum(pool_max_sizes.values()) + surge
    if needed <= capacity:
        return []
    sizes = ", ".join(f"{name} {size}" for name, size in pool_max_sizes.items())
    return [(
        "gitpod-cell:network.vpcCidr",
        f"{vpc_cidr} addresses {capacity} GKE nodes (pods get half of it, a /{pod_range_per_node(max_pods_per_node)} "
        f"per node at {max_pods_per_node} pods), but gitpod-cell:cluster.nodePools can grow to {needed} nodes "
        f"(maxSize {sizes}, plus {surge} surge node(s) during upgrades): use a larger vpcCidr (a /16 addresses "
        f"{node_capacity('10.0.0.0/16', max_pods_per_node)}) or lower the pools' maxSize",
    )]


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
        self.register_outputs(
            {"network": self.network.id, "subnetwork": self.subnetwork.id, "ranges": self.ranges.__dict__}
        )
