"""AwsCell: Gitpod's single-cluster reference architecture on AWS, handed over as a `Platform`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws.cluster import ClusterArgs, EksCluster, WorkloadAddons, WorkloadAddonsArgs
from components.aws.database import RDS_CA_BUNDLE_URL, DatabaseArgs, MysqlDatabase
from components.aws.dns import DnsArgs, DnsZone
from components.aws.identity import WorkloadGrant, WorkloadRole, resolved, workload_roles
from components.aws.kms import encryption_key
from components.aws.logs import logs_key, primary_region_groups
from components.aws.network import Network, NetworkArgs
from components.aws.node_pools import NodePools, NodePoolsArgs
from components.aws.policy_documents import Statement, allow, document
from components.aws.registry import ContainerRegistry, RegistryArgs
from components.aws.storage import AdoptedBucket, ReplicatedStorage, StorageArgs
from components.aws.storage_key import StorageKeyArgs, StorageKeyUser
from components.config import CellConfig
from components.exports import export_dnssec
from components.platform import (
    Cluster,
    CredentialMinter,
    Database,
    ObjectStorage,
    Platform,
    Registry,
    RestoreTarget,
)
from components.platform import (
    DnsZone as PlatformDnsZone,
)
from contract.identities import STORAGE, account_of, workload_accounts
from contract.naming import GITPOD_REPOSITORIES

# Amazon's AWS CLI v2 image (Amazon Linux, with curl and coreutils), pinned; its entrypoint is replaced by sh.
AWS_CLI_IMAGE = "public.ecr.aws/aws-cli/aws-cli:2.36.44"
# ECR authorization tokens last 12 hours; refreshing every 6 leaves one missed run of slack.
ECR_TOKEN_LIFETIME_MINUTES = 12 * 60
ECR_REFRESH_EVERY_MINUTES = 6 * 60


class AwsCell(pulumi.ComponentResource):
    platform: Platform

    def __init__(self, config: CellConfig, opts: pulumi.ResourceOptions | None = None) -> None:
        prefix = config.name_prefix
        super().__init__("gitpod-cell:aws:AwsCell", prefix, None, opts)
        tags = config.resource_tags
        primary = aws.Provider(f"{prefix}-{config.region}", region=config.region, profile=config.aws_profile,
                               opts=pulumi.ResourceOptions(parent=self))
        replica = aws.Provider(f"{prefix}-{config.replica_region}", region=config.replica_region,
                               profile=config.aws_profile, opts=pulumi.ResourceOptions(parent=self))
        # Route53 signs zones only with KMS keys in us-east-1 and writes query logs only to log groups there.
        us_east_1 = aws.Provider(f"{prefix}-route53-us-east-1", region="us-east-1", profile=config.aws_profile,
                                 opts=pulumi.ResourceOptions(parent=self))
        on_primary = pulumi.ResourceOptions(parent=self, provider=primary)
        account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=primary)).account_id
        zones = availability_zones(primary, config.network.availability_zones)

        ebs_key = encryption_key(
            f"{prefix}-ebs", f"EBS volumes of {prefix} nodes", self, tags, config.protect, provider=primary,
            policy=account_id.apply(lambda account: ebs_key_policy(account, config.region)),
        )
        retention = config.network.log_retention_days
        log_key = logs_key(f"{prefix}-logs", config.region, account_id,
                           primary_region_groups(prefix, f"{prefix}-db"), self, tags, config.protect, primary)
        network = Network(
            prefix,
            NetworkArgs(prefix, config.network.vpc_cidr, zones, config.network.nat_gateway_per_az,
                        config.network.flow_logs_days, prefix, tags, account_id, log_key.arn),
            on_primary,
        )
        # Order: control plane and networking add-ons, then node groups, then the add-ons that run pods.
        eks = EksCluster(
            prefix,
            ClusterArgs(prefix, config.region, config.cluster.kubernetes_version, network.private_subnet_ids,
                        config.cluster.public_access_cidrs, config.cluster.admin_role_arns,
                        retention, config.protect, tags, account_id, log_key.arn),
            on_primary,
        )
        pools = NodePools(
            prefix,
            NodePoolsArgs(prefix, eks.cluster.name, prefix, config.cluster.kubernetes_version,
                          network.private_subnet_ids, config.cluster.node_pools.by_name(), ebs_key.arn, tags,
                          account_id=account_id, cell=config.stack, depends_on=eks.networking_addons),
            on_primary,
        )
        node_groups = list(pools.node_groups.values())
        addons = WorkloadAddons(
            prefix,
            WorkloadAddonsArgs(prefix, eks, config.cluster.kubernetes_version, ebs_key.arn, node_groups, tags),
            on_primary,
        )
        database = MysqlDatabase(
            prefix,
            DatabaseArgs(prefix, config.database, network.vpc_id, network.database_subnet_ids,
                         eks.security_group_id, replica, config.protect, tags, account_id, config.region,
                         config.replica_region, log_key.arn, retention, restore=config.restore),
            on_primary,
        )
        storage = cell_storage(config, prefix, account_id, primary, replica, tags, self)
        registry = ContainerRegistry(
            prefix, RegistryArgs(prefix, prefix, GITPOD_REPOSITORIES, config.protect, tags, account_id, config.region),
            on_primary,
        )
        dns = DnsZone(prefix, DnsArgs(config.domain, config.dns.zone_id, config.protect, tags, account_id, retention,
                                      us_east_1), on_primary)
        export_dnssec(dns.ds_record)
        if config.is_prod and config.cluster.public_access_cidrs:
            pulumi.log.warn(f"{config.stack}: the EKS API endpoint is public (cluster.allowPublicEndpoint), limited "
                            f"to {', '.join(config.cluster.public_access_cidrs)}; a runner inside the VPC needs none "
                            "(docs/continuous-delivery.md)", resource=self)

        repository_arns = [repo.arn for repo in registry.repositories.values()]
        namespace = config.gitpod.namespace
        # What each workload may do; which service account it is comes from contract.identities (Gitpod's own
        # workloads depend on the pinned build: storage users get a role only on builds that use it).
        build = config.gitpod.build
        accounts = workload_accounts(build)
        statements = {
            "cert-manager": resolved(cert_manager_statements, dns.zone_arn),
            "external-dns": resolved(external_dns_statements, dns.zone_arn),
            "cluster-autoscaler": resolved(lambda account: autoscaler_statements(prefix, config.region, account),
                                           account_id),
            "gitpod-image-builder-registry": resolved(lambda *arns: registry_statements(arns, push=True),
                                                      *repository_arns),
            "gitpod-registry-facade-registry": resolved(lambda *arns: registry_statements(arns, push=False),
                                                        *repository_arns),
            **{workload: storage.statements for workload, account in accounts.items() if account.purpose == STORAGE},
        }
        grants = {workload: WorkloadGrant(*account_of(workload, namespace, build), allowed)
                  for workload, allowed in statements.items()}
        identities = workload_roles(prefix, eks.issuer, grants, tags, self)
        static_key = None
        if build.storage_access == "s3-static-key":
            static_key = StorageKeyUser(
                f"{prefix}-object-storage",
                StorageKeyArgs(prefix, storage.statements, config.gitpod.static_storage_key.rotation, tags),
                on_primary,
            ).key
        # The registry secret's refresher. An ECR token carries the permissions of the principal that minted it, so
        # this role may mint tokens and push/pull the cell's repositories (what image-builder may), nothing else.
        # Not one of `identities`: no Gitpod workload runs as it, so the installer config does not name it.
        registry_credentials = WorkloadRole(
            f"{prefix}-gitpod-registry-credentials", eks.issuer,
            WorkloadGrant(*account_of("registry-credentials", namespace, build), resolved(
                lambda *arns: registry_statements(arns, push=True), *repository_arns)),
            tags, pulumi.ResourceOptions(parent=self),
        ).identity

        self.platform = Platform(
            cloud="aws",
            region=config.region,
            cluster=Cluster(
                name=eks.cluster.name,
                kubernetes_provider=eks.kubernetes_provider,
                kubeconfig=pulumi.Output.secret(eks.kubeconfig),
                node_pool_labels=pools.labels,
                needs_cluster_autoscaler=True,
                ready=[*node_groups, *eks.networking_addons, *addons.addons],
            ),
            database=Database(
                host=database.instance.address,
                port=database.instance.port,
                username=database.instance.username,
                password=database.password,
                database_name="gitpod",
                ca_bundle_url=RDS_CA_BUNDLE_URL,
                restore_target=RestoreTarget(
                    kind="rds",
                    instance_id=database.instance.identifier,
                    region=config.region,
                    backup_replica_region=config.replica_region if config.database.cross_region_backups else None,
                ),
            ),
            object_storage=ObjectStorage(
                kind="s3",
                bucket=storage.bucket,
                region=config.region,
                replica_bucket=storage.replica_bucket,
                replica_region=config.replica_region if storage.replica_bucket is not None else None,
                s3_endpoint=f"s3.{config.region}.amazonaws.com",
                static_key=static_key,
            ),
            registry=Registry(
                kind="ecr", url=registry.url, server=registry.server,
                credential_minter=CredentialMinter(
                    image=AWS_CLI_IMAGE,
                    mint_token=f"aws ecr get-login-password --region {config.region}",
                    username="AWS",
                    refresh_every_minutes=ECR_REFRESH_EVERY_MINUTES,
                    token_lifetime_minutes=ECR_TOKEN_LIFETIME_MINUTES,
                    identity=registry_credentials,
                ),
            ),
            dns=PlatformDnsZone(kind="route53", zone_id=dns.zone_id, domain=config.domain,
                                name_servers=dns.name_servers),
            identities=identities,
        )
        self.register_outputs(
            {
                "cluster_name": eks.cluster.name,
                "database_address": database.instance.address,
                "bucket": storage.bucket,
                "registry_url": registry.url,
                "zone_id": dns.zone_id,
            }
        )


# Zones that need no opt-in: Local Zones and Wavelength Zones are opt-in, and a cell must never land in one.
AVAILABILITY_ZONE_FILTER = {"name": "opt-in-status", "values": ["opt-in-not-required"]}


def availability_zones(provider: aws.Provider, count: int) -> list[str]:
    """The first `count` available regular zones of the region, in name order (stable across runs)."""
    found = aws.get_availability_zones(
        state="available",
        filters=[aws.GetAvailabilityZonesFilterArgs(**AVAILABILITY_ZONE_FILTER)],
        opts=pulumi.InvokeOptions(provider=provider),
    )
    return sorted(found.names)[:count]


def ebs_key_policy(account_id: str, region: str) -> str:
    """The account administers the key; any principal of the account may use it through EC2 in this region.

    Managed node groups launch instances as EC2 Auto Scaling's service-linked role, which must be able to use the
    key for encrypted root volumes. Naming that role (AWSServiceRoleForAutoScaling) fails in an account that never
    used Auto Scaling: the role does not exist yet and KMS rejects a policy naming an unknown principal. Creating it
    with `iam.ServiceLinkedRole` fails where it already exists, and a `kms.Grant` after the node groups comes too
    late (their first instances need the key). So the key policy names no role: like the AWS-managed `aws/ebs`
    key, it lets principals of this account use the key only via EC2 in this region (`kms:CallerAccount` +
    `kms:ViaService`), which covers the service-linked role whenever it comes to exist, and nothing outside EC2."""
    via_ec2 = {"kms:CallerAccount": account_id, "kms:ViaService": f"ec2.{region}.amazonaws.com"}
    return document(
        [
            {"Sid": "AccountAdministers", "Effect": "Allow",
             "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"}, "Action": "kms:*", "Resource": "*"},
            {"Sid": "AccountUsesKeyThroughEc2", "Effect": "Allow", "Principal": {"AWS": "*"},
             "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
             "Resource": "*", "Condition": {"StringEquals": via_ec2}},
            {"Sid": "AccountGrantsForVolumesThroughEc2", "Effect": "Allow", "Principal": {"AWS": "*"},
             "Action": "kms:CreateGrant", "Resource": "*",
             "Condition": {"StringEquals": via_ec2, "Bool": {"kms:GrantIsForAWSResource": "true"}}},
        ]
    )


def cert_manager_statements(zone_arn: str) -> list[Statement]:
    return [
        allow(["route53:GetChange"], ["arn:aws:route53:::change/*"]),
        allow(["route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets"], [zone_arn]),
        allow(["route53:ListHostedZonesByName"], ["*"]),
    ]


def external_dns_statements(zone_arn: str) -> list[Statement]:
    return [
        # external-dns runs with --zone-id-filter: it reads and writes only the cell's zone.
        allow(["route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets", "route53:ListTagsForResource"],
              [zone_arn]),
        # IAM has no resource-level permission for listing zones (docs/policies.md, deviations).
        allow(["route53:ListHostedZones"], ["*"]),
    ]


# What the cluster-autoscaler reads to discover node groups and instance shapes: actions IAM offers on no
# resource but `*` (docs/policies.md, deviations; rule aws-iam-wildcard-resource-only-unscopable).
AUTOSCALER_DISCOVERY_ACTIONS: tuple[str, ...] = (
    "autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeLaunchConfigurations", "autoscaling:DescribeScalingActivities", "autoscaling:DescribeTags",
    "ec2:DescribeImages", "ec2:DescribeInstanceTypes", "ec2:DescribeLaunchTemplateVersions",
    "ec2:GetInstanceTypesFromInstanceRequirements",
)


def autoscaler_statements(cluster_name: str, region: str, account_id: str) -> list[Statement]:
    owned = {"StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned"}}
    # EKS names a managed node group's Auto Scaling group eks-<node group>-<uuid>.
    node_group_asgs = f"arn:aws:autoscaling:{region}:{account_id}:autoScalingGroup:*:autoScalingGroupName/eks-*"
    return [
        allow(list(AUTOSCALER_DISCOVERY_ACTIONS), ["*"]),
        allow(["eks:DescribeNodegroup"], [f"arn:aws:eks:{region}:{account_id}:nodegroup/{cluster_name}/*/*"]),
        allow(["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
              [node_group_asgs], owned),
    ]


@dataclass(frozen=True)
class CellStorage:
    bucket: pulumi.Output[str]
    replica_bucket: pulumi.Output[str] | None
    # What Gitpod's storage workloads may do on the bucket.
    statements: pulumi.Output[list]


def cell_storage(config: CellConfig, prefix: str, account_id: pulumi.Output[str], primary: aws.Provider,
                 replica: aws.Provider, tags: dict[str, str], parent: pulumi.Resource) -> CellStorage:
    """A new replicated bucket pair, or, when restoring, the backed-up bucket adopted as it is."""
    on_primary = pulumi.ResourceOptions(parent=parent, provider=primary)
    if config.restore is not None:
        adopted = AdoptedBucket(f"{prefix}-adopted", config.restore.adopt_bucket, primary, on_primary)
        # The adopted bucket's key belongs to the old cell: allow its use only through S3 in this region.
        return CellStorage(adopted.bucket_name, None, resolved(
            lambda arn: storage_statements(arn, None, config.region), adopted.arn))
    storage = ReplicatedStorage(
        prefix,
        StorageArgs(
            prefix,
            primary_bucket_name=account_id.apply(lambda account: f"{prefix}-{account}-{config.region}"),
            replica_bucket_name=account_id.apply(lambda account: f"{prefix}-{account}-{config.replica_region}"),
            account_id=account_id,
            region=config.region,
            replica_region=config.replica_region,
            primary_log_bucket_name=account_id.apply(lambda account: f"{prefix}-{account}-{config.region}-logs"),
            replica_log_bucket_name=account_id.apply(
                lambda account: f"{prefix}-{account}-{config.replica_region}-logs"),
            access_log_retention_days=config.storage.access_log_retention_days,
            noncurrent_version_retention_days=config.storage.noncurrent_version_retention_days,
            primary_provider=primary,
            replica_provider=replica,
            protect=config.protect,
            tags=tags,
        ),
        on_primary,
    )
    return CellStorage(storage.primary.bucket.bucket, storage.replica.bucket.bucket, resolved(
        lambda arn, key: storage_statements(arn, key, config.region), storage.primary.bucket.arn,
        storage.primary.key.arn))


def storage_statements(bucket_arn: str, key_arn: str | None, region: str) -> list[Statement]:
    if key_arn is not None:
        use_key = allow(["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"], [key_arn])
    else:
        use_key = allow(["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"], ["*"],
                        {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}})
    return [
        allow(["s3:ListBucket", "s3:GetBucketLocation"], [bucket_arn]),
        allow(["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"], [f"{bucket_arn}/*"]),
        use_key,
    ]


def registry_statements(repository_arns: Sequence[str], push: bool) -> list[Statement]:
    pull = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    write = ["ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload"]
    return [
        # ECR accepts no resource but `*` for minting a token; the token then acts with this role's permissions.
        allow(["ecr:GetAuthorizationToken"], ["*"]),
        allow(pull + (write if push else []), list(repository_arns)),
    ]
