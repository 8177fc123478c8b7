"""Maintenance on builds without ws-manager-mk2 (release-2022.11.x), on a real API server: a stand-in ws-manager
Deployment is held at zero replicas while the lease runs (so nothing can start or stop a workspace) and gets its
replicas back when the lease ends or passes, even when the process that entered maintenance was killed: the
maintenance keeper (the CronJob's script, run here as its pod would run it; no kubelet runs a CronJob here) ends it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from contract.cluster import MK2_MAINTENANCE_CONFIG_MAP
from ops.cluster.kube import KubeClient
from ops.cluster.workspace_manager import WorkspaceManager
from ops.rollout.steps import RolloutClients, RolloutSettings, enter_maintenance, exit_maintenance
from tests.cluster.gitpod_scripts import LEASE_PATH, deployment, remove_lease, run_keeper, write_lease
from tests.kube_server import KubeApiServer

REPLICAS = "gitpod-cell/replicas-after-maintenance"


@pytest.fixture
def cell(kube_api: KubeApiServer) -> Iterator[tuple[str, KubeClient]]:
    """A Gitpod namespace with its installation record and a stand-in ws-manager of 2 replicas."""
    remove_lease(kube_api)
    namespace = kube_api.create_namespace("gitpod")
    labels = {"component": "ws-manager"}
    kube_api.apply({"apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": {"name": "ws-manager", "namespace": namespace},
                    "spec": {"replicas": 2, "selector": {"matchLabels": labels},
                             "template": {"metadata": {"labels": labels},
                                          "spec": {"containers": [{"name": "ws-manager",
                                                                   "image": "registry.invalid/ws-manager:1"}]}}}},
                   field_manager="gitpod-installer")
    kube_api.apply({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": "gitpod-installation", "namespace": namespace},
                    "data": {"cell": "dev", "version": "release-2022.11.3"}}, field_manager="pulumi")
    yield namespace, KubeClient.from_kubeconfig(kube_api.kubeconfig_path)
    remove_lease(kube_api)


def settings(namespace: str) -> RolloutSettings:
    return RolloutSettings(stack="dev", namespace=namespace, maintenance_mechanism="scale-ws-manager",
                           workspace_manager="ws-manager")


def clients(kube: KubeClient) -> RolloutClients:
    return RolloutClients(kube=kube, restore_points=None, config_store=None)  # type: ignore[arg-type]


def test_a_rollout_pauses_ws_manager_and_gives_its_replicas_back(kube_api: KubeApiServer,
                                                                cell: tuple[str, KubeClient]) -> None:
    namespace, kube = cell
    status = enter_maintenance(clients(kube), settings(namespace))
    assert status.enabled
    paused = deployment(kube_api, namespace, "ws-manager")
    assert paused["spec"]["replicas"] == 0  # nothing can start or stop a workspace
    assert paused["metadata"]["annotations"][REPLICAS] == "2"
    exit_maintenance(clients(kube), settings(namespace))
    resumed = deployment(kube_api, namespace, "ws-manager")
    assert resumed["spec"]["replicas"] == 2
    assert REPLICAS not in (resumed["metadata"].get("annotations") or {})


def test_an_operators_longer_lease_keeps_ws_manager_paused_after_the_rollout(kube_api: KubeApiServer,
                                                                            cell: tuple[str, KubeClient]) -> None:
    namespace, kube = cell
    write_lease(kube_api, datetime.now(UTC) + timedelta(hours=3))
    enter_maintenance(clients(kube), settings(namespace))
    exit_maintenance(clients(kube), settings(namespace))
    assert deployment(kube_api, namespace, "ws-manager")["spec"]["replicas"] == 0


def test_the_keeper_holds_ws_manager_while_the_lease_runs_and_restores_it_after(
        kube_api: KubeApiServer, cell: tuple[str, KubeClient], tmp_path: Path) -> None:
    namespace, kube = cell
    write_lease(kube_api, datetime.now(UTC) + timedelta(minutes=30))
    assert run_keeper(kube_api, namespace, tmp_path).returncode == 0
    assert deployment(kube_api, namespace, "ws-manager")["spec"]["replicas"] == 0
    kube.scale_deployment(namespace, "ws-manager", 1)  # e.g. someone re-applied the release meanwhile
    run_keeper(kube_api, namespace, tmp_path)
    assert deployment(kube_api, namespace, "ws-manager")["spec"]["replicas"] == 0
    write_lease(kube_api, datetime.now(UTC) - timedelta(seconds=1))
    result = run_keeper(kube_api, namespace, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "back to 2 replicas" in result.stdout
    assert deployment(kube_api, namespace, "ws-manager")["spec"]["replicas"] == 2


ENTER_AND_HANG = """
import sys, time
from datetime import UTC, datetime, timedelta
from ops.cluster.kube import KubeClient
from ops.cluster.maintenance import MaintenanceLease
from ops.cluster.workspace_manager import WorkspaceManager
kubeconfig, namespace = sys.argv[1:]
kube = KubeClient.from_kubeconfig(kubeconfig)
# A short lease (what an operator or a rollout writes, minutes long in real life), then the pause.
MaintenanceLease(kube)._write_until(datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=3),
                                    create_if_absent=True)
print(WorkspaceManager(kube, namespace, "ws-manager", "scale-ws-manager").pause(), flush=True)
time.sleep(600)
"""


def test_maintenance_ends_by_itself_when_whoever_entered_it_is_killed(kube_api: KubeApiServer,
                                                                      cell: tuple[str, KubeClient],
                                                                      tmp_path: Path) -> None:
    namespace, _ = cell
    entering = subprocess.Popen([sys.executable, "-c", ENTER_AND_HANG, str(kube_api.kubeconfig_path), namespace],
                                stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2],
                                env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert entering.stdout is not None
    assert "paused" in entering.stdout.readline()
    entering.send_signal(signal.SIGKILL)
    entering.wait(timeout=10)
    assert deployment(kube_api, namespace, "ws-manager")["spec"]["replicas"] == 0
    # The lease passes (nobody is left to end maintenance): wait out exactly what the killed process wrote.
    lease = kube_api.request("GET", f"{LEASE_PATH}/{MK2_MAINTENANCE_CONFIG_MAP}")
    until = datetime.fromisoformat(json.loads(lease["data"]["config.json"])["enabledUntil"])
    time.sleep(max(0.0, (until - datetime.now(UTC)).total_seconds()) + 0.2)
    result = run_keeper(kube_api, namespace, tmp_path)  # the CronJob's next run
    assert result.returncode == 0, result.stderr
    assert deployment(kube_api, namespace, "ws-manager")["spec"]["replicas"] == 2


def test_status_says_whether_ws_manager_is_paused(cell: tuple[str, KubeClient]) -> None:
    namespace, kube = cell
    manager = WorkspaceManager(kube, namespace, "ws-manager", "scale-ws-manager")
    assert manager.state() == {"name": "ws-manager", "replicas": 2, "paused": False}
    manager.pause()
    assert manager.state() == {"name": "ws-manager", "replicas": 0, "paused": True}
    assert manager.resume() == "ws-manager resumed: 2 replicas"
    assert manager.state() == {"name": "ws-manager", "replicas": 2, "paused": False}
    assert WorkspaceManager(kube, namespace, "ws-manager-mk2", "mk2-lease").state() is None
