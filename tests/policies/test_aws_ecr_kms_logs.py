"""ECR, KMS and CloudWatch Logs rules."""

from __future__ import annotations

from tests.policies.records import resource

ECR = "aws:ecr/repository:Repository"
KMS = "aws:kms/key:Key"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


class TestEcrScanOnPush:
    rule = "aws-ecr-scan-on-push"

    def test_passes(self, check):
        assert check(self.rule, resource(ECR, "repo", {"imageScanningConfiguration": {"scanOnPush": True}})) == []

    def test_fails(self, check):
        repo = resource(ECR, "repo", {"imageScanningConfiguration": {"scanOnPush": False}})
        assert check(self.rule, repo) == [(repo["urn"], "imageScanningConfiguration.scanOnPush must be true.")]

    def test_fails_when_absent(self, check):
        repo = resource(ECR, "repo", {})
        assert check(self.rule, repo) == [(repo["urn"], "imageScanningConfiguration.scanOnPush must be true.")]


class TestEcrKmsEncryption:
    rule = "aws-ecr-kms-encryption"

    def test_passes(self, check):
        repo = resource(ECR, "repo", {"encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": "arn:k"}]})
        assert check(self.rule, repo) == []

    def test_fails_with_aes256(self, check):
        repo = resource(ECR, "repo", {"encryptionConfigurations": [{"encryptionType": "AES256"}]})
        assert check(self.rule, repo) == [
            (repo["urn"], "encryptionConfigurations does not use encryptionType 'KMS' (the default is AES256).")
        ]

    def test_fails_without_key(self, check):
        repo = resource(ECR, "repo", {"encryptionConfigurations": [{"encryptionType": "KMS"}]})
        assert check(self.rule, repo) == [
            (repo["urn"], "encryptionConfigurations.kmsKey is not set; use the cell's customer-managed key.")
        ]

    def test_fails_when_absent(self, check):
        repo = resource(ECR, "repo", {})
        assert check(self.rule, repo) == [
            (repo["urn"], "encryptionConfigurations does not use encryptionType 'KMS' (the default is AES256).")
        ]


class TestKmsKeyRotation:
    rule = "aws-kms-key-rotation"

    def test_passes(self, check):
        assert check(self.rule, resource(KMS, "key", {"enableKeyRotation": True})) == []

    def test_fails(self, check):
        key = resource(KMS, "key", {"enableKeyRotation": False})
        assert check(self.rule, key) == [(key["urn"], "enableKeyRotation must be true.")]

    def test_fails_when_absent(self, check):
        key = resource(KMS, "key", {})
        assert check(self.rule, key) == [(key["urn"], "enableKeyRotation must be true.")]

    def test_asymmetric_keys_cannot_rotate(self, check):
        key = resource(KMS, "signing", {"keyUsage": "SIGN_VERIFY", "customerMasterKeySpec": "RSA_2048"})
        assert check(self.rule, key) == []


class TestLogGroupRetention:
    rule = "aws-log-group-retention"

    def test_passes(self, check):
        assert check(self.rule, resource(LOG_GROUP, "eks", {"retentionInDays": 365})) == []

    def test_fails_when_short(self, check):
        group = resource(LOG_GROUP, "eks", {"retentionInDays": 7})
        assert check(self.rule, group) == [(group["urn"], "retentionInDays is 7; keep at least 90.")]

    def test_fails_when_absent(self, check):
        group = resource(LOG_GROUP, "eks", {})
        assert check(self.rule, group) == [
            (group["urn"], "retentionInDays is not set (logs never expire); set at least 90.")
        ]
