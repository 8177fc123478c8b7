"""`ops backup status` and `ops backup config` against moto's server (and the real local Kubernetes API server: the
record and the installer config in the namespace the stack file names, one per test)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ops.backup import cli as backup_cli
from ops.backup.status import BackupStatus, collect_backup_status
from ops.clouds.aws.backup_status import AwsStatusSource
from ops.clouds.aws.s3 import S3ObjectStore
from ops.cluster.installation_record import read_installation_record
from ops.common.cell_target import CellTarget, resolve_cell_target
from tests.ops.support.cli import run_command, use_stack_files
from tests.ops.support.kube_cluster import KubeCluster
from tests.ops.support.stacks import stack_text
from tests.ops.support.stores import s3_config_store
from tests.ops.support.values import AWS_REGION, START, create_rds_instance

ACCOUNT = "123456789012"
BUCKET = f"gitpod-dev-{ACCOUNT}-{AWS_REGION}"
REPLICA = f"gitpod-dev-{ACCOUNT}-eu-central-1"
STACK = stack_text("dev")


def target(**overrides: Any) -> CellTarget:
    config = {"aws:region": AWS_REGION, "gitpod-cell:replicaRegion": "eu-central-1"}
    return resolve_cell_target("dev", config, account_id=lambda: ACCOUNT, **overrides)


def status_of(source: AwsStatusSource) -> BackupStatus:
    cell = target()
    return collect_backup_status(source, S3ObjectStore(source.s3, cell.bucket), cell, START)


def make_bucket(s3: Any, name: str, region: str, *, versioned: bool = True) -> None:
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    if versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})


@pytest.fixture
def replica_s3(moto_url: str, boto_session: Any) -> Any:
    return boto_session.client("s3", region_name="eu-central-1", endpoint_url=moto_url)


@pytest.fixture
def protected_cell(aws, replica_s3) -> AwsStatusSource:
    s3, rds, ecr = aws("s3"), aws("rds"), aws("ecr")
    create_rds_instance(rds, "gitpod-dev-db", backup_retention_days=7)
    rds.create_db_snapshot(DBInstanceIdentifier="gitpod-dev-db", DBSnapshotIdentifier="manual-1")
    make_bucket(s3, BUCKET, AWS_REGION)
    make_bucket(replica_s3, REPLICA, "eu-central-1")
    s3.put_bucket_replication(Bucket=BUCKET, ReplicationConfiguration={
        "Role": f"arn:aws:iam::{ACCOUNT}:role/replication",
        "Rules": [{"ID": "everything", "Status": "Enabled", "Priority": 1, "Filter": {},
                   "DeleteMarkerReplication": {"Status": "Enabled"},
                   "Destination": {"Bucket": f"arn:aws:s3:::{REPLICA}"}}]})
    s3_config_store(s3, BUCKET).write("dev", "2024.11.0", "abc123", "domain: x\n", START)
    for name in ("gitpod-dev/base-images", "gitpod-dev/workspace-images"):
        ecr.create_repository(repositoryName=name, imageScanningConfiguration={"scanOnPush": True})
    return AwsStatusSource(rds=rds, s3=s3, ecr=ecr, replica_s3=replica_s3)


def test_status_of_a_protected_cell(protected_cell):
    status = status_of(protected_cell)

    database = status.sections["database"]
    assert database["pointInTimeRecovery"]["enabled"] is True
    assert database["pointInTimeRecovery"]["retentionDays"] == 7
    assert database["lastSnapshot"]["id"] == "manual-1"
    assert database["lastSnapshot"]["type"] == "manual"
    storage = status.sections["objectStorage"]
    assert storage["versioning"] == "Enabled"
    assert storage["replication"] == [{"id": "everything", "status": "Enabled",
                                       "destination": f"arn:aws:s3:::{REPLICA}"}]
    assert storage["replicaBucket"] == {"bucket": REPLICA, "versioning": "Enabled"}
    assert status.sections["installerConfig"]["lastBackup"]["version"] == "2024.11.0"
    assert set(status.sections["registry"]["repositories"]) == {"gitpod-dev/base-images",
                                                                "gitpod-dev/workspace-images"}
    gaps = "\n".join(status.not_protected)
    # moto has no cross-region backup copies, and the registry is never backed up: both said plainly.
    assert "automated backups are not copied to another region" in gaps
    assert "registry: images are not backed up" in gaps
    assert "versioning" not in gaps
    assert "not replicated" not in gaps
    assert "no config" not in gaps
    assert "Not protected:" in status.describe()
    json.dumps(status.to_dict())


def test_status_says_plainly_what_is_not_protected(aws):
    s3, rds = aws("s3"), aws("rds")
    create_rds_instance(rds, "gitpod-dev-db", backup_retention_days=0)
    make_bucket(s3, BUCKET, AWS_REGION, versioned=False)

    status = status_of(AwsStatusSource(rds=rds, s3=s3, ecr=aws("ecr")))

    gaps = "\n".join(status.not_protected)
    assert "database: point-in-time recovery is off" in gaps
    assert f"versioning of {BUCKET} is Disabled" in gaps
    assert f"{BUCKET} is not replicated" in gaps
    assert "installer config: no config + version-label backup yet" in gaps
    assert "ops backup config --stack dev" in gaps


def test_a_missing_database_is_reported_not_raised(aws):
    status = status_of(AwsStatusSource(rds=aws("rds"), s3=aws("s3"), ecr=aws("ecr")))
    assert "cannot describe RDS instance 'gitpod-dev-db'" in status.sections["database"]["error"]
    assert any(gap.startswith("objectStorage: could not be checked") for gap in status.not_protected)


# -- the command line ---------------------------------------------------------------------------------------------


def run(argv: list[str]) -> int:
    return run_command(backup_cli, argv)


@pytest.fixture
def stacks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return use_stack_files(tmp_path, monkeypatch, {"dev": STACK})


def test_status_command_finds_the_cell_by_stack_name(protected_cell, stacks, capsys):
    code = run(["backup", "status", "--stack", "dev", "--json"])
    document = json.loads(capsys.readouterr().out)
    # Read in full, and two real gaps (no cross-region copies, an old config backup): exit 1, not 0.
    assert code == 1
    gaps = [gap for gap in document["notProtected"] if not gap.startswith(("registry:", "cluster:"))]
    assert [gap.split(":")[0] for gap in gaps] == ["database", "installer config"]
    assert document["objectStorage"]["bucket"] == BUCKET  # gitpod-<stack>-<account>-<region>, account from STS
    assert document["database"]["instance"] == "gitpod-dev-db"


STACK_IN_NAMESPACE = STACK + "    namespace: {namespace}\n"


@pytest.fixture
def kube_stacks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cluster: KubeCluster) -> Path:
    """Stack `dev` with its Gitpod namespace the test's own."""
    return use_stack_files(tmp_path, monkeypatch, {"dev": STACK_IN_NAMESPACE.format(namespace=cluster.namespace)})


def installer_config_in(cluster: KubeCluster) -> None:
    """The installer config as the installation leaves it in the cluster (ops.backup.config_now reads it)."""
    cluster.put_config_map(cluster.namespace, "gitpod-installer-config",
                           {"config.yaml": "domain: gitpod.example.com\n"})


def test_config_command_backs_up_what_the_cluster_runs(aws, kube_stacks, cluster: KubeCluster, capsys):
    s3 = aws("s3")
    make_bucket(s3, BUCKET, AWS_REGION)
    cluster.put_config_map(cluster.namespace, "gitpod-installation", {"version": "2024.11.0", "configHash": "abc123"})
    installer_config_in(cluster)
    kubeconfig = cluster.kubeconfig_path

    assert run(["backup", "config", "--stack", "dev", "--kubeconfig", str(kubeconfig)]) == 0

    restored = s3_config_store(s3, BUCKET).read_latest("dev")
    assert restored is not None
    assert restored.config_yaml == "domain: gitpod.example.com\n"
    assert restored.backup.gitpod_version == "2024.11.0"
    assert restored.backup.config_hash == "abc123"
    assert restored.backup.key == "gitpod-cell/dev/installer-config/2024.11.0/abc123.yaml"
    assert "backed up Gitpod 2024.11.0" in capsys.readouterr().out
    from ops.cluster.kube import KubeClient

    record = read_installation_record(KubeClient.from_kubeconfig(kubeconfig), cluster.namespace)
    assert record is not None
    assert record.last_config_backup == restored.backup


def test_config_command_without_an_installation_fails_clearly(aws, kube_stacks, cluster, capsys):
    make_bucket(aws("s3"), BUCKET, AWS_REGION)
    kubeconfig = cluster.kubeconfig_path
    assert run(["backup", "config", "--stack", "dev", "--kubeconfig", str(kubeconfig)]) == 1
    assert "no gitpod-installation record" in capsys.readouterr().out


@pytest.mark.parametrize(("record", "refusal"), [
    ({"cell": "prod"}, "belongs to cell 'prod', not 'dev'"),
    ({"lastRolloutStartedAt": "2025-03-14T10:00:00Z", "lastRolloutFinishedAt": "2025-03-14T09:00:00Z"},
     "the rollout started 2025-03-14T10:00:00Z never finished (last finished: 2025-03-14T09:00:00Z)"),
    ({"lastRolloutStartedAt": "2025-03-14T10:00:00Z"}, "never finished (last finished: never)"),
])
def test_config_command_refuses_another_cell_or_an_unapplied_config(aws, kube_stacks, cluster: KubeCluster, capsys,
                                                                   record, refusal):
    s3 = aws("s3")
    make_bucket(s3, BUCKET, AWS_REGION)
    cluster.put_config_map(cluster.namespace, "gitpod-installation",
                           {"version": "2024.11.0", "configHash": "abc123", **record})
    installer_config_in(cluster)
    kubeconfig = cluster.kubeconfig_path

    assert run(["backup", "config", "--stack", "dev", "--kubeconfig", str(kubeconfig)]) == 1

    assert refusal in capsys.readouterr().out
    assert s3_config_store(s3, BUCKET).read_latest("dev") is None


def test_config_command_accepts_its_own_cell_after_a_finished_rollout(aws, kube_stacks, cluster: KubeCluster):
    make_bucket(aws("s3"), BUCKET, AWS_REGION)
    cluster.put_config_map(cluster.namespace, "gitpod-installation", {
        "version": "2024.11.0", "configHash": "abc123", "cell": "dev",
        "lastRolloutStartedAt": "2025-03-14T09:00:00Z", "lastRolloutFinishedAt": "2025-03-14T09:20:00Z"})
    installer_config_in(cluster)
    kubeconfig = cluster.kubeconfig_path
    assert run(["backup", "config", "--stack", "dev", "--kubeconfig", str(kubeconfig)]) == 0
