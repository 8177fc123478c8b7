"""The deploy gate's cluster half (ops.cluster.cell_health) on the real local API server: it judges the cell, not
the hooks' verdict."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from ops.backup.config_backup import ConfigBackup
from ops.cluster.cell_health import check_cell_health, cluster_health_from_kubeconfig
from ops.cluster.kube import KubeClient
from tests.ops.support.kube_cluster import KubeCluster
from tests.ops.support.values import START, FakeClock


def healthy_cell(cluster: KubeCluster, *, started: str = "2025-03-14T09:00:00Z", finished: str = "2025-03-14T09:20:00Z",
                 backed_up_hash: str = "abc123", cell: str = "prod", until: str = "2025-03-14T09:20:00Z") -> None:
    cluster.put_deployment(cluster.namespace, "server", replicas=2)
    cluster.put_stateful_set(cluster.namespace, "redis", replicas=1)
    backup = ConfigBackup("bucket", "installer-config/prod/x.yaml", "v1", "2024.11.0", backed_up_hash, "prod",
                          dt.datetime(2025, 3, 14, 9, 19, tzinfo=dt.UTC))
    cluster.put_config_map(cluster.namespace, "gitpod-installation", {
        "cell": cell, "version": "2024.11.0", "configHash": "abc123", "lastRolloutStartedAt": started,
        "lastRolloutFinishedAt": finished, "lastConfigBackup": backup.to_json()})
    cluster.put_config_map("default", "ws-manager-mk2-maintenance-mode",
                           {"config.json": json.dumps({"enabledUntil": until})},
                           labels={"gitpod.io/maintenanceConfig": "true"})


def check(kube: KubeClient, cluster: KubeCluster, clock: FakeClock, stack: str = "prod"):
    return check_cell_health(kube, stack, cluster.namespace, clock.now(), timeout_seconds=30, poll_seconds=10,
                             monotonic=clock.monotonic, sleep=clock.sleep)


def test_a_cell_whose_rollout_finished_is_healthy(kube: KubeClient, cluster: KubeCluster, clock: FakeClock):
    healthy_cell(cluster)
    health = check(kube, cluster, clock)
    assert health.healthy, health.problems
    assert "maintenance off" in health.summary()


@pytest.mark.parametrize(("change", "problem"), [
    ({"finished": "2025-03-14T08:00:00Z"}, "has not finished"),
    ({"backed_up_hash": "old999"}, "lastConfigBackup is of config old999, the cell runs abc123"),
    ({"cell": "staging"}, "belongs to cell 'staging', not 'prod'"),
    ({"until": "2025-03-14T10:26:53Z"}, "maintenance: still on until 2025-03-14T10:26:53Z"),
])
def test_what_a_failed_after_hook_leaves_behind_is_unhealthy(kube: KubeClient, cluster: KubeCluster,
                                                            clock: FakeClock, change: dict, problem: str):
    healthy_cell(cluster, **change)
    health = check(kube, cluster, clock)
    assert not health.healthy
    assert problem in health.summary()


def test_an_expired_lease_counts_as_off(kube: KubeClient, cluster: KubeCluster, clock: FakeClock):
    healthy_cell(cluster, until="2025-03-14T09:26:00Z")
    assert check(kube, cluster, clock).healthy
    assert clock.now() == START


def test_workloads_not_ready_are_unhealthy_after_the_wait(kube: KubeClient, cluster: KubeCluster,
                                                          clock: FakeClock):
    healthy_cell(cluster)
    cluster.put_deployment(cluster.namespace, "server", replicas=2, ready=1)
    health = check(kube, cluster, clock)
    assert not health.healthy
    assert "Deployment/server: 1/2 replicas ready" in health.summary()
    assert sum(clock.sleeps) == 30


def test_no_record_is_unhealthy(kube: KubeClient, cluster: KubeCluster, clock: FakeClock):
    cluster.put_deployment(cluster.namespace, "server", replicas=1)
    health = check(kube, cluster, clock)
    assert f"{cluster.namespace}/gitpod-installation does not exist" in health.summary()
    assert clock.now() - START == dt.timedelta(0)


def test_the_cell_health_from_the_cells_kubeconfig_text(cluster: KubeCluster, clock: FakeClock):
    healthy_cell(cluster)
    health = cluster_health_from_kubeconfig("prod", cluster.kubeconfig_text(), cluster.namespace, clock.now(),
                                            timeout_seconds=5)
    assert health.healthy, health.problems
    assert "2 workloads in" in health.summary()

    broken = cluster_health_from_kubeconfig("prod", "clusters: []", cluster.namespace, clock.now())
    assert broken.problems == ("kubeconfig: kubeconfig has no current-context; pass a context name",)
