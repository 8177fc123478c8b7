"""RDS instance rules: a passing instance, a failing one, one with the attribute absent."""

from __future__ import annotations

from tests.policies.records import aws_tags, resource

RDS = "aws:rds/instance:Instance"


def db(**inputs):
    return resource(RDS, "db", inputs)


class TestBackupRetention:
    rule = "aws-rds-backup-retention"

    def test_passes_at_minimum(self, check):
        assert check(self.rule, db(backupRetentionPeriod=7)) == []

    def test_fails_below_minimum(self, check):
        instance = db(backupRetentionPeriod=1)
        assert check(self.rule, instance) == [
            (instance["urn"], "backupRetentionPeriod is 1; keep automated backups for at least 7 days.")
        ]

    def test_fails_when_absent(self, check):
        instance = db()
        assert check(self.rule, instance) == [
            (instance["urn"], "backupRetentionPeriod is not set; keep automated backups for at least 7 days.")
        ]

    def test_minimum_is_configurable(self, check):
        instance = db(backupRetentionPeriod=7)
        assert check(self.rule, instance, config={"minimumDays": 14}) == [
            (instance["urn"], "backupRetentionPeriod is 7; keep automated backups for at least 14 days.")
        ]


class TestDeletionProtection:
    rule = "aws-rds-deletion-protection"

    def test_passes(self, check):
        assert check(self.rule, db(deletionProtection=True)) == []

    def test_fails(self, check):
        instance = db(deletionProtection=False)
        assert check(self.rule, instance) == [(instance["urn"], "deletionProtection must be true.")]

    def test_fails_when_absent(self, check):
        instance = db()
        assert check(self.rule, instance) == [(instance["urn"], "deletionProtection must be true.")]

    def test_dev_is_exempt_but_staging_is_not(self, check):
        assert check(self.rule, db(deletionProtection=False, tags=aws_tags("dev"))) == []
        staging = db(deletionProtection=False, tags=aws_tags("staging"))
        assert check(self.rule, staging) == [(staging["urn"], "deletionProtection must be true.")]

    def test_exemptions_are_configurable(self, check):
        instance = db(deletionProtection=False, tags=aws_tags("dev"))
        assert check(self.rule, instance, config={"exemptEnvironments": []}) == [
            (instance["urn"], "deletionProtection must be true.")
        ]


class TestFinalSnapshot:
    rule = "aws-rds-final-snapshot"

    def test_passes(self, check):
        assert check(self.rule, db(skipFinalSnapshot=False, finalSnapshotIdentifier="db-final")) == []

    def test_fails_when_skipped(self, check):
        instance = db(skipFinalSnapshot=True, finalSnapshotIdentifier="db-final")
        assert check(self.rule, instance) == [
            (instance["urn"], "skipFinalSnapshot is true; a deleted database would leave no final snapshot.")
        ]

    def test_fails_when_absent(self, check):
        instance = db()
        assert check(self.rule, instance) == [
            (
                instance["urn"],
                "finalSnapshotIdentifier is not set; AWS refuses to delete the instance without it, or a "
                "replacement loses the final snapshot.",
            )
        ]


class TestCopyTagsToSnapshot:
    rule = "aws-rds-copy-tags-to-snapshot"

    def test_passes(self, check):
        assert check(self.rule, db(copyTagsToSnapshot=True)) == []

    def test_fails(self, check):
        instance = db(copyTagsToSnapshot=False)
        assert check(self.rule, instance) == [(instance["urn"], "copyTagsToSnapshot must be true.")]

    def test_fails_when_absent(self, check):
        instance = db()
        assert check(self.rule, instance) == [(instance["urn"], "copyTagsToSnapshot must be true.")]


class TestMultiAzProd:
    rule = "aws-rds-multi-az-prod"

    def test_passes_in_prod(self, check):
        assert check(self.rule, db(multiAz=True, tags=aws_tags("prod"))) == []

    def test_fails_in_prod(self, check):
        instance = db(multiAz=False, tags=aws_tags("prod"))
        assert check(self.rule, instance) == [(instance["urn"], "multiAz must be true in production.")]

    def test_fails_in_prod_when_absent(self, check):
        instance = db(tags=aws_tags("prod"))
        assert check(self.rule, instance) == [(instance["urn"], "multiAz must be true in production.")]

    def test_ignores_dev(self, check):
        assert check(self.rule, db(multiAz=False, tags=aws_tags("dev"))) == []

    def test_environments_are_configurable(self, check):
        instance = db(multiAz=False, tags=aws_tags("staging"))
        assert check(self.rule, instance, config={"environments": ["prod", "staging"]}) == [
            (instance["urn"], "multiAz must be true in production.")
        ]


class TestNotPublic:
    rule = "aws-rds-not-public"

    def test_passes(self, check):
        assert check(self.rule, db(publiclyAccessible=False)) == []

    def test_fails(self, check):
        instance = db(publiclyAccessible=True)
        assert check(self.rule, instance) == [
            (instance["urn"], "publiclyAccessible is true; the database must only be reachable from inside the VPC.")
        ]

    def test_passes_when_absent(self, check):
        assert check(self.rule, db()) == []


class TestStorageEncrypted:
    rule = "aws-rds-storage-encrypted"

    def test_passes(self, check):
        assert check(self.rule, db(storageEncrypted=True, kmsKeyId="arn:aws:kms:eu-west-1:1:key/k")) == []

    def test_fails_unencrypted(self, check):
        instance = db(storageEncrypted=False)
        assert check(self.rule, instance) == [(instance["urn"], "storageEncrypted must be true.")]

    def test_fails_without_customer_key(self, check):
        instance = db(storageEncrypted=True)
        assert check(self.rule, instance) == [
            (instance["urn"], "kmsKeyId is not set; encrypt with the cell's customer-managed KMS key.")
        ]

    def test_aws_managed_key_allowed_by_config(self, check):
        assert check(self.rule, db(storageEncrypted=True), config={"requireCustomerManagedKey": False}) == []

    def test_fails_when_absent(self, check):
        instance = db()
        assert check(self.rule, instance) == [(instance["urn"], "storageEncrypted must be true.")]


class TestIamAuthentication:
    rule = "aws-rds-iam-authentication"

    def test_passes(self, check):
        assert check(self.rule, db(iamDatabaseAuthenticationEnabled=True)) == []

    def test_fails(self, check):
        instance = db(iamDatabaseAuthenticationEnabled=False)
        assert check(self.rule, instance) == [(instance["urn"], "iamDatabaseAuthenticationEnabled should be true.")]

    def test_fails_when_absent(self, check):
        instance = db()
        assert check(self.rule, instance) == [(instance["urn"], "iamDatabaseAuthenticationEnabled should be true.")]
