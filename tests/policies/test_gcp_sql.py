"""Cloud SQL rules (pulumi-gcp 10 input names)."""

from __future__ import annotations

import copy

import pytest

from tests.policies.records import gcp_labels, resource

SQL = "gcp:sql/databaseInstance:DatabaseInstance"

GOOD = {
    "databaseVersion": "MYSQL_8_0",
    "region": "europe-west1",
    "deletionProtection": True,
    "encryptionKeyName": "projects/p/locations/europe-west1/keyRings/cell/cryptoKeys/sql",
    "settings": {
        "tier": "db-custom-2-7680",
        "availabilityType": "REGIONAL",
        "deletionProtectionEnabled": True,
        "retainBackupsOnDelete": True,
        "userLabels": gcp_labels("prod"),
        "backupConfiguration": {
            "enabled": True,
            "binaryLogEnabled": True,
            "backupRetentionSettings": {"retainedBackups": 14, "retentionUnit": "COUNT"},
        },
        "ipConfiguration": {"ipv4Enabled": False, "privateNetwork": "projects/p/global/networks/cell",
                            "sslMode": "ENCRYPTED_ONLY"},
        "databaseFlags": [{"name": "explicit_defaults_for_timestamp", "value": "off"}],
    },
}


def instance(*removals: str, **changes):
    """GOOD with dotted paths removed and `settings__a__b=value` style changes applied."""
    inputs = copy.deepcopy(GOOD)
    for path in removals:
        *parents, leaf = path.split(".")
        target = inputs
        for part in parents:
            target = target[part]
        del target[leaf]
    for key, value in changes.items():
        *parents, leaf = key.split("__")
        target = inputs
        for part in parents:
            target = target[part]
        target[leaf] = value
    return resource(SQL, "db", inputs)


@pytest.mark.parametrize("rule", [
    "gcp-sql-backups-binary-log", "gcp-sql-backup-retention", "gcp-sql-retain-backups-on-delete",
    "gcp-sql-deletion-protection", "gcp-sql-regional-prod", "gcp-sql-no-public-ip", "gcp-sql-ssl-required",
    "gcp-sql-cmek",
])
def test_good_instance_passes(check, rule):
    assert check(rule, instance()) == []


class TestBackupsBinaryLog:
    rule = "gcp-sql-backups-binary-log"

    def test_fails_without_binary_log(self, check):
        db = instance(settings__backupConfiguration__binaryLogEnabled=False)
        assert check(self.rule, db) == [
            (db["urn"], "settings.backupConfiguration.binaryLogEnabled must be true for point-in-time recovery.")
        ]

    def test_fails_when_absent(self, check):
        db = instance("settings.backupConfiguration")
        assert check(self.rule, db) == [(db["urn"], "settings.backupConfiguration.enabled must be true.")]

    def test_postgres_needs_point_in_time_recovery(self, check):
        db = instance(databaseVersion="POSTGRES_16")
        assert check(self.rule, db) == [
            (db["urn"], "settings.backupConfiguration.pointInTimeRecoveryEnabled must be true.")
        ]


class TestBackupRetention:
    rule = "gcp-sql-backup-retention"

    def test_fails_below_minimum(self, check):
        db = instance(settings__backupConfiguration__backupRetentionSettings__retainedBackups=3)
        assert check(self.rule, db) == [
            (db["urn"], "backupRetentionSettings.retainedBackups is 3; keep at least 7.")
        ]

    def test_absent_uses_the_cloud_sql_default(self, check):
        db = instance("settings.backupConfiguration.backupRetentionSettings")
        assert check(self.rule, db) == []
        assert check(self.rule, db, config={"minimumRetainedBackups": 14}) == [
            (db["urn"], "backupRetentionSettings.retainedBackups is not set (Cloud SQL keeps 7); keep at least 14.")
        ]

    def test_fails_for_day_based_unit(self, check):
        db = instance(settings__backupConfiguration__backupRetentionSettings__retentionUnit="DAYS")
        assert check(self.rule, db) == [
            (db["urn"], "backupRetentionSettings.retentionUnit is 'DAYS'; use COUNT.")
        ]


class TestRetainBackupsOnDelete:
    rule = "gcp-sql-retain-backups-on-delete"
    message = "settings.retainBackupsOnDelete must be true; otherwise deleting the instance deletes its backups."

    def test_fails(self, check):
        db = instance(settings__retainBackupsOnDelete=False)
        assert check(self.rule, db) == [(db["urn"], self.message)]

    def test_fails_when_absent(self, check):
        db = instance("settings.retainBackupsOnDelete")
        assert check(self.rule, db) == [(db["urn"], self.message)]


class TestDeletionProtection:
    rule = "gcp-sql-deletion-protection"

    def test_fails_when_both_off(self, check):
        db = instance(deletionProtection=False, settings__deletionProtectionEnabled=False)
        assert check(self.rule, db) == [
            (db["urn"], "deletionProtection is false."),
            (db["urn"], "settings.deletionProtectionEnabled must be true."),
        ]

    def test_dev_is_exempt(self, check):
        assert check(self.rule, instance(deletionProtection=False, settings__deletionProtectionEnabled=False,
                                         settings__userLabels=gcp_labels("dev"))) == []

    def test_absent_pulumi_flag_defaults_to_protected(self, check):
        db = instance("deletionProtection", "settings.deletionProtectionEnabled")
        assert check(self.rule, db) == [(db["urn"], "settings.deletionProtectionEnabled must be true.")]


class TestRegionalProd:
    rule = "gcp-sql-regional-prod"

    def test_fails_when_zonal_in_prod(self, check):
        db = instance(settings__availabilityType="ZONAL")
        assert check(self.rule, db) == [
            (db["urn"], "settings.availabilityType is 'ZONAL'; production needs 'REGIONAL'.")
        ]

    def test_fails_when_absent_in_prod(self, check):
        db = instance("settings.availabilityType")
        assert check(self.rule, db) == [
            (db["urn"], "settings.availabilityType is not set (ZONAL); production needs 'REGIONAL'.")
        ]

    def test_ignores_dev(self, check):
        assert check(self.rule, instance(settings__availabilityType="ZONAL",
                                         settings__userLabels=gcp_labels("dev"))) == []


class TestNoPublicIp:
    rule = "gcp-sql-no-public-ip"

    def test_fails_with_public_ip(self, check):
        db = instance(settings__ipConfiguration__ipv4Enabled=True)
        assert check(self.rule, db) == [
            (db["urn"], "settings.ipConfiguration.ipv4Enabled must be false (it defaults to true).")
        ]

    def test_fails_when_absent(self, check):
        db = instance("settings.ipConfiguration")
        assert check(self.rule, db) == [
            (db["urn"], "settings.ipConfiguration.ipv4Enabled must be false (it defaults to true)."),
            (db["urn"], "settings.ipConfiguration.privateNetwork is not set; attach the instance to the cell's VPC."),
        ]


class TestSslRequired:
    rule = "gcp-sql-ssl-required"

    def test_fails_when_unencrypted_allowed(self, check):
        db = instance(settings__ipConfiguration__sslMode="ALLOW_UNENCRYPTED_AND_ENCRYPTED")
        assert check(self.rule, db) == [
            (db["urn"], "settings.ipConfiguration.sslMode is 'ALLOW_UNENCRYPTED_AND_ENCRYPTED'; use "
                        "'ENCRYPTED_ONLY'.")
        ]

    def test_fails_when_absent(self, check):
        db = instance("settings.ipConfiguration.sslMode")
        assert check(self.rule, db) == [
            (db["urn"], "settings.ipConfiguration.sslMode is not set; use 'ENCRYPTED_ONLY'.")
        ]

    def test_client_certificates_pass(self, check):
        assert check(self.rule, instance(
            settings__ipConfiguration__sslMode="TRUSTED_CLIENT_CERTIFICATE_REQUIRED")) == []


class TestCmek:
    rule = "gcp-sql-cmek"

    def test_fails_when_empty(self, check):
        db = instance(encryptionKeyName="")
        assert check(self.rule, db) == [
            (db["urn"], "encryptionKeyName is not set; encrypt with the cell's Cloud KMS key.")
        ]

    def test_fails_when_absent(self, check):
        db = instance("encryptionKeyName")
        assert check(self.rule, db) == [
            (db["urn"], "encryptionKeyName is not set; encrypt with the cell's Cloud KMS key.")
        ]
