"""S3 server access logs: one log bucket per region the cell keeps buckets in, receiving the access logs of the
cell's buckets there (S3 delivers only to a bucket in the same region and account).

The log bucket is encrypted with SSE-S3 (AES256), not the cell's KMS keys: AWS's S3 user guide supports only
SSE-S3 as the default encryption of a server access log destination (S3's log delivery writes without SSE-KMS
headers). Its own access is not logged: logging a log bucket into itself (or two log buckets into each other)
feeds every delivery back as a new log record, without end. Both are documented deviations (docs/policies.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_aws import s3

from components.aws.policy_documents import document
from components.component import child, stateful

ACCESS_LOG_PREFIX = "s3-access/"
# Delivery of the last day's logs can lag by hours; noncurrent copies are kept only briefly.
NONCURRENT_LOG_DAYS = 7


def access_log_bucket_policy(log_bucket_arn: str, account_id: str, source_bucket_arns: Sequence[str]) -> str:
    """TLS only, and S3's log delivery may write objects for the cell's own buckets only."""
    return document([
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [log_bucket_arn, f"{log_bucket_arn}/*"],
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Sid": "S3ServerAccessLogDelivery", "Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": f"{log_bucket_arn}/{ACCESS_LOG_PREFIX}*",
         "Condition": {"StringEquals": {"aws:SourceAccount": account_id},
                       "ArnLike": {"aws:SourceArn": list(source_bucket_arns)}}},
    ])


@dataclass(frozen=True)
class AccessLogBucketArgs:
    bucket_name: pulumi.Input[str]
    # The buckets whose access logs this bucket receives (ARNs; all in this bucket's region).
    source_bucket_arns: Sequence[pulumi.Input[str]]
    account_id: pulumi.Input[str]
    retention_days: int
    protect: bool
    tags: Mapping[str, str]
    provider: pulumi.ProviderResource


class AccessLogBucket(pulumi.ComponentResource):
    bucket: s3.Bucket
    versioning: s3.BucketVersioning

    def __init__(self, name: str, args: AccessLogBucketArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gitpod-cell:aws:AccessLogBucket", name, None, opts)
        tags = dict(args.tags)
        on = child(self, provider=args.provider)
        self.bucket = s3.Bucket(name, bucket=args.bucket_name, force_destroy=False,
                                tags={**tags, "Name": name, "Purpose": "s3-access-logs"},
                                opts=stateful(self, args.protect, provider=args.provider))
        s3.BucketOwnershipControls(
            name, bucket=self.bucket.bucket,
            rule=s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"), opts=on)
        public_access = s3.BucketPublicAccessBlock(
            name, bucket=self.bucket.bucket, block_public_acls=True, block_public_policy=True,
            ignore_public_acls=True, restrict_public_buckets=True, opts=on)
        self.versioning = versioning = s3.BucketVersioning(
            name, bucket=self.bucket.bucket,
            versioning_configuration=s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=stateful(self, args.protect, provider=args.provider))
        s3.BucketServerSideEncryptionConfiguration(
            name, bucket=self.bucket.bucket,
            rules=[s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=(
                    s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256")))],
            opts=on)
        s3.BucketPolicy(
            name, bucket=self.bucket.bucket,
            policy=pulumi.Output.all(self.bucket.arn, args.account_id, *args.source_bucket_arns).apply(
                lambda values: access_log_bucket_policy(values[0], values[1], values[2:])),
            opts=child(self, provider=args.provider, depends_on=[public_access]))
        # Logs are not workspace content: current log objects expire after the retention, unlike the cell's
        # data buckets (rule aws-s3-keep-current-versions allows this only for access-log destinations).
        s3.BucketLifecycleConfiguration(
            name, bucket=self.bucket.bucket,
            rules=[s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-access-logs", status="Enabled",
                filter=s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                expiration=s3.BucketLifecycleConfigurationRuleExpirationArgs(days=args.retention_days),
                noncurrent_version_expiration=s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=NONCURRENT_LOG_DAYS),
                abort_incomplete_multipart_upload=(
                    s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(days_after_initiation=7)),
            )],
            opts=child(self, provider=args.provider, depends_on=[versioning]))
        bucket_events(name, self.bucket, self, args.provider)
        self.register_outputs({"bucket": self.bucket.bucket, "arn": self.bucket.arn})


def bucket_events(name: str, bucket: s3.Bucket, parent: pulumi.Resource,
                  provider: pulumi.ProviderResource) -> s3.BucketNotification:
    """Every object event of the bucket goes to the region's default EventBridge bus, where security tooling (or
    an operator's rule) can subscribe without touching the bucket; nothing is delivered unless a rule matches."""
    return s3.BucketNotification(name, bucket=bucket.bucket, eventbridge=True, opts=child(parent, provider=provider))


def server_access_logging(name: str, bucket: s3.Bucket, log_bucket: pulumi.Input[str], parent: pulumi.Resource,
                          provider: pulumi.ProviderResource) -> s3.BucketLogging:
    """`bucket`'s access logs into `log_bucket`, partitioned by event time (queryable with Athena as they are)."""
    return s3.BucketLogging(
        name, bucket=bucket.bucket, target_bucket=log_bucket, target_prefix=ACCESS_LOG_PREFIX,
        target_object_key_format=s3.BucketLoggingTargetObjectKeyFormatArgs(
            partitioned_prefix=s3.BucketLoggingTargetObjectKeyFormatPartitionedPrefixArgs(
                partition_date_source="EventTime")),
        opts=child(parent, provider=provider))


def log_replication_policy(primary_arn: str, replica_arn: str) -> str:
    buckets = [primary_arn, replica_arn]
    return document([
        {"Effect": "Allow", "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"], "Resource": buckets},
        {"Effect": "Allow", "Action": ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl",
                                       "s3:GetObjectVersionTagging"], "Resource": [f"{b}/*" for b in buckets]},
        {"Effect": "Allow", "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
         "Resource": [f"{b}/*" for b in buckets]},
    ])


def replicate_each_other(name: str, primary: AccessLogBucket, replica: AccessLogBucket, role_arn: pulumi.Input[str],
                         parent: pulumi.Resource, primary_provider: pulumi.ProviderResource,
                         replica_provider: pulumi.ProviderResource, after: Sequence[pulumi.Resource] = ()) -> None:
    """Each region's access logs are copied to the other region's log bucket, so the audit trail outlives a
    regional outage like the data does. Keys never collide (the partitioned prefix names the source region and
    bucket), and S3 does not replicate replicas, so the two rules do not feed each other."""
    pairs = ((primary, replica, primary_provider, "primary"), (replica, primary, replica_provider, "replica"))
    for source, destination, provider, suffix in pairs:
        s3.BucketReplicationConfig(
            f"{name}-{suffix}-access-logs-replication",
            bucket=source.bucket.bucket,
            role=role_arn,
            rules=[s3.BucketReplicationConfigRuleArgs(
                id="replicate-access-logs", status="Enabled", priority=1,
                filter=s3.BucketReplicationConfigRuleFilterArgs(prefix=""),
                delete_marker_replication=s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs(
                    status="Disabled"),
                destination=s3.BucketReplicationConfigRuleDestinationArgs(bucket=destination.bucket.arn,
                                                                          storage_class="STANDARD"),
            )],
            opts=child(parent, provider=provider, depends_on=[source.versioning, destination.versioning, *after]),
        )
