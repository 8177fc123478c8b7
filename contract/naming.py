"""Names derived from a stack: the cell's prefix, database, buckets and repositories, on every cloud.

The stack name becomes part of S3/GCS bucket names, RDS/Cloud SQL identifiers, IAM role names, GKE cluster names
and Kubernetes Job names, so it is held to the tightest of their rules here, once, for the program (config
validation) and for `ops` (which finds a cell's resources by these names).
"""

from __future__ import annotations

import hashlib
import re

# The stack-config namespace of the program's own keys (`gitpod-cell:<key>`).
CONFIG_NAMESPACE = "gitpod-cell"
SUPPORTED_CLOUDS: tuple[str, ...] = ("aws", "gcp", "kubernetes")

# Lowercase letters, digits and single hyphens, starting with a letter and ending with a letter or digit.
STACK_NAME = re.compile(r"^[a-z](?:[a-z0-9]|-(?=[a-z0-9]))*$")
# The longest names each cloud's cell derives from the stack name, as (name with `{stack}`, its limit, what it
# is). Random suffixes are counted: Pulumi auto-names AWS resources `<name>-<7 hex>` (IAM roles: at most 64
# characters) and Kubernetes objects `<name>-<8 hex>`; Kubernetes puts a Job's name in a label (at most 63).
# The tightest entry sets MAX_STACK_NAME_LENGTH; tests plan a stack of that length on each cloud.
DERIVED_NAME_LIMITS: dict[str, tuple[tuple[str, int, str], ...]] = {
    "aws": (
        ("gitpod-{stack}-gitpod-registry-facade-registry-abcdef0", 64, "IAM role of registry-facade (auto-named)"),
        ("gitpod-{stack}-registry-credentials-initial-abcdef01", 63, "registry refresher's first Job (auto-named)"),
        ("gitpod-{stack}-123456789012-ap-southeast-1", 63, "S3 bucket gitpod-<stack>-<account>-<region>"),
        ("gitpod-{stack}-db", 63, "RDS instance identifier"),
        ("gitpod-{stack}", 100, "EKS cluster name"),
    ),
    "gcp": (
        ("gitpod-{stack}-registry-credentials-initial-abcdef01", 63, "registry refresher's first Job (auto-named)"),
        ("gitpod-{stack}", 40, "GKE cluster name"),
        ("gitpod-{stack}-private-services", 63, "Compute global address name"),
        # Longer service-account ids and bucket names are shortened with a digest (fit_name), so they never
        # collide; the 30-character project id is the longest a bucket name carries.
        ("gitpod-{stack}-abcdefghijklmnopqrstuvwxyz0123", 63, "GCS bucket gitpod-<stack>-<project>"),
    ),
    # An existing cluster: the cell names only Kubernetes objects (and no cloud resources) after the stack.
    "kubernetes": (
        ("{stack}", 63, "label value gitpod-cell/stack on the cell's Kubernetes objects"),
        ("gitpod-{stack}", 63, "the cell's name prefix (Pulumi names, the config backup's path)"),
    ),
}
MAX_STACK_NAME_LENGTH: dict[str, int] = {
    cloud: min(limit - len(template.format(stack="")) for template, limit, _ in names)
    for cloud, names in DERIVED_NAME_LIMITS.items()
}

# ECR repositories under the cell's prefix (AWS); on GCP one Artifact Registry repository is named the prefix.
GITPOD_REPOSITORIES: tuple[str, ...] = ("base-images", "workspace-images")
GCS_BUCKET_NAME_LIMIT = 63


def stack_name_problem(name: str, cloud: str = "aws") -> str | None:
    """Why `name` cannot name a cell on `cloud` (None when it can)."""
    limit = MAX_STACK_NAME_LENGTH.get(cloud, MAX_STACK_NAME_LENGTH["aws"])
    if STACK_NAME.match(name) and len(name) <= limit:
        return None
    return (f"{name!r} is not usable as a cell name: 1-{limit} lowercase letters, digits and single hyphens, "
            "starting with a letter and ending with a letter or digit (it becomes part of bucket, database, "
            "IAM role and Kubernetes Job names)")


def name_prefix(stack: str) -> str:
    """Every resource name of the cell starts with this. Never shortened: two stacks must never map to the same
    names, and stack_name_problem bounds the length."""
    return f"gitpod-{stack}"


def db_instance_identifier(stack: str) -> str:
    """The RDS instance identifier or Cloud SQL instance name."""
    return f"{name_prefix(stack)}-db"


def s3_bucket_name(stack: str, account_id: str, region: str) -> str:
    """The cell's bucket in `region` (its replica is the same name in the replica region)."""
    return f"{name_prefix(stack)}-{account_id}-{region}"


def fit_name(text: str, limit: int, separator: str = "-") -> str:
    """`text`, or when longer than `limit` its head plus a stable 6-hex digest of the whole, so two long names never
    collide after shortening."""
    if len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:6]
    return f"{text[: limit - len(digest) - 1].rstrip(separator)}{separator}{digest}"


def gcs_bucket_name(stack: str, project: str) -> str:
    """Globally unique (the project id is), at most 63 characters."""
    return fit_name(f"{name_prefix(stack)}-{project}", GCS_BUCKET_NAME_LIMIT)


def registry_repositories(stack: str, cloud: str) -> tuple[str, ...]:
    """The registry repositories Gitpod pushes to: ECR `<prefix>/<name>` on AWS, the Artifact Registry repository
    `<prefix>` on GCP; on an existing cluster, the registry's own path (none the cell creates)."""
    if cloud == "gcp":
        return (name_prefix(stack),)
    if cloud == "kubernetes":
        return ()
    return tuple(f"{name_prefix(stack)}/{name}" for name in GITPOD_REPOSITORIES)


# The tag (AWS) / label (GCP) that marks the one static storage credential a cell may hold; the policy pack allows
# exactly the key that carries it and reaches nothing but the cell's bucket.
STATIC_STORAGE_KEY_TAG = "gitpod-cell-purpose"
STATIC_STORAGE_KEY_PURPOSE = "object-storage-static-key"
