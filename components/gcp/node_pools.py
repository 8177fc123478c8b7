"""GKE node pools for Gitpod's three workload classes, on a dedicated least-privilege node service account."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_gcp import container, projects, serviceaccount

from components.component import child
from components.config import NodePoolConfig
from components.gcp.naming import service_account_id
from components.gcp.ranges import MAX_PODS_PER_NODE, REGIONAL_ZONES
from contract.cluster import WORKLOAD_LABELS

# What a node needs and nothing more (GKE hardening guide): write logs and metrics, read node images' metadata.
# Pulling from the cell's Artifact Registry repository is granted on that repository alone (see GcpCell).
NODE_ROLES: tuple[str, ...] = (
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/monitoring.viewer",
    "roles/stackdriver.resourceMetadata.writer",
    "roles/autoscaling.metricsWriter",
)
# Workspaces need Ubuntu's kernel features (Gitpod's GKE guide); services run on Container-Optimized OS.
IMAGE_TYPES: dict[str, str] = {
    "services": "COS_CONTAINERD",
    "regular-workspaces": "UBUNTU_CONTAINERD",
    "headless-workspaces": "UBUNTU_CONTAINERD",
}


class NodeServiceAccount(pulumi.ComponentResource):
    """The nodes' Google identity. Never the Compute Engine default account, which holds Editor on the project."""

    account: serviceaccount.Account
    member: pulumi.Output[str]

    def __init__(self, name: str, prefix: str, project: str, provider: pulumi.ProviderResource,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gitpod-cell:gcp:NodeServiceAccount", name, None, opts)
        self.account = serviceaccount.Account(
            name,
            account_id=service_account_id(prefix, "nodes"),
            display_name=f"GKE nodes of {prefix}",
            description="Least-privilege node identity: logs, metrics, image pulls from the cell's registry",
            opts=child(self, provider=provider),
        )
        self.member = self.account.email.apply(lambda email: f"serviceAccount:{email}")
        for role in NODE_ROLES:
            projects.IAMMember(
                f"{name}-{role.split('/')[-1].replace('.', '-')}",
                project=project,
                role=role,
                member=self.member,
                opts=child(self, provider=provider),
            )
        self.register_outputs({"email": self.account.email})


@dataclass(frozen=True)
class NodePoolsArgs:
    cluster: pulumi.Input[str]
    location: str
    regional: bool
    pools: Mapping[str, NodePoolConfig]
    service_account: pulumi.Input[str]
    labels: Mapping[str, str]
    provider: pulumi.ProviderResource


class NodePools(pulumi.ComponentResource):
    node_pools: dict[str, container.NodePool]
    labels: dict[str, dict[str, str]]

    def __init__(self, name: str, args: NodePoolsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gitpod-cell:gcp:NodePools", name, None, opts)
        zones = REGIONAL_ZONES if args.regional else 1
        self.node_pools = {}
        self.labels = {}
        for pool_name, pool in args.pools.items():
            labels = WORKLOAD_LABELS[pool_name]
            initial = pool.desired_size if pool.desired_size is not None else pool.min_size
            self.node_pools[pool_name] = container.NodePool(
                f"{name}-{pool_name}",
                name=pool_name,
                cluster=args.cluster,
                location=args.location,
                # Per zone; the autoscaler owns the size afterwards.
                initial_node_count=max(1, math.ceil(initial / zones)) if initial else 0,
                # The pod range holds network.node_capacity() nodes at this limit (checked by the config validator).
                max_pods_per_node=MAX_PODS_PER_NODE,
                # Bounds are totals across zones, as in the stack config.
                autoscaling=container.NodePoolAutoscalingArgs(
                    total_min_node_count=pool.min_size,
                    total_max_node_count=pool.max_size,
                    location_policy="BALANCED" if pool_name == "services" else "ANY",
                ),
                # Release channels require auto-upgrade; GKE upgrades nodes inside the maintenance window.
                management=container.NodePoolManagementArgs(auto_repair=True, auto_upgrade=True),
                upgrade_settings=container.NodePoolUpgradeSettingsArgs(strategy="SURGE", max_surge=1,
                                                                      max_unavailable=0),
                node_config=container.NodePoolNodeConfigArgs(
                    machine_type=pool.instance_types[0],
                    disk_size_gb=pool.disk_size_gb,
                    disk_type="pd-ssd",
                    image_type=IMAGE_TYPES[pool_name],
                    service_account=args.service_account,
                    oauth_scopes=["https://www.googleapis.com/auth/cloud-platform"],
                    labels=labels,
                    resource_labels={**args.labels, "node-pool": pool_name},
                    metadata={"disable-legacy-endpoints": "true"},
                    shielded_instance_config=container.NodePoolNodeConfigShieldedInstanceConfigArgs(
                        enable_secure_boot=True, enable_integrity_monitoring=True
                    ),
                    # Pods see the GKE metadata server: Workload Identity, never the node's own credentials.
                    workload_metadata_config=container.NodePoolNodeConfigWorkloadMetadataConfigArgs(
                        mode="GKE_METADATA"
                    ),
                ),
                opts=child(self, provider=args.provider, ignore_changes=["initialNodeCount"]),
            )
            self.labels[pool_name] = labels
        self.register_outputs({"node_pools": {k: v.id for k, v in self.node_pools.items()}})
