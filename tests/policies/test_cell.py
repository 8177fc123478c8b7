"""A whole production cell passes every rule; mutating one recovery or exposure setting fails the right one."""

from __future__ import annotations

import copy

from policies.offline import evaluate
from tests.policies.cell import aws_prod_cell, gcp_prod_cell


def find(records, name, resource_type):
    return next(r for r in records if r["name"] == name and r["type"] == resource_type)


def failures(records):
    return {(v["policy"], v["urn"]) for v in evaluate(records)["violations"]}


def test_clean_cell_passes_every_rule():
    result = evaluate(aws_prod_cell())
    assert result["violations"] == []
    assert result["ran"] >= 45


def test_clean_gcp_cell_passes_every_rule():
    assert evaluate(gcp_prod_cell())["violations"] == []


def test_backup_retention_of_one_day_fails():
    records = copy.deepcopy(aws_prod_cell())
    db = find(records, "db", "aws:rds/instance:Instance")
    db["inputs"]["backupRetentionPeriod"] = 1
    assert failures(records) == {("aws-rds-backup-retention", db["urn"])}


def test_public_database_fails():
    records = copy.deepcopy(aws_prod_cell())
    db = find(records, "db", "aws:rds/instance:Instance")
    db["inputs"]["publiclyAccessible"] = True
    assert failures(records) == {("aws-rds-not-public", db["urn"])}


def test_replication_to_the_primary_region_fails():
    records = copy.deepcopy(aws_prod_cell())
    primary = find(records, "primary", "pulumi:providers:aws")
    replica_bucket = find(records, "eu1-workspaces-replica", "aws:s3/bucket:Bucket")
    replica_bucket["provider"] = f"{primary['urn']}::primary-id"
    config = find(records, "eu1-workspaces-replication", "aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    # The moved bucket also logs its access across regions now, which S3 cannot deliver.
    assert failures(records) == {("aws-s3-replication-cross-region", config["urn"]),
                                 ("aws-s3-access-logging", replica_bucket["urn"])}


def test_unprotected_database_in_prod_fails():
    records = copy.deepcopy(aws_prod_cell())
    db = find(records, "db", "aws:rds/instance:Instance")
    db["options"]["protect"] = False
    assert failures(records) == {("stateful-resources-protected-prod", db["urn"])}


def test_missing_installer_hook_fails():
    records = copy.deepcopy(aws_prod_cell())
    job = find(records, "installer", "kubernetes:batch/v1:Job")
    job["options"]["hooks"]["afterCreate"].remove("health-gate")
    assert failures(records) == {("gitpod-installer-hooks", job["urn"])}


def test_dev_cell_needs_no_production_extras():
    records = copy.deepcopy(aws_prod_cell())
    for record in records:
        if record["type"] == "pulumi:providers:aws":
            record["inputs"]["defaultTags"] = record["inputs"]["defaultTags"].replace('"prod"', '"dev"')
        record["options"]["protect"] = False
    records = [r for r in records if "Replication" not in r["type"] and r["name"] != "eu1-workspaces-replica"]
    for record in records:
        if record["type"] == "aws:rds/instance:Instance":
            record["inputs"]["multiAz"] = False
    assert evaluate(records)["violations"] == []
