"""Every security property README's "What a cell is" table states is enforced by a rule of the pack.

The table is read phrase by phrase (tests/policies/readme_table.py). Each phrase is either a promise, mapped to
the rules that fail when a plan breaks it, or explicitly not a security property, with the reason. A phrase in
neither list fails: a new promise in README needs its rule (and this mapping) in the same change.
"""

from __future__ import annotations

import pytest

from policies.rules import ALL_RULES
from tests.policies.readme_table import promises, split_phrases

PROMISES: dict[tuple[str, str, str], tuple[str, ...]] = {
    ("network", "aws", "nodes in private subnets behind NAT (one per AZ in prod)"): ("aws-nodes-private-subnets",),
    ("network", "aws", "the database in subnets with no route out"): ("aws-database-subnets-no-route-out",),
    ("network", "aws", "public subnets only for load balancers"): ("aws-subnet-no-public-ip",
                                                                  "aws-sg-no-public-ingress"),
    ("network", "aws", "flow logs"): ("aws-vpc-flow-logs",),
    ("network", "aws", "default security group emptied"): ("aws-default-sg-closed",),
    ("network", "gcp", "custom VPC"): ("gcp-vpc-custom-mode",),
    ("network", "gcp", "firewall rules that deny ingress by default"): ("gcp-vpc-firewall-default-deny",
                                                                       "gcp-firewall-no-public-ingress"),
    ("network", "gcp", "private Google access"): ("gcp-subnet-private-google-access",),
    ("network", "gcp", "flow logs"): ("gcp-subnet-flow-logs",),
    ("cluster", "aws", "private endpoint"): ("aws-eks-private-endpoint",),
    ("cluster", "aws", "public endpoint off or limited to `publicAccessCidrs`"): ("aws-eks-endpoint-not-public",),
    ("cluster", "aws", "in prod public only with `allowPublicEndpoint`"): ("aws-eks-public-endpoint-prod",),
    ("cluster", "aws", "KMS envelope encryption of secrets"): ("aws-eks-secrets-encryption",),
    ("cluster", "aws", "all five log types"): ("aws-eks-control-plane-logging",),
    ("cluster", "aws", "OIDC for IRSA"): ("aws-eks-irsa-oidc",),
    ("cluster", "aws", "access entries for `adminRoleArns`"): ("aws-eks-api-authentication",),
    ("cluster", "aws", "EBS CSI on its own IRSA role"): ("aws-eks-ebs-csi-irsa",),
    ("cluster", "gcp", "regional in prod"): ("gcp-gke-regional-prod",),
    ("cluster", "gcp", "private nodes"): ("gcp-gke-private-nodes",),
    ("cluster", "gcp", "master authorized networks"): ("gcp-gke-master-authorized-networks",),
    ("cluster", "gcp", "release channel"): ("gcp-gke-release-channel",),
    ("cluster", "gcp", "Workload Identity"): ("gcp-gke-workload-identity",),
    ("cluster", "gcp", "shielded nodes"): ("gcp-gke-shielded-nodes",),
    ("cluster", "gcp", "network policy"): ("gcp-gke-network-policy",),
    ("cluster", "gcp", "KMS secrets encryption"): ("gcp-gke-secrets-encryption",),
    ("cluster", "gcp", "intranode visibility"): ("gcp-gke-intranode-visibility",),
    ("cluster", "gcp", "no client certificate or legacy ABAC"): ("gcp-gke-no-client-certificate",
                                                                 "gcp-gke-no-legacy-abac"),
    ("cluster", "gcp", "Binary Authorization"): ("gcp-gke-binary-authorization", "gcp-binary-authorization-allowlist"),
    ("cluster", "gcp", "Google Groups for RBAC with `gcp.securityGroup`"): ("gcp-gke-google-groups-rbac",),
    ("node pools", "aws", "`headless-workspaces` with Gitpod's workload labels"): (
        "node-pools-cover-gitpod-workloads",),
    ("node pools", "aws", "CMK-encrypted gp3 root volumes"): ("aws-launch-template-ebs-encrypted",),
    ("node pools", "aws", "IMDSv2 with hop limit 1 (workspace pods cannot reach the node role)"): (
        "aws-launch-template-imdsv2", "aws-eks-nodegroup-launch-template"),
    ("node pools", "aws", "node auto-repair"): ("aws-eks-node-auto-repair",),
    ("node pools", "gcp", "same pools and labels"): ("node-pools-cover-gitpod-workloads",),
    ("node pools", "gcp", "auto-repair/upgrade"): ("gcp-gke-node-auto-repair", "gcp-gke-node-auto-upgrade"),
    ("node pools", "gcp", "secure boot"): ("gcp-gke-node-shielded-instance",),
    ("node pools", "gcp", "`GKE_METADATA`"): ("gcp-gke-metadata-server",),
    ("node pools", "gcp", "a least-privilege node service account"): ("gcp-gke-node-service-account",
                                                                      "gcp-no-basic-roles"),
    ("database", "aws", "private"): ("aws-rds-not-public",),
    ("database", "aws", "TLS required"): ("aws-rds-tls-required",),
    ("database", "aws", "`explicit_defaults_for_timestamp=OFF`"): ("gitpod-mysql-explicit-defaults-for-timestamp",),
    ("database", "aws", "KMS"): ("aws-rds-storage-encrypted",),
    ("database", "aws", "multi-AZ in staging/prod"): ("aws-rds-multi-az-prod",),
    ("database", "aws", "7-35 days of point-in-time recovery"): ("aws-rds-backup-retention",),
    ("database", "aws", "backups replicated to `replicaRegion` in prod"): ("aws-rds-cross-region-backups-prod",),
    ("database", "aws", "deletion protection"): ("aws-rds-deletion-protection", "stateful-resources-protected-prod"),
    ("database", "aws", "final snapshot"): ("aws-rds-final-snapshot",),
    ("database", "aws", "IAM auth"): ("aws-rds-iam-authentication",),
    ("database", "aws", "Performance Insights"): ("aws-rds-performance-insights",),
    ("database", "aws", "enhanced monitoring"): ("aws-rds-enhanced-monitoring",),
    ("database", "aws", "log exports"): ("aws-rds-log-exports",),
    ("database", "gcp", "REGIONAL in prod"): ("gcp-sql-regional-prod",),
    ("database", "gcp", "backups + binary log (PITR)"): ("gcp-sql-backups-binary-log",),
    ("database", "gcp", "retained backups"): ("gcp-sql-backup-retention", "gcp-sql-retain-backups-on-delete"),
    ("database", "gcp", "private IP only"): ("gcp-sql-no-public-ip",),
    ("database", "gcp", "SSL required"): ("gcp-sql-ssl-required",),
    ("database", "gcp", "deletion protection"): ("gcp-sql-deletion-protection",),
    ("database", "gcp", "CMEK"): ("gcp-sql-cmek",),
    ("database", "gcp", "same flag"): ("gitpod-mysql-explicit-defaults-for-timestamp",),
    ("object storage", "aws", "primary bucket + replica bucket in `replicaRegion` (its own provider)"): (
        "aws-s3-replication-cross-region",),
    ("object storage", "aws", "versioned"): ("aws-s3-versioning",),
    ("object storage", "aws", "SSE-KMS"): ("aws-s3-kms-encryption",),
    ("object storage", "aws", "public access blocked"): ("aws-s3-public-access-block",),
    ("object storage", "aws", "ownership enforced"): ("aws-s3-acls-disabled",),
    ("object storage", "aws", "TLS-only policy"): ("aws-s3-tls-only",),
    ("object storage", "aws", "everything replicated"): ("aws-s3-replicated-prod",),
    ("object storage", "aws", "server access logs to a log bucket per region"): ("aws-s3-access-logging",),
    ("object storage", "aws", "object events to EventBridge"): ("aws-s3-event-notifications",),
    ("object storage", "aws", "only noncurrent versions ever expire"): ("aws-s3-keep-current-versions",),
    ("object storage", "gcp", "one multi-/dual-region bucket for Gitpod's workspace content and the cell's backups "
                              "(installer config)"): (
        "gcp-storage-multi-region",),
    ("object storage", "gcp", "versioned"): ("gcp-storage-versioning",),
    ("object storage", "gcp", "uniform access"): ("gcp-storage-uniform-access",),
    ("object storage", "gcp", "public access prevention"): ("gcp-storage-public-access-prevention",),
    ("object storage", "gcp", "usage logs to a log bucket"): ("gcp-storage-access-logging",),
    ("object storage", "gcp", "only noncurrent versions ever expire"): ("gcp-storage-keep-live-objects",),
    ("registry", "aws", "scan on push"): ("aws-ecr-scan-on-push",),
    ("registry", "aws", "KMS"): ("aws-ecr-kms-encryption",),
    ("registry", "gcp", "CMEK"): ("gcp-artifact-registry-cmek",),
    ("registry", "gcp", "tagged images never cleaned up"): ("gcp-artifact-registry-keep-tagged",),
    ("DNS + TLS", "aws", "Route53 zone with DNSSEC and query logging (or an existing one, used as it is)"): (
        "aws-route53-dnssec", "aws-route53-query-logging"),
    ("DNS + TLS", "aws", "cert-manager DNS01 with Let's Encrypt"): ("gitpod-tls-certificate",),
    ("DNS + TLS", "gcp", "Cloud DNS zone with DNSSEC (or an existing one)"): ("gcp-dns-dnssec",),
    ("DNS + TLS", "gcp", "same"): ("gitpod-tls-certificate",),
    ("identity", "aws", "IRSA roles"): ("aws-iam-no-wildcard-admin", "aws-iam-wildcard-resource-unscopable-only"),
    ("identity", "aws", "each trusted by exactly one service account"): ("aws-irsa-single-service-account",),
    ("identity", "aws", "no IAM users or access keys but the one storage key of a `release-2022.11.x` build"): (
        "aws-no-iam-users", "aws-no-access-keys"),
    ("identity", "aws", "that key limited to the cell's bucket"): ("static-storage-key-limited-to-one-bucket",),
    ("identity", "gcp", "a Google service account per add-on via Workload Identity"): (
        "gcp-workload-identity-single-ksa",),
    ("identity", "gcp", "Gitpod's workloads get IAM on their own Kubernetes service account's principal"): (
        "gcp-no-principal-sets",),
    ("identity", "gcp", "never a principal set"): ("gcp-no-principal-sets",),
    ("identity", "gcp", "no service account keys"): ("gcp-no-service-account-keys",),
    ("identity", "gcp", "no HMAC keys but the one storage key of a `release-2022.11.x` build"): ("gcp-no-hmac-keys",),
    ("identity", "gcp", "that key limited to the cell's bucket"): ("static-storage-key-limited-to-one-bucket",),
    ("logs and keys", "aws", "every CloudWatch log group KMS-encrypted"): ("aws-log-group-kms",),
    ("logs and keys", "aws", "a year of retention in prod"): ("aws-log-group-retention-prod",),
    ("logs and keys", "aws", "every KMS key with an explicit key policy"): ("aws-kms-key-policy",
                                                                           "aws-kms-key-rotation"),
    ("logs and keys", "gcp", "KMS keys rotated every 90 days"): ("gcp-kms-key-rotation",),
}

# Phrases that describe shape, sizing or availability rather than a security property: no rule, and why.
NOT_SECURITY: dict[tuple[str, str, str], str] = {
    ("network", "aws", "VPC over 2 AZs (3 in prod)"): "availability; the config refuses fewer than 3 zones in prod",
    ("network", "gcp", "node subnet with pod/service ranges"): "address plan (VPC-native networking)",
    ("network", "gcp", "Cloud NAT"): "egress path; private nodes are gcp-gke-private-nodes",
    ("node pools", "aws", "`services`"): "pool name; the labels are node-pools-cover-gitpod-workloads",
    ("node pools", "aws", "`regular-workspaces`"): "pool name; the labels are node-pools-cover-gitpod-workloads",
    ("node pools", "aws", "autoscaler discovery and node-template tags"): "scaling",
    ("node pools", "aws", "AL2023"): "operating system choice",
    ("node pools", "gcp", "GKE autoscaling"): "scaling",
    ("database", "aws", "RDS MySQL 8.0"): "engine version (Gitpod's requirement)",
    ("database", "aws", "utf8mb4"): "character set (Gitpod's requirement)",
    ("database", "gcp", "Cloud SQL MySQL 8.0"): "engine version (Gitpod's requirement)",
    ("object storage", "gcp", "read by Gitpod through the S3 API"): "the access path; its key is the identity row's",
    ("registry", "aws", "ECR `<cell>/base-images`"): "repository name",
    ("registry", "aws", "`<cell>/workspace-images`"): "repository name",
    ("registry", "gcp", "Artifact Registry docker repository"): "repository kind",
    ("DNS + TLS", "aws", "external-dns"): "record management (it writes only the cell's zone: its IAM policy)",
}
RULES = {rule.name for rule in ALL_RULES}


def test_every_phrase_of_the_table_is_a_promise_with_a_rule_or_explained() -> None:
    unmapped = [p for p in promises() if p not in PROMISES and p not in NOT_SECURITY]
    assert unmapped == [], f"README promises without a rule (add one, or explain in NOT_SECURITY): {unmapped}"


def test_every_mapped_rule_exists() -> None:
    missing = {rule for rules in PROMISES.values() for rule in rules if rule not in RULES}
    assert missing == set()


def test_the_mapping_names_only_phrases_readme_still_states() -> None:
    stated = set(promises())
    assert [key for key in [*PROMISES, *NOT_SECURITY] if key not in stated] == []


def test_no_phrase_is_both_a_promise_and_explained_away() -> None:
    assert set(PROMISES) & set(NOT_SECURITY) == set()


@pytest.mark.parametrize(("cell", "expected"), [
    ("EKS: private endpoint, public endpoint off or limited to `a, b`", ["private endpoint",
                                                                          "public endpoint off or limited to `a, b`"]),
    ("VPC over 2 AZs (3 in prod); flow logs", ["VPC over 2 AZs (3 in prod)", "flow logs"]),
    ("x: y. Z does (a, b)", ["x", "y", "Z does (a, b)"]),
])
def test_phrases_split_outside_code_and_parentheses(cell: str, expected: list[str]) -> None:
    assert split_phrases(cell) == expected


def test_a_new_unmapped_promise_fails() -> None:
    text = ("## What a cell is\n\n| part | AWS | GCP |\n|---|---|---|\n"
            "| network | flow logs, teleportation | flow logs |\n")
    unmapped = [p for p in promises(text) if p not in PROMISES and p not in NOT_SECURITY]
    assert unmapped == [("network", "aws", "teleportation")]
