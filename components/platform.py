"""The Platform contract: everything a cloud hands to the cloud-agnostic Gitpod layer.

A cloud cell (components/aws, components/gcp) builds its infrastructure and returns one `Platform`. The Gitpod
layer reads nothing else from the cloud, so a new cloud is a new folder that returns this.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi


@dataclass(frozen=True)
class WorkloadIdentity:
    """A cloud identity bound to exactly one Kubernetes service account (IRSA role or GCP service account)."""

    namespace: str
    service_account: str
    # Annotations to put on the service account, e.g. {"eks.amazonaws.com/role-arn": <arn>}.
    annotations: pulumi.Output[dict[str, str]]
    # How the identity reaches the account's pods, in words (the plan shows it per workload).
    via: str = "the service account's annotations"


@dataclass(frozen=True)
class RestoreTarget:
    """What a restore point or drill is taken from: the managed database instance and where it lives."""

    # mysql-binlog: a MySQL server the cell did not create; its restore point is a binary-log position.
    kind: Literal["rds", "cloudsql", "mysql-binlog"]
    instance_id: pulumi.Output[str]
    region: str
    # Cross-region copy of automated backups, if any (region of the replicated backups).
    backup_replica_region: str | None


@dataclass(frozen=True)
class Database:
    host: pulumi.Output[str]
    port: pulumi.Output[int]
    username: pulumi.Output[str]
    password: pulumi.Output[str]  # always a Pulumi secret
    database_name: str
    # PEM bundle of the provider's certificate authorities, for TLS to MySQL; a URL where the bundle is
    # too large or rotates (RDS publishes one), resolved by whoever writes the Kubernetes secret.
    ca_bundle_url: str
    restore_target: RestoreTarget
    # The CA bundle itself where the cloud has no fetchable URL for it (Cloud SQL's CAs are per instance).
    ca_bundle_pem: pulumi.Output[str] | None = None


@dataclass(frozen=True)
class StaticStorageKey:
    """The one static credential a cell may hold, for Gitpod builds that read object storage with nothing else
    (contract.gitpod_builds `s3-static-key`): an S3 API key (an IAM user's access key, a GCS HMAC key) that reaches
    only the cell's bucket. The Gitpod layer writes it into the storage secret and nowhere else."""

    access_key_id: pulumi.Output[str]  # a Pulumi secret, like the key itself
    secret_access_key: pulumi.Output[str]  # a Pulumi secret
    # Who holds the key (an IAM user ARN, a service account e-mail), for the plan and the rotation runbook.
    holder: pulumi.Output[str]


@dataclass(frozen=True)
class ObjectStorage:
    kind: Literal["s3", "gcs"]
    bucket: pulumi.Output[str]
    region: str
    # The replica a restore adopts when the primary region is gone (None when the location is multi-region).
    replica_bucket: pulumi.Output[str] | None
    replica_region: str | None
    # The S3 API endpoint Gitpod's storage users reach the bucket at (s3.<region>.amazonaws.com,
    # storage.googleapis.com for GCS's XML API).
    s3_endpoint: str = ""
    # GCP only: the project the bucket lives in.
    project: str | None = None
    # Present when the pinned build needs a static key (CellConfig.gitpod.build.storage_access).
    static_key: StaticStorageKey | None = None


@dataclass(frozen=True)
class CredentialMinter:
    """How a pod in the cell mints short-lived registry credentials with its own workload identity (no static keys).

    The Gitpod layer runs `mint_token` on a schedule in `image`, as the service account of `identity`, and writes
    `username` + the printed token into the registry's docker config secret. `refresh_every_minutes` must leave the
    token at least one more refresh to live (at most half of `token_lifetime_minutes`).
    """

    # A pinned image holding the cloud's CLI, a POSIX shell, curl and base64.
    image: str
    # POSIX shell commands that print one registry password on stdout and nothing else.
    mint_token: str
    # The docker-config user the registry expects with such a token ("AWS", "oauth2accesstoken").
    username: str
    refresh_every_minutes: int
    token_lifetime_minutes: int
    identity: WorkloadIdentity
    # Plain, non-secret settings the CLI needs (writable config dirs on a read-only root filesystem).
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Registry:
    kind: Literal["ecr", "artifact-registry", "docker-registry"]
    # Registry host and path prefix Gitpod pushes workspace images under, e.g. <acct>.dkr.ecr.<region>.amazonaws.com
    url: pulumi.Output[str]
    server: pulumi.Output[str]
    # None: the cell hands over no push credentials and the registry secret stays an empty docker config.
    credential_minter: CredentialMinter | None = None
    # A docker config (`{"auths": {...}}`, a Pulumi secret) the cell writes into the registry secret itself, for a
    # registry whose credentials are given rather than minted (an existing cluster's registry).
    docker_config: pulumi.Output[str] | None = None


@dataclass(frozen=True)
class DnsZone:
    # none: the cell manages no zone (an existing cluster: the operator publishes the records).
    kind: Literal["route53", "clouddns", "none"]
    zone_id: pulumi.Output[str]
    domain: str
    name_servers: pulumi.Output[list[str]]


@dataclass(frozen=True)
class Cluster:
    name: pulumi.Output[str]
    kubernetes_provider: pulumi.ProviderResource
    # The provider's kubeconfig (a secret; short-lived tokens via the cloud CLI), also used by the rollout hooks.
    kubeconfig: pulumi.Output[str]
    # Workload labels present on node pools (docs/architecture.md), by pool name.
    node_pool_labels: Mapping[str, Mapping[str, str]]
    # True when a cluster-autoscaler must be installed in-cluster (EKS); GKE autoscales itself.
    needs_cluster_autoscaler: bool
    # Resources that must exist before workloads are scheduled (node groups/pools, networking add-ons): the Gitpod
    # layer makes its Helm releases and Jobs depend on them, so nothing waits for nodes that are still coming.
    ready: Sequence[pulumi.Resource] = ()
    # An existing cluster that runs its own cert-manager: the Gitpod layer installs none and requests the
    # certificate from this ClusterIssuer instead of creating an ACME one. None: the cell installs cert-manager.
    existing_cluster_issuer: str | None = None


@dataclass(frozen=True)
class Platform:
    cloud: Literal["aws", "gcp", "kubernetes"]
    region: str
    cluster: Cluster
    database: Database
    object_storage: ObjectStorage
    registry: Registry
    dns: DnsZone
    # Keyed by workload: "cert-manager", "external-dns", "cluster-autoscaler", "gitpod-storage", ...
    identities: Mapping[str, WorkloadIdentity] = field(default_factory=dict)
