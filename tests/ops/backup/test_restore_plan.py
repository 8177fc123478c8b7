"""`ops restore plan`: the new stack file from the old cell's backups, against moto's RDS and S3."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.stub import Stubber

from ops import cli
from ops.backup import cli as backup_cli
from ops.backup.config_backup import ConfigBackup
from ops.common import stackfile
from tests.ops.support.cli import run_command
from tests.ops.support.stacks import stack_text
from tests.ops.support.stores import s3_config_store
from tests.ops.support.values import AWS_REGION, START, create_rds_instance

# A value encrypted for the old stack (`secure:`) cannot be copied: the plan says to set it again.
OLD_STACK = stack_text("prod", {"gitpod-cell:database": {"backupRetentionDays": 14},
                                "aws:profile": {"secure": "v1:abc"}})
ACCOUNT = "123456789012"  # moto's
PRIMARY_BUCKET = f"gitpod-prod-{ACCOUNT}-eu-west-1"
REPLICA_BUCKET = f"gitpod-prod-{ACCOUNT}-eu-central-1"


def make_old_cell(aws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, moto_url: str, boto_session,
                  backups: list[tuple[str, str, datetime]]) -> dict[str, Any]:
    """The old cell's stack file, database and both buckets, with `backups` (version, config hash, time) taken in
    that order; `history` holds each bucket's ConfigBackups, `backups` each bucket's last."""
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    (stacks / "Pulumi.prod.yaml").write_text(OLD_STACK)
    monkeypatch.setattr(stackfile, "STACKS_DIR", stacks)
    create_rds_instance(aws("rds"), "gitpod-prod-db", backup_retention_days=14)
    history: dict[str, list[ConfigBackup]] = {}
    for bucket, region in ((PRIMARY_BUCKET, AWS_REGION), (REPLICA_BUCKET, "eu-central-1")):
        s3 = boto_session.client("s3", region_name=region, endpoint_url=moto_url)
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        # S3 replication would copy the objects; moto does not replicate, so the test writes both copies.
        history[bucket] = [s3_config_store(s3, bucket).write("prod", version, config_hash, f"domain: x\n# {version}\n",
                                               at) for version, config_hash, at in backups]
    return {"stacks": stacks, "history": history, "backups": {bucket: taken[-1] for bucket, taken in history.items()}}


@pytest.fixture
def old_cell(aws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, moto_url: str, boto_session) -> dict[str, Any]:
    return make_old_cell(aws, tmp_path, monkeypatch, moto_url, boto_session, [("release-2022.11.3", "abc123", START)])


def run(argv: list[str]) -> int:
    return run_command(backup_cli, argv)


def new_config(stacks: Path, name: str = "prod-restored") -> dict[str, Any]:
    return yaml.safe_load((stacks / f"Pulumi.{name}.yaml").read_text())["config"]


def test_restore_into_the_same_region_adopts_the_primary_bucket(old_cell, capsys):
    assert run(["restore", "plan", "--from-stack", "prod", "--to-stack", "prod-restored"]) == 0

    config = new_config(old_cell["stacks"])
    backup = old_cell["backups"][PRIMARY_BUCKET]
    assert config["gitpod-cell:restore"] == {
        "sourceDbInstance": "gitpod-prod-db",
        "pointInTime": "latest",
        "sourceRegion": "eu-west-1",
        "configBackup": {"bucket": PRIMARY_BUCKET, "key": backup.key, "versionId": backup.version_id},
        "adoptBucket": PRIMARY_BUCKET,
    }
    assert config["aws:region"] == "eu-west-1"
    # Exactly the backed-up version, not the one the old stack file names now.
    assert config["gitpod-cell:gitpod"]["version"] == "release-2022.11.3"
    assert config["gitpod-cell:gitpod"]["installerImage"] == (
        "eu.gcr.io/gitpod-core-dev/build/installer:release-2022.11.3")
    assert config["gitpod-cell:gitpod"]["letsencrypt"] == {"email": "platform-team@example.com"}
    assert "aws:profile" not in config  # encrypted for the old stack: set again
    out = capsys.readouterr().out
    assert "pulumi config set --secret --stack prod-restored aws:profile <value>" in out
    assert "pulumi up --stack prod-restored --policy-pack policies" in out


REPLICATED_BACKUPS_ARN = f"arn:aws:rds:eu-central-1:{ACCOUNT}:auto-backup:ab-replicated0123456789"


@pytest.fixture
def replicated_backups(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto does not replicate automated backups across regions: answer the one call with what RDS returns."""
    real_client = boto3.session.Session.client

    def client(self, service_name, *args, **kwargs):
        made = real_client(self, service_name, *args, **kwargs)
        if service_name == "rds" and (kwargs.get("region_name") or self.region_name) == "eu-central-1":
            stubber = Stubber(made)
            stubber.add_response("describe_db_instance_automated_backups", {"DBInstanceAutomatedBackups": [{
                "DBInstanceAutomatedBackupsArn": REPLICATED_BACKUPS_ARN,
                "DBInstanceIdentifier": "gitpod-prod-db",
                "BackupRetentionPeriod": 14,
                "RestoreWindow": {"EarliestTime": START - timedelta(days=13), "LatestTime": START},
            }]}, {"DBInstanceIdentifier": "gitpod-prod-db"})
            stubber.activate()
        return made

    monkeypatch.setattr(boto3.session.Session, "client", client)


def test_restore_into_the_replica_region_adopts_the_replica_bucket(old_cell, replicated_backups):
    assert run(["restore", "plan", "--from-stack", "prod", "--to-stack", "prod-restored",
                "--region", "eu-central-1"]) == 0

    config = new_config(old_cell["stacks"])
    restore = config["gitpod-cell:restore"]
    backup = old_cell["backups"][REPLICA_BUCKET]
    assert restore["adoptBucket"] == REPLICA_BUCKET
    assert restore["configBackup"] == {"bucket": REPLICA_BUCKET, "key": backup.key, "versionId": backup.version_id}
    assert restore["sourceRegion"] == "eu-west-1"
    assert restore["sourceAutomatedBackupsArn"] == REPLICATED_BACKUPS_ARN
    assert config["aws:region"] == "eu-central-1"
    assert config["gitpod-cell:replicaRegion"] == "eu-west-1"


def test_a_time_inside_the_window_is_written_as_rfc3339(old_cell, aws):
    latest = aws("rds").describe_db_instances(DBInstanceIdentifier="gitpod-prod-db")["DBInstances"][0][
        "LatestRestorableTime"]
    assert run(["restore", "plan", "--from-stack", "prod", "--to-stack", "prod-restored",
                "--time", latest.isoformat()]) == 0
    written = new_config(old_cell["stacks"])["gitpod-cell:restore"]["pointInTime"]
    assert written.endswith("Z")
    assert written[:16] == latest.astimezone(START.tzinfo).isoformat()[:16]


def test_a_time_older_than_the_pitr_window_is_a_clear_error(old_cell, capsys):
    code = run(["restore", "plan", "--from-stack", "prod", "--to-stack", "prod-restored",
                "--time", "2025-03-14T09:26:53Z"])
    assert code == cli.EXIT_CONFIG_ERROR
    assert "restore time 2025-03-14T09:26:53Z is older than the point-in-time recovery window of gitpod-prod-db" \
        in capsys.readouterr().out
    assert not (old_cell["stacks"] / "Pulumi.prod-restored.yaml").exists()


def test_a_region_without_replicas_is_refused(old_cell, capsys):
    assert run(["restore", "plan", "--from-stack", "prod", "--to-stack", "x", "--region", "us-east-1"]) == 2
    assert "can only go to eu-west-1 or eu-central-1" in capsys.readouterr().out


def test_an_existing_stack_file_is_not_overwritten(old_cell, capsys):
    (old_cell["stacks"] / "Pulumi.prod-restored.yaml").write_text("config: {}\n")
    assert run(["restore", "plan", "--from-stack", "prod", "--to-stack", "prod-restored"]) == 2
    assert "pass --force" in capsys.readouterr().out


def test_no_config_backup_is_a_clear_error(old_cell, aws, capsys):
    s3 = aws("s3")
    for version in s3.list_object_versions(Bucket=PRIMARY_BUCKET).get("Versions", []):
        s3.delete_object(Bucket=PRIMARY_BUCKET, Key=version["Key"], VersionId=version["VersionId"])
    assert run(["restore", "plan", "--from-stack", "prod", "--to-stack", "prod-restored"]) == 2
    assert "no installer config backup of 'prod'" in capsys.readouterr().out


def test_replica_region_without_replicated_backups_is_a_clear_error(old_cell, capsys):
    assert run(["restore", "plan", "--from-stack", "prod", "--to-stack", "x", "--region", "eu-central-1"]) == 2
    out = capsys.readouterr().out
    assert "no automated backups of gitpod-prod-db are replicated to eu-central-1" in out
    assert "crossRegionBackups" in out


@pytest.mark.parametrize("region", [None, "eu-central-1"])
def test_the_generated_stack_plans_a_restored_cell_offline(old_cell, replicated_backups, region):
    from ops.plan.cli import build_plan

    extra = ["--region", region] if region else []
    assert run(["restore", "plan", "--from-stack", "prod", "--to-stack", "prod-restored", *extra]) == 0
    plan = build_plan(stackfile.load_stack_file(old_cell["stacks"] / "Pulumi.prod-restored.yaml"))
    db = next(r for r in plan["resources"] if r["type"] == "aws:rds/instance:Instance")
    restored_from = db["inputs"]["restoreToPointInTime"]
    if region:
        assert restored_from["sourceDbInstanceAutomatedBackupsArn"] == REPLICATED_BACKUPS_ARN
    else:
        assert restored_from["sourceDbInstanceIdentifier"] == "gitpod-prod-db"
    assert not [r for r in plan["resources"] if r["type"] == "aws:s3/bucket:Bucket"]
    assert plan["outputs"]["bucket"] == (REPLICA_BUCKET if region else PRIMARY_BUCKET)
    assert plan["outputs"]["gitpodVersion"] == "release-2022.11.3"
    assert [v for v in plan["policies"]["violations"] if v["enforcement"] == "mandatory"] == []


# -- which config backup: the newest at or before the restore time ----------------------------------------------------

# Three healthy rollouts, each an upgrade. The replica region's restore window (the stub above) is START-13d..START,
# so every time below is restorable there; moto's own window in the primary region is only "since created".
T1, T2, T3 = START - timedelta(days=3), START - timedelta(days=2), START - timedelta(days=1)


@pytest.fixture
def upgraded_cell(aws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, moto_url: str, boto_session) -> dict[str, Any]:
    return make_old_cell(aws, tmp_path, monkeypatch, moto_url, boto_session,
                         [("2024.10.0", "aaa111", T1), ("2024.11.0", "bbb222", T2),
                          ("release-2022.11.3", "ccc333", T3)])


def into_replica(*extra: str) -> list[str]:
    return ["restore", "plan", "--from-stack", "prod", "--to-stack", "prod-restored", "--region", "eu-central-1",
            *extra]


def test_a_time_between_two_backups_installs_the_earlier_version(upgraded_cell, replicated_backups, capsys):
    wanted = T2 + timedelta(hours=12)
    assert run(into_replica("--time", wanted.isoformat())) == 0

    config = new_config(upgraded_cell["stacks"])
    chosen = upgraded_cell["history"][REPLICA_BUCKET][1]
    assert config["gitpod-cell:restore"]["pointInTime"] == "2025-03-12T21:26:53Z"
    assert config["gitpod-cell:restore"]["configBackup"] == {"bucket": REPLICA_BUCKET, "key": chosen.key,
                                                             "versionId": chosen.version_id}
    # The database as it was before the release-2022.11.3 upgrade runs with the version it ran with then.
    assert config["gitpod-cell:gitpod"]["version"] == "2024.11.0"
    assert config["gitpod-cell:gitpod"]["installerImage"] == "eu.gcr.io/gitpod-core-dev/build/installer:2024.11.0"
    out = capsys.readouterr().out
    assert (f"config backup: Gitpod 2024.11.0, config bbb222 (version {chosen.version_id}), backed up at "
            "2025-03-12T09:26:53Z") in out
    assert ("chosen as the newest of 3 backup(s) taken at or before the restore time: 12h before "
            "2025-03-12T21:26:53Z; 1 later backup(s) skipped") in out


def test_a_time_before_every_config_backup_is_refused_naming_the_oldest(upgraded_cell, replicated_backups, capsys):
    assert run(into_replica("--time", "2025-03-10T09:26:53Z")) == cli.EXIT_CONFIG_ERROR

    out = capsys.readouterr().out
    oldest = upgraded_cell["history"][REPLICA_BUCKET][0]
    assert ("no installer config backup was taken at or before 2025-03-10T09:26:53Z: the oldest of 3 is Gitpod "
            f"2024.10.0, config aaa111 (version {oldest.version_id}), backed up at 2025-03-11T09:26:53Z, 1d after "
            f"2025-03-10T09:26:53Z (s3://{REPLICA_BUCKET}/{oldest.key})") in out
    assert f"--config-backup KEY[@VERSION] (e.g. --config-backup {oldest.key}@{oldest.version_id})" in out
    assert not (upgraded_cell["stacks"] / "Pulumi.prod-restored.yaml").exists()


def test_config_backup_overrides_the_choice_after_checking_it_exists(upgraded_cell, replicated_backups, capsys):
    oldest = upgraded_cell["history"][REPLICA_BUCKET][0]
    assert run(into_replica("--time", "2025-03-10T09:26:53Z", "--config-backup",
                            f"{oldest.key}@{oldest.version_id}")) == 0

    config = new_config(upgraded_cell["stacks"])
    assert config["gitpod-cell:restore"]["configBackup"]["versionId"] == oldest.version_id
    assert config["gitpod-cell:gitpod"]["version"] == "2024.10.0"
    assert ("chosen as given with --config-backup; backed up at 2025-03-11T09:26:53Z (1d after "
            "2025-03-10T09:26:53Z)") in capsys.readouterr().out

    assert run(into_replica("--force", "--config-backup", f"{oldest.key}@nosuchversion")) == \
        cli.EXIT_CONFIG_ERROR
    assert (f"cannot read the config backup: s3://{REPLICA_BUCKET}/{oldest.key} version nosuchversion does not "
            "exist") in capsys.readouterr().out


@pytest.mark.parametrize("region", [None, "eu-central-1"])
def test_latest_installs_the_last_backup(upgraded_cell, replicated_backups, region, capsys):
    extra = ["--region", region] if region else []
    assert run(["restore", "plan", "--from-stack", "prod", "--to-stack", "prod-restored", *extra]) == 0

    config = new_config(upgraded_cell["stacks"])
    bucket = REPLICA_BUCKET if region else PRIMARY_BUCKET
    last = upgraded_cell["history"][bucket][2]
    assert config["gitpod-cell:restore"]["pointInTime"] == "latest"
    assert config["gitpod-cell:restore"]["configBackup"] == {"bucket": bucket, "key": last.key,
                                                             "versionId": last.version_id}
    assert config["gitpod-cell:gitpod"]["version"] == "release-2022.11.3"
    assert "chosen as the newest of 3 backup(s), for the latest restorable time" in capsys.readouterr().out


def test_a_new_stack_name_that_cannot_name_a_cell_is_refused_before_any_cloud_call(old_cell, capsys):
    assert run(["restore", "plan", "--from-stack", "prod", "--to-stack", "prod-restored-2025-03-14"]) == 2
    out = capsys.readouterr().out
    assert "--to-stack 'prod-restored-2025-03-14' is not usable as a cell name: 1-17" in out
    assert not (old_cell["stacks"] / "Pulumi.prod-restored-2025-03-14.yaml").exists()
