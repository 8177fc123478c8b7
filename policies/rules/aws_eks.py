"""EKS clusters and managed node groups."""

from __future__ import annotations

from typing import Any

from policies.core.props import as_list, get, is_false, truthy
from policies.core.rule import Level, Report, configured, resource_rule
from policies.rules.aws_network import WORLD
from policies.rules.tokens import EKS_CLUSTER, EKS_NODE_GROUP

LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
VERSION_SCHEMA = {
    "minimumVersion": {
        "type": "string",
        "default": "1.33",
        "description": "Oldest Kubernetes minor version EKS still supports (standard support), as MAJOR.MINOR.",
    },
}


def minor_version(text: Any) -> tuple[int, int] | None:
    parts = str(text).strip().lstrip("v").split(".")
    try:
        return int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        return None


@resource_rule(
    name="aws-eks-endpoint-not-public",
    summary="The EKS API endpoint is private, or public only to listed CIDRs (never 0.0.0.0/0).",
    types=[EKS_CLUSTER],
    control="CKV_AWS_38, CKV_AWS_39, AWS FSBP EKS.1",
)
def eks_endpoint_not_public(args: Any, report: Report) -> None:
    if is_false(get(args.props, "vpcConfig.endpointPublicAccess")):
        return
    cidrs = [str(cidr) for cidr in as_list(get(args.props, "vpcConfig.publicAccessCidrs"))]
    if not cidrs:
        report("the public endpoint is on and vpcConfig.publicAccessCidrs is not set (EKS then allows "
               "0.0.0.0/0); turn endpointPublicAccess off or list the CIDRs allowed.")
    elif open_to := [cidr for cidr in cidrs if cidr in WORLD]:
        report(f"vpcConfig.publicAccessCidrs includes {', '.join(open_to)}; list only the CIDRs that need the API.")


@resource_rule(
    name="aws-eks-private-endpoint",
    summary="The EKS API endpoint is reachable privately from inside the VPC (nodes never leave it).",
    types=[EKS_CLUSTER],
    control="AWS FSBP EKS.1",
)
def eks_private_endpoint(args: Any, report: Report) -> None:
    if not truthy(get(args.props, "vpcConfig.endpointPrivateAccess")):
        report("vpcConfig.endpointPrivateAccess must be true.")


@resource_rule(
    name="aws-eks-secrets-encryption",
    summary="EKS encrypts Kubernetes secrets with a KMS key (envelope encryption).",
    types=[EKS_CLUSTER],
    control="CKV_AWS_58, AWS FSBP EKS.3",
)
def eks_secrets_encryption(args: Any, report: Report) -> None:
    config = get(args.props, "encryptionConfig")
    if config is None:
        report("encryptionConfig is not set; encrypt secrets with a KMS key.")
    elif "secrets" not in [str(r) for r in as_list(get(config, "resources"))]:
        report("encryptionConfig.resources does not include 'secrets'.")
    elif not get(config, "provider.keyArn"):
        report("encryptionConfig.provider.keyArn is not set.")


@resource_rule(
    name="aws-eks-control-plane-logging",
    summary="EKS sends all control-plane log types (api, audit, authenticator, controllerManager, scheduler) "
    "to CloudWatch.",
    types=[EKS_CLUSTER],
    control="CKV_AWS_37, AWS FSBP EKS.8",
)
def eks_control_plane_logging(args: Any, report: Report) -> None:
    enabled = {str(t) for t in as_list(get(args.props, "enabledClusterLogTypes"))}
    missing = [log_type for log_type in LOG_TYPES if log_type not in enabled]
    if missing:
        report(f"enabledClusterLogTypes is missing {', '.join(missing)}.")


@resource_rule(
    name="aws-eks-supported-version",
    summary="EKS clusters pin a Kubernetes version no older than `minimumVersion` (default 1.33).",
    types=[EKS_CLUSTER],
    control="CKV_AWS_339, AWS FSBP EKS.2",
    config=VERSION_SCHEMA,
)
def eks_supported_version(args: Any, report: Report) -> None:
    minimum_text = str(configured(args, VERSION_SCHEMA)["minimumVersion"])
    minimum = minor_version(minimum_text) or (0, 0)
    version = get(args.props, "version")
    if version is None:
        report(f"version is not set; pin a Kubernetes version (>= {minimum_text}) so upgrades are deliberate.")
    elif (parsed := minor_version(version)) is None or parsed < minimum:
        report(f"version {version!r} is older than {minimum_text}, the oldest supported.")


@resource_rule(
    name="aws-eks-nodegroup-launch-template",
    summary="EKS managed node groups use a launch template, so IMDSv2 and encrypted root volumes are enforced.",
    types=[EKS_NODE_GROUP],
)
def eks_nodegroup_launch_template(args: Any, report: Report) -> None:
    template = get(args.props, "launchTemplate")
    if not (get(template, "id") or get(template, "name")):
        report("launchTemplate is not set; node groups must use the cell's launch template.")
    elif not get(template, "version"):
        report("launchTemplate.version is not set; pin the template version the node group rolls out.")


@resource_rule(
    name="aws-eks-node-auto-repair",
    summary="EKS managed node groups replace unhealthy nodes automatically (nodeRepairConfig.enabled).",
    types=[EKS_NODE_GROUP],
    level=Level.ADVISORY,
    why_advisory="EKS node repair is recent and not available for every AMI type; GKE's equivalent is mandatory.",
)
def eks_node_auto_repair(args: Any, report: Report) -> None:
    if not truthy(get(args.props, "nodeRepairConfig.enabled")):
        report("nodeRepairConfig.enabled should be true.")
