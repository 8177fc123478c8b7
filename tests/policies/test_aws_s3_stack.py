"""S3 stack rules: each bucket followed to its sub-resources, replication followed to its destination's region."""

from __future__ import annotations

import json

import pytest

from tests.policies.records import aws_tags, provider, resource

BUCKET = "aws:s3/bucket:Bucket"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"


def bucket(name="cell-workspaces", environment="prod", provider_record=None):
    return resource(BUCKET, name, {"bucket": name, "tags": aws_tags(environment)}, provider=provider_record)


class TestVersioning:
    rule = "aws-s3-versioning"

    def test_passes(self, check):
        b = bucket()
        versioning = resource(VERSIONING, "v", {"bucket": b["inputs"]["bucket"],
                                                "versioningConfiguration": {"status": "Enabled"}})
        assert check(self.rule, b, versioning) == []

    def test_fails_when_suspended(self, check):
        b = bucket()
        versioning = resource(VERSIONING, "v", {"bucket": "cell-workspaces",
                                                "versioningConfiguration": {"status": "Suspended"}})
        assert check(self.rule, b, versioning) == [
            (b["urn"], "versioning status is 'Suspended'; it must be 'Enabled'.")
        ]

    def test_fails_when_absent(self, check):
        b = bucket()
        assert check(self.rule, b) == [(b["urn"], "no BucketVersioning for this bucket; enable versioning.")]

    def test_versioning_of_another_bucket_does_not_count(self, check):
        b = bucket()
        other = resource(VERSIONING, "v", {"bucket": "other", "versioningConfiguration": {"status": "Enabled"}})
        assert check(self.rule, b, other) == [(b["urn"], "no BucketVersioning for this bucket; enable versioning.")]

    def test_joins_by_dependency_when_bucket_input_is_unknown(self, check):
        b = bucket()
        versioning = resource(VERSIONING, "v", {"versioningConfiguration": {"status": "Enabled"}}, dependencies=[b])
        assert check(self.rule, b, versioning) == []


class TestKmsEncryption:
    rule = "aws-s3-kms-encryption"

    def sse(self, algorithm):
        return resource(ENCRYPTION, "sse", {"bucket": "cell-workspaces", "rules": [
            {"applyServerSideEncryptionByDefault": {"sseAlgorithm": algorithm, "kmsMasterKeyId": "k"}}]})

    def test_passes(self, check):
        assert check(self.rule, bucket(), self.sse("aws:kms")) == []

    def test_fails_with_aes256(self, check):
        b = bucket()
        assert check(self.rule, b, self.sse("AES256")) == [
            (b["urn"], "default encryption uses ['AES256']; use 'aws:kms'.")
        ]

    def test_fails_when_absent(self, check):
        b = bucket()
        assert check(self.rule, b) == [
            (b["urn"], "no BucketServerSideEncryptionConfiguration for this bucket; encrypt it with KMS.")
        ]


class TestPublicAccessBlock:
    rule = "aws-s3-public-access-block"
    flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")

    def test_passes(self, check):
        block = resource(ACCESS_BLOCK, "pab", {"bucket": "cell-workspaces", **dict.fromkeys(self.flags, True)})
        assert check(self.rule, bucket(), block) == []

    def test_fails_with_a_flag_off(self, check):
        b = bucket()
        block = resource(ACCESS_BLOCK, "pab", {"bucket": "cell-workspaces", **dict.fromkeys(self.flags, True),
                                               "restrictPublicBuckets": False})
        assert check(self.rule, b, block) == [
            (b["urn"], "public access block leaves restrictPublicBuckets off; set all four to true.")
        ]

    def test_fails_with_flags_absent(self, check):
        b = bucket()
        block = resource(ACCESS_BLOCK, "pab", {"bucket": "cell-workspaces"})
        assert check(self.rule, b, block) == [
            (b["urn"], "public access block leaves blockPublicAcls, blockPublicPolicy, ignorePublicAcls, "
                       "restrictPublicBuckets off; set all four to true.")
        ]

    def test_fails_without_block(self, check):
        b = bucket()
        assert check(self.rule, b) == [(b["urn"], "no BucketPublicAccessBlock for this bucket.")]


class TestTlsOnly:
    rule = "aws-s3-tls-only"

    def policy(self, statement):
        return resource(POLICY, "policy", {"bucket": "cell-workspaces", "policy": json.dumps(
            {"Version": "2012-10-17", "Statement": [statement]})})

    def test_passes(self, check):
        deny = {"Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                "Resource": ["arn:aws:s3:::cell-workspaces", "arn:aws:s3:::cell-workspaces/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
        assert check(self.rule, bucket(), self.policy(deny)) == []

    def test_fails_without_tls_statement(self, check):
        b = bucket()
        allow = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "s3:GetObject",
                 "Resource": "arn:aws:s3:::cell-workspaces/*"}
        assert check(self.rule, b, self.policy(allow)) == [
            (b["urn"], "no bucket policy statement denies requests with aws:SecureTransport=false.")
        ]

    def test_fails_without_policy(self, check):
        b = bucket()
        assert check(self.rule, b) == [
            (b["urn"], "no bucket policy statement denies requests with aws:SecureTransport=false.")
        ]


def replication(source, destination_arn, provider_record=None, status="Enabled"):
    return resource(REPLICATION, f"{source['name']}-replication", {
        "bucket": source["inputs"]["bucket"],
        "role": "arn:aws:iam::123456789012:role/replication",
        "rules": [{"id": "all", "status": status, "destination": {"bucket": destination_arn}}],
    }, provider=provider_record)


class TestReplicationCrossRegion:
    rule = "aws-s3-replication-cross-region"

    def setup_method(self):
        self.primary = provider("primary", region="eu-west-1")
        self.replica_region = provider("replica", region="eu-central-1")

    def test_passes_when_destination_is_in_another_region(self, check):
        source = bucket(provider_record=self.primary)
        replica = bucket("cell-workspaces-replica", provider_record=self.replica_region)
        config = replication(source, "arn:aws:s3:::cell-workspaces-replica", self.primary)
        assert check(self.rule, self.primary, self.replica_region, source, replica, config) == []

    def test_fails_when_destination_is_in_the_same_region(self, check):
        source = bucket(provider_record=self.primary)
        replica = bucket("cell-workspaces-replica", provider_record=self.primary)
        config = replication(source, "arn:aws:s3:::cell-workspaces-replica", self.primary)
        assert check(self.rule, self.primary, source, replica, config) == [
            (config["urn"], "replicates to cell-workspaces-replica in eu-west-1, the source bucket's own region; "
                            "the replica must be in a different region.")
        ]

    def test_same_region_through_two_providers_still_fails(self, check):
        also_primary = provider("also-primary", region="eu-west-1")
        source = bucket(provider_record=self.primary)
        replica = bucket("cell-workspaces-replica", provider_record=also_primary)
        config = replication(source, "arn:aws:s3:::cell-workspaces-replica", self.primary)
        assert check(self.rule, self.primary, also_primary, source, replica, config) == [
            (config["urn"], "replicates to cell-workspaces-replica in eu-west-1, the source bucket's own region; "
                            "the replica must be in a different region.")
        ]

    def test_fails_when_destination_is_not_in_the_stack(self, check):
        source = bucket(provider_record=self.primary)
        config = replication(source, "arn:aws:s3:::somewhere-else", self.primary)
        assert check(self.rule, self.primary, source, config) == [
            (config["urn"], "replication destination 'arn:aws:s3:::somewhere-else' is not a bucket in this stack, "
                            "so its region cannot be verified.")
        ]

    def test_fails_when_regions_are_unknown(self, check):
        source = bucket()
        replica = bucket("cell-workspaces-replica")
        config = replication(source, "arn:aws:s3:::cell-workspaces-replica")
        assert check(self.rule, source, replica, config) == [
            (config["urn"], "cannot tell the regions of the source bucket and of cell-workspaces-replica; give "
                            "both buckets providers (or `region`) for their regions.")
        ]

    def test_auto_named_destination_is_followed_through_dependencies(self, check):
        source = bucket(provider_record=self.primary)
        replica = resource(BUCKET, "replica", {"bucketPrefix": "cell-replica-"}, provider=self.primary)
        config = replication(source, "arn:aws:s3:::cell-replica-20260101", self.primary)
        config["dependencies"] = [source["urn"], replica["urn"]]
        assert check(self.rule, self.primary, source, replica, config) == [
            (config["urn"], "replicates to replica in eu-west-1, the source bucket's own region; the replica must be "
                            "in a different region.")
        ]

    def test_passes_without_replication(self, check):
        assert check(self.rule, self.primary, bucket(provider_record=self.primary)) == []


class TestReplicatedProd:
    rule = "aws-s3-replicated-prod"
    message = "production bucket has no enabled BucketReplicationConfig to a bucket in another region."

    def test_passes_and_exempts_the_replica(self, check):
        source, replica = bucket(), bucket("cell-workspaces-replica")
        config = replication(source, "arn:aws:s3:::cell-workspaces-replica")
        assert check(self.rule, source, replica, config) == []

    def test_fails_when_replication_is_disabled(self, check):
        source, replica = bucket(), bucket("cell-workspaces-replica")
        config = replication(source, "arn:aws:s3:::cell-workspaces-replica", status="Disabled")
        assert check(self.rule, source, replica, config) == [(source["urn"], self.message)]

    def test_fails_when_absent(self, check):
        source = bucket()
        assert check(self.rule, source) == [(source["urn"], self.message)]

    @pytest.mark.parametrize("environment", ["dev", "staging"])
    def test_ignores_non_production(self, check, environment):
        assert check(self.rule, bucket(environment=environment)) == []
