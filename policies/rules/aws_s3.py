"""S3 resources checked on their own: no deprecated inline bucket settings, ACLs disabled, lifecycle rules that
never expire current versions."""

from __future__ import annotations

from fnmatch import fnmatch
from typing import Any

from policies.core.props import as_list, get
from policies.core.rule import Report, configured, resource_rule
from policies.rules.tokens import S3_BUCKETS, S3_LIFECYCLE, S3_OWNERSHIP_CONTROLS

LIFECYCLE_SCHEMA = {
    "exemptBuckets": {
        "type": "array",
        "items": {"type": "string"},
        "default": [],
        "description": "Bucket-name globs (e.g. access-log buckets) allowed to expire current object versions.",
    },
}
# pulumi-aws 7 `s3.Bucket` inputs deprecated in favour of their own resources: input -> the resource to use.
DEPRECATED_INLINE_SETTINGS = {
    "accelerationStatus": "s3.BucketAccelerateConfiguration",
    "acl": "s3.BucketAcl",
    "corsRules": "s3.BucketCorsConfiguration",
    "grants": "s3.BucketAcl",
    "lifecycleRules": "s3.BucketLifecycleConfiguration",
    "logging": "s3.BucketLogging",
    "objectLockConfiguration": "objectLockEnabled and s3.BucketObjectLockConfiguration",
    "policy": "s3.BucketPolicy",
    "replicationConfiguration": "s3.BucketReplicationConfig",
    "requestPayer": "s3.BucketRequestPaymentConfiguration",
    "serverSideEncryptionConfiguration": "s3.BucketServerSideEncryptionConfiguration",
    "versioning": "s3.BucketVersioning",
    "website": "s3.BucketWebsiteConfiguration",
}


@resource_rule(
    name="aws-s3-no-inline-bucket-settings",
    summary="Buckets set none of the inline settings pulumi-aws 7 deprecates (lifecycleRules, versioning, "
    "serverSideEncryptionConfiguration, replicationConfiguration, policy, acl, ...); each is its own resource. "
    "The S3 recovery, encryption and exposure rules read only those resources, so an inline setting would go "
    "unchecked (and fight the standalone resource).",
    types=S3_BUCKETS,
)
def s3_no_inline_bucket_settings(args: Any, report: Report) -> None:
    for key, replacement in DEPRECATED_INLINE_SETTINGS.items():
        value = get(args.props, key)
        if value is not None and value != [] and value != {}:
            report(f"{key} is a deprecated inline bucket setting the pack does not check; use {replacement} "
                   "instead.")


@resource_rule(
    name="aws-s3-acls-disabled",
    summary="S3 bucket ownership controls enforce bucket-owner ownership, which disables ACLs.",
    types=S3_OWNERSHIP_CONTROLS,
    control="CKV2_AWS_65, AWS FSBP S3.12",
)
def s3_acls_disabled(args: Any, report: Report) -> None:
    ownership = get(args.props, "rule.objectOwnership")
    if ownership != "BucketOwnerEnforced":
        shown = "not set" if ownership is None else repr(ownership)
        report(f"rule.objectOwnership is {shown}; set it to 'BucketOwnerEnforced' to disable ACLs.")


def expires_current_versions(rule: Any) -> bool:
    if str(get(rule, "status") or "Enabled") != "Enabled":
        return False
    expiration = get(rule, "expiration")
    return any(get(entry, "days") or get(entry, "date") for entry in as_list(expiration))


@resource_rule(
    name="aws-s3-keep-current-versions",
    summary="No enabled S3 lifecycle rule expires current object versions (pinned workspaces must never lose "
    "data); expire noncurrent versions instead.",
    types=S3_LIFECYCLE,
    config=LIFECYCLE_SCHEMA,
)
def s3_keep_current_versions(args: Any, report: Report) -> None:
    bucket = str(get(args.props, "bucket") or "")
    if any(fnmatch(bucket, pattern) for pattern in configured(args, LIFECYCLE_SCHEMA)["exemptBuckets"]):
        return
    for index, rule in enumerate(as_list(get(args.props, "rules"))):
        if expires_current_versions(rule):
            label = get(rule, "id") or f"#{index}"
            report(f"lifecycle rule {label!r} expires current object versions; use noncurrentVersionExpiration "
                   "so pinned workspaces keep their data.")
