"""The cell's VPC: one regional subnet for nodes with secondary ranges for pods and services, Cloud NAT for egress
(nodes have no public addresses), private Google access, and flow logs."""

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
