"""S3 for Gitpod's workspace content: a versioned, encrypted, private primary bucket replicated to another region."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_aws import iam, kms, s3

from components.aws.access_logs import (
    AccessLogBucket,
    AccessLogBucketArgs,
    bucket_events,
    log_replication_policy,
    replicate_each_other,
    server_access_logging,
)
from components.aws.key_policies import bucket_key_policy
from components.aws.kms import encryption_key
from components.aws.policy_documents import allow, document, service_trust
from components.component import child, stateful


def tls_only_policy(bucket_arn: str) -> str:
    return document(
        [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ]
    )


@dataclass(frozen=True)
class BucketArgs:
    bucket_name: pulumi.Input[str]
    noncurrent_version_retention_days: int
    protect: bool
    tags: Mapping[str, str]
    provider: pulumi.ProviderResource
    key_policy: pulumi.Input[str]
    # The region's access-log bucket that receives this bucket's server access logs.
    access_log_bucket: pulumi.Input[str]


class SecureBucket(pulumi.ComponentResource):
    """A bucket that cannot be made public, keeps old versions for a while, and never expires current objects."""

    bucket: s3.Bucket
    key: kms.Key
    versioning: s3.BucketVersioning

    def __init__(self, name: str, args: BucketArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gitpod-cell:aws:SecureBucket", name, None, opts)
        tags = dict(args.tags)
        on = pulumi.ResourceOptions(parent=self, provider=args.provider)
        self.key = encryption_key(f"{name}-s3", f"S3 encryption for {name}", self, tags, args.protect,
                                  provider=args.provider, policy=args.key_policy)
        self.bucket = s3.Bucket(
            name,
            bucket=args.bucket_name,
            force_destroy=False,
            tags={**tags, "Name": name},
            opts=stateful(self, args.protect, provider=args.provider),
        )
        s3.BucketOwnershipControls(
            name,
            bucket=self.bucket.bucket,
            rule=s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=on,
        )
        public_access = s3.BucketPublicAccessBlock(
            name,
            bucket=self.bucket.bucket,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=on,
        )
        self.versioning = s3.BucketVersioning(
            name,
            bucket=self.bucket.bucket,
            versioning_configuration=s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=stateful(self, args.protect, provider=args.provider),
        )
        s3.BucketServerSideEncryptionConfiguration(
            name,
            bucket=self.bucket.bucket,
            rules=[
                s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=(
                        s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                            sse_algorithm="aws:kms", kms_master_key_id=self.key.arn
                        )
                    ),
                    bucket_key_enabled=True,
                )
            ],
            opts=on,
        )
        s3.BucketPolicy(
            name,
            bucket=self.bucket.bucket,
            policy=self.bucket.arn.apply(tls_only_policy),
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[public_access]),
        )
        # Only noncurrent versions expire: a current object (a pinned workspace's backup) is never deleted here.
        s3.BucketLifecycleConfiguration(
            name,
            bucket=self.bucket.bucket,
            rules=[
                s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-noncurrent-versions",
                    status="Enabled",
                    filter=s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    noncurrent_version_expiration=(
                        s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                            noncurrent_days=args.noncurrent_version_retention_days
                        )
                    ),
                    abort_incomplete_multipart_upload=(
                        s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                            days_after_initiation=7
                        )
                    ),
                )
            ],
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[self.versioning]),
        )
        server_access_logging(name, self.bucket, args.access_log_bucket, self, args.provider)
        bucket_events(name, self.bucket, self, args.provider)
        self.register_outputs({"bucket": self.bucket.bucket, "arn": self.bucket.arn, "key_arn": self.key.arn})


@dataclass(frozen=True)
class StorageArgs:
    name: str
    primary_bucket_name: pulumi.Input[str]
    replica_bucket_name: pulumi.Input[str]
    noncurrent_version_retention_days: int
    primary_provider: pulumi.ProviderResource
    replica_provider: pulumi.ProviderResource
    protect: bool
    tags: Mapping[str, str]
    # S3 may assume the replication role only for this account's buckets.
    account_id: pulumi.Input[str]
    region: str
    replica_region: str
    # One access-log bucket per region (components/aws/access_logs.py).
    primary_log_bucket_name: pulumi.Input[str]
    replica_log_bucket_name: pulumi.Input[str]
    access_log_retention_days: int


class ReplicatedStorage(pulumi.ComponentResource):
    primary: SecureBucket
    replica: SecureBucket
    primary_logs: AccessLogBucket
    replica_logs: AccessLogBucket

    def __init__(self, name: str, args: StorageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gitpod-cell:aws:ReplicatedStorage", name, None, opts)
        tags = dict(args.tags)
        account = pulumi.Output.from_input(args.account_id)
        # The role exists before the keys, whose policies name it; its permissions come after the buckets.
        role = iam.Role(
            f"{name}-replication",
            assume_role_policy=account.apply(lambda a: service_trust("s3.amazonaws.com", a)),
            tags=tags,
            opts=child(self, provider=args.primary_provider),
        )

        def log_bucket(suffix: str, log_name: pulumi.Input[str], source_name: pulumi.Input[str],
                       provider: pulumi.ProviderResource) -> AccessLogBucket:
            source_arn = pulumi.Output.from_input(source_name).apply(lambda bucket: f"arn:aws:s3:::{bucket}")
            return AccessLogBucket(
                f"{name}-{suffix}-access-logs",
                AccessLogBucketArgs(log_name, [source_arn], args.account_id, args.access_log_retention_days,
                                    args.protect, tags, provider),
                child(self),
            )

        def bucket(suffix: str, bucket_name: pulumi.Input[str], provider: pulumi.ProviderResource, region: str,
                   logs: AccessLogBucket) -> SecureBucket:
            replica = suffix == "replica"
            key_policy = pulumi.Output.all(account, role.arn).apply(
                lambda v: bucket_key_policy(v[0], region, v[1], replica=replica))
            return SecureBucket(
                f"{name}-{suffix}",
                BucketArgs(bucket_name, args.noncurrent_version_retention_days, args.protect, tags, provider,
                           key_policy, logs.bucket.bucket),
                child(self),
            )

        self.primary_logs = log_bucket("primary", args.primary_log_bucket_name, args.primary_bucket_name,
                                       args.primary_provider)
        self.replica_logs = log_bucket("replica", args.replica_log_bucket_name, args.replica_bucket_name,
                                       args.replica_provider)
        log_role = iam.Role(
            f"{name}-log-replication",
            assume_role_policy=account.apply(lambda a: service_trust("s3.amazonaws.com", a)),
            tags=tags,
            opts=child(self, provider=args.primary_provider),
        )
        log_role_policy = iam.RolePolicy(
            f"{name}-log-replication", role=log_role.id,
            policy=pulumi.Output.all(self.primary_logs.bucket.arn, self.replica_logs.bucket.arn).apply(
                lambda arns: log_replication_policy(*arns)),
            opts=child(self, provider=args.primary_provider),
        )
        replicate_each_other(name, self.primary_logs, self.replica_logs, log_role.arn, self, args.primary_provider,
                             args.replica_provider, after=[log_role_policy])
        self.primary = bucket("primary", args.primary_bucket_name, args.primary_provider, args.region,
                              self.primary_logs)
        self.replica = bucket("replica", args.replica_bucket_name, args.replica_provider, args.replica_region,
                              self.replica_logs)
        iam.RolePolicy(
            f"{name}-replication",
            role=role.id,
            policy=pulumi.Output.all(
                self.primary.bucket.arn, self.replica.bucket.arn, self.primary.key.arn, self.replica.key.arn
            ).apply(lambda arns: replication_policy(*arns)),
            opts=child(self, provider=args.primary_provider),
        )
        s3.BucketReplicationConfig(
            f"{name}-replication",
            bucket=self.primary.bucket.bucket,
            role=role.arn,
            rules=[
                s3.BucketReplicationConfigRuleArgs(
                    id="replicate-everything",
                    status="Enabled",
                    priority=1,
                    filter=s3.BucketReplicationConfigRuleFilterArgs(prefix=""),
                    delete_marker_replication=s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs(
                        status="Enabled"
                    ),
                    source_selection_criteria=s3.BucketReplicationConfigRuleSourceSelectionCriteriaArgs(
                        sse_kms_encrypted_objects=(
                            s3.BucketReplicationConfigRuleSourceSelectionCriteriaSseKmsEncryptedObjectsArgs(
                                status="Enabled"
                            )
                        )
                    ),
                    destination=s3.BucketReplicationConfigRuleDestinationArgs(
                        bucket=self.replica.bucket.arn,
                        storage_class="STANDARD",
                        encryption_configuration=s3.BucketReplicationConfigRuleDestinationEncryptionConfigurationArgs(
                            replica_kms_key_id=self.replica.key.arn
                        ),
                    ),
                )
            ],
            # S3 refuses a replication configuration until both buckets are versioned.
            opts=child(self, provider=args.primary_provider,
                       depends_on=[self.primary.versioning, self.replica.versioning]),
        )
        self.register_outputs(
            {"primary_bucket": self.primary.bucket.bucket, "replica_bucket": self.replica.bucket.bucket,
             "primary_access_logs": self.primary_logs.bucket.bucket,
             "replica_access_logs": self.replica_logs.bucket.bucket}
        )


def replication_policy(source_arn: str, destination_arn: str, source_key: str, destination_key: str) -> str:
    return document(
        [
            allow(["s3:GetReplicationConfiguration", "s3:ListBucket"], [source_arn]),
            allow(
                ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
                [f"{source_arn}/*"],
            ),
            allow(["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"], [f"{destination_arn}/*"]),
            allow(["kms:Decrypt"], [source_key]),
            allow(["kms:Encrypt", "kms:GenerateDataKey"], [destination_key]),
        ]
    )


class AdoptedBucket(pulumi.ComponentResource):
    """A restore's bucket: an existing bucket (the old primary, or its replica when that region is gone) used as
    it is. The cell reads it and never creates, changes or deletes it, so no restore can touch its objects."""

    bucket_name: pulumi.Output[str]
    arn: pulumi.Output[str]

    def __init__(self, name: str, bucket_name: str, provider: pulumi.ProviderResource,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gitpod-cell:aws:AdoptedBucket", name, None, opts)
        found = s3.get_bucket_output(bucket=bucket_name, opts=pulumi.InvokeOutputOptions(parent=self,
                                                                                          provider=provider))
        self.bucket_name = found.bucket
        self.arn = found.arn
        self.register_outputs({"bucket": self.bucket_name, "arn": self.arn})
