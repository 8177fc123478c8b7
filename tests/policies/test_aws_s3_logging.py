"""S3 server access logging, event notifications, and what access-log destinations may differ in."""

from __future__ import annotations

from tests.policies.records import provider, resource

BUCKET = "aws:s3/bucket:Bucket"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
NOTIFICATION = "aws:s3/bucketNotification:BucketNotification"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
PRIMARY = provider("primary", region="eu-west-1")
REPLICA = provider("replica", region="eu-central-1")


def bucket(name, region=PRIMARY):
    return resource(BUCKET, name, {"bucket": name}, provider=region)


def logging(source, target, region=PRIMARY):
    return resource(LOGGING, f"{source}-logging", {"bucket": source, "targetBucket": target,
                                                   "targetPrefix": "s3-access/"}, provider=region)


def sse(name, algorithm):
    return resource(SSE, f"{name}-sse", {"bucket": name, "rules": [
        {"applyServerSideEncryptionByDefault": {"sseAlgorithm": algorithm}}]})


def expiring(name):
    return resource(LIFECYCLE, f"{name}-lifecycle", {"bucket": name, "rules": [
        {"id": "expire", "status": "Enabled", "expiration": {"days": 365}}]})


class TestAccessLogging:
    rule = "aws-s3-access-logging"

    def test_passes_with_a_same_region_log_bucket(self, check):
        assert check(self.rule, PRIMARY, bucket("data"), bucket("logs"), logging("data", "logs")) == []

    def test_fails_when_absent(self, check):
        data = bucket("data")
        assert check(self.rule, PRIMARY, data) == [
            (data["urn"], "no BucketLogging for this bucket; send its server access logs to the region's "
                          "access-log bucket.")]

    def test_fails_when_logging_into_itself(self, check):
        data = bucket("data")
        assert check(self.rule, PRIMARY, data, logging("data", "data")) == [
            (data["urn"], "the bucket logs its access into itself; every log delivery would log again. Use the "
                          "region's access-log bucket.")]

    def test_fails_across_regions(self, check):
        data = bucket("data")
        result = check(self.rule, PRIMARY, REPLICA, data, bucket("logs", REPLICA), logging("data", "logs"))
        assert result == [(data["urn"], "access logs go to logs in eu-central-1; S3 delivers only to a bucket in "
                                        "the source bucket's region (eu-west-1).")]


class TestEventNotifications:
    rule = "aws-s3-event-notifications"

    def test_passes_with_eventbridge(self, check):
        assert check(self.rule, bucket("data"), resource(NOTIFICATION, "n", {"bucket": "data",
                                                                              "eventbridge": True})) == []

    def test_fails_without_a_destination(self, check):
        data = bucket("data")
        expected = [(data["urn"], "no BucketNotification with a destination for this bucket; enable eventbridge.")]
        assert check(self.rule, data, resource(NOTIFICATION, "n", {"bucket": "data", "eventbridge": False})) == \
            expected

    def test_fails_when_absent(self, check):
        data = bucket("data")
        assert len(check(self.rule, data)) == 1


class TestKmsEncryptionDeviation:
    rule = "aws-s3-kms-encryption"

    def test_log_destination_may_use_sse_s3(self, check):
        assert check(self.rule, bucket("data"), sse("data", "aws:kms"), bucket("logs"), sse("logs", "AES256"),
                     logging("data", "logs")) == []

    def test_data_bucket_may_not_use_sse_s3(self, check):
        data = bucket("data")
        assert check(self.rule, data, sse("data", "AES256"), bucket("logs"), sse("logs", "AES256"),
                     logging("data", "logs")) == [
            (data["urn"], "default encryption uses ['AES256']; use 'aws:kms'.")]

    def test_a_logged_bucket_cannot_pass_for_a_log_bucket(self, check):
        # `data` receives logs but is itself logged: it is a data bucket, so KMS still applies.
        data = bucket("data")
        result = check(self.rule, data, sse("data", "AES256"), bucket("other"), sse("other", "aws:kms"),
                       bucket("logs"), sse("logs", "AES256"), logging("other", "data"), logging("data", "logs"))
        assert result == [(data["urn"], "default encryption uses ['AES256']; use 'aws:kms'.")]

    def test_log_destination_without_encryption_fails(self, check):
        logs = bucket("logs")
        assert check(self.rule, bucket("data"), sse("data", "aws:kms"), logs, logging("data", "logs")) == [
            (logs["urn"], "no BucketServerSideEncryptionConfiguration for this bucket; encrypt it with KMS.")]


class TestKeepCurrentVersionsDeviation:
    rule = "aws-s3-keep-current-versions"

    def test_log_destination_may_expire_logs(self, check):
        assert check(self.rule, bucket("data"), bucket("logs"), logging("data", "logs"), expiring("logs")) == []

    def test_data_bucket_may_not_expire_current_objects(self, check):
        lifecycle = expiring("data")
        assert check(self.rule, bucket("data"), bucket("logs"), logging("data", "logs"), lifecycle) == [
            (lifecycle["urn"], "lifecycle rule 'expire' expires current object versions; use "
                               "noncurrentVersionExpiration so pinned workspaces keep their data.")]
