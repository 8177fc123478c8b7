"""Opt-in: the Kubernetes client and the maintenance lease against a real cluster.

Runs only when KUBECONFIG is set (and is skipped otherwise). It writes a throwaway ConfigMap, never the real
maintenance ConfigMap, in $GITPOD_CELL_TEST_NAMESPACE (default: `default`), reads workload status read-only, and
deletes the ConfigMap with kubectl when kubectl is on PATH. The kubeconfig's credential plugin gets the operator's
own environment back, since `aws eks get-token` and the like need real credentials.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator

import pytest

from ops.cluster.health import check_health
from ops.cluster.kube import KubeClient
from ops.cluster.maintenance import MaintenanceLease
from ops.common.timestamps import utc_now
from tests.ops.support.values import ORIGINAL_ENVIRONMENT

pytestmark = pytest.mark.kubernetes


@pytest.fixture
def real_cluster(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[KubeClient, str, str]]:
    kubeconfig = ORIGINAL_ENVIRONMENT.get("KUBECONFIG")
    if not kubeconfig:
        pytest.skip("set KUBECONFIG to run the real-cluster test")
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    for name, value in ORIGINAL_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    namespace = os.environ.get("GITPOD_CELL_TEST_NAMESPACE", "default")
    config_map = f"gitpod-cell-ops-test-{uuid.uuid4().hex[:8]}"
    yield KubeClient.from_kubeconfig(), namespace, config_map
    if shutil.which("kubectl"):
        subprocess.run(["kubectl", "--namespace", namespace, "delete", "configmap", config_map, "--ignore-not-found"],
                       check=False, capture_output=True, timeout=60)
    else:
        print(f"kubectl not found: delete ConfigMap {namespace}/{config_map} by hand")


def test_lease_round_trip_on_a_real_cluster(real_cluster: tuple[KubeClient, str, str]):
    kube, namespace, config_map = real_cluster
    lease = MaintenanceLease(kube, namespace, config_map)

    entered = lease.enter(1, utc_now())
    assert entered.enabled
    assert lease.status(utc_now()).enabled

    kube.patch_config_map_data(namespace, config_map, {"other": "kept"})
    assert not lease.exit(utc_now()).enabled
    assert kube.get_config_map(namespace, config_map).data["other"] == "kept"


def test_workload_status_can_be_read(real_cluster: tuple[KubeClient, str, str]):
    kube, namespace, _ = real_cluster
    report = check_health(kube, namespace, require_workloads=False)
    assert report.namespace == namespace
