"""ECR, KMS and CloudWatch Logs rules."""

from __future__ import annotations

import json

from tests.policies.records import aws_tags, resource

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


ROOT = {"Sid": "AccountAdministers", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": "kms:*", "Resource": "*"}


def key_with(*statements):
    return resource(KMS, "key", {"enableKeyRotation": True, "policy": json.dumps(
        {"Version": "2012-10-17", "Statement": list(statements)})})


class TestKmsKeyPolicy:
    rule = "aws-kms-key-policy"

    def test_passes_with_root_and_a_pinned_service_use(self, check):
        via_rds = {"Sid": "ViaRds", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["kms:Decrypt"],
                   "Resource": "*", "Condition": {"StringEquals": {"kms:CallerAccount": "123456789012",
                                                                   "kms:ViaService": "rds.eu-west-1.amazonaws.com"}}}
        assert check(self.rule, key_with(ROOT, via_rds)) == []

    def test_fails_when_absent(self, check):
        key = resource(KMS, "key", {"enableKeyRotation": True})
        assert check(self.rule, key) == [(key["urn"], "policy is not set; the key gets the default policy. Write "
                                                      "one naming the account root and only the principals and "
                                                      "services that use the key.")]

    def test_fails_with_an_unpinned_wildcard_principal(self, check):
        key = key_with(ROOT, {"Sid": "Anyone", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt",
                              "Resource": "*"})
        assert check(self.rule, key) == [(key["urn"], "statement Anyone allows any principal without a condition "
                                                      "pinning it to this account or a service.")]

    def test_fails_without_root_administration(self, check):
        key = key_with({"Sid": "Role", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:role/r"},
                        "Action": "kms:Decrypt", "Resource": "*"})
        assert len(check(self.rule, key)) == 1


class TestLogGroupKms:
    rule = "aws-log-group-kms"

    def test_passes(self, check):
        assert check(self.rule, resource(LOG_GROUP, "g", {"kmsKeyId": "arn:aws:kms:eu-west-1:1:key/k"})) == []

    def test_fails_when_absent(self, check):
        group = resource(LOG_GROUP, "g", {"retentionInDays": 365})
        assert check(self.rule, group) == [
            (group["urn"], "kmsKeyId is not set; encrypt the log group with the cell's logs key.")]


class TestLogGroupRetentionProd:
    rule = "aws-log-group-retention-prod"

    def test_passes_with_a_year(self, check):
        assert check(self.rule, resource(LOG_GROUP, "g", {"retentionInDays": 365, "tags": aws_tags("prod")})) == []

    def test_fails_below_a_year_in_prod(self, check):
        group = resource(LOG_GROUP, "g", {"retentionInDays": 90, "tags": aws_tags("prod")})
        assert check(self.rule, group) == [
            (group["urn"], "retentionInDays is 90; production keeps logs at least 365 days.")]

    def test_dev_and_never_expiring_groups_pass(self, check):
        assert check(self.rule, resource(LOG_GROUP, "g", {"retentionInDays": 90, "tags": aws_tags("dev")})) == []
        assert check(self.rule, resource(LOG_GROUP, "g", {"tags": aws_tags("prod")})) == []


class TestEcrImmutableTags:
    rule = "aws-ecr-immutable-tags"

    def test_immutable_passes(self, check):
        assert check(self.rule, resource(ECR, "r", {"name": "cell/other", "imageTagMutability": "IMMUTABLE"})) == []

    def test_gitpods_builder_repositories_may_be_mutable(self, check):
        for name in ("gitpod-prod/base-images", "gitpod-prod/workspace-images"):
            assert check(self.rule, resource(ECR, "r", {"name": name, "imageTagMutability": "MUTABLE"})) == []

    def test_other_mutable_repositories_fail(self, check):
        repo = resource(ECR, "r", {"name": "gitpod-prod/tools", "imageTagMutability": "MUTABLE"})
        assert check(self.rule, repo) == [(repo["urn"], "imageTagMutability is MUTABLE; set IMMUTABLE (only "
                                                        "Gitpod's image-builder repositories, mutableRepositories, "
                                                        "may keep mutable tags).")]

    def test_absent_is_mutable(self, check):
        assert len(check(self.rule, resource(ECR, "r", {"name": "x/tools"}))) == 1
