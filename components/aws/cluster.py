"""EKS control plane: private endpoint, KMS envelope encryption of secrets, every log type, OIDC for IRSA."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
from pulumi_aws import cloudwatch, eks, iam

from components.aws.identity import OidcIssuer, WorkloadGrant, WorkloadRole
from components.aws.kms import encryption_key
from components.aws.policy_documents import allow, service_trust
from components.component import child
from components.kubeconfig import exec_kubeconfig

CONTROL_PLANE_LOG_TYPES: tuple[str, ...] = ("api", "audit", "authenticator", "controllerManager", "scheduler")
MANAGED_ADDONS: tuple[str, ...] = ("vpc-cni", "kube-proxy", "coredns")
CLUSTER_ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


@dataclass(frozen=True)
class ClusterArgs:
    name: str
    region: str
    kubernetes_version: str
    subnet_ids: Sequence[pulumi.Input[str]]
    public_access_cidrs: Sequence[str]
    admin_role_arns: Sequence[str]
    ebs_key_arn: pulumi.Input[str]
    log_retention_days: int
    protect: bool
    tags: Mapping[str, str]


class EksCluster(pulumi.ComponentResource):
    cluster: eks.Cluster
    issuer: OidcIssuer
    kubeconfig: pulumi.Output[str]
    kubernetes_provider: k8s.Provider
    security_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gitpod-cell:aws:EksCluster", name, None, opts)
        tags = dict(args.tags)
        secrets_key = encryption_key(
            f"{name}-secrets", f"EKS secrets envelope encryption for {name}", self, tags, args.protect
        )
        role = iam.Role(
            f"{name}-control-plane",
            assume_role_policy=service_trust("eks.amazonaws.com"),
            tags=tags,
            opts=child(self),
        )
        attachment = iam.RolePolicyAttachment(
            f"{name}-control-plane",
            role=role.name,
            policy_arn="arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
            opts=child(self),
        )
        # Created before the cluster so EKS does not create it without a retention period.
        log_group = cloudwatch.LogGroup(
            f"{name}-control-plane-logs",
            name=f"/aws/eks/{args.name}/cluster",
            retention_in_days=args.log_retention_days,
            tags=tags,
            opts=child(self),
        )
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
            tags={**tags, "Name": args.name},
            opts=child(self, depends_on=[attachment, log_group], protect=args.protect),
        )
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

        for addon in MANAGED_ADDONS:
            eks.Addon(
                f"{name}-{addon}",
                cluster_name=self.cluster.name,
                addon_name=addon,
                resolve_conflicts_on_update="OVERWRITE",
                tags=tags,
                opts=child(self),
            )
        ebs_csi = WorkloadRole(
            f"{name}-ebs-csi",
            self.issuer,
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
            child(self),
        )
        eks.Addon(
            f"{name}-aws-ebs-csi-driver",
            cluster_name=self.cluster.name,
            addon_name="aws-ebs-csi-driver",
            service_account_role_arn=ebs_csi.role.arn,
            resolve_conflicts_on_update="OVERWRITE",
            tags=tags,
            opts=child(self),
        )

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


def build_kubeconfig(cluster_name: str, endpoint: str, ca_data: str, region: str) -> str:
    """Authenticates with `aws eks get-token`: the caller's AWS identity, short-lived tokens."""
    return exec_kubeconfig(cluster_name, endpoint, ca_data, {
        "command": "aws",
        "args": ["eks", "get-token", "--cluster-name", cluster_name, "--region", region, "--output", "json"],
    })
