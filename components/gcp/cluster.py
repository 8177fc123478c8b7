"""GKE: private nodes, a control plane reachable only from configured networks, a release channel, Workload
Identity, shielded nodes, network policy and application-layer secrets encryption with Cloud KMS."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pulumi
import pulumi_kubernetes as k8s
from pulumi_gcp import container

from components.component import child
from components.config import GkeMaintenanceWindowConfig
from components.gcp.ranges import MAX_PODS_PER_NODE, PODS_RANGE, SERVICES_RANGE
from components.kubeconfig import exec_kubeconfig

# A Saturday in the past: GKE only uses the date to anchor the weekly recurrence.
_WINDOW_ANCHOR = datetime(2025, 1, 4, tzinfo=UTC)
NODE_SHIELDING = container.ClusterNodeConfigShieldedInstanceConfigArgs(
    enable_secure_boot=True, enable_integrity_monitoring=True
)


def recurring_window(window: GkeMaintenanceWindowConfig) -> container.ClusterMaintenancePolicyRecurringWindowArgs:
    hour, minute = (int(part) for part in window.start_time.split(":"))
    start = _WINDOW_ANCHOR.replace(hour=hour, minute=minute)
    end = start + timedelta(hours=window.hours)
    return container.ClusterMaintenancePolicyRecurringWindowArgs(
        start_time=start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        end_time=end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        recurrence=f"FREQ=WEEKLY;BYDAY={','.join(window.days)}",
    )


@dataclass(frozen=True)
class ClusterArgs:
    name: str
    project: str
    # A region (regional cluster, control plane and nodes over three zones) or, outside prod, a zone.
    location: str
    network: pulumi.Input[str]
    subnetwork: pulumi.Input[str]
    control_plane_cidr: str
    kubernetes_version: str
    release_channel: str
    # Networks allowed to reach the public endpoint; empty keeps the endpoint private: then only the node subnet's
    # primary and pod ranges (in the cluster's region) reach the API, so Pulumi and the rollout hooks must run there.
    authorized_cidrs: Sequence[str]
    secrets_key: pulumi.Input[str]
    # The GKE service agent's grant on the secrets key: the cluster cannot be created before it.
    secrets_key_grants: Sequence[pulumi.Resource]
    node_service_account: pulumi.Input[str]
    maintenance_window: GkeMaintenanceWindowConfig
    protect: bool
    labels: Mapping[str, str]
    provider: pulumi.ProviderResource
    # Google Groups for RBAC: `gke-security-groups@<domain>`, or None (then RBAC names users and service accounts).
    security_group: str | None = None
    # Admission follows the project's Binary Authorization policy (components/gcp/binary_authorization.py).
    binary_authorization_policy: pulumi.Resource | None = None


class GkeCluster(pulumi.ComponentResource):
    cluster: container.Cluster
    kubeconfig: pulumi.Output[str]
    kubernetes_provider: k8s.Provider
    # `<project>.svc.id.goog`, as an output of the cluster: Workload Identity bindings built from it wait for the
    # cluster, because the identity pool only exists once a cluster with Workload Identity does.
    workload_pool: pulumi.Output[str]

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gitpod-cell:gcp:GkeCluster", name, None, opts)
        public = bool(args.authorized_cidrs)
        self.cluster = container.Cluster(
            name,
            name=args.name,
            location=args.location,
            network=args.network,
            subnetwork=args.subnetwork,
            networking_mode="VPC_NATIVE",
            ip_allocation_policy=container.ClusterIpAllocationPolicyArgs(
                cluster_secondary_range_name=PODS_RANGE, services_secondary_range_name=SERVICES_RANGE
            ),
            # A /25 of the pod range per node instead of GKE's /24 (see network.MAX_PODS_PER_NODE).
            default_max_pods_per_node=MAX_PODS_PER_NODE,
            # Node pools are managed separately; the default pool only exists while the cluster is created.
            remove_default_node_pool=True,
            initial_node_count=1,
            node_config=container.ClusterNodeConfigArgs(
                service_account=args.node_service_account,
                oauth_scopes=["https://www.googleapis.com/auth/cloud-platform"],
                shielded_instance_config=NODE_SHIELDING,
                workload_metadata_config=container.ClusterNodeConfigWorkloadMetadataConfigArgs(mode="GKE_METADATA"),
                resource_labels=dict(args.labels),
            ),
            min_master_version=args.kubernetes_version,
            release_channel=container.ClusterReleaseChannelArgs(channel=args.release_channel),
            private_cluster_config=container.ClusterPrivateClusterConfigArgs(
                enable_private_nodes=True,
                enable_private_endpoint=not public,
                master_ipv4_cidr_block=args.control_plane_cidr,
                # Global access would only let clients in other regions of this VPC reach the private endpoint, and
                # none can: authorized networks admit the node subnet (one region) and `authorized_cidrs` (public
                # addresses, over the public endpoint). Off, so adding a subnet elsewhere never widens API access.
                master_global_access_config=container.ClusterPrivateClusterConfigMasterGlobalAccessConfigArgs(
                    enabled=False
                ),
            ),
            master_authorized_networks_config=container.ClusterMasterAuthorizedNetworksConfigArgs(
                cidr_blocks=[
                    container.ClusterMasterAuthorizedNetworksConfigCidrBlockArgs(cidr_block=cidr,
                                                                                display_name=f"operators-{i}")
                    for i, cidr in enumerate(args.authorized_cidrs)
                ],
                gcp_public_cidrs_access_enabled=False,
            ),
            master_auth=container.ClusterMasterAuthArgs(
                client_certificate_config=container.ClusterMasterAuthClientCertificateConfigArgs(
                    issue_client_certificate=False
                )
            ),
            enable_legacy_abac=False,
            authenticator_groups_config=container.ClusterAuthenticatorGroupsConfigArgs(
                security_group=args.security_group) if args.security_group else None,
            binary_authorization=container.ClusterBinaryAuthorizationArgs(
                evaluation_mode="PROJECT_SINGLETON_POLICY_ENFORCE"),
            workload_identity_config=container.ClusterWorkloadIdentityConfigArgs(
                workload_pool=f"{args.project}.svc.id.goog"
            ),
            enable_shielded_nodes=True,
            network_policy=container.ClusterNetworkPolicyArgs(enabled=True, provider="CALICO"),
            addons_config=container.ClusterAddonsConfigArgs(
                network_policy_config=container.ClusterAddonsConfigNetworkPolicyConfigArgs(disabled=False),
                http_load_balancing=container.ClusterAddonsConfigHttpLoadBalancingArgs(disabled=False),
                horizontal_pod_autoscaling=container.ClusterAddonsConfigHorizontalPodAutoscalingArgs(disabled=False),
            ),
            database_encryption=container.ClusterDatabaseEncryptionArgs(state="ENCRYPTED", key_name=args.secrets_key),
            enable_intranode_visibility=True,
            logging_config=container.ClusterLoggingConfigArgs(
                enable_components=["SYSTEM_COMPONENTS", "APISERVER", "CONTROLLER_MANAGER", "SCHEDULER", "WORKLOADS"]
            ),
            monitoring_config=container.ClusterMonitoringConfigArgs(
                enable_components=["SYSTEM_COMPONENTS", "APISERVER", "CONTROLLER_MANAGER", "SCHEDULER"]
            ),
            maintenance_policy=container.ClusterMaintenancePolicyArgs(
                recurring_window=recurring_window(args.maintenance_window)
            ),
            deletion_protection=args.protect,
            resource_labels=dict(args.labels),
            opts=child(self, provider=args.provider, protect=args.protect,
                       depends_on=[*args.secrets_key_grants,
                                   *([args.binary_authorization_policy] if args.binary_authorization_policy else [])],
                       # The default pool's node config only matters while it exists (it is removed at once).
                       ignore_changes=["nodeConfig", "initialNodeCount"]),
        )
        self.workload_pool = self.cluster.workload_identity_config.apply(
            lambda config: config.workload_pool if config and config.workload_pool else f"{args.project}.svc.id.goog"
        )
        self.kubeconfig = pulumi.Output.all(
            self.cluster.name, self.cluster.endpoint, self.cluster.master_auth.cluster_ca_certificate
        ).apply(lambda values: build_kubeconfig(values[0], values[1], values[2]))
        self.kubernetes_provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=pulumi.Output.secret(self.kubeconfig),
            delete_unreachable=False,
            opts=child(self),
        )
        self.register_outputs({"cluster_name": self.cluster.name, "endpoint": self.cluster.endpoint})


def build_kubeconfig(cluster_name: str, endpoint: str, ca_data: str) -> str:
    """Authenticates with `gke-gcloud-auth-plugin`: the caller's gcloud credentials, short-lived tokens; no client
    certificate, no static token."""
    return exec_kubeconfig(cluster_name, f"https://{endpoint}", ca_data, {
        "command": "gke-gcloud-auth-plugin",
        "provideClusterInfo": True,
        "installHint": "Install gke-gcloud-auth-plugin: gcloud components install gke-gcloud-auth-plugin",
    })
