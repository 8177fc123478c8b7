"""The recovery drill on a GCP cell: a Cloud SQL clone as the scratch instance (ops.clouds.gcp.drill), verified
against MariaDB's point-in-time copy, deleted whatever happened, the report in GCS; through `python -m ops drill`
and through the backend directly for the faults only the double can give (a clone still running, a busy instance)."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from ops.checks import cli as checks_cli
from ops.checks.drill import RESTORE, WAIT_AVAILABLE, DrillClients, DrillFailed, DrillSettings, run_drill
from ops.checks.mysql import tls_connector
from ops.clouds.gcp.api import GoogleApi
from ops.clouds.gcp.drill import CloudSqlDrillBackend
from ops.clouds.gcp.gcs import GcsObjectStore
from ops.common.timestamps import format_rfc3339
from tests.ops.support.cli import run_command
from tests.ops.support.gcp import (
    GCP_INSTANCE,
    GCP_STACK,
)
from tests.ops.support.google_double import GoogleApiDouble
from tests.ops.support.mariadb import ROOT_PASSWORD, PitrScenario, endpoint_for, scenario  # noqa: F401
from tests.ops.support.values import GCP_PROJECT, FakeClock


def local_connectors(scenario: PitrScenario) -> Any:  # noqa: F811
    """The source is the binlog-writing MariaDB; the clone, which the double cannot serve, the point-in-time copy."""

    def make(args: Any, host: str, port: int) -> tuple[Any, Any]:
        assert (host, port) == ("127.0.0.1", 3306)  # the source's private IP from the Admin API
        return (tls_connector(endpoint_for(scenario.source)),
                lambda _host, _port: tls_connector(endpoint_for(scenario.restored))())

    return make


def drill(argv: list[str], scenario: PitrScenario) -> int:  # noqa: F811
    return run_command(checks_cli, ["drill", "--stack", GCP_STACK, *argv], make_connectors=local_connectors(scenario),
               wait_delay_seconds=0.001)


def gcp_backend(google_api: GoogleApiDouble, gcs: Any, bucket: str, clock: FakeClock,
                **overrides: Any) -> tuple[CloudSqlDrillBackend, DrillSettings]:
    settings = DrillSettings(stack=GCP_STACK, db_instance_id=GCP_INSTANCE, bucket=bucket, **{
        "wait_delay_seconds": 5, "wait_max_attempts": 10, "delete_timeout_seconds": 600, **overrides})
    api = GoogleApi(requests.Session(), google_api.url, timeout_seconds=5)
    return CloudSqlDrillBackend(api, GCP_PROJECT, settings, clock=clock.now, sleep=clock.sleep), settings


def test_drill_of_a_gcp_stack_clones_verifies_deletes_and_reports(cell: GoogleApiDouble, gcs: Any, bucket: str,
                                                                  scenario, capsys):  # noqa: F811
    assert drill(["--bucket", bucket, "--tolerance-rows", "20"], scenario) == 0

    out = capsys.readouterr().out
    ((source, request),) = cell.clones()
    scratch = request["cloneContext"]["destinationInstanceName"]
    assert source == GCP_INSTANCE
    assert scratch.startswith("gitpod-prod-gcp-drill-")
    assert "pointInTime" not in request["cloneContext"]  # latest: the source's most recent binary-log position
    # The clone inherited the source's deletion protection; the drill switched it off (labelling the scratch as a
    # drill's for the sweeper) and deleted the scratch.
    assert ("PATCH", f"/v1/projects/{GCP_PROJECT}/instances/{scratch}",
            {"settings": {"deletionProtectionEnabled": False,
                          "userLabels": {"purpose": "recovery-drill", "cell": GCP_STACK}}}) in cell.requests
    assert cell.deletes() == [scratch]
    assert set(cell.instances) == {(GCP_PROJECT, GCP_INSTANCE)}
    assert "drill passed: RTO" in out
    assert f"report: gs://{bucket}/gitpod-cell/{GCP_STACK}/drills/" in out
    keys = sorted(blob.name for blob in gcs.list_blobs(bucket, prefix=f"gitpod-cell/{GCP_STACK}/drills/"))
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
    wanted = format_rfc3339(datetime.now(UTC) - timedelta(hours=1))
    assert drill(["--bucket", bucket, "--tolerance-rows", "20", "--time", wanted], scenario) == 0
    ((_source, request),) = cell.clones()
    assert request["cloneContext"]["pointInTime"] == wanted
    (json_key,) = [blob.name for blob in gcs.list_blobs(bucket, prefix=f"gitpod-cell/{GCP_STACK}/drills/")
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
    assert set(cell.instances) == {(GCP_PROJECT, GCP_INSTANCE)}
    (json_key,) = [blob.name for blob in gcs.list_blobs(bucket, prefix=f"gitpod-cell/{GCP_STACK}/drills/")
                   if blob.name.endswith(".json")]
    assert json.loads(gcs.bucket(bucket).blob(json_key).download_as_bytes())["failedStep"] == "verify"


def test_a_gcp_drill_time_older_than_the_window_is_a_clear_error(cell: GoogleApiDouble, bucket: str,
                                                                 scenario, capsys):  # noqa: F811
    old = format_rfc3339(datetime.now(UTC) - timedelta(days=3))
    assert drill(["--bucket", bucket, "--time", old], scenario) == 1
    out = capsys.readouterr().out
    assert "error: drill failed at step 'pitr-window'" in out
    assert f"restore time {old} is older than the point-in-time recovery window of {GCP_INSTANCE}" in out
    assert "never created" in out
    assert cell.clones() == []


def test_a_failed_clone_fails_wait_available_and_leaves_nothing(google_api: GoogleApiDouble, gcs: Any, bucket: str,
                                                                scenario, clock: FakeClock):  # noqa: F811
    google_api.put_instance(GCP_PROJECT, GCP_INSTANCE)
    google_api.put_backup_run(GCP_PROJECT, GCP_INSTANCE, "1", started="2025-03-13T02:00:00Z")
    google_api.fail_clones_with = "Internal error while cloning"
    settings = DrillSettings(stack=GCP_STACK, db_instance_id=GCP_INSTANCE, bucket=bucket, wait_delay_seconds=5,
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


def test_the_double_refuses_to_delete_a_clone_still_being_created(google_api: GoogleApiDouble):
    google_api.put_instance(GCP_PROJECT, GCP_INSTANCE)
    api = GoogleApi(requests.Session(), google_api.url, timeout_seconds=5)
    api.call("POST", f"projects/{GCP_PROJECT}/instances/{GCP_INSTANCE}/clone",
             {"cloneContext": {"destinationInstanceName": "scratch"}})
    assert api.call("GET", f"projects/{GCP_PROJECT}/instances/scratch")["state"] == "PENDING_CREATE"
    with pytest.raises(Exception, match="HTTP 409"):
        api.call("DELETE", f"projects/{GCP_PROJECT}/instances/scratch")


def test_a_drill_stopped_while_the_clone_runs_waits_for_it_then_deletes(google_api: GoogleApiDouble, gcs: Any,
                                                                       bucket: str, scenario,  # noqa: F811
                                                                       clock: FakeClock):
    google_api.put_instance(GCP_PROJECT, GCP_INSTANCE, deletion_protection=True)
    google_api.put_backup_run(GCP_PROJECT, GCP_INSTANCE, "1", started="2025-03-13T02:00:00Z")
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
    assert set(google_api.instances) == {(GCP_PROJECT, GCP_INSTANCE)}
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
    google_api.put_instance(GCP_PROJECT, GCP_INSTANCE)
    google_api.put_backup_run(GCP_PROJECT, GCP_INSTANCE, "1", started="2025-03-13T02:00:00Z")
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
    cell.put_instance(GCP_PROJECT, old, deletion_protection=True, create_time=format_rfc3339(now - timedelta(hours=30)),
                      labels={"purpose": "recovery-drill"})
    cell.put_instance(GCP_PROJECT, young, create_time=format_rfc3339(now - timedelta(minutes=30)))
    cell.put_instance(GCP_PROJECT, "gitpod-dev-gcp-drill-20250301080000",  # another stack's
                      create_time=format_rfc3339(now - timedelta(hours=30)))
    cell.put_instance(GCP_PROJECT, "gitpod-prod-gcp-drill-20250301080001",  # labelled as something else
                      create_time=format_rfc3339(now - timedelta(hours=30)), labels={"purpose": "keep-me"})
    cell.put_instance(GCP_PROJECT, "gitpod-prod-gcp-drill-20250301080002", state="PENDING_CREATE",
                      create_time=format_rfc3339(now - timedelta(hours=30)))
    cell.page_size = 2  # the sweeper follows the list's pages

    code = run_command(checks_cli, ["drill", "--cleanup", "--stack", GCP_STACK, "--bucket", bucket,
                                    "--older-than-hours", "24"],
               wait_delay_seconds=0.001, delete_timeout_seconds=0.01)

    out = capsys.readouterr().out
    remaining = {name for _project, name in cell.instances}
    assert old not in remaining
    assert {GCP_INSTANCE, young, "gitpod-dev-gcp-drill-20250301080000",
            "gitpod-prod-gcp-drill-20250301080001"} <= remaining
    assert f"[cleanup] {old}: deleted" in out
    assert f"[cleanup] {young}: kept" in out
    # One still being created cannot be deleted yet (409): named, and the command exits 1.
    assert code == 1
    assert "gitpod-prod-gcp-drill-20250301080002: NOT deleted" in out
    assert "1 deleted, 1 younger than 24h kept, 1 NOT deleted" in out


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
