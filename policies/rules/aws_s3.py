"""S3 resources checked on their own: no deprecated inline bucket settings, ACLs disabled. (Lifecycle rules are
checked with the stack, aws_s3_stack.py: whether a bucket may expire current objects depends on what it is.)"""

from __future__ import annotations

from typing import Any

from policies.core.props import get
from policies.core.rule import Report, resource_rule
from policies.rules.tokens import S3_BUCKETS, S3_OWNERSHIP_CONTROLS

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
