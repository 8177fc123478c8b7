"""Restore points from RDS, against moto's server (and botocore's Stubber where moto cannot say it)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ops.backup.restore_point import RestorePoint, RestorePointError
from ops.clouds.aws.restore_points import RdsRestorePoints, capture_rds_restore_point, snapshot_identifier
from tests.ops.support.values import START, create_rds_instance


def test_pitr_instance_records_latest_restorable_time_without_a_snapshot(aws: Callable[[str], Any]):
    rds = aws("rds")
    create_rds_instance(rds, "gitpod-db", backup_retention_days=7)

    point = capture_rds_restore_point(rds, "gitpod-db", START)

    reported = rds.describe_db_instances(DBInstanceIdentifier="gitpod-db")["DBInstances"][0]["LatestRestorableTime"]
    assert point.kind == "pitr"
    assert point.db_instance_id == "gitpod-db"
    # moto reports "now" as the latest restorable time; real RDS lags ~5 minutes. Either way: what RDS said.
    assert abs(point.time - reported) < dt.timedelta(seconds=5)
    assert point.recorded_at == START
    assert point.snapshot_id is None
    # moto, like RDS, lists automated snapshots too; no manual one may have been taken.
    assert rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"] == []


def test_without_pitr_an_on_demand_snapshot_is_taken_and_waited_for(aws: Callable[[str], Any]):
    rds = aws("rds")
    # moto still reports a LatestRestorableTime for this instance; the retention period is what decides.
    create_rds_instance(rds, "gitpod-db", backup_retention_days=0)

    point = RdsRestorePoints(rds, "gitpod-db", snapshot_prefix="gitpod-cell-dev",
                             snapshot_tags={"Cell": "dev"}, wait_delay_seconds=1, wait_max_attempts=3).capture(START)

    assert point.kind == "snapshot"
    assert point.snapshot_id == "gitpod-cell-dev-gitpod-db-20250314-092653"
    (snapshot,) = rds.describe_db_snapshots(DBInstanceIdentifier="gitpod-db",
                                              SnapshotType="manual")["DBSnapshots"]
    assert snapshot["DBSnapshotIdentifier"] == point.snapshot_id
    assert snapshot["Status"] == "available"
    tags = rds.list_tags_for_resource(ResourceName=snapshot["DBSnapshotArn"])["TagList"]
    assert {"Key": "Cell", "Value": "dev"} in tags


def test_unknown_instance_is_a_clear_error(aws: Callable[[str], Any]):
    with pytest.raises(RestorePointError, match=r"cannot describe RDS instance 'missing'.*DBInstanceNotFound"):
        capture_rds_restore_point(aws("rds"), "missing", START)


def test_pitr_on_but_no_restorable_time_yet_falls_back_to_a_snapshot(aws: Callable[[str], Any]):
    # A new instance has no LatestRestorableTime until its first backup; moto always reports one, so this case is
    # played through botocore's Stubber on a real client (no request leaves the process).
    from botocore.stub import Stubber

    rds = aws("rds")
    created = dt.datetime(2025, 3, 14, 9, 27, 30, tzinfo=dt.UTC)
    snapshot_id = "gitpod-cell-gitpod-db-20250314-092653"
    with Stubber(rds) as stub:
        stub.add_response("describe_db_instances", {"DBInstances": [
            {"DBInstanceIdentifier": "gitpod-db", "BackupRetentionPeriod": 7, "DBInstanceStatus": "creating"}]},
            {"DBInstanceIdentifier": "gitpod-db"})
        stub.add_response("create_db_snapshot", {"DBSnapshot": {"DBSnapshotIdentifier": snapshot_id,
                                                                "Status": "creating"}})
        available = {"DBSnapshots": [{"DBSnapshotIdentifier": snapshot_id, "Status": "available",
                                      "SnapshotCreateTime": created}]}
        stub.add_response("describe_db_snapshots", available)  # the waiter's poll
        stub.add_response("describe_db_snapshots", available)

        point = capture_rds_restore_point(rds, "gitpod-db", START, wait_delay_seconds=1)

    assert point == RestorePoint("snapshot", "gitpod-db", created, START, snapshot_id)


def test_a_snapshot_that_never_becomes_available_is_an_error(aws: Callable[[str], Any]):
    from botocore.stub import Stubber

    rds = aws("rds")
    with Stubber(rds) as stub:
        stub.add_response("describe_db_instances", {"DBInstances": [
            {"DBInstanceIdentifier": "gitpod-db", "BackupRetentionPeriod": 0}]})
        stub.add_response("create_db_snapshot", {"DBSnapshot": {}})
        stub.add_response("describe_db_snapshots", {"DBSnapshots": [{"Status": "failed"}]})
        with pytest.raises(RestorePointError, match="did not become available"):
            capture_rds_restore_point(rds, "gitpod-db", START, wait_delay_seconds=1, wait_max_attempts=1)


def test_restore_point_json_round_trip_and_validation():
    point = RestorePoint("pitr", "gitpod-db", START - dt.timedelta(minutes=5), START)
    assert RestorePoint.from_json(point.to_json()) == point
    assert point.to_dict() == {"kind": "pitr", "dbInstanceIdentifier": "gitpod-db", "time": "2025-03-14T09:21:53Z",
                               "recordedAt": "2025-03-14T09:26:53Z", "snapshotId": None}
    with pytest.raises(ValueError, match="snapshot id"):
        RestorePoint("snapshot", "gitpod-db", START, START)
    with pytest.raises(ValueError, match="missing 'time'"):
        RestorePoint.from_json('{"kind": "pitr", "dbInstanceIdentifier": "x", "recordedAt": "2025-01-01T00:00:00Z"}')


_SNAPSHOT_ID = re.compile(r"^[a-z](?!.*--)[a-z0-9-]{0,254}(?<!-)$")


@given(prefix=st.text(max_size=80), instance=st.text(min_size=1, max_size=300),
       moment=st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2200, 1, 1),
                           timezones=st.just(dt.UTC)))
def test_snapshot_identifiers_are_always_valid_for_rds(prefix: str, instance: str, moment: dt.datetime):
    identifier = snapshot_identifier(prefix, instance, moment)
    assert _SNAPSHOT_ID.match(identifier), identifier
    assert identifier.endswith(moment.strftime("%Y%m%d-%H%M%S"))
