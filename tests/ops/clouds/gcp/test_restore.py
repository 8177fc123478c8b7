"""`ops restore plan` from a GCP cell: a Cloud SQL clone of the old instance, the old GCS bucket adopted as it is,
the installer config backup chosen by the restore time (ops.clouds.gcp.restore, ops.backup.restore_plan)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from ops import cli
from ops.backup import cli as backup_cli
from ops.common import stackfile
from ops.common.timestamps import format_rfc3339
from tests.ops.support.cli import run_command
from tests.ops.support.gcp import (
    GCP_INSTANCE,
    GCP_REGION,
    GCP_STACK,
)
from tests.ops.support.google_double import GoogleApiDouble
from tests.ops.support.stores import gcs_config_store
from tests.ops.support.values import GCP_PROJECT


@pytest.fixture
def old_cell(cell: GoogleApiDouble, gcs: Any, bucket: str) -> Any:
    # Taken a day ago: a restore picks the newest backup at or before its time, and the tests restore to hours ago.
    return gcs_config_store(gcs, bucket).write(GCP_STACK, "release-2022.11.3", "abc123", "domain: x\n",
                                   datetime.now(UTC) - timedelta(days=1))


def new_config(stacks: Path) -> dict[str, Any]:
    return yaml.safe_load((stacks / "Pulumi.prod-gcp-restored.yaml").read_text())["config"]


# Three rollouts within the clone window (the cell's oldest backup run is a day old), each an upgrade.
UPGRADES = ((timedelta(hours=20), "2024.10.0", "aaa111"), (timedelta(hours=10), "2024.11.0", "bbb222"),
            (timedelta(hours=1), "release-2022.11.3", "ccc333"))


@pytest.fixture
def upgraded_cell(cell: GoogleApiDouble, gcs: Any, bucket: str) -> list[Any]:
    now = datetime.now(UTC).replace(microsecond=0)
    return [gcs_config_store(gcs, bucket).write(GCP_STACK, version, config_hash, f"domain: x\n# {version}\n", now - ago)
            for ago, version, config_hash in UPGRADES]


def restore_gcp(bucket: str, *extra: str) -> int:
    return run_command(backup_cli, ["restore", "plan", "--from-stack", GCP_STACK, "--to-stack", "prod-gcp-restored",
                             "--bucket", bucket, *extra])


def test_restore_plan_of_a_gcp_stack_clones_the_database_and_adopts_the_bucket(old_cell, stacks: Path, bucket: str,
                                                                               capsys):
    assert run_command(backup_cli, ["restore", "plan", "--from-stack", GCP_STACK, "--to-stack", "prod-gcp-restored",
                             "--bucket", bucket]) == 0

    config = new_config(stacks)
    assert config["gitpod-cell:restore"] == {
        "sourceDbInstance": GCP_INSTANCE,
        "pointInTime": "latest",
        "sourceRegion": GCP_REGION,
        "configBackup": {"bucket": bucket, "key": old_cell.key, "versionId": old_cell.version_id},
        "adoptBucket": bucket,
    }
    assert config["gcp:region"] == GCP_REGION
    assert config["gitpod-cell:gitpod"]["version"] == "release-2022.11.3"
    assert config["gitpod-cell:gitpod"]["installerImage"] == (
        "eu.gcr.io/gitpod-core-dev/build/installer:release-2022.11.3")
    out = capsys.readouterr().out
    assert f"the config backed up at gs://{bucket}/{old_cell.key} (version {old_cell.version_id})" in out
    assert f"a Cloud SQL clone of {GCP_INSTANCE} in {GCP_REGION}" in out


def test_the_generated_gcp_stack_plans_a_restored_cell_offline(old_cell, stacks: Path, bucket: str):
    from ops.plan.cli import build_plan

    wanted = format_rfc3339(datetime.now(UTC) - timedelta(hours=2))
    # The shipped prod stack: every setting a real GCP cell has, so the policy pack sees a whole cell.
    shipped = yaml.safe_load(stackfile.stack_path("prod-gcp", stackfile.REPO_ROOT / "stacks").read_text())
    shipped["config"]["gcp:project"] = GCP_PROJECT
    (stacks / f"Pulumi.{GCP_STACK}.yaml").write_text(yaml.safe_dump(shipped))
    assert run_command(backup_cli, ["restore", "plan", "--from-stack", GCP_STACK, "--to-stack", "prod-gcp-restored",
                             "--bucket", bucket, "--time", wanted]) == 0

    plan = build_plan(stackfile.load_stack_file(stacks / "Pulumi.prod-gcp-restored.yaml"))

    db = next(r for r in plan["resources"] if r["type"] == "gcp:sql/databaseInstance:DatabaseInstance")
    assert db["inputs"]["clone"] == {"sourceInstanceName": GCP_INSTANCE, "pointInTime": wanted}
    assert db["inputs"]["region"] == GCP_REGION
    assert not [r for r in plan["resources"] if r["type"] == "gcp:storage/bucket:Bucket"]
    assert plan["outputs"]["bucket"] == bucket
    assert plan["outputs"]["gitpodVersion"] == "release-2022.11.3"
    assert [v for v in plan["policies"]["violations"] if v["enforcement"] == "mandatory"] == []


def test_a_gcp_restore_into_another_region_is_refused_naming_what_to_do(old_cell, stacks: Path, bucket: str,
                                                                       capsys):
    assert run_command(backup_cli, ["restore", "plan", "--from-stack", GCP_STACK, "--to-stack", "prod-gcp-restored",
                             "--bucket", bucket, "--region", "europe-west4"]) == cli.EXIT_CONFIG_ERROR
    out = capsys.readouterr().out
    assert ("--region europe-west4: Cloud SQL creates a clone (its point-in-time recovery) only in the source "
            f"instance's region, {GCP_REGION}") in out
    assert "leave out --region" in out
    assert "gcloud sql backups restore" in out
    assert not (stacks / "Pulumi.prod-gcp-restored.yaml").exists()


def test_a_gcp_restore_time_older_than_the_window_is_a_clear_error(old_cell, stacks: Path, bucket: str, capsys):
    old = format_rfc3339(datetime.now(UTC) - timedelta(days=3))
    assert run_command(backup_cli, ["restore", "plan", "--from-stack", GCP_STACK, "--to-stack", "prod-gcp-restored",
                             "--bucket", bucket, "--time", old]) == cli.EXIT_CONFIG_ERROR
    assert (f"cannot plan the restore: restore time {old} is older than the point-in-time recovery window of "
            f"{GCP_INSTANCE}") in capsys.readouterr().out
    assert not (stacks / "Pulumi.prod-gcp-restored.yaml").exists()


def test_a_gcp_restore_between_two_backups_installs_the_earlier_version(upgraded_cell: list[Any], stacks: Path,
                                                                        bucket: str, capsys):
    t2 = upgraded_cell[1]
    wanted = t2.backed_up_at + timedelta(hours=5)
    assert restore_gcp(bucket, "--time", format_rfc3339(wanted)) == 0

    config = new_config(stacks)
    assert config["gitpod-cell:restore"]["pointInTime"] == format_rfc3339(wanted)
    assert config["gitpod-cell:restore"]["configBackup"] == {"bucket": bucket, "key": t2.key,
                                                             "versionId": t2.version_id}
    assert config["gitpod-cell:gitpod"]["version"] == "2024.11.0"
    out = capsys.readouterr().out
    assert (f"config backup: Gitpod 2024.11.0, config bbb222 (version {t2.version_id}), backed up at "
            f"{format_rfc3339(t2.backed_up_at)}") in out
    assert ("chosen as the newest of 3 backup(s) taken at or before the restore time: 5h before "
            f"{format_rfc3339(wanted)}; 1 later backup(s) skipped") in out


def test_a_gcp_restore_before_every_config_backup_is_refused(upgraded_cell: list[Any], stacks: Path, bucket: str,
                                                             capsys):
    oldest = upgraded_cell[0]
    wanted = oldest.backed_up_at - timedelta(hours=2)
    assert restore_gcp(bucket, "--time", format_rfc3339(wanted)) == cli.EXIT_CONFIG_ERROR

    out = capsys.readouterr().out
    assert (f"no installer config backup was taken at or before {format_rfc3339(wanted)}: the oldest of 3 is Gitpod "
            f"2024.10.0, config aaa111 (version {oldest.version_id}), backed up at "
            f"{format_rfc3339(oldest.backed_up_at)}, "
            f"2h after {format_rfc3339(wanted)} (gs://{bucket}/{oldest.key})") in out
    assert not (stacks / "Pulumi.prod-gcp-restored.yaml").exists()

    # --config-backup names the one to install anyway, as the plan prints it (gs:// URL), checked to exist.
    assert restore_gcp(bucket, "--time", format_rfc3339(wanted), "--config-backup",
                       f"gs://{bucket}/{oldest.key}@{oldest.version_id}") == 0
    config = new_config(stacks)
    assert config["gitpod-cell:restore"]["configBackup"]["versionId"] == oldest.version_id
    assert config["gitpod-cell:gitpod"]["version"] == "2024.10.0"
    assert "chosen as given with --config-backup; backed up at" in capsys.readouterr().out
    assert restore_gcp(bucket, "--force", "--config-backup", f"{oldest.key}@1") == cli.EXIT_CONFIG_ERROR
    assert f"gs://{bucket}/{oldest.key} generation 1 does not exist" in capsys.readouterr().out


def test_a_gcp_restore_to_latest_installs_the_last_backup(upgraded_cell: list[Any], stacks: Path, bucket: str):
    assert restore_gcp(bucket) == 0
    config = new_config(stacks)
    assert config["gitpod-cell:restore"]["configBackup"]["versionId"] == upgraded_cell[2].version_id
    assert config["gitpod-cell:gitpod"]["version"] == "release-2022.11.3"
