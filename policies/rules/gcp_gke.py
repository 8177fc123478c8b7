"""GKE clusters and node pools: exposure, secrets encryption, release channel and node hardening."""

from __future__ import annotations

from typing import Any

from policies.core.props import as_list, get, is_false, truthy
from policies.core.rule import Report, resource_rule
from policies.rules.aws_network import WORLD
from policies.rules.tokens import GKE_CLUSTER, GKE_NODE_POOL

RELEASE_CHANNELS = ("RAPID", "REGULAR", "STABLE", "EXTENDED")


@resource_rule(
    name="gcp-gke-private-nodes",
    summary="GKE nodes have only private IPs (privateClusterConfig.enablePrivateNodes).",
    types=[GKE_CLUSTER],
    control="CKV_GCP_25, CKV_GCP_64, CIS GKE 5.6.5",
)
def gke_private_nodes(args: Any, report: Report) -> None:
    if not truthy(get(args.props, "privateClusterConfig.enablePrivateNodes")):
        report("privateClusterConfig.enablePrivateNodes must be true.")


@resource_rule(
    name="gcp-gke-master-authorized-networks",
    summary="The GKE control plane accepts connections only from authorized networks, none of them 0.0.0.0/0.",
    types=[GKE_CLUSTER],
    control="CKV_GCP_20, CIS GKE 5.6.3",
)
def gke_master_authorized_networks(args: Any, report: Report) -> None:
    config = get(args.props, "masterAuthorizedNetworksConfig")
    if config is None:
        report("masterAuthorizedNetworksConfig is not set; the control plane accepts any source address.")
        return
    open_to = [str(get(b, "cidrBlock")) for b in as_list(get(config, "cidrBlocks")) if get(b, "cidrBlock") in WORLD]
    if open_to:
        report(f"masterAuthorizedNetworksConfig allows {', '.join(open_to)}.")
    if truthy(get(config, "gcpPublicCidrsAccessEnabled")):
        report("masterAuthorizedNetworksConfig.gcpPublicCidrsAccessEnabled lets every Google Cloud IP reach the "
               "control plane; turn it off.")


@resource_rule(
    name="gcp-gke-secrets-encryption",
    summary="GKE encrypts Kubernetes secrets at the application layer with a Cloud KMS key.",
    types=[GKE_CLUSTER],
    control="CIS GKE 5.3.1",
)
def gke_secrets_encryption(args: Any, report: Report) -> None:
    state = get(args.props, "databaseEncryption.state")
    if state != "ENCRYPTED":
        shown = "not set" if state is None else repr(state)
        report(f"databaseEncryption.state is {shown}; it must be 'ENCRYPTED'.")
    elif not get(args.props, "databaseEncryption.keyName"):
        report("databaseEncryption.keyName is not set.")


@resource_rule(
    name="gcp-gke-release-channel",
    summary="GKE clusters are enrolled in a release channel (RAPID, REGULAR, STABLE or EXTENDED).",
    types=[GKE_CLUSTER],
    control="CKV_GCP_70, CIS GKE 5.5.4",
)
def gke_release_channel(args: Any, report: Report) -> None:
    channel = get(args.props, "releaseChannel.channel")
    if channel not in RELEASE_CHANNELS:
        shown = "not set" if channel is None else repr(channel)
        report(f"releaseChannel.channel is {shown}; choose one of {', '.join(RELEASE_CHANNELS)}.")


@resource_rule(
    name="gcp-gke-shielded-nodes",
    summary="GKE clusters keep Shielded GKE Nodes on (enableShieldedNodes defaults to true).",
    types=[GKE_CLUSTER],
    control="CKV_GCP_71, CIS GKE 5.5.5",
)
def gke_shielded_nodes(args: Any, report: Report) -> None:
    if is_false(get(args.props, "enableShieldedNodes")):
        report("enableShieldedNodes is false.")


@resource_rule(
    name="gcp-gke-workload-identity",
    summary="GKE clusters enable Workload Identity, so pods use per-workload service accounts, not node keys.",
    types=[GKE_CLUSTER],
    control="CIS GKE 5.2.2",
)
def gke_workload_identity(args: Any, report: Report) -> None:
    if not get(args.props, "workloadIdentityConfig.workloadPool"):
        report("workloadIdentityConfig.workloadPool is not set.")


@resource_rule(
    name="gcp-gke-network-policy",
    summary="GKE enforces Kubernetes NetworkPolicy (networkPolicy.enabled or Dataplane V2).",
    types=[GKE_CLUSTER],
    control="CKV_GCP_12, CIS GKE 5.6.7",
)
def gke_network_policy(args: Any, report: Report) -> None:
    if get(args.props, "datapathProvider") == "ADVANCED_DATAPATH":
        return
    if not truthy(get(args.props, "networkPolicy.enabled")):
        report("neither networkPolicy.enabled nor datapathProvider 'ADVANCED_DATAPATH' is set.")


@resource_rule(
    name="gcp-gke-node-shielded-instance",
    summary="GKE node pools boot with Secure Boot and keep integrity monitoring on.",
    types=[GKE_NODE_POOL],
    control="CKV_GCP_68, CKV_GCP_72, CIS GKE 5.5.6, 5.5.7",
)
def gke_node_shielded_instance(args: Any, report: Report) -> None:
    config = get(args.props, "nodeConfig.shieldedInstanceConfig")
    if not truthy(get(config, "enableSecureBoot")):
        report("nodeConfig.shieldedInstanceConfig.enableSecureBoot must be true.")
    if is_false(get(config, "enableIntegrityMonitoring")):
        report("nodeConfig.shieldedInstanceConfig.enableIntegrityMonitoring is false.")


@resource_rule(
    name="gcp-gke-node-auto-repair",
    summary="GKE node pools repair unhealthy nodes automatically (management.autoRepair, on by default).",
    types=[GKE_NODE_POOL],
    control="CKV_GCP_9, CIS GKE 5.5.2",
)
def gke_node_auto_repair(args: Any, report: Report) -> None:
    if is_false(get(args.props, "management.autoRepair")):
        report("management.autoRepair is false.")


@resource_rule(
    name="gcp-gke-node-auto-upgrade",
    summary="GKE node pools upgrade automatically with their release channel (management.autoUpgrade, on by "
    "default).",
    types=[GKE_NODE_POOL],
    control="CKV_GCP_10, CIS GKE 5.5.3",
)
def gke_node_auto_upgrade(args: Any, report: Report) -> None:
    if is_false(get(args.props, "management.autoUpgrade")):
        report("management.autoUpgrade is false.")


@resource_rule(
    name="gcp-gke-metadata-server",
    summary="GKE node pools expose the GKE metadata server (workloadMetadataConfig.mode GKE_METADATA), which "
    "Workload Identity needs and which hides node credentials.",
    types=[GKE_NODE_POOL],
    control="CKV_GCP_69, CIS GKE 5.4.2",
)
def gke_metadata_server(args: Any, report: Report) -> None:
    mode = get(args.props, "nodeConfig.workloadMetadataConfig.mode")
    if mode != "GKE_METADATA":
        shown = "not set" if mode is None else repr(mode)
        report(f"nodeConfig.workloadMetadataConfig.mode is {shown}; set it to 'GKE_METADATA'.")
