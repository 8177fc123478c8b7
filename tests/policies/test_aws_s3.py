"""S3 sub-resource rules checked one resource at a time."""

from __future__ import annotations

from tests.policies.records import resource

OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"


class TestNoInlineBucketSettings:
    rule = "aws-s3-no-inline-bucket-settings"

    @staticmethod
    def message(key, replacement):
        return f"{key} is a deprecated inline bucket setting the pack does not check; use {replacement} instead."

    def test_passes_with_standalone_resources_only(self, check):
        bucket = resource("aws:s3/bucket:Bucket", "ws", {"bucket": "cell-ws", "forceDestroy": False,
                                                          "objectLockEnabled": False, "tags": {"Environment": "prod"}})
        assert check(self.rule, bucket) == []

    def test_passes_when_absent(self, check):
        assert check(self.rule, resource("aws:s3/bucketV2:BucketV2", "ws")) == []

    def test_empty_inline_values_pass(self, check):
        assert check(self.rule, resource("aws:s3/bucket:Bucket", "ws", {"lifecycleRules": [], "grants": []})) == []

    def test_fails_for_inline_recovery_and_encryption_settings(self, check):
        bucket = resource("aws:s3/bucket:Bucket", "ws", {
            "bucket": "cell-ws",
            "lifecycleRules": [{"enabled": True, "expiration": {"days": 30}}],
            "versioning": {"enabled": True},
            "serverSideEncryptionConfiguration": {"rule": {"applyServerSideEncryptionByDefault": {
                "sseAlgorithm": "aws:kms"}}},
            "replicationConfiguration": {"role": "arn:aws:iam::1:role/r", "rules": []},
            "policy": "{}",
        })
        assert check(self.rule, bucket) == sorted([
            (bucket["urn"], self.message("lifecycleRules", "s3.BucketLifecycleConfiguration")),
            (bucket["urn"], self.message("versioning", "s3.BucketVersioning")),
            (bucket["urn"], self.message("serverSideEncryptionConfiguration",
                                         "s3.BucketServerSideEncryptionConfiguration")),
            (bucket["urn"], self.message("replicationConfiguration", "s3.BucketReplicationConfig")),
            (bucket["urn"], self.message("policy", "s3.BucketPolicy")),
        ])

    def test_fails_for_inline_acl_on_bucket_v2(self, check):
        bucket = resource("aws:s3/bucketV2:BucketV2", "ws", {"acl": "private"})
        assert check(self.rule, bucket) == [(bucket["urn"], self.message("acl", "s3.BucketAcl"))]


class TestAclsDisabled:
    rule = "aws-s3-acls-disabled"

    def test_passes(self, check):
        controls = resource(OWNERSHIP, "ws", {"bucket": "ws", "rule": {"objectOwnership": "BucketOwnerEnforced"}})
        assert check(self.rule, controls) == []

    def test_fails(self, check):
        controls = resource(OWNERSHIP, "ws", {"bucket": "ws", "rule": {"objectOwnership": "ObjectWriter"}})
        assert check(self.rule, controls) == [
            (controls["urn"], "rule.objectOwnership is 'ObjectWriter'; set it to 'BucketOwnerEnforced' to disable "
                              "ACLs.")
        ]

    def test_fails_when_absent(self, check):
        controls = resource(OWNERSHIP, "ws", {"bucket": "ws"})
        assert check(self.rule, controls) == [
            (controls["urn"], "rule.objectOwnership is not set; set it to 'BucketOwnerEnforced' to disable ACLs.")
        ]


class TestKeepCurrentVersions:
    rule = "aws-s3-keep-current-versions"
    message = ("lifecycle rule 'expire' expires current object versions; use noncurrentVersionExpiration so pinned "
               "workspaces keep their data.")

    def lifecycle(self, *rules, bucket="cell-workspaces"):
        return resource(LIFECYCLE, "ws", {"bucket": bucket, "rules": list(rules)})

    def test_passes_with_noncurrent_expiration(self, check):
        config = self.lifecycle({"id": "old-versions", "status": "Enabled",
                                 "noncurrentVersionExpiration": {"noncurrentDays": 30}},
                                {"id": "markers", "status": "Enabled",
                                 "expiration": {"expiredObjectDeleteMarker": True}})
        assert check(self.rule, config) == []

    def test_fails_when_current_versions_expire(self, check):
        config = self.lifecycle({"id": "expire", "status": "Enabled", "expiration": {"days": 30}})
        assert check(self.rule, config) == [(config["urn"], self.message)]

    def test_ignores_disabled_rules(self, check):
        assert check(self.rule, self.lifecycle({"id": "expire", "status": "Disabled",
                                                "expiration": {"days": 30}})) == []

    def test_passes_when_absent(self, check):
        assert check(self.rule, self.lifecycle()) == []

    def test_exempt_buckets_are_configurable(self, check):
        config = self.lifecycle({"id": "expire", "status": "Enabled", "expiration": {"days": 30}},
                                bucket="cell-access-logs")
        assert check(self.rule, config, config={"exemptBuckets": ["*-access-logs"]}) == []
