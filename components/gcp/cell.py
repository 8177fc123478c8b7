"""GcpCell: Gitpod's single-cluster reference architecture on Google Cloud, handed over as a `Platform`."""

from __future__ import annotations

import pulumi
from pulumi_gcp import artifactregistry, organizations, projects
from pulumi_gcp.provider import Provider

from components.config import CellConfig
from components.exports import export_dnssec
from components.gcp.binary_authorization import BinaryAuthorizationArgs, BinaryAuthorizationPolicy, image_patterns
from components.gcp.cluster import ClusterArgs, GkeCluster
from components.gcp.database import MYSQL_PORT, CloudSqlDatabase, DatabaseArgs
from components.gcp.dns import CloudDnsZone, DnsArgs
from components.gcp.identity import (
    DnsRoles,
    Grant,
    IdentityScope,
    KubernetesPrincipalGrants,
    PrincipalGrant,
    WorkloadGrant,
    WorkloadServiceAccount,
    workload_service_accounts,
)
from components.gcp.kms import KeyRing, KeyRingArgs
from components.gcp.network import Network, NetworkArgs
from components.gcp.node_pools import NodePools, NodePoolsArgs, NodeServiceAccount
from components.gcp.registry import ArtifactRegistry, RegistryArgs
from components.gcp.storage import AdoptedBucket, BucketArgs, LogBucketArgs, UsageLogBucket, WorkspaceBucket
from components.gcp.storage_key import GCS_S3_ENDPOINT, StorageKeyAccount, StorageKeyArgs
from components.platform import (
    Cluster,
    CredentialMinter,
    Database,
    DnsZone,
    ObjectStorage,
    Platform,
    Registry,
    RestoreTarget,
)
from contract.identities import REGISTRY_PULL, REGISTRY_PUSH, STORAGE, account_of, gitpod_accounts
from contract.naming import GCS_BUCKET_NAME_LIMIT, fit_name, gcs_bucket_name

GKE_SECRETS_KEY = "gke-secrets"
CLOUD_SQL_KEY = "cloudsql"
REGISTRY_KEY = "artifact-registry"
# Google's Cloud CLI image, Debian slim flavour (it has curl and coreutils; `:stable` has no curl), pinned. Google
# deletes image versions after a year: bump it at least that often.
GCLOUD_IMAGE = "gcr.io/google.com/cloudsdktool/google-cloud-cli:562.0.0-slim"
# Access tokens from the metadata server last an hour; refreshing every 30 minutes leaves one missed run of slack.
ACCESS_TOKEN_LIFETIME_MINUTES = 60
ACCESS_TOKEN_REFRESH_EVERY_MINUTES = 30


def cloud_sql_ca_url(project: str, instance: str) -> str:
    """Cloud SQL publishes no static CA bundle: its server CAs are listed per instance by the Admin API (an
    authenticated call). The PEM itself is on the Platform as `Database.ca_bundle_pem`."""
    return f"https://sqladmin.googleapis.com/v1/projects/{project}/instances/{instance}/listServerCas"


class GcpCell(pulumi.ComponentResource):
    platform: Platform

    def __init__(self, config: CellConfig, opts: pulumi.ResourceOptions | None = None) -> None:
        prefix = config.name_prefix
        super().__init__("gitpod-cell:gcp:GcpCell", prefix, None, opts)
        gcp, project, region, labels = config.gcp_settings, config.gcp_project, config.region, config.labels
        provider = Provider(
            f"{prefix}-{region}",
            project=project,
            region=region,
            default_labels=labels,
            opts=pulumi.ResourceOptions(parent=self),
        )
        on_gcp = pulumi.ResourceOptions(parent=self, provider=provider)
        project_number = organizations.get_project_output(
            project_id=project, opts=pulumi.InvokeOutputOptions(parent=self, provider=provider)
        ).number
        # Google-managed service agents that use the cell's KMS keys; created here if the API has not yet.
        sql_agent = projects.ServiceIdentity(f"{prefix}-sqladmin-agent", project=project,
                                             service="sqladmin.googleapis.com", opts=on_gcp)
        registry_agent = projects.ServiceIdentity(f"{prefix}-artifactregistry-agent", project=project,
                                                  service="artifactregistry.googleapis.com", opts=on_gcp)
        gke_agent = project_number.apply(
            lambda number: f"serviceAccount:service-{number}@container-engine-robot.iam.gserviceaccount.com"
        )
        keys = KeyRing(
            f"{prefix}-keys",
            KeyRingArgs(
                name=prefix,
                location=region,
                keys={
                    GKE_SECRETS_KEY: [gke_agent],
                    CLOUD_SQL_KEY: [sql_agent.member],
                    REGISTRY_KEY: [registry_agent.member],
                },
                protect=config.protect,
                labels=labels,
                provider=provider,
            ),
            pulumi.ResourceOptions(parent=self),
        )

        network = Network(prefix, NetworkArgs(prefix, region, config.network.vpc_cidr, provider),
                          pulumi.ResourceOptions(parent=self))
        nodes = NodeServiceAccount(f"{prefix}-nodes", prefix, project, provider, pulumi.ResourceOptions(parent=self))
        location = gcp.cluster_zone or region
        binary_authorization = BinaryAuthorizationPolicy(prefix, BinaryAuthorizationArgs(
            project, gcp.binary_authorization,
            image_patterns(project, region, prefix, config.gitpod.installer_image, config.domain,
                           gcp.allowed_image_patterns),
            provider), pulumi.ResourceOptions(parent=self))
        gke = GkeCluster(
            prefix,
            ClusterArgs(
                name=prefix,
                project=project,
                location=location,
                network=network.network.id,
                subnetwork=network.subnetwork.id,
                control_plane_cidr=network.ranges.control_plane,
                kubernetes_version=config.cluster.kubernetes_version,
                release_channel=gcp.release_channel,
                authorized_cidrs=config.cluster.public_access_cidrs,
                secrets_key=keys.keys[GKE_SECRETS_KEY].id,
                secrets_key_grants=keys.grants[GKE_SECRETS_KEY],
                node_service_account=nodes.account.email,
                maintenance_window=gcp.maintenance_window,
                protect=config.protect,
                labels=labels,
                provider=provider,
                security_group=gcp.security_group,
                binary_authorization_policy=binary_authorization.policy,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        pools = NodePools(
            prefix,
            NodePoolsArgs(
                cluster=gke.cluster.name,
                location=location,
                regional=gcp.cluster_zone is None,
                pools=config.cluster.node_pools.by_name(),
                service_account=nodes.account.email,
                labels=labels,
                provider=provider,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        database = CloudSqlDatabase(
            prefix,
            DatabaseArgs(
                name=prefix,
                project=project,
                region=region,
                settings=config.database,
                backup_location=config.replica_region if config.database.cross_region_backups else None,
                transaction_log_retention_days=gcp.transaction_log_retention_days,
                network=network.network.id,
                private_services_cidr=network.ranges.private_services,
                encryption_key=keys.keys[CLOUD_SQL_KEY].id,
                encryption_key_grants=keys.grants[CLOUD_SQL_KEY],
                protect=config.protect,
                labels=labels,
                provider=provider,
                restore=config.restore,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        if config.restore is not None:
            workspace_bucket = AdoptedBucket(f"{prefix}-adopted", config.restore.adopt_bucket, provider,
                                             pulumi.ResourceOptions(parent=self)).bucket_name
        else:
            usage_logs = UsageLogBucket(
                f"{prefix}-usage-logs",
                LogBucketArgs(fit_name(f"{gcs_bucket_name(config.stack, project)}-logs", GCS_BUCKET_NAME_LIMIT),
                              config.storage_location, config.storage.access_log_retention_days, config.protect,
                              labels, provider),
                pulumi.ResourceOptions(parent=self),
            )
            workspace_bucket = WorkspaceBucket(
                f"{prefix}-workspaces",
                BucketArgs(
                    bucket_name=gcs_bucket_name(config.stack, project),
                    location=config.storage_location,
                    noncurrent_version_retention_days=config.storage.noncurrent_version_retention_days,
                    protect=config.protect,
                    labels=labels,
                    provider=provider,
                    log_bucket=usage_logs.bucket.name,
                ),
                pulumi.ResourceOptions(parent=self),
            ).bucket.name
        registry = ArtifactRegistry(
            prefix,
            RegistryArgs(
                repository_id=prefix,
                project=project,
                region=region,
                encryption_key=keys.keys[REGISTRY_KEY].id,
                encryption_key_grants=keys.grants[REGISTRY_KEY],
                protect=config.protect,
                labels=labels,
                provider=provider,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        # Nodes pull images Gitpod built from this repository only (no project-wide registry read).
        artifactregistry.RepositoryIamMember(
            f"{prefix}-nodes-registry-reader",
            project=project,
            location=region,
            repository=registry.repository.repository_id,
            role="roles/artifactregistry.reader",
            member=nodes.member,
            opts=on_gcp,
        )
        zone = CloudDnsZone(
            prefix,
            DnsArgs(prefix, config.domain, gcp.existing_zone_name, config.protect, labels, provider),
            pulumi.ResourceOptions(parent=self),
        )
        export_dnssec(zone.ds_record)

        scope = IdentityScope(prefix, project, region, provider, gke.workload_pool)
        dns_roles = DnsRoles(prefix, scope, pulumi.ResourceOptions(parent=self))
        dns_grants = (
            Grant("dns-zone", dns_roles.record_writer.name, zone.zone_name),
            Grant("project", dns_roles.zone_lister.name),
        )
        storage_grants = (Grant("bucket", "roles/storage.objectAdmin", workspace_bucket),)
        repository = registry.repository.repository_id
        namespace = config.gitpod.namespace
        build = config.gitpod.build
        # The add-ons (installed by this program, annotations in their charts) use Google service accounts.
        identities = workload_service_accounts(
            scope,
            {workload: WorkloadGrant(*account_of(workload, namespace, build), workload, dns_grants)
             for workload in ("cert-manager", "external-dns")},
            self,
        )
        # Gitpod's own workloads get IAM straight on their Kubernetes service accounts' principals: no annotation
        # that Gitpod's installer could drop, and the same for every build (contract.identities).
        gitpod_grants = {
            REGISTRY_PUSH: (Grant("repository", "roles/artifactregistry.writer", repository),),
            REGISTRY_PULL: (Grant("repository", "roles/artifactregistry.reader", repository),),
            STORAGE: storage_grants,
        }
        for workload, account in gitpod_accounts(build).items():
            identities[workload] = KubernetesPrincipalGrants(
                f"{prefix}-{workload}", scope, project_number,
                PrincipalGrant(account.namespace_in(namespace), account.service_account,
                               gitpod_grants[account.purpose]),
                pulumi.ResourceOptions(parent=self),
            ).identity
        static_key = None
        if build.storage_access == "s3-static-key":
            static_key = StorageKeyAccount(
                f"{prefix}-object-storage",
                StorageKeyArgs(prefix, project, workspace_bucket, config.gitpod.static_storage_key.rotation,
                               provider),
                pulumi.ResourceOptions(parent=self),
            ).key

        # The registry secret's refresher: an access token acts as this account, so it may write the one repository
        # (image-builder pushes with the token, registry-facade pulls with it) and nothing else. Not one of
        # `identities`: no Gitpod workload runs as it, so the installer config does not name it.
        registry_credentials = WorkloadServiceAccount(
            f"{prefix}-gitpod-registry-credentials", scope,
            WorkloadGrant(*account_of("registry-credentials", namespace, build), "registry-creds",
                          (Grant("repository", "roles/artifactregistry.writer", repository),)),
            pulumi.ResourceOptions(parent=self),
        ).identity

        instance = database.instance
        self.platform = Platform(
            cloud="gcp",
            region=region,
            cluster=Cluster(
                name=gke.cluster.name,
                kubernetes_provider=gke.kubernetes_provider,
                kubeconfig=pulumi.Output.secret(gke.kubeconfig),
                node_pool_labels=pools.labels,
                # GKE's own autoscaler scales the pools (autoscaling bounds on each pool).
                needs_cluster_autoscaler=False,
                # Helm releases and Jobs wait for the node pools: the default pool is removed with the cluster.
                ready=tuple(pools.node_pools.values()),
            ),
            database=Database(
                host=instance.private_ip_address,
                port=pulumi.Output.from_input(MYSQL_PORT),
                username=database.user.name,
                password=database.password,
                database_name="gitpod",
                ca_bundle_url=cloud_sql_ca_url(project, f"{prefix}-db"),
                ca_bundle_pem=instance.server_ca_certs.apply(
                    lambda certs: "".join(cert.cert or "" for cert in certs or [])
                ),
                restore_target=RestoreTarget(
                    kind="cloudsql",
                    instance_id=instance.name,
                    region=region,
                    backup_replica_region=config.replica_region if config.database.cross_region_backups else None,
                ),
            ),
            # A multi-region or dual-region bucket is its own replica: there is no second bucket to adopt.
            object_storage=ObjectStorage(
                kind="gcs",
                bucket=workspace_bucket,
                # The cell's region (Gitpod labels its installation with it); the bucket itself spans
                # config.storage_location.
                region=region,
                replica_bucket=None,
                replica_region=None,
                s3_endpoint=GCS_S3_ENDPOINT,
                project=project,
                static_key=static_key,
            ),
            registry=Registry(
                kind="artifact-registry", url=registry.url, server=registry.server,
                credential_minter=CredentialMinter(
                    image=GCLOUD_IMAGE,
                    # Workload Identity: the GKE metadata server hands gcloud the bound account's token.
                    mint_token="gcloud auth print-access-token --quiet",
                    username="oauth2accesstoken",
                    refresh_every_minutes=ACCESS_TOKEN_REFRESH_EVERY_MINUTES,
                    token_lifetime_minutes=ACCESS_TOKEN_LIFETIME_MINUTES,
                    identity=registry_credentials,
                    # gcloud writes its configuration and logs; the root filesystem is read-only.
                    env={"CLOUDSDK_CONFIG": "/tmp/gcloud", "CLOUDSDK_CORE_DISABLE_PROMPTS": "1"},
                ),
            ),
            dns=DnsZone(kind="clouddns", zone_id=zone.zone_name, domain=config.domain,
                        name_servers=zone.name_servers),
            identities=identities,
        )
        self.register_outputs(
            {
                "cluster_name": gke.cluster.name,
                "database_address": instance.private_ip_address,
                "bucket": workspace_bucket,
                "registry_url": registry.url,
                "zone_name": zone.zone_name,
            }
        )
