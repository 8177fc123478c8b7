"""The day-2 commands on a GCP cell, end to end through their command lines: `backup status`, `backup config`,
`preflight`, `drill` and `restore plan` — fake-gcs-server for GCS, the local double for the Cloud SQL Admin and
Artifact Registry APIs, MariaDB for the database, the Kubernetes double for the cluster. Nothing leaves loopback."""

from __future__ import annotations

import argparse
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from ops import cli
from ops.backup import cli as backup_cli
from ops.backup.pitr_window import PitrWindowError
from ops.checks import cli as checks_cli
from ops.checks.drill import RESTORE, WAIT_AVAILABLE, DrillClients, DrillFailed, DrillSettings, run_drill
from ops.checks.mysql import ServerVersionRequirement, tls_connector
from ops.checks.preflight import GITPOD_WORKLOAD_LABELS
from ops.clouds.gcp.api import GoogleApi
from ops.clouds.gcp.cloudsql import cloudsql_pitr_window, read_cloudsql_pitr_window
from ops.clouds.gcp.drill import CloudSqlDrillBackend
from ops.clouds.gcp.gcs import GcsObjectStore
from ops.common import stackfile
from ops.common.timestamps import format_rfc3339
from tests.ops.support.cli import run_command
from tests.ops.support.google_double import CloudSqlLikeServer, GoogleApiDouble, cloudsql_like_server
from tests.ops.support.kube_double import KubeDouble
from tests.ops.support.mariadb import ROOT_PASSWORD, PitrScenario, endpoint_for, scenario  # noqa: F401
from tests.ops.support.stores import gcs_config_store
from tests.ops.support.values import GCP_PROJECT, START, FakeClock, write_kubeconfig

REGION = "europe-west1"
STACK = "prod-gcp"
INSTANCE = "gitpod-prod-gcp-db"
REPOSITORY = "gitpod-prod-gcp"
STACK_FILE = f"""\
config:
  gcp:project: {GCP_PROJECT}
  gcp:region: {REGION}
  gitpod-cell:cloud: gcp
  gitpod-cell:environment: prod
  gitpod-cell:replicaRegion: europe-west4
  gitpod-cell:database:
    crossRegionBackups: true
  gitpod-cell:gitpod:
    version: 2024.11.0
    installerImage: eu.gcr.io/gitpod-core-dev/build/installer:2024.11.0
"""


def run(module: Any, argv: list[str], **overrides: Any) -> int:
    return run_command(module, argv, **overrides)


def utc_text(moment: datetime) -> str:
    return format_rfc3339(moment)


@pytest.fixture
def stacks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "stacks"
    directory.mkdir()
    (directory / f"Pulumi.{STACK}.yaml").write_text(STACK_FILE)
    monkeypatch.setattr(stackfile, "STACKS_DIR", directory)
    return directory


@pytest.fixture
def bucket(gcs: Any) -> str:
    """A fresh versioned EU bucket (fake-gcs-server keeps buckets for the whole run)."""
    created = gcs.bucket(f"gitpod-gcp-{uuid.uuid4().hex[:12]}")
    created.versioning_enabled = True
    return str(gcs.create_bucket(created, location="EU").name)


@pytest.fixture
def cell(gcp_apis: GoogleApiDouble, stacks: Path, bucket: str) -> GoogleApiDouble:
    """The cell's Cloud SQL instance (binary log on, deletion protection on as in prod, a backup a day old) and its
    Artifact Registry repository."""
    gcp_apis.put_instance(GCP_PROJECT, INSTANCE, deletion_protection=True, private_ip="127.0.0.1")
    gcp_apis.put_backup_run(GCP_PROJECT, INSTANCE, "1741921200000",
                            started=utc_text(datetime.now(UTC) - timedelta(days=1)))
    gcp_apis.put_repository(GCP_PROJECT, REGION, REPOSITORY)
    return gcp_apis


# -- the point-in-time window Cloud SQL does not report ------------------------------------------------------------


def test_the_window_runs_from_the_oldest_backup_or_the_log_retention_to_now():
    instance = {"settings": {"backupConfiguration": {"binaryLogEnabled": True, "transactionLogRetentionDays": 7}}}
    runs = [{"status": "SUCCESSFUL", "endTime": "2025-03-13T02:10:00Z"},
            {"status": "FAILED", "startTime": "2025-03-01T02:00:00Z"},
            {"status": "SUCCESSFUL", "startTime": "2025-03-01T02:00:00Z"}]

    window = cloudsql_pitr_window(INSTANCE, instance, runs, START)

    # The 1 March backup is older than the 7 days of binary log kept after it: the log bounds the window.
    assert window.earliest == START - timedelta(days=7)
    assert window.latest == START
    assert cloudsql_pitr_window(INSTANCE, instance, runs[:1], START).earliest == datetime(2025, 3, 13, 2, 10,
                                                                                            tzinfo=UTC)
    # No backup yet: only the current state can be cloned.
    only_now = cloudsql_pitr_window(INSTANCE, instance, [], START)
    assert (only_now.earliest, only_now.latest) == (START, START)
    with pytest.raises(PitrWindowError, match="is older than the point-in-time recovery window"):
        only_now.restore_time(START - timedelta(minutes=1))
    off = {"settings": {"backupConfiguration": {"binaryLogEnabled": False}}}
    assert not cloudsql_pitr_window(INSTANCE, off, runs, START).enabled


def test_a_missing_instance_has_no_window(google_api: GoogleApiDouble):
    api = GoogleApi(requests.Session(), google_api.url, timeout_seconds=5)
    with pytest.raises(PitrWindowError, match=f"Cloud SQL instance '{INSTANCE}' not found"):
        read_cloudsql_pitr_window(api, GCP_PROJECT, INSTANCE, START)


# -- backup status and config --------------------------------------------------------------------------------------


def test_backup_status_of_a_gcp_stack(cell: GoogleApiDouble, gcs: Any, bucket: str, capsys):
    gcs_config_store(gcs, bucket).write(STACK, "2024.11.0", "abc123", "domain: x\n", datetime.now(UTC))

    assert run(backup_cli, ["backup", "status", "--stack", STACK, "--bucket", bucket, "--json"]) == 0

    status = json.loads(capsys.readouterr().out)
    window = status["database"]["pointInTimeRecovery"]
    assert window["enabled"] is True
    assert window["earliestRestorableTime"] < window["latestRestorableTime"]
    assert status["database"]["instance"] == INSTANCE
    assert status["objectStorage"] == {"bucket": bucket, "versioning": "Enabled", "location": "EU",
                                       "locationType": "multi-region"}
    assert status["installerConfig"]["lastBackup"]["version"] == "2024.11.0"
    assert status["registry"]["repositories"][REPOSITORY]["format"] == "DOCKER"
    assert [gap.split(":")[0] for gap in status["notProtected"]] == ["registry", "cluster"]


def test_backup_config_of_a_gcp_stack(cell: GoogleApiDouble, gcs: Any, bucket: str, kube_double: KubeDouble,
                                      tmp_path: Path, capsys):
    kube_double.put_config_map("gitpod", "gitpod-installation", {"version": "2024.11.0", "configHash": "abc123"})
    kube_double.put_config_map("gitpod", "gitpod-installer-config", {"config.yaml": "domain: gitpod.example.com\n"})
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", kube_double.kubeconfig())

    assert run(backup_cli, ["backup", "config", "--stack", STACK, "--bucket", bucket,
                            "--kubeconfig", str(kubeconfig)]) == 0

    restored = gcs_config_store(gcs, bucket).read_latest(STACK)
    assert restored is not None
    assert restored.config_yaml == "domain: gitpod.example.com\n"
    assert restored.backup.key == "gitpod-cell/prod-gcp/installer-config/2024.11.0/abc123.yaml"
    assert (f"to gs://{bucket}/gitpod-cell/prod-gcp/installer-config/2024.11.0/abc123.yaml version "
            f"{restored.backup.version_id}") in capsys.readouterr().out


# -- preflight ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cloudsql_db(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> CloudSqlLikeServer:
    """The cell's database as Cloud SQL serves it: a certificate naming CN `<project>:<instance>`, no IP SAN."""
    return cloudsql_like_server(tmp_path_factory.mktemp("cloudsql-db"), f"{GCP_PROJECT}:{INSTANCE}",
                                request.config.add_cleanup)


@pytest.fixture
def preflight_argv(cell: GoogleApiDouble, bucket: str, cloudsql_db: CloudSqlLikeServer, kube_double: KubeDouble,
                   tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    # The instance's private IP (loopback here) and server CA come from the Admin API; only the port is the test's.
    # Its certificate names the instance, not the IP: preflight must check the name (hostname checks cannot pass).
    cell.put_instance(GCP_PROJECT, INSTANCE, private_ip="127.0.0.1", server_ca_pem=cloudsql_db.ca_pem)
    kube_double.put_node("services-1", labels=dict.fromkeys(GITPOD_WORKLOAD_LABELS, "true"),
                         kubelet_version="v1.33.5-gke.1080000")
    monkeypatch.setenv("GITPOD_DB_PASSWORD", ROOT_PASSWORD)
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", kube_double.kubeconfig())
    return ["preflight", "--stack", STACK, "--bucket", bucket, "--db-port", str(cloudsql_db.port),
            "--db-user", "root", "--kubeconfig", str(kubeconfig)]


def test_preflight_of_a_gcp_stack_reads_the_address_and_ca_from_the_admin_api(preflight_argv, capsys):
    code = run(checks_cli, preflight_argv, version_requirement=ServerVersionRequirement(accept_mariadb=True))

    out = capsys.readouterr().out
    assert code == 0, out
    assert "[PASS] database reachable" in out  # its CA from the API, its certificate naming project:instance
    assert "[PASS] database TLS" in out
    assert "[PASS] object storage: wrote, read back and deleted a probe object in gs://" in out
    assert f"[PASS] registry repositories: reachable: {REPOSITORY} in {REGION}-docker.pkg.dev/{GCP_PROJECT}" in out
    assert "[PASS] workload labels" in out
    assert f"preflight of '{STACK}' passed" in out


def test_preflight_of_a_gcp_stack_exits_non_zero_on_a_failed_check(preflight_argv, capsys):
    assert run(checks_cli, [*preflight_argv, "--json"], version_requirement=ServerVersionRequirement()) == 1
    document = json.loads(capsys.readouterr().out)
    assert [check["name"] for check in document["checks"] if not check["passed"]] == ["database version"]


def test_preflight_of_a_gcp_stack_refuses_a_certificate_naming_another_instance(preflight_argv, cell, capsys):
    # Another instance with the same CA and address: the certificate served names the cell's instance, not it.
    cell.instances[(GCP_PROJECT, "gitpod-other-db")] = dict(cell.instances[(GCP_PROJECT, INSTANCE)],
                                                            name="gitpod-other-db")
    argv = [*preflight_argv, "--db-instance", "gitpod-other-db", "--json"]

    assert run(checks_cli, argv, version_requirement=ServerVersionRequirement(accept_mariadb=True)) == 1

    (failure,) = [check for check in json.loads(capsys.readouterr().out)["checks"] if not check["passed"]]
    assert failure["name"] == "database reachable"
    assert f"names CN '{GCP_PROJECT}:{INSTANCE}', not CN '{GCP_PROJECT}:gitpod-other-db'" in failure["reason"]


def test_preflight_without_the_instance_says_what_to_pass(preflight_argv, cell: GoogleApiDouble, capsys):
    cell.instances.clear()
    assert run(checks_cli, preflight_argv) == 1
    assert (f"error: Cloud SQL instance '{INSTANCE}' in project '{GCP_PROJECT}' is not found; pass --db-host (and on "
            "GCP --ca-file)") in capsys.readouterr().out


# -- the recovery drill ---------------------------------------------------------------------------------------------


def local_connectors(scenario: PitrScenario) -> Any:  # noqa: F811
    """The source is the binlog-writing MariaDB; the clone, which the double cannot serve, the point-in-time copy."""

    def make(args: Any, host: str, port: int) -> tuple[Any, Any]:
        assert (host, port) == ("127.0.0.1", 3306)  # the source's private IP from the Admin API
        return (tls_connector(endpoint_for(scenario.source)),
                lambda _host, _port: tls_connector(endpoint_for(scenario.restored))())

    return make


def drill(argv: list[str], scenario: PitrScenario) -> int:  # noqa: F811
    return run(checks_cli, ["drill", "--stack", STACK, *argv], make_connectors=local_connectors(scenario),
               wait_delay_seconds=0.001)


def test_drill_of_a_gcp_stack_clones_verifies_deletes_and_reports(cell: GoogleApiDouble, gcs: Any, bucket: str,
                                                                  scenario, capsys):  # noqa: F811
    assert drill(["--bucket", bucket, "--tolerance-rows", "20"], scenario) == 0

    out = capsys.readouterr().out
    ((source, request),) = cell.clones()
    scratch = request["cloneContext"]["destinationInstanceName"]
    assert source == INSTANCE
    assert scratch.startswith("gitpod-prod-gcp-drill-")
    assert "pointInTime" not in request["cloneContext"]  # latest: the source's most recent binary-log position
    # The clone inherited the source's deletion protection; the drill switched it off (labelling the scratch as a
    # drill's for the sweeper) and deleted the scratch.
    assert ("PATCH", f"/v1/projects/{GCP_PROJECT}/instances/{scratch}",
            {"settings": {"deletionProtectionEnabled": False,
                          "userLabels": {"purpose": "recovery-drill", "cell": STACK}}}) in cell.requests
    assert cell.deletes() == [scratch]
    assert set(cell.instances) == {(GCP_PROJECT, INSTANCE)}
    assert "drill passed: RTO" in out
    assert f"report: gs://{bucket}/gitpod-cell/{STACK}/drills/" in out
    keys = sorted(blob.name for blob in gcs.list_blobs(bucket, prefix=f"gitpod-cell/{STACK}/drills/"))
    assert [key.rsplit(".", 1)[1] for key in keys] == ["json", "md"]
    document = json.loads(gcs.bucket(bucket).blob(keys[0]).download_as_bytes())
    assert document["outcome"] == "passed"
    assert document["scratchInstance"] == scratch
    assert document["scratchDeleted"] is True
    assert document["restoredRowCounts"] == scenario.restored_counts
    # "latest": the clone's restore point is not a time anyone reported, so RPO is not "now minus now" but the
    # newest write the source showed minus the newest in the copy (the copy lacks the writes after its time).
    assert document["restoreTime"] is None
    assert document["restoreTimeExact"] is False
    assert document["rpoMethod"] == ("newest write on the source when the drill began minus newest write in the "
                                     "restored copy")
    assert 0 < document["rpoSeconds"] < 120
    assert document["sourceNewestWrite"] > document["restoredNewestWrite"]
    assert document["restoreOperation"]["insertTime"] == "2025-03-14T09:26:54.120Z"
    assert document["restoreOperation"]["endTime"] == "2025-03-14T09:41:02.007Z"
    markdown = gcs.bucket(bucket).blob(keys[1]).download_as_bytes().decode()
    assert "restore time: the source's latest position (not reported by the cloud)" in markdown
    assert "- Restore operation: insertTime 2025-03-14T09:26:54.120Z" in markdown


def test_drill_of_a_gcp_stack_at_a_time_clones_at_that_time(cell: GoogleApiDouble, bucket: str, gcs: Any,
                                                            scenario, capsys):  # noqa: F811
    wanted = utc_text(datetime.now(UTC) - timedelta(hours=1))
    assert drill(["--bucket", bucket, "--tolerance-rows", "20", "--time", wanted], scenario) == 0
    ((_source, request),) = cell.clones()
    assert request["cloneContext"]["pointInTime"] == wanted
    (json_key,) = [blob.name for blob in gcs.list_blobs(bucket, prefix=f"gitpod-cell/{STACK}/drills/")
                   if blob.name.endswith(".json")]
    document = json.loads(gcs.bucket(bucket).blob(json_key).download_as_bytes())
    # A point in time is honoured exactly: RPO is the source's now minus it, about the hour asked for.
    assert document["restoreTime"] == wanted
    assert document["rpoMethod"] == "source now minus restore time"
    assert 3600 <= document["rpoSeconds"] < 3600 + 120


def test_a_failed_verification_on_gcp_still_deletes_the_scratch_and_names_the_step(cell: GoogleApiDouble,
                                                                                   bucket: str, gcs: Any,
                                                                                   scenario, capsys):  # noqa: F811
    assert drill(["--bucket", bucket, "--tolerance-rows", "0", "--tolerance-fraction", "0"], scenario) == 1

    out = capsys.readouterr().out
    assert "error: drill failed at step 'verify'" in out
    assert "d_b_user: 30 of 33 rows (3 missing, at most 0 allowed)" in out
    assert ": deleted)" in out
    ((_source, request),) = cell.clones()
    assert cell.deletes() == [request["cloneContext"]["destinationInstanceName"]]
    assert set(cell.instances) == {(GCP_PROJECT, INSTANCE)}
    (json_key,) = [blob.name for blob in gcs.list_blobs(bucket, prefix=f"gitpod-cell/{STACK}/drills/")
                   if blob.name.endswith(".json")]
    assert json.loads(gcs.bucket(bucket).blob(json_key).download_as_bytes())["failedStep"] == "verify"


def test_a_gcp_drill_time_older_than_the_window_is_a_clear_error(cell: GoogleApiDouble, bucket: str,
                                                                 scenario, capsys):  # noqa: F811
    old = utc_text(datetime.now(UTC) - timedelta(days=3))
    assert drill(["--bucket", bucket, "--time", old], scenario) == 1
    out = capsys.readouterr().out
    assert "error: drill failed at step 'pitr-window'" in out
    assert f"restore time {old} is older than the point-in-time recovery window of {INSTANCE}" in out
    assert "never created" in out
    assert cell.clones() == []


def test_a_failed_clone_fails_wait_available_and_leaves_nothing(google_api: GoogleApiDouble, gcs: Any, bucket: str,
                                                                scenario, clock: FakeClock):  # noqa: F811
    google_api.put_instance(GCP_PROJECT, INSTANCE)
    google_api.put_backup_run(GCP_PROJECT, INSTANCE, "1", started="2025-03-13T02:00:00Z")
    google_api.fail_clones_with = "Internal error while cloning"
    settings = DrillSettings(stack=STACK, db_instance_id=INSTANCE, bucket=bucket, wait_delay_seconds=5,
                             wait_max_attempts=10)
    api = GoogleApi(requests.Session(), google_api.url, timeout_seconds=5)
    backend = CloudSqlDrillBackend(api, GCP_PROJECT, settings, clock=clock.now, sleep=clock.sleep)
    clients = DrillClients(backend=backend, reports=GcsObjectStore(gcs, bucket),
                           connect_source=tls_connector(endpoint_for(scenario.source)),
                           connect_restored=lambda host, port: pytest.fail("nothing to verify"),
                           clock=clock.now, progress=lambda _line: None)

    with pytest.raises(DrillFailed) as raised:
        run_drill(clients, settings, scratch_prefix="gitpod-prod-gcp")

    assert raised.value.step == WAIT_AVAILABLE
    assert "Internal error while cloning" in str(raised.value)
    assert [step.name for step in raised.value.report.steps][2] == RESTORE
    assert raised.value.report.scratch_state == "deleted"  # nothing was left to delete
    assert google_api.deletes() == []
    assert clock.sleeps == [5, 5]  # polled the clone until DONE, on the drill's clock


def gcp_backend(google_api: GoogleApiDouble, gcs: Any, bucket: str, clock: FakeClock,
                **overrides: Any) -> tuple[CloudSqlDrillBackend, DrillSettings]:
    settings = DrillSettings(stack=STACK, db_instance_id=INSTANCE, bucket=bucket, **{
        "wait_delay_seconds": 5, "wait_max_attempts": 10, "delete_timeout_seconds": 600, **overrides})
    api = GoogleApi(requests.Session(), google_api.url, timeout_seconds=5)
    return CloudSqlDrillBackend(api, GCP_PROJECT, settings, clock=clock.now, sleep=clock.sleep), settings


def test_the_double_refuses_to_delete_a_clone_still_being_created(google_api: GoogleApiDouble):
    google_api.put_instance(GCP_PROJECT, INSTANCE)
    api = GoogleApi(requests.Session(), google_api.url, timeout_seconds=5)
    api.call("POST", f"projects/{GCP_PROJECT}/instances/{INSTANCE}/clone",
             {"cloneContext": {"destinationInstanceName": "scratch"}})
    assert api.call("GET", f"projects/{GCP_PROJECT}/instances/scratch")["state"] == "PENDING_CREATE"
    with pytest.raises(Exception, match="HTTP 409"):
        api.call("DELETE", f"projects/{GCP_PROJECT}/instances/scratch")


def test_a_drill_stopped_while_the_clone_runs_waits_for_it_then_deletes(google_api: GoogleApiDouble, gcs: Any,
                                                                       bucket: str, scenario,  # noqa: F811
                                                                       clock: FakeClock):
    google_api.put_instance(GCP_PROJECT, INSTANCE, deletion_protection=True)
    google_api.put_backup_run(GCP_PROJECT, INSTANCE, "1", started="2025-03-13T02:00:00Z")
    google_api.clone_polls_before_done = 6  # the clone outlasts wait-available's 3 polls
    backend, settings = gcp_backend(google_api, gcs, bucket, clock, wait_max_attempts=3)
    clients = DrillClients(backend=backend, reports=GcsObjectStore(gcs, bucket),
                           connect_source=tls_connector(endpoint_for(scenario.source)),
                           connect_restored=lambda host, port: pytest.fail("nothing to verify"),
                           clock=clock.now, progress=lambda _line: None)

    with pytest.raises(DrillFailed) as raised:
        run_drill(clients, settings, scratch_prefix="gitpod-prod-gcp")

    assert raised.value.step == WAIT_AVAILABLE
    assert raised.value.report.scratch_state == "deleted"
    scratch = raised.value.report.scratch_instance
    assert google_api.deletes() == [scratch]  # once the clone was done: never a 409
    assert set(google_api.instances) == {(GCP_PROJECT, INSTANCE)}
    assert raised.value.report.restore_operation["endTime"] == "2025-03-14T09:41:02.007Z"


def test_delete_retries_a_busy_instance_with_backoff(google_api: GoogleApiDouble, gcs: Any, bucket: str,
                                                     clock: FakeClock):
    google_api.operation_polls_before_done = 1
    google_api.put_instance(GCP_PROJECT, "gitpod-prod-gcp-drill-20250314092653")
    google_api.busy_deletes = 3
    backend, _settings = gcp_backend(google_api, gcs, bucket, clock)

    backend.delete("gitpod-prod-gcp-drill-20250314092653")

    assert google_api.deletes() == ["gitpod-prod-gcp-drill-20250314092653"] * 4
    assert clock.sleeps[:3] == [5, 10, 20]
    assert (GCP_PROJECT, "gitpod-prod-gcp-drill-20250314092653") not in google_api.instances


def test_delete_gives_up_within_its_bound_and_says_what_is_left(google_api: GoogleApiDouble, gcs: Any, bucket: str,
                                                                clock: FakeClock):
    scratch = "gitpod-prod-gcp-drill-20250314092653"
    google_api.put_instance(GCP_PROJECT, scratch)
    google_api.status_for[("DELETE", f"/v1/projects/{GCP_PROJECT}/instances/{scratch}")] = 409
    backend, _settings = gcp_backend(google_api, gcs, bucket, clock, delete_timeout_seconds=120)

    with pytest.raises(Exception, match=rf"could not delete {scratch}: Cloud SQL still refuses \(HTTP 409") as raised:
        backend.delete(scratch)

    assert "python -m ops drill --cleanup --stack prod-gcp" in str(raised.value)
    assert f"gcloud sql instances delete {scratch}" in str(raised.value)
    assert sum(clock.sleeps) <= 120
    assert len(google_api.deletes()) == 5  # at 0, 5, 15, 35 and 75 s; the next wait would pass the bound


def test_a_latest_clone_without_write_stamps_reports_rpo_as_not_measured(google_api: GoogleApiDouble, gcs: Any,
                                                                         bucket: str, scenario,  # noqa: F811
                                                                         clock: FakeClock):
    google_api.put_instance(GCP_PROJECT, INSTANCE)
    google_api.put_backup_run(GCP_PROJECT, INSTANCE, "1", started="2025-03-13T02:00:00Z")
    # `migrations` has no _lastModified: nothing tells when the copy's newest write was.
    backend, settings = gcp_backend(google_api, gcs, bucket, clock, key_tables=("migrations",))
    clients = DrillClients(backend=backend, reports=GcsObjectStore(gcs, bucket),
                           connect_source=tls_connector(endpoint_for(scenario.source)),
                           connect_restored=lambda host, port: tls_connector(endpoint_for(scenario.restored))(),
                           clock=clock.now, progress=lambda _line: None)

    report = run_drill(clients, settings, scratch_prefix="gitpod-prod-gcp")

    assert report.rpo_seconds is None  # never 0: the clone's restore point is "now" only in name
    document = report.to_dict()
    assert document["rpoSeconds"] is None
    assert document["rpoNote"] == "not measured (Cloud SQL clones to the latest binlog position)"
    assert "- RPO: not measured (Cloud SQL clones to the latest binlog position)" in report.to_markdown()


def test_cleanup_deletes_old_scratch_instances_of_the_stack_only(cell: GoogleApiDouble, bucket: str, capsys):
    old, young = "gitpod-prod-gcp-drill-20250301080000", "gitpod-prod-gcp-drill-20990101000000"
    now = datetime.now(UTC)
    cell.put_instance(GCP_PROJECT, old, deletion_protection=True, create_time=utc_text(now - timedelta(hours=30)),
                      labels={"purpose": "recovery-drill"})
    cell.put_instance(GCP_PROJECT, young, create_time=utc_text(now - timedelta(minutes=30)))
    cell.put_instance(GCP_PROJECT, "gitpod-dev-gcp-drill-20250301080000",  # another stack's
                      create_time=utc_text(now - timedelta(hours=30)))
    cell.put_instance(GCP_PROJECT, "gitpod-prod-gcp-drill-20250301080001",  # labelled as something else
                      create_time=utc_text(now - timedelta(hours=30)), labels={"purpose": "keep-me"})
    cell.put_instance(GCP_PROJECT, "gitpod-prod-gcp-drill-20250301080002", state="PENDING_CREATE",
                      create_time=utc_text(now - timedelta(hours=30)))
    cell.page_size = 2  # the sweeper follows the list's pages

    code = run(checks_cli, ["drill", "--cleanup", "--stack", STACK, "--bucket", bucket, "--older-than-hours", "24"],
               wait_delay_seconds=0.001, delete_timeout_seconds=0.01)

    out = capsys.readouterr().out
    remaining = {name for _project, name in cell.instances}
    assert old not in remaining
    assert {INSTANCE, young, "gitpod-dev-gcp-drill-20250301080000", "gitpod-prod-gcp-drill-20250301080001"} <= remaining
    assert f"[cleanup] {old}: deleted" in out
    assert f"[cleanup] {young}: kept" in out
    # One still being created cannot be deleted yet (409): named, and the command exits 1.
    assert code == 1
    assert "gitpod-prod-gcp-drill-20250301080002: NOT deleted" in out
    assert "1 deleted, 1 younger than 24h kept, 1 NOT deleted" in out


# -- restore plan ---------------------------------------------------------------------------------------------------


@pytest.fixture
def old_cell(cell: GoogleApiDouble, gcs: Any, bucket: str) -> Any:
    # Taken a day ago: a restore picks the newest backup at or before its time, and the tests restore to hours ago.
    return gcs_config_store(gcs, bucket).write(STACK, "2024.12.1", "abc123", "domain: x\n",
                                   datetime.now(UTC) - timedelta(days=1))


def new_config(stacks: Path) -> dict[str, Any]:
    return yaml.safe_load((stacks / "Pulumi.prod-gcp-restored.yaml").read_text())["config"]


def test_restore_plan_of_a_gcp_stack_clones_the_database_and_adopts_the_bucket(old_cell, stacks: Path, bucket: str,
                                                                               capsys):
    assert run(backup_cli, ["restore", "plan", "--from-stack", STACK, "--to-stack", "prod-gcp-restored",
                             "--bucket", bucket]) == 0

    config = new_config(stacks)
    assert config["gitpod-cell:restore"] == {
        "sourceDbInstance": INSTANCE,
        "pointInTime": "latest",
        "sourceRegion": REGION,
        "configBackup": {"bucket": bucket, "key": old_cell.key, "versionId": old_cell.version_id},
        "adoptBucket": bucket,
    }
    assert config["gcp:region"] == REGION
    assert config["gitpod-cell:gitpod"]["version"] == "2024.12.1"
    assert config["gitpod-cell:gitpod"]["installerImage"] == "eu.gcr.io/gitpod-core-dev/build/installer:2024.12.1"
    out = capsys.readouterr().out
    assert f"the config backed up at gs://{bucket}/{old_cell.key} (version {old_cell.version_id})" in out
    assert f"a Cloud SQL clone of {INSTANCE} in {REGION}" in out


def test_the_generated_gcp_stack_plans_a_restored_cell_offline(old_cell, stacks: Path, bucket: str):
    from ops.plan.cli import build_plan

    wanted = utc_text(datetime.now(UTC) - timedelta(hours=2))
    # The shipped prod stack: every setting a real GCP cell has, so the policy pack sees a whole cell.
    shipped = yaml.safe_load(stackfile.stack_path("prod-gcp", stackfile.REPO_ROOT / "stacks").read_text())
    shipped["config"]["gcp:project"] = GCP_PROJECT
    (stacks / f"Pulumi.{STACK}.yaml").write_text(yaml.safe_dump(shipped))
    assert run(backup_cli, ["restore", "plan", "--from-stack", STACK, "--to-stack", "prod-gcp-restored",
                             "--bucket", bucket, "--time", wanted]) == 0

    plan = build_plan(stackfile.load_stack_file(stacks / "Pulumi.prod-gcp-restored.yaml"))

    db = next(r for r in plan["resources"] if r["type"] == "gcp:sql/databaseInstance:DatabaseInstance")
    assert db["inputs"]["clone"] == {"sourceInstanceName": INSTANCE, "pointInTime": wanted}
    assert db["inputs"]["region"] == REGION
    assert not [r for r in plan["resources"] if r["type"] == "gcp:storage/bucket:Bucket"]
    assert plan["outputs"]["bucket"] == bucket
    assert plan["outputs"]["gitpodVersion"] == "2024.12.1"
    assert [v for v in plan["policies"]["violations"] if v["enforcement"] == "mandatory"] == []


def test_a_gcp_restore_into_another_region_is_refused_naming_what_to_do(old_cell, stacks: Path, bucket: str,
                                                                       capsys):
    assert run(backup_cli, ["restore", "plan", "--from-stack", STACK, "--to-stack", "prod-gcp-restored",
                             "--bucket", bucket, "--region", "europe-west4"]) == cli.EXIT_CONFIG_ERROR
    out = capsys.readouterr().out
    assert ("--region europe-west4: Cloud SQL creates a clone (its point-in-time recovery) only in the source "
            f"instance's region, {REGION}") in out
    assert "leave out --region" in out
    assert "gcloud sql backups restore" in out
    assert not (stacks / "Pulumi.prod-gcp-restored.yaml").exists()


def test_a_gcp_restore_time_older_than_the_window_is_a_clear_error(old_cell, stacks: Path, bucket: str, capsys):
    old = utc_text(datetime.now(UTC) - timedelta(days=3))
    assert run(backup_cli, ["restore", "plan", "--from-stack", STACK, "--to-stack", "prod-gcp-restored",
                             "--bucket", bucket, "--time", old]) == cli.EXIT_CONFIG_ERROR
    assert (f"cannot plan the restore: restore time {old} is older than the point-in-time recovery window of "
            f"{INSTANCE}") in capsys.readouterr().out
    assert not (stacks / "Pulumi.prod-gcp-restored.yaml").exists()


# Three rollouts within the clone window (the cell's oldest backup run is a day old), each an upgrade.
UPGRADES = ((timedelta(hours=20), "2024.10.0", "aaa111"), (timedelta(hours=10), "2024.11.0", "bbb222"),
            (timedelta(hours=1), "2024.12.1", "ccc333"))


@pytest.fixture
def upgraded_cell(cell: GoogleApiDouble, gcs: Any, bucket: str) -> list[Any]:
    now = datetime.now(UTC).replace(microsecond=0)
    return [gcs_config_store(gcs, bucket).write(STACK, version, config_hash, f"domain: x\n# {version}\n", now - ago)
            for ago, version, config_hash in UPGRADES]


def restore_gcp(bucket: str, *extra: str) -> int:
    return run(backup_cli, ["restore", "plan", "--from-stack", STACK, "--to-stack", "prod-gcp-restored",
                             "--bucket", bucket, *extra])


def test_a_gcp_restore_between_two_backups_installs_the_earlier_version(upgraded_cell: list[Any], stacks: Path,
                                                                        bucket: str, capsys):
    t2 = upgraded_cell[1]
    wanted = t2.backed_up_at + timedelta(hours=5)
    assert restore_gcp(bucket, "--time", utc_text(wanted)) == 0

    config = new_config(stacks)
    assert config["gitpod-cell:restore"]["pointInTime"] == utc_text(wanted)
    assert config["gitpod-cell:restore"]["configBackup"] == {"bucket": bucket, "key": t2.key,
                                                             "versionId": t2.version_id}
    assert config["gitpod-cell:gitpod"]["version"] == "2024.11.0"
    out = capsys.readouterr().out
    assert (f"config backup: Gitpod 2024.11.0, config bbb222 (version {t2.version_id}), backed up at "
            f"{utc_text(t2.backed_up_at)}") in out
    assert ("chosen as the newest of 3 backup(s) taken at or before the restore time: 5h before "
            f"{utc_text(wanted)}; 1 later backup(s) skipped") in out


def test_a_gcp_restore_before_every_config_backup_is_refused(upgraded_cell: list[Any], stacks: Path, bucket: str,
                                                             capsys):
    oldest = upgraded_cell[0]
    wanted = oldest.backed_up_at - timedelta(hours=2)
    assert restore_gcp(bucket, "--time", utc_text(wanted)) == cli.EXIT_CONFIG_ERROR

    out = capsys.readouterr().out
    assert (f"no installer config backup was taken at or before {utc_text(wanted)}: the oldest of 3 is Gitpod "
            f"2024.10.0, config aaa111 (version {oldest.version_id}), backed up at {utc_text(oldest.backed_up_at)}, "
            f"2h after {utc_text(wanted)} (gs://{bucket}/{oldest.key})") in out
    assert not (stacks / "Pulumi.prod-gcp-restored.yaml").exists()

    # --config-backup names the one to install anyway, as the plan prints it (gs:// URL), checked to exist.
    assert restore_gcp(bucket, "--time", utc_text(wanted), "--config-backup",
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
    assert config["gitpod-cell:gitpod"]["version"] == "2024.12.1"


def test_the_drill_connectors_verify_each_instance_against_the_ca_the_api_gave(scenario, monkeypatch):  # noqa: F811
    from ops.checks.cli import DatabaseCa, database_connectors

    monkeypatch.setenv("GITPOD_DB_PASSWORD", ROOT_PASSWORD)
    args = argparse.Namespace(db_password_env="GITPOD_DB_PASSWORD", db_user="root", database="gitpod", ca_file=None,
                              database_ca=DatabaseCa(scenario.source.ca_pem.decode(),
                                                     lambda: scenario.restored.ca_pem.decode()))

    connect_source, connect_restored = database_connectors(args, "127.0.0.1", scenario.source.port)

    for connection in (connect_source(), connect_restored("127.0.0.1", scenario.restored.port)):
        with connection, connection.cursor() as cursor:
            cursor.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
            assert cursor.fetchone()[1]
    args.database_ca = DatabaseCa()  # no CA from the API and no --ca-file: the system store, which does not know it
    with pytest.raises(Exception, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        database_connectors(args, "127.0.0.1", scenario.source.port)[0]()
