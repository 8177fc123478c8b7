"""S3 rules that follow a bucket to its sub-resources (pulumi-aws 7 splits a bucket's settings into resources)."""

from __future__ import annotations

from collections.abc import Iterator
from fnmatch import fnmatch
from typing import Any

from policies.core import iam
from policies.core.context import PRODUCTION_SCHEMA, in_environments, region_of
from policies.core.props import as_list, get, known, truthy
from policies.core.rule import Report, configured, stack_rule
from policies.core.stack import StackView, dependency_urns
from policies.rules.aws_s3_logging import access_log_destinations, is_access_log_destination
from policies.rules.tokens import (
    S3_BUCKETS,
    S3_ENCRYPTION,
    S3_LIFECYCLE,
    S3_POLICY,
    S3_PUBLIC_ACCESS_BLOCK,
    S3_REPLICATION,
    S3_VERSIONING,
)

_KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
_BLOCK_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def buckets_with(view: StackView, types: tuple[str, ...]) -> Iterator[tuple[Any, list[Any]]]:
    for bucket in view.of_type(*S3_BUCKETS):
        yield bucket, view.attached_to(bucket, types, key="bucket")


def bucket_name_from_arn(arn: Any) -> str | None:
    if isinstance(arn, str) and arn.startswith("arn:") and ":::" in arn:
        return arn.split(":::", 1)[1].split("/", 1)[0]
    return arn if isinstance(arn, str) and arn else None


def source_buckets(view: StackView, config: Any) -> list[Any]:
    return [
        bucket for bucket in view.of_type(*S3_BUCKETS)
        if config.urn in {c.urn for c in view.attached_to(bucket, S3_REPLICATION, "bucket")}
    ]


def destination_bucket(view: StackView, config: Any, arn: Any) -> Any | None:
    """The bucket a replication destination ARN points at: by `arn` (CLI outputs) or by name (offline plan);
    failing both (auto-named, or unknown during preview), the one other bucket the configuration depends on."""
    if isinstance(arn, str) and arn:
        for bucket in view.of_type(*S3_BUCKETS):
            if known(bucket.props, "arn") == arn:
                return bucket
        matches = view.find_by(S3_BUCKETS, "bucket", bucket_name_from_arn(arn))
        if matches:
            return matches[0]
    sources = {bucket.urn for bucket in source_buckets(view, config)}
    deps = dependency_urns(config)
    others = [b for b in view.of_type(*S3_BUCKETS) if b.urn in deps and b.urn not in sources]
    return others[0] if len(others) == 1 else None


def replication_destinations(config: Any) -> list[Any]:
    return [known(rule, "destination.bucket") for rule in as_list(known(config.props, "rules"))]



@stack_rule(
    name="aws-s3-versioning",
    summary="Every S3 bucket has a BucketVersioning with status Enabled.",
    control="CKV_AWS_21",
)
def s3_versioning(args: Any, report: Report) -> None:
    for bucket, versionings in buckets_with(StackView(args.resources), S3_VERSIONING):
        statuses = [get(v.props, "versioningConfiguration.status") for v in versionings]
        if not versionings:
            report("no BucketVersioning for this bucket; enable versioning.", bucket.urn)
        elif "Enabled" not in statuses:
            report(f"versioning status is {statuses[0]!r}; it must be 'Enabled'.", bucket.urn)


@stack_rule(
    name="aws-s3-kms-encryption",
    summary="Every S3 bucket has default server-side encryption with KMS (aws:kms or aws:kms:dsse); an "
    "access-log destination (and only one) uses SSE-S3 (AES256), the only default encryption S3 server access "
    "log delivery supports.",
    control="CKV_AWS_145",
)
def s3_kms_encryption(args: Any, report: Report) -> None:
    view = StackView(args.resources)
    for bucket, configs in buckets_with(view, S3_ENCRYPTION):
        algorithms = [
            get(rule, "applyServerSideEncryptionByDefault.sseAlgorithm")
            for config in configs
            for rule in as_list(get(config.props, "rules"))
        ]
        if not configs:
            report("no BucketServerSideEncryptionConfiguration for this bucket; encrypt it with KMS.", bucket.urn)
        elif is_access_log_destination(view, bucket):
            if not any(algorithm == "AES256" or algorithm in _KMS_ALGORITHMS for algorithm in algorithms):
                report(f"default encryption uses {algorithms or 'no algorithm'}; an access-log bucket uses "
                       "'AES256'.", bucket.urn)
        elif not any(algorithm in _KMS_ALGORITHMS for algorithm in algorithms):
            report(f"default encryption uses {algorithms or 'no algorithm'}; use 'aws:kms'.", bucket.urn)


@stack_rule(
    name="aws-s3-public-access-block",
    summary="Every S3 bucket has a BucketPublicAccessBlock with all four settings true.",
    control="CKV2_AWS_6, CKV_AWS_53-56, AWS FSBP S3.8",
)
def s3_public_access_block(args: Any, report: Report) -> None:
    for bucket, blocks in buckets_with(StackView(args.resources), S3_PUBLIC_ACCESS_BLOCK):
        if not blocks:
            report("no BucketPublicAccessBlock for this bucket.", bucket.urn)
            continue
        missing = [flag for flag in _BLOCK_FLAGS if not any(truthy(get(b.props, flag)) for b in blocks)]
        if missing:
            report(f"public access block leaves {', '.join(missing)} off; set all four to true.", bucket.urn)


def denies_insecure_transport(statement: Any) -> bool:
    if not iam.is_deny(statement):
        return False
    values = iam.condition_values(statement, "Bool", "aws:SecureTransport")
    return any(value.lower() == "false" for value in values)


@stack_rule(
    name="aws-s3-tls-only",
    summary="Every S3 bucket has a bucket policy denying requests that do not use TLS (aws:SecureTransport).",
    control="AWS FSBP S3.5",
)
def s3_tls_only(args: Any, report: Report) -> None:
    for bucket, policies in buckets_with(StackView(args.resources), S3_POLICY):
        statements = [s for policy in policies for s in iam.statements(get(policy.props, "policy"))]
        if not any(denies_insecure_transport(statement) for statement in statements):
            report("no bucket policy statement denies requests with aws:SecureTransport=false.", bucket.urn)


@stack_rule(
    name="aws-s3-replication-cross-region",
    summary="S3 replication targets a bucket in a different region than its source bucket (the destination "
    "bucket is followed to its provider's region).",
    control="CKV_AWS_144",
)
def s3_replication_cross_region(args: Any, report: Report) -> None:
    view = StackView(args.resources)
    for config in view.of_type(*S3_REPLICATION):
        sources = source_buckets(view, config)
        source_region = region_of(sources[0]) if sources else region_of(config)
        for arn in replication_destinations(config):
            destination = destination_bucket(view, config, arn)
            if destination is None:
                shown = repr(arn) if arn else "(unknown)"
                report(f"replication destination {shown} is not a bucket in this stack, so its region cannot be "
                       "verified.", config.urn)
                continue
            target_region = region_of(destination)
            if source_region is None or target_region is None:
                report(f"cannot tell the regions of the source bucket and of {destination.name}; give both "
                       "buckets providers (or `region`) for their regions.", config.urn)
            elif source_region == target_region:
                report(f"replicates to {destination.name} in {target_region}, the source bucket's own region; "
                       "the replica must be in a different region.", config.urn)


@stack_rule(
    name="aws-s3-replicated-prod",
    summary="Every production S3 bucket that is not itself a replica has an enabled replication configuration.",
    control="CKV_AWS_144, AWS Security Hub S3.7",
    config=PRODUCTION_SCHEMA,
)
def s3_replicated_prod(args: Any, report: Report) -> None:
    view = StackView(args.resources)
    environments = configured(args, PRODUCTION_SCHEMA)["environments"]
    replicas = {
        destination.urn
        for config in view.of_type(*S3_REPLICATION)
        for arn in replication_destinations(config)
        if (destination := destination_bucket(view, config, arn)) is not None
    }
    for bucket, configs in buckets_with(view, S3_REPLICATION):
        if bucket.urn in replicas or not in_environments(bucket, environments):
            continue
        enabled = [
            rule for config in configs for rule in as_list(get(config.props, "rules"))
            if str(get(rule, "status") or "Enabled") == "Enabled"
        ]
        if not enabled:
            report("production bucket has no enabled BucketReplicationConfig to a bucket in another region.",
                   bucket.urn)


LIFECYCLE_SCHEMA = {
    "exemptBuckets": {
        "type": "array",
        "items": {"type": "string"},
        "default": [],
        "description": "Bucket-name globs allowed to expire current object versions (access-log destinations of "
        "the stack always are).",
    },
}


def expires_current_versions(rule: Any) -> bool:
    if str(get(rule, "status") or "Enabled") != "Enabled":
        return False
    expiration = get(rule, "expiration")
    return any(get(entry, "days") or get(entry, "date") for entry in as_list(expiration))


@stack_rule(
    name="aws-s3-keep-current-versions",
    summary="No enabled S3 lifecycle rule expires current object versions (pinned workspaces must never lose "
    "data); expire noncurrent versions instead. Only access-log destinations (buckets that receive server access "
    "logs and hold nothing else) may expire their logs.",
    config=LIFECYCLE_SCHEMA,
)
def s3_keep_current_versions(args: Any, report: Report) -> None:
    view = StackView(args.resources)
    exempt = configured(args, LIFECYCLE_SCHEMA)["exemptBuckets"]
    log_buckets = {name for name in access_log_destinations(view)
                   if any(is_access_log_destination(view, b) for b in view.find_by(S3_BUCKETS, "bucket", name))}
    for lifecycle in view.of_type(*S3_LIFECYCLE):
        bucket = str(get(lifecycle.props, "bucket") or "")
        if bucket in log_buckets or any(fnmatch(bucket, pattern) for pattern in exempt):
            continue
        for index, rule in enumerate(as_list(get(lifecycle.props, "rules"))):
            if expires_current_versions(rule):
                label = get(rule, "id") or f"#{index}"
                report(f"lifecycle rule {label!r} expires current object versions; use noncurrentVersionExpiration "
                       "so pinned workspaces keep their data.", lifecycle.urn)
