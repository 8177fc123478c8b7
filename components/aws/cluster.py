"""EKS control plane: private endpoint, KMS envelope encryption of secrets, every log type, OIDC for IRSA."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
from pulumi_aws import eks, iam

from components.aws.identity import OidcIssuer, WorkloadGrant, WorkloadRole
from components.aws.key_policies import eks_secrets_key_policy
from components.aws.kms import encryption_key
from components.aws.logs import control_plane_group, encrypted_log_group
from components.aws.policy_documents import allow, service_trust
from components.component import child
from components.kubeconfig import exec_kubeconfig

CONTROL_PLANE_LOG_TYPES: tuple[str, ...] = ("api", "audit", "authenticator", "controllerManager", "scheduler")
# Add-ons nodes need to join and network: managed before any node group exists (EKS also bootstraps self-managed
# copies of these, which the managed add-ons adopt).
NETWORKING_ADDONS: tuple[str, ...] = ("vpc-cni", "kube-proxy")
# Add-ons whose pods must be scheduled: without nodes they stay DEGRADED until the create times out, so they are
# created after the node groups (`WorkloadAddons`).
WORKLOAD_ADDONS: tuple[str, ...] = ("coredns", "aws-ebs-csi-driver")
MANAGED_ADDONS: tuple[str, ...] = NETWORKING_ADDONS + WORKLOAD_ADDONS
PUBLIC_ENDPOINT_TAG = "PublicEndpoint"
CLUSTER_ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


@dataclass(frozen=True)
class ClusterArgs:
    name: str
    region: str
    kubernetes_version: str
    subnet_ids: Sequence[pulumi.Input[str]]
    public_access_cidrs: Sequence[str]
    admin_role_arns: Sequence[str]
    log_retention_days: int
    protect: bool
    tags: Mapping[str, str]
    account_id: pulumi.Input[str]
    # The primary region's CloudWatch Logs key (components/aws/logs.py).
    log_key_arn: pulumi.Input[str]


class EksCluster(pulumi.ComponentResource):
    cluster: eks.Cluster
    # Managed before the node groups: they wait for these.
    networking_addons: list[eks.Addon]
    issuer: OidcIssuer
    kubeconfig: pulumi.Output[str]
    kubernetes_provider: k8s.Provider
    security_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gitpod-cell:aws:EksCluster", name, None, opts)
        tags = dict(args.tags)
        role = iam.Role(
            f"{name}-control-plane",
            assume_role_policy=service_trust("eks.amazonaws.com"),
            tags=tags,
            opts=child(self),
        )
        secrets_key = encryption_key(
            f"{name}-secrets", f"EKS secrets envelope encryption for {name}", self, tags, args.protect,
            policy=pulumi.Output.all(args.account_id, role.arn).apply(lambda v: eks_secrets_key_policy(v[0], v[1])),
        )
        attachment = iam.RolePolicyAttachment(
            f"{name}-control-plane",
            role=role.name,
            policy_arn="arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
            opts=child(self),
        )
        # Created before the cluster so EKS does not create it without a retention period.
        log_group = encrypted_log_group(f"{name}-control-plane-logs", control_plane_group(args.name),
                                        args.log_retention_days, args.log_key_arn, tags, self)
        public = bool(args.public_access_cidrs)
        self.cluster = eks.Cluster(
            name,
            name=args.name,
            version=args.kubernetes_version,
            role_arn=role.arn,
            vpc_config=eks.ClusterVpcConfigArgs(
                subnet_ids=list(args.subnet_ids),
                endpoint_private_access=True,
                endpoint_public_access=public,
                public_access_cidrs=list(args.public_access_cidrs) if public else None,
            ),
            encryption_config=eks.ClusterEncryptionConfigArgs(
                resources=["secrets"],
                provider=eks.ClusterEncryptionConfigProviderArgs(key_arn=secrets_key.arn),
            ),
            enabled_cluster_log_types=list(CONTROL_PLANE_LOG_TYPES),
            access_config=eks.ClusterAccessConfigArgs(
                authentication_mode="API",
                bootstrap_cluster_creator_admin_permissions=True,
            ),
            upgrade_policy=eks.ClusterUpgradePolicyArgs(support_type="STANDARD"),
            deletion_protection=args.protect,
            # The opt-in to a public endpoint, visible to the policy pack (aws-eks-public-endpoint-prod).
            tags={**tags, "Name": args.name, **({PUBLIC_ENDPOINT_TAG: "allowed"} if public else {})},
            opts=child(self, depends_on=[attachment, log_group], protect=args.protect),
        )
        # The deploying identity gets its access entry from `bootstrap_cluster_creator_admin_permissions`; listing
        # it (or any role twice) in adminRoleArns collides with an existing entry (config rejects duplicates).
        for index, principal in enumerate(args.admin_role_arns):
            entry = eks.AccessEntry(
                f"{name}-admin-{index}",
                cluster_name=self.cluster.name,
                principal_arn=principal,
                type="STANDARD",
                tags=tags,
                opts=child(self),
            )
            eks.AccessPolicyAssociation(
                f"{name}-admin-{index}",
                cluster_name=self.cluster.name,
                principal_arn=principal,
                policy_arn=CLUSTER_ADMIN_POLICY,
                access_scope=eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
                opts=child(self, depends_on=[entry]),
            )

        issuer_url = self.cluster.identities.apply(lambda ids: ids[0].oidcs[0].issuer)
        oidc = iam.OpenIdConnectProvider(
            f"{name}-oidc",
            url=issuer_url,
            client_id_lists=["sts.amazonaws.com"],
            tags=tags,
            opts=child(self),
        )
        self.issuer = OidcIssuer(provider_arn=oidc.arn, issuer_url=issuer_url)
        self.security_group_id = self.cluster.vpc_config.cluster_security_group_id

        self.networking_addons = [
            managed_addon(name, addon, self.cluster.name, args.kubernetes_version, tags, self)
            for addon in NETWORKING_ADDONS
        ]

        self.kubeconfig = pulumi.Output.all(
            self.cluster.name, self.cluster.endpoint, self.cluster.certificate_authority.data
        ).apply(lambda values: build_kubeconfig(values[0], values[1], values[2], args.region))
        self.kubernetes_provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=pulumi.Output.secret(self.kubeconfig),
            delete_unreachable=False,
            opts=child(self),
        )
        self.register_outputs(
            {
                "cluster_name": self.cluster.name,
                "endpoint": self.cluster.endpoint,
                "oidc_provider_arn": oidc.arn,
                "security_group_id": self.security_group_id,
            }
        )


def managed_addon(name: str, addon: str, cluster_name: pulumi.Input[str], kubernetes_version: str,
                  tags: Mapping[str, str], parent: pulumi.Resource, service_account_role_arn: pulumi.Input[str] |
                  None = None, depends_on: Sequence[pulumi.Resource] = (),
                  aliases: Sequence[pulumi.Alias] = ()) -> eks.Addon:
    """An EKS managed add-on at the newest version built for the cluster's Kubernetes version, so upgrading the
    cluster (`cluster.kubernetesVersion`) moves the add-on with it."""
    version = eks.get_addon_version_output(
        addon_name=addon, kubernetes_version=kubernetes_version, most_recent=True,
        opts=pulumi.InvokeOutputOptions(parent=parent),
    ).version
    return eks.Addon(
        f"{name}-{addon}",
        cluster_name=cluster_name,
        addon_name=addon,
        addon_version=version,
        service_account_role_arn=service_account_role_arn,
        # EKS bootstraps self-managed vpc-cni, kube-proxy and coredns; the managed add-on takes them over.
        resolve_conflicts_on_create="OVERWRITE",
        resolve_conflicts_on_update="OVERWRITE",
        tags=dict(tags),
        opts=child(parent, depends_on=list(depends_on), aliases=list(aliases)),
    )


@dataclass(frozen=True)
class WorkloadAddonsArgs:
    name: str
    cluster: EksCluster
    kubernetes_version: str
    ebs_key_arn: pulumi.Input[str]
    # The node groups: these add-ons run pods, so they are created once nodes can be scheduled.
    node_groups: Sequence[pulumi.Resource]
    tags: Mapping[str, str]


class WorkloadAddons(pulumi.ComponentResource):
    """coredns and the EBS CSI driver (with its IRSA role), created after the node groups."""

    addons: list[eks.Addon]

    def __init__(self, name: str, args: WorkloadAddonsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gitpod-cell:aws:WorkloadAddons", name, None, opts)
        tags = dict(args.tags)
        # These were children of EksCluster; the aliases keep existing stacks from replacing them.
        moved = [pulumi.Alias(parent=args.cluster)]
        ebs_csi = WorkloadRole(
            f"{args.name}-ebs-csi",
            args.cluster.issuer,
            WorkloadGrant(
                namespace="kube-system",
                service_account="ebs-csi-controller-sa",
                managed_policy_arns=["arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"],
                statements=pulumi.Output.from_input(args.ebs_key_arn).apply(
                    lambda arn: [
                        allow(["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"], [arn],
                              {"Bool": {"kms:GrantIsForAWSResource": "true"}}),
                        allow(["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                               "kms:DescribeKey"], [arn]),
                    ]
                ),
            ),
            tags,
            child(self, aliases=moved),
        )
        role_arns: dict[str, pulumi.Input[str] | None] = {"coredns": None, "aws-ebs-csi-driver": ebs_csi.role.arn}
        self.addons = [
            managed_addon(args.name, addon, args.cluster.cluster.name, args.kubernetes_version, tags, self,
                          service_account_role_arn=role_arns[addon], depends_on=args.node_groups, aliases=moved)
            for addon in WORKLOAD_ADDONS
        ]
        self.register_outputs({"addons": [addon.arn for addon in self.addons]})


def build_kubeconfig(cluster_name: str, endpoint: str, ca_data: str, region: str) -> str:
    """Authenticates with `aws eks get-token`: the caller's AWS identity, short-lived tokens."""
    return exec_kubeconfig(cluster_name, endpoint, ca_data, {
        "command": "aws",
        "args": ["eks", "get-token", "--cluster-name", cluster_name, "--region", region, "--output", "json"],
    })
