"""The cell's address plan on GCP, as pure arithmetic: the ranges carved from `network.vpcCidr` and how many nodes they
address. The config validator checks pod capacity with it before any resource exists; components/gcp builds the
network from the same plan."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

# A regional cluster spreads each node pool over this many zones.
REGIONAL_ZONES = 3
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
