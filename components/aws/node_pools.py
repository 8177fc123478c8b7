"""Managed node groups for Gitpod's three pools, labelled for Gitpod's workloads and the cluster-autoscaler."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_aws import ec2, eks, iam

from components.aws.policy_documents import document, service_trust
from components.component import child
from components.config import NodePoolConfig
from contract.cluster import WORKLOAD_LABELS

# AmazonEC2ContainerRegistryReadOnly stays: the kubelet pulls the EKS add-ons' images (vpc-cni, kube-proxy,
# coredns, EBS CSI, the pause image) from AWS-owned ECR registries in accounts that differ per region, and a
# cross-account pull needs the node role's own permission on those repositories. `node_registry_scope` then
# denies every repository of *this* account that is not the cell's, so nodes cannot read other teams' images.
NODE_ROLE_POLICIES: tuple[str, ...] = (
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
)
ECR_READ_ACTIONS: tuple[str, ...] = (
    "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability", "ecr:DescribeImages",
    "ecr:ListImages", "ecr:DescribeImageScanFindings", "ecr:DescribeRepositories", "ecr:GetRepositoryPolicy",
    "ecr:GetLifecyclePolicy", "ecr:GetLifecyclePolicyPreview", "ecr:ListTagsForResource",
)


def node_registry_scope(account_id: str, cell: str) -> str:
    """Nodes read only the cell's own repositories (tagged `Cell=<stack>`) among this account's; other accounts'
    repositories (the EKS add-on registries) are left to the managed policy and their repository policies."""
    return document([{
        "Sid": "OnlyThisCellsRepositoriesInTheAccount",
        "Effect": "Deny",
        "Action": list(ECR_READ_ACTIONS),
        "Resource": [f"arn:aws:ecr:*:{account_id}:repository/*"],
        "Condition": {"StringNotEquals": {"aws:ResourceTag/Cell": cell}},
    }])


def autoscaler_tags(cluster_name: str, labels: Mapping[str, str]) -> dict[str, str]:
    """Auto-discovery tags, plus node-template labels so the autoscaler can scale a pool up from zero."""
    tags = {"k8s.io/cluster-autoscaler/enabled": "true", f"k8s.io/cluster-autoscaler/{cluster_name}": "owned"}
    tags.update({f"k8s.io/cluster-autoscaler/node-template/label/{k}": v for k, v in labels.items()})
    return tags


@dataclass(frozen=True)
class NodePoolsArgs:
    name: str
    cluster_name: pulumi.Input[str]
    cluster_name_literal: str
    kubernetes_version: str
    subnet_ids: Sequence[pulumi.Input[str]]
    pools: Mapping[str, NodePoolConfig]
    ebs_key_arn: pulumi.Input[str]
    tags: Mapping[str, str]
    account_id: pulumi.Input[str]
    # The `Cell` tag value on the cell's ECR repositories: the only repositories of the account nodes may read.
    cell: str
    # What the node groups wait for: the networking add-ons nodes need to become Ready.
    depends_on: Sequence[pulumi.Resource] = ()


class NodePools(pulumi.ComponentResource):
    node_groups: dict[str, eks.NodeGroup]
    labels: dict[str, dict[str, str]]

    def __init__(self, name: str, args: NodePoolsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gitpod-cell:aws:NodePools", name, None, opts)
        tags = dict(args.tags)
        role = iam.Role(f"{name}-node", assume_role_policy=service_trust("ec2.amazonaws.com"), tags=tags,
                        opts=child(self))
        attachments = [
            iam.RolePolicyAttachment(f"{name}-node-{index}", role=role.name, policy_arn=arn, opts=child(self))
            for index, arn in enumerate(NODE_ROLE_POLICIES)
        ]
        attachments.append(iam.RolePolicy(
            f"{name}-node-registry-scope",
            role=role.id,
            policy=pulumi.Output.from_input(args.account_id).apply(lambda account: node_registry_scope(account,
                                                                                                    args.cell)),
            opts=child(self),
        ))
        self.node_groups = {}
        self.labels = {}
        for pool_name, pool in args.pools.items():
            labels = WORKLOAD_LABELS[pool_name]
            template = ec2.LaunchTemplate(
                f"{name}-{pool_name}",
                description=f"Gitpod {pool_name} nodes: encrypted gp3 root volume, IMDSv2 only",
                update_default_version=True,
                block_device_mappings=[
                    ec2.LaunchTemplateBlockDeviceMappingArgs(
                        device_name="/dev/xvda",
                        ebs=ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                            volume_size=pool.disk_size_gb,
                            volume_type="gp3",
                            encrypted="true",
                            kms_key_id=args.ebs_key_arn,
                            delete_on_termination="true",
                        ),
                    )
                ],
                # Hop limit 1: workspace pods run user code and must not reach the node's instance role.
                metadata_options=ec2.LaunchTemplateMetadataOptionsArgs(
                    http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1
                ),
                tag_specifications=[
                    ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags={**tags, **labels})
                    for kind in ("instance", "volume")
                ],
                tags=tags,
                opts=child(self),
            )
            self.node_groups[pool_name] = eks.NodeGroup(
                f"{name}-{pool_name}",
                cluster_name=args.cluster_name,
                node_group_name_prefix=f"{pool_name}-",
                node_role_arn=role.arn,
                subnet_ids=list(args.subnet_ids),
                version=args.kubernetes_version,
                ami_type="AL2023_x86_64_STANDARD",
                instance_types=list(pool.instance_types),
                labels=labels,
                scaling_config=eks.NodeGroupScalingConfigArgs(
                    min_size=pool.min_size,
                    max_size=pool.max_size,
                    desired_size=pool.desired_size if pool.desired_size is not None else pool.min_size,
                ),
                update_config=eks.NodeGroupUpdateConfigArgs(max_unavailable_percentage=25),
                node_repair_config=eks.NodeGroupNodeRepairConfigArgs(enabled=True),
                launch_template=eks.NodeGroupLaunchTemplateArgs(id=template.id, version=template.latest_version
                                                                .apply(str)),
                tags={**tags, **autoscaler_tags(args.cluster_name_literal, labels)},
                # The cluster-autoscaler owns the desired size once the pool exists.
                opts=child(self, depends_on=[*attachments, *args.depends_on],
                           ignore_changes=["scalingConfig.desiredSize"]),
            )
            self.labels[pool_name] = labels
        self.register_outputs({"node_groups": {k: v.arn for k, v in self.node_groups.items()}})
