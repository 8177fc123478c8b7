"""A cell restored from another cell's backups: PITR database, adopted bucket, nothing empty created."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from ops.common.stackfile import StackFile
from ops.plan.cli import build_plan

RESTORE = {
    "sourceDbInstance": "gitpod-prod-db",
    "pointInTime": "2026-11-21T08:30:00Z",
    "adoptBucket": "gitpod-prod-123456789012-eu-west-1",
    "configBackup": {"bucket": "gitpod-prod-123456789012-eu-west-1",
                     "key": "gitpod-cell/prod/installer-config/release-2022.06.0.10/abc.yaml", "versionId": "v1"},
}
IN_REPLICA_REGION = {
    "sourceDbInstance": "gitpod-prod-db",
    "pointInTime": "latest",
    "sourceAutomatedBackupsArn": "arn:aws:rds:eu-central-1:123456789012:auto-backup:ab-abcdefghij1234567890",
    "adoptBucket": "gitpod-prod-123456789012-eu-central-1",
}


@pytest.fixture
def restore_plan(stack_variant: Callable[[str, dict[str, Any]], StackFile], shared_program_runs: None
                 ) -> Callable[..., dict]:
    """The plan of prod with a restore section; tests asking for the same one share the program's run."""

    def plan(restore: dict[str, Any], **extra: Any) -> dict:
        return build_plan(stack_variant("prod", {"gitpod-cell:restore": restore, **extra}))

    return plan


def test_database_is_created_by_point_in_time_restore(restore_plan: Callable[..., dict]) -> None:
    plan = restore_plan(RESTORE)
    db = next(r for r in plan["resources"] if r["type"] == "aws:rds/instance:Instance")
    assert db["inputs"]["restoreToPointInTime"] == {"sourceDbInstanceIdentifier": "gitpod-prod-db",
                                                    "restoreTime": "2026-11-21T08:30:00Z"}
    assert "dbName" not in db["inputs"]
    assert db["inputs"]["password"] == "[secret]"
    # Removing the restore section later must never replace the restored database.
    assert "restoreToPointInTime" in db["options"]["ignoreChanges"]
    assert db["options"]["protect"] is True


def test_bucket_is_adopted_not_created(restore_plan: Callable[..., dict]) -> None:
    plan = restore_plan(RESTORE)
    types = {r["type"] for r in plan["resources"]}
    assert "aws:s3/bucket:Bucket" not in types
    assert "aws:s3/bucketReplicationConfig:BucketReplicationConfig" not in types
    assert any(r["type"] == "gitpod-cell:aws:AdoptedBucket" for r in plan["resources"])
    assert plan["outputs"]["bucket"] == RESTORE["adoptBucket"]
    storage_policy = next(json.loads(r["inputs"]["policy"]) for r in plan["resources"]
                          if r["type"] == "aws:iam/userPolicy:UserPolicy")  # the bucket key's one policy
    resources = {res for statement in storage_policy["Statement"] for res in statement["Resource"]}
    assert f"arn:aws:s3:::{RESTORE['adoptBucket']}/*" in resources
    installer_config = json.dumps(plan["resources"])
    assert RESTORE["adoptBucket"] in installer_config


def test_restore_into_the_replica_region_uses_the_replicated_backups(restore_plan: Callable[..., dict]) -> None:
    plan = restore_plan(IN_REPLICA_REGION, **{"aws:region": "eu-central-1", "gitpod-cell:replicaRegion": "eu-north-1"})
    db = next(r for r in plan["resources"] if r["type"] == "aws:rds/instance:Instance")
    assert db["inputs"]["restoreToPointInTime"] == {
        "sourceDbInstanceAutomatedBackupsArn": IN_REPLICA_REGION["sourceAutomatedBackupsArn"],
        "useLatestRestorableTime": True,
    }
    assert plan["outputs"]["region"] == "eu-central-1"
    assert plan["outputs"]["bucket"] == IN_REPLICA_REGION["adoptBucket"]


def test_restored_cell_passes_the_policy_pack(restore_plan: Callable[..., dict]) -> None:
    plan = restore_plan(RESTORE)
    assert [v for v in plan["policies"]["violations"] if v["enforcement"] == "mandatory"] == []


@pytest.mark.parametrize(("field", "value", "fragment"), [
    ("pointInTime", "yesterday", "neither 'latest' nor a UTC time"),
    ("sourceAutomatedBackupsArn", "arn:aws:rds:eu-central-1:1:db:x", "automated-backups ARN"),
])
def test_bad_restore_settings_are_config_errors(restore_plan: Callable[..., dict], field: str, value: str,
                                                fragment: str) -> None:
    from ops.cli import OpsError

    with pytest.raises(OpsError) as caught:
        restore_plan({**RESTORE, field: value})
    assert f"gitpod-cell:restore.{field}" in str(caught.value)
    assert fragment in str(caught.value)


def test_gcp_restore_clones_cloud_sql_at_the_point_in_time_and_adopts_the_bucket(
        stack_variant: Callable[[str, dict[str, Any]], StackFile]) -> None:
    restore = {"sourceDbInstance": "gitpod-prod-gcp-db", "pointInTime": "2026-11-21T08:30:00Z",
               "adoptBucket": "gitpod-prod-gcp-workspaces"}
    plan = build_plan(stack_variant("prod-gcp", {"gitpod-cell:restore": restore}))
    db = next(r for r in plan["resources"] if r["type"] == "gcp:sql/databaseInstance:DatabaseInstance")
    assert db["inputs"]["clone"] == {"sourceInstanceName": "gitpod-prod-gcp-db",
                                     "pointInTime": "2026-11-21T08:30:00Z"}
    assert "clone" in db["options"]["ignoreChanges"]
    assert not [r for r in plan["resources"] if r["type"] == "gcp:storage/bucket:Bucket"]
    assert plan["outputs"]["bucket"] == "gitpod-prod-gcp-workspaces"
    assert [v for v in plan["policies"]["violations"] if v["enforcement"] == "mandatory"] == []


@pytest.mark.parametrize("restore", [RESTORE, IN_REPLICA_REGION])
def test_restored_database_keeps_the_sources_key_without_a_replacement_loop(
        restore_plan: Callable[..., dict], restore: dict[str, Any]) -> None:
    # RestoreDBInstanceToPointInTime takes no KMS key: the instance keeps the source's (or the backup replica's)
    # key, so a diff on kmsKeyId (which replaces) must be ignored, now and after the restore section is dropped.
    extra = {"aws:region": "eu-central-1", "gitpod-cell:replicaRegion": "eu-north-1"} if restore is IN_REPLICA_REGION \
        else {}
    plan = restore_plan(restore, **extra)
    db = next(r for r in plan["resources"] if r["type"] == "aws:rds/instance:Instance")
    assert {"kmsKeyId", "performanceInsightsKmsKeyId", "restoreToPointInTime"} <= set(db["options"]["ignoreChanges"])
    assert db["inputs"]["storageEncrypted"] is True


@pytest.mark.parametrize("stack", ["prod-restored", "prod-dr"])
def test_restore_stack_names_are_valid_cell_names(stack: str) -> None:
    from components.config import CellConfig
    from tests.config_helpers import shipped
    from tests.conftest import with_changes

    config = CellConfig.from_stack_config(stack, with_changes(shipped("prod"), {"gitpod-cell:restore": RESTORE}))
    assert config.name_prefix == f"gitpod-{stack}"
