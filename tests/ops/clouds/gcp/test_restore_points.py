"""Cloud SQL restore points against the local Cloud SQL Admin API double, through a real HTTP session."""

from __future__ import annotations

import datetime as dt

import pytest
import requests

from ops.backup.restore_point import RestorePoint, RestorePointError
from ops.clouds.gcp.api import GoogleApi
from ops.clouds.gcp.restore_points import CloudSqlRestorePoints, capture_cloudsql_restore_point
from tests.ops.support.google_double import GoogleApiDouble
from tests.ops.support.values import GCP_PROJECT, START, FakeClock

INSTANCE = "gitpod-prod-gcp-db"


def api(double: GoogleApiDouble) -> GoogleApi:
    return GoogleApi(requests.Session(), double.url, timeout_seconds=5)


def test_with_the_binary_log_on_the_restore_point_is_now_and_nothing_is_backed_up(google_api: GoogleApiDouble):
    google_api.put_instance(GCP_PROJECT, INSTANCE, binary_log=True)

    point = capture_cloudsql_restore_point(api(google_api), GCP_PROJECT, INSTANCE, START)

    assert point == RestorePoint("pitr", INSTANCE, START, START)
    assert google_api.backup_runs() == []
    assert RestorePoint.from_json(point.to_json()) == point  # what the installation record stores


def test_without_pitr_an_on_demand_backup_is_taken_and_waited_for(google_api: GoogleApiDouble, clock: FakeClock):
    google_api.put_instance(GCP_PROJECT, INSTANCE, binary_log=False)
    google_api.backup_polls_before_done = 3

    source = CloudSqlRestorePoints(GCP_PROJECT, INSTANCE, api=api(google_api), description="before 2024.11.0",
                                   poll_seconds=10, sleep=clock.sleep)
    point = source.capture(START)

    assert point.kind == "snapshot"
    assert point.snapshot_id is not None
    assert point.snapshot_id.isdigit()
    assert point.time == dt.datetime(2025, 3, 14, 9, 26, 55, tzinfo=dt.UTC)  # the backup's start
    assert point.recorded_at == START
    assert google_api.backup_runs() == [{"description": "before 2024.11.0"}]
    assert clock.sleeps == [10, 10, 10]


def test_a_failed_backup_is_no_restore_point(google_api: GoogleApiDouble, clock: FakeClock):
    google_api.put_instance(GCP_PROJECT, INSTANCE, binary_log=False)
    google_api.fail_backups_with = "disk quota exceeded"

    with pytest.raises(RestorePointError, match="BACKUP_FAILED: disk quota exceeded"):
        capture_cloudsql_restore_point(api(google_api), GCP_PROJECT, INSTANCE, START, sleep=clock.sleep)


def test_a_backup_that_does_not_finish_in_time_is_an_error(google_api: GoogleApiDouble, clock: FakeClock):
    google_api.put_instance(GCP_PROJECT, INSTANCE, binary_log=False)
    google_api.backup_polls_before_done = 10

    with pytest.raises(RestorePointError, match="is still RUNNING after 30s"):
        capture_cloudsql_restore_point(api(google_api), GCP_PROJECT, INSTANCE, START, poll_seconds=10, max_polls=3,
                                       sleep=clock.sleep)


def test_an_unknown_instance_and_an_api_error_are_named(google_api: GoogleApiDouble):
    with pytest.raises(RestorePointError, match=f"Cloud SQL instance '{INSTANCE}' not found in project"):
        capture_cloudsql_restore_point(api(google_api), GCP_PROJECT, INSTANCE, START)
    google_api.put_instance(GCP_PROJECT, INSTANCE)
    google_api.status_for[("GET", f"/v1/projects/{GCP_PROJECT}/instances/{INSTANCE}")] = 403
    with pytest.raises(RestorePointError, match="HTTP 403: injected failure"):
        capture_cloudsql_restore_point(api(google_api), GCP_PROJECT, INSTANCE, START)
