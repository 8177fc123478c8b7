"""The recovery drill: RDS calls against moto's server, verification against a real point-in-time copy.

moto's scratch instance has no database behind it, so the drill's "connect to the restored instance" points at the
second MariaDB, rebuilt from a dump plus the binlog replayed up to the restore time (tests/ops/support/mariadb.py). The
source kept writing after that time, so the copy lacks rows: the verifier must notice beyond the tolerance and
accept them within it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from ops.checks.drill import (
    DELETE_SCRATCH,
    PITR_WINDOW,
    VERIFY,
    DrillClients,
    DrillFailed,
    DrillSettings,
    run_drill,
)
from ops.checks.drill_report import DrillReport
from ops.checks.mysql import RowCountTolerance, row_counts, tls_connector
from ops.clouds.aws.drill import RdsDrillBackend
from ops.clouds.aws.s3 import S3ObjectStore
from tests.ops.support.cli import run_command
from tests.ops.support.mariadb import PitrScenario, endpoint_for, scenario  # noqa: F401  (scenario is a fixture)
from tests.ops.support.stacks import stack_text
from tests.ops.support.values import START, create_rds_instance

SOURCE = "gitpod-dev-db"
TOLERANT = RowCountTolerance(fraction=0.0, rows=15)
STRICT = RowCountTolerance(fraction=0.0, rows=0)


@pytest.fixture
def cell(aws: Callable[[str], Any], versioned_bucket: str) -> dict[str, Any]:
    rds = aws("rds")
    create_rds_instance(rds, SOURCE, backup_retention_days=7)
    return {"rds": rds, "s3": aws("s3"), "bucket": versioned_bucket}


def drill_clients(cell: dict[str, Any], scenario: PitrScenario, lines: list[str],  # noqa: F811
                  drill_settings: DrillSettings, connected_to: list[tuple[str, int]] | None = None, *,
                  rds: Any = None) -> DrillClients:
    """The RDS backend on moto (or on `rds`), the report in moto's S3, the source and the restored copy in MariaDB."""

    def connect_restored(host: str, port: int) -> Any:
        (connected_to if connected_to is not None else []).append((host, port))
        return tls_connector(endpoint_for(scenario.restored))()

    return DrillClients(backend=RdsDrillBackend(rds or cell["rds"], drill_settings),
                        reports=S3ObjectStore(cell["s3"], cell["bucket"]),
                        connect_source=tls_connector(endpoint_for(scenario.source)),
                        connect_restored=connect_restored, progress=lines.append)


def settings(cell: dict[str, Any], **overrides: Any) -> DrillSettings:
    return DrillSettings(stack="dev", db_instance_id=SOURCE, bucket=cell["bucket"], wait_delay_seconds=1,
                         wait_max_attempts=5, **overrides)


def drill(cell: dict[str, Any], scenario: PitrScenario, lines: list[str] | None = None,  # noqa: F811
          connected_to: list[tuple[str, int]] | None = None, **overrides: Any) -> DrillReport:
    drill_settings = settings(cell, **overrides)
    return run_drill(drill_clients(cell, scenario, [] if lines is None else lines, drill_settings, connected_to),
                     drill_settings)


def instance_ids(rds: Any) -> list[str]:
    return [instance["DBInstanceIdentifier"] for instance in rds.describe_db_instances()["DBInstances"]]


def test_the_binlog_replay_is_a_real_point_in_time_copy(scenario: PitrScenario):  # noqa: F811
    with scenario.source.connect() as source, scenario.restored.connect() as restored:
        assert row_counts(source, "gitpod") == scenario.source_counts
        assert row_counts(restored, "gitpod") == scenario.restored_counts
    assert scenario.source_counts != scenario.restored_counts


def test_drill_within_tolerance_passes_measures_and_reports(cell, scenario):  # noqa: F811
    lines: list[str] = []
    connected_to: list[tuple[str, int]] = []

    report = drill(cell, scenario, lines, connected_to, tolerance=TOLERANT)

    assert report.passed
    assert report.scratch_instance.startswith(f"{SOURCE}-drill-")
    # The verifier connected to the scratch instance's endpoint, as RDS reported it.
    assert connected_to == [(f"{report.scratch_instance}.aaaaaaaaaa.eu-west-1.rds.amazonaws.com", 3306)]
    assert report.source_counts == scenario.source_counts
    assert report.restored_counts == scenario.restored_counts
    assert [check.name for check in report.checks] == ["database TLS", "Gitpod schema", "row counts"]
    assert report.rto_seconds is not None
    assert report.rto_seconds >= 0
    assert report.rpo_seconds is not None
    assert report.rpo_seconds >= 0
    assert report.scratch_deleted
    assert report.scratch_instance not in instance_ids(cell["rds"])
    assert SOURCE in instance_ids(cell["rds"])
    stamp = f"{report.started_at:%Y%m%dT%H%M%SZ}"
    document = json.loads(cell["s3"].get_object(Bucket=cell["bucket"],
                                                Key=f"gitpod-cell/dev/drills/{stamp}.json")["Body"].read())
    assert document["outcome"] == "passed"
    assert document["rtoSeconds"] == report.rto_seconds
    assert document["rpoSeconds"] == report.rpo_seconds
    assert document["restoredRowCounts"] == scenario.restored_counts
    markdown = cell["s3"].get_object(Bucket=cell["bucket"],
                                     Key=f"gitpod-cell/dev/drills/{stamp}.md")["Body"].read().decode()
    assert "PASSED" in markdown
    assert "RTO (start to verified)" in markdown
    assert "RPO" in markdown
    # Progress is shown while it runs, step by step.
    assert [line for line in lines if line.endswith(" ...")] == [
        "[drill] pitr-window ...", "[drill] source-counts ...", "[drill] restore ...", "[drill] wait-available ...",
        "[drill] verify ...", "[drill] delete-scratch ...", "[drill] write-report ...",
    ]


def test_missing_rows_beyond_tolerance_fail_verify_and_the_scratch_instance_is_still_deleted(cell, scenario):  # noqa: F811
    lines: list[str] = []

    with pytest.raises(DrillFailed) as raised:
        drill(cell, scenario, lines, tolerance=STRICT)

    failure = raised.value
    assert failure.step == VERIFY
    assert "d_b_user: 30 of 33 rows (3 missing, at most 0 allowed)" in str(failure)
    assert "d_b_workspace_instance: 70 of 82 rows" in str(failure)
    assert "d_b_project" not in str(failure)  # nothing was written there after the restore time
    assert failure.report.scratch_deleted
    assert failure.report.scratch_instance not in instance_ids(cell["rds"])
    assert any(line.startswith("[drill] delete-scratch ok") for line in lines)
    stamp = f"{failure.report.started_at:%Y%m%dT%H%M%SZ}"
    document = json.loads(cell["s3"].get_object(Bucket=cell["bucket"],
                                                Key=f"gitpod-cell/dev/drills/{stamp}.json")["Body"].read())
    assert document["outcome"] == "failed"
    assert document["failedStep"] == VERIFY
    assert document["rtoSeconds"] is None  # never verified


def test_an_unreachable_restored_instance_fails_verify_and_is_deleted(cell, scenario):  # noqa: F811
    drill_settings = settings(cell, tolerance=TOLERANT)
    clients = drill_clients(cell, scenario, [], drill_settings)

    def refuse(host: str, port: int) -> Any:
        raise ConnectionRefusedError(f"{host}:{port} refused the connection")

    with pytest.raises(DrillFailed, match="drill step 'verify' failed: ConnectionRefusedError") as raised:
        run_drill(replace(clients, connect_restored=refuse), drill_settings)
    assert raised.value.report.scratch_instance not in instance_ids(cell["rds"])


def test_a_restore_time_older_than_the_pitr_window_is_a_clear_error_and_nothing_is_created(cell, scenario):  # noqa: F811
    with pytest.raises(DrillFailed) as raised:
        drill(cell, scenario, restore_time=START)

    assert raised.value.step == PITR_WINDOW
    assert "restore time 2025-03-14T09:26:53Z is older than the point-in-time recovery window" in str(raised.value)
    assert instance_ids(cell["rds"]) == [SOURCE]
    assert raised.value.report.scratch_state == "never created"


def test_a_failed_delete_is_reported_as_the_failing_step(cell, scenario):  # noqa: F811
    class RdsRefusingDeletes:
        def __init__(self, rds: Any) -> None:
            self._rds = rds

        def __getattr__(self, name: str) -> Any:
            return getattr(self._rds, name)

        def delete_db_instance(self, **_: Any) -> None:
            raise RuntimeError("AccessDenied: rds:DeleteDBInstance")

    drill_settings = settings(cell, tolerance=TOLERANT)
    with pytest.raises(DrillFailed) as raised:
        run_drill(drill_clients(cell, scenario, [], drill_settings, rds=RdsRefusingDeletes(cell["rds"])),
                  drill_settings)
    assert raised.value.step == DELETE_SCRATCH
    assert raised.value.report.scratch_state == "NOT deleted: delete it by hand"


def test_restore_time_inside_the_window_is_used_for_rpo(cell, scenario):  # noqa: F811
    latest = cell["rds"].describe_db_instances(DBInstanceIdentifier=SOURCE)["DBInstances"][0]["LatestRestorableTime"]
    # moto's window is a moment wide (the instance was just created); any time inside it will do.
    wanted = latest.astimezone(dt.UTC)

    report = drill(cell, scenario, tolerance=TOLERANT, restore_time=wanted)

    assert report.restore_time == wanted


# -- the command line ---------------------------------------------------------------------------------------------

STACK = stack_text("dev")


def run_drill_cli(argv: list[str], scenario: PitrScenario) -> int:  # noqa: F811
    import argparse

    from ops import cli
    from ops.checks import cli as checks_cli

    def local_connectors(args: Any, host: str, port: int) -> tuple[Any, Any]:
        return (tls_connector(endpoint_for(scenario.source)),
                lambda _host, _port: tls_connector(endpoint_for(scenario.restored))())

    parser = argparse.ArgumentParser(prog="python -m ops")
    checks_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    args.make_connectors = local_connectors
    args.wait_delay_seconds = 1
    try:
        return int(args.handler(args) or 0)
    except cli.OpsError as error:
        print(f"error: {error}")
        return error.exit_code


@pytest.fixture
def dev_stack(tmp_path, monkeypatch) -> None:
    from ops.common import stackfile

    (tmp_path / "Pulumi.dev.yaml").write_text(STACK)
    monkeypatch.setattr(stackfile, "STACKS_DIR", tmp_path)


def test_cli_failed_drill_exits_non_zero_naming_the_step(cell, scenario, dev_stack, capsys):  # noqa: F811
    code = run_drill_cli(["drill", "--stack", "dev", "--bucket", cell["bucket"], "--tolerance-rows", "0",
                          "--tolerance-fraction", "0"], scenario)
    out = capsys.readouterr().out
    assert code == 1
    assert "error: drill failed at step 'verify'" in out
    assert "scratch instance gitpod-dev-drill-" in out
    assert ": deleted)" in out
    assert "[drill] restore ..." in out  # progress while it ran


def test_cli_passing_drill_prints_the_report_location(cell, scenario, dev_stack, capsys):  # noqa: F811
    assert run_drill_cli(["drill", "--stack", "dev", "--bucket", cell["bucket"], "--tolerance-rows", "20"],
                         scenario) == 0
    out = capsys.readouterr().out
    assert "drill passed: RTO" in out
    assert f"report: s3://{cell['bucket']}/gitpod-cell/dev/drills/" in out


def test_sigterm_during_a_drill_still_deletes_the_scratch_and_restores_the_handler(cell, scenario, dev_stack,  # noqa: F811
                                                                                   capsys):
    import os
    import signal

    from ops.checks import cli as checks_cli

    def previous(signum: int, frame: Any) -> None:
        pass

    def connectors(args: Any, host: str, port: int) -> tuple[Any, Any]:
        def cancelled(_host: str, _port: int) -> Any:
            os.kill(os.getpid(), signal.SIGTERM)  # CI cancels the job while the scratch instance exists
            pytest.fail("SIGTERM did not interrupt the drill")

        return tls_connector(endpoint_for(scenario.source)), cancelled

    old_handler = signal.signal(signal.SIGTERM, previous)
    try:
        code = run_command(checks_cli, ["drill", "--stack", "dev", "--bucket", cell["bucket"]],
                           make_connectors=connectors, wait_delay_seconds=1)
        assert signal.getsignal(signal.SIGTERM) is previous
    finally:
        signal.signal(signal.SIGTERM, old_handler)

    out = capsys.readouterr().out
    assert code == checks_cli.EXIT_INTERRUPTED
    assert "error: drill interrupted at step 'verify'" in out
    assert ": deleted)" in out
    assert "[drill] delete-scratch ok" in out
    assert instance_ids(cell["rds"]) == [SOURCE]


def test_cleanup_deletes_the_stacks_old_scratch_instances_on_rds(cell, dev_stack, capsys):
    from ops.checks import cli as checks_cli

    rds = cell["rds"]
    for name, tags in (("gitpod-dev-drill-20250301080000", [{"Key": "Purpose", "Value": "recovery-drill"}]),
                       ("gitpod-dev-drill-20250301080001", [{"Key": "Purpose", "Value": "something-else"}]),
                       ("gitpod-prod-drill-20250301080000", [{"Key": "Purpose", "Value": "recovery-drill"}])):
        create_rds_instance(rds, name, backup_retention_days=0)
        arn = rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]["DBInstanceArn"]
        rds.add_tags_to_resource(ResourceName=arn, Tags=tags)

    # moto's instances were created just now: with the default age, none is old enough.
    assert run_command(checks_cli, ["drill", "--cleanup", "--stack", "dev", "--bucket", cell["bucket"]],
                       wait_delay_seconds=1) == 0
    assert "0 deleted, 1 younger than 6h kept, 0 NOT deleted" in capsys.readouterr().out
    assert run_command(checks_cli, ["drill", "--cleanup", "--stack", "dev", "--bucket", cell["bucket"],
                                   "--older-than-hours", "0"], wait_delay_seconds=1) == 0

    assert "[cleanup] gitpod-dev-drill-20250301080000: deleted" in capsys.readouterr().out
    assert sorted(instance_ids(rds)) == [SOURCE, "gitpod-dev-drill-20250301080001", "gitpod-prod-drill-20250301080000"]
