"""The deploy gate's cluster half (ops.cluster.cell_health) against the Kubernetes double: it judges the cell, not the
hooks' verdict."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from ops.backup.config_backup import ConfigBackup
from ops.cluster.cell_health import check_cell_health
from ops.cluster.kube import KubeClient
from tests.ops.support.kube_double import KubeDouble
from tests.ops.support.values import START, FakeClock


def healthy_cell(double: KubeDouble, *, started: str = "2025-03-14T09:00:00Z", finished: str = "2025-03-14T09:20:00Z",
                 backed_up_hash: str = "abc123", cell: str = "prod", until: str = "2025-03-14T09:20:00Z") -> None:
    double.put_deployment("gitpod", "server", replicas=2)
    double.put_stateful_set("gitpod", "redis", replicas=1)
    backup = ConfigBackup("bucket", "installer-config/prod/x.yaml", "v1", "2024.11.0", backed_up_hash, "prod",
                          dt.datetime(2025, 3, 14, 9, 19, tzinfo=dt.UTC))
    double.put_config_map("gitpod", "gitpod-installation", {
        "cell": cell, "version": "2024.11.0", "configHash": "abc123", "lastRolloutStartedAt": started,
        "lastRolloutFinishedAt": finished, "lastConfigBackup": backup.to_json()})
    double.put_config_map("default", "ws-manager-mk2-maintenance-mode",
                          {"config.json": json.dumps({"enabledUntil": until})},
                          labels={"gitpod.io/maintenanceConfig": "true"})


def check(kube: KubeClient, clock: FakeClock, stack: str = "prod"):
    return check_cell_health(kube, stack, "gitpod", clock.now(), timeout_seconds=30, poll_seconds=10,
                             monotonic=clock.monotonic, sleep=clock.sleep)


def test_a_cell_whose_rollout_finished_is_healthy(kube: KubeClient, kube_double: KubeDouble, clock: FakeClock):
    healthy_cell(kube_double)
    health = check(kube, clock)
    assert health.healthy, health.problems
    assert "maintenance off" in health.summary()


@pytest.mark.parametrize(("change", "problem"), [
    ({"finished": "2025-03-14T08:00:00Z"}, "has not finished"),
    ({"backed_up_hash": "old999"}, "lastConfigBackup is of config old999, the cell runs abc123"),
    ({"cell": "staging"}, "belongs to cell 'staging', not 'prod'"),
    ({"until": "2025-03-14T10:26:53Z"}, "maintenance: still on until 2025-03-14T10:26:53Z"),
])
def test_what_a_failed_after_hook_leaves_behind_is_unhealthy(kube: KubeClient, kube_double: KubeDouble,
                                                            clock: FakeClock, change: dict, problem: str):
    healthy_cell(kube_double, **change)
    health = check(kube, clock)
    assert not health.healthy
    assert problem in health.summary()


def test_an_expired_lease_counts_as_off(kube: KubeClient, kube_double: KubeDouble, clock: FakeClock):
    healthy_cell(kube_double, until="2025-03-14T09:26:00Z")
    assert check(kube, clock).healthy
    assert clock.now() == START


def test_workloads_not_ready_are_unhealthy_after_the_wait(kube: KubeClient, kube_double: KubeDouble,
                                                          clock: FakeClock):
    healthy_cell(kube_double)
    kube_double.put_deployment("gitpod", "server", replicas=2, ready=1)
    health = check(kube, clock)
    assert not health.healthy
    assert "Deployment/server: 1/2 replicas ready" in health.summary()
    assert sum(clock.sleeps) == 30


def test_no_record_is_unhealthy(kube: KubeClient, kube_double: KubeDouble, clock: FakeClock):
    kube_double.put_deployment("gitpod", "server", replicas=1)
    health = check(kube, clock)
    assert "gitpod/gitpod-installation does not exist" in health.summary()
    assert clock.now() - START == dt.timedelta(0)
