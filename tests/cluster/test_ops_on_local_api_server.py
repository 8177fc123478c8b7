"""ops/ against the real local API server: what tests/ops/test_real_cluster.py checks on a cluster given by
KUBECONFIG (and skips without one), here on every run. No controllers run, so a Deployment's status is what the
test writes to its status subresource, as a controller would."""

from __future__ import annotations

from ops.cluster.health import check_health
from ops.cluster.kube import KubeClient
from ops.cluster.maintenance import MaintenanceLease
from ops.common.timestamps import utc_now
from tests.kube_server import KubeApiServer


def test_lease_round_trip(kube_api: KubeApiServer):
    namespace = kube_api.create_namespace("lease")
    kube = KubeClient.from_kubeconfig(kube_api.kubeconfig_path)
    lease = MaintenanceLease(kube, namespace, "ws-manager-mk2-maintenance-mode")

    entered = lease.enter(1, utc_now())
    assert entered.enabled
    assert lease.status(utc_now()).enabled

    kube.patch_config_map_data(namespace, "ws-manager-mk2-maintenance-mode", {"other": "kept"})
    assert not lease.exit(utc_now()).enabled
    assert kube.get_config_map(namespace, "ws-manager-mk2-maintenance-mode").data["other"] == "kept"


def _deployment(name: str, replicas: int) -> dict:
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": labels},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "app", "image": "registry.invalid/app:1"}]}}}}


def test_health_gate_reads_real_workload_status(kube_api: KubeApiServer):
    namespace = kube_api.create_namespace("health")
    kube = KubeClient.from_kubeconfig(kube_api.kubeconfig_path)
    assert not check_health(kube, namespace).healthy  # an empty namespace is a failed install

    created = kube_api.request("POST", f"/apis/apps/v1/namespaces/{namespace}/deployments",
                               _deployment("server", 2))
    report = check_health(kube, namespace)
    assert not report.healthy
    assert report.not_ready[0].reasons == ("generation 1 not yet observed (at 0)", "0/2 replicas ready",
                                           "0/2 replicas updated")

    kube_api.request("PATCH", f"/apis/apps/v1/namespaces/{namespace}/deployments/server/status",
                     {"status": {"observedGeneration": created["metadata"]["generation"], "replicas": 2,
                                 "readyReplicas": 2, "updatedReplicas": 2, "availableReplicas": 2}},
                     content_type="application/merge-patch+json")
    report = check_health(kube, namespace)
    assert report.healthy, report.summary()
    assert [w.name for w in report.workloads] == ["server"]
