"""What `make e2e` counts as passing, and how it tells which hooks ran (tools/e2e): the runner's own logic, on the
records and outputs a run leaves. The run itself is `make e2e` (CI runs it after the test suite)."""

from __future__ import annotations

import json

from tools.e2e.cell_scenario import steps_seen
from tools.e2e.run import problems

RESTORE_POINT = json.dumps({"kind": "binlog", "binlogPosition": "mariadb-bin.000001:1087"})


def passing_report(**changes):
    report = {
        "resourcesCreated": 25,
        "hooksRun": ["preflight", "enter-maintenance", "record-restore-point", "health-gate", "backup-config",
                     "exit-maintenance"],
        "maintenanceDuringInstaller": True,
        "maintenanceAfter": False,
        "policyPackRan": True,
        "failingHealthGate": {"healthGateFailed": True, "hooksRun": ["preflight", "enter-maintenance",
                                                                     "record-restore-point"],
                              "maintenanceAfter": True, "cellHealthProblems": ["workloads: ..."]},
    }
    return {**report, **changes}


def test_a_full_run_passes():
    assert problems(passing_report()) == []


def test_each_missing_fact_fails_the_run():
    assert problems(passing_report(resourcesCreated=20)) == ["only 20 resources created"]
    assert len(problems(passing_report(hooksRun=["preflight"]))) == 1
    assert len(problems(passing_report(maintenanceAfter=True))) == 1
    assert len(problems(passing_report(maintenanceDuringInstaller=False))) == 1
    assert problems(passing_report(policyPackRan=False)) == ["the policy pack did not run"]
    assert len(problems(passing_report(fleetRollout={"ok": False}))) == 1


def test_a_health_gate_that_did_not_stop_the_rollout_fails_the_run():
    ran_on = passing_report()["failingHealthGate"] | {"hooksRun": ["preflight", "health-gate", "backup-config"]}

    assert len(problems(passing_report(failingHealthGate=ran_on))) == 1


def test_hooks_are_seen_by_what_they_leave_behind():
    before = {"restorePoint": RESTORE_POINT, "rolloutMaintenanceUntil": "2026-12-03T10:00:00Z"}
    after = {"restorePoint": RESTORE_POINT.replace("1087", "2000"), "rolloutMaintenanceUntil": "2026-12-03T11:00:00Z",
             "lastRolloutFinishedAt": "2026-12-03T10:01:00Z", "lastConfigBackup": "{}"}
    output = "preflight passed: 13 checks\n14 workloads in gitpod ready after 10s\n"

    assert steps_seen(before, after, output) == ["preflight", "enter-maintenance", "record-restore-point",
                                                 "health-gate", "backup-config", "exit-maintenance"]
    # Nothing new in the record and nothing printed: nothing ran.
    assert steps_seen(after, after, "") == []
