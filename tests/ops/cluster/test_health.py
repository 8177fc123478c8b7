"""The health gate on the real local API server, polled with a fake clock: no real sleeping. No controller runs, so
the workloads' status is what the test writes through the status subresource, as their controllers would."""

from __future__ import annotations

import json

import pytest

from ops.cluster.health import HealthGateTimeout, check_health, wait_until_healthy
from ops.cluster.kube import KubeClient, KubeError
from tests.ops.support.kube_cluster import KubeCluster
from tests.ops.support.kube_faults import KubeFaultProxy
from tests.ops.support.values import FakeClock


def _gitpod_workloads(cluster: KubeCluster, *, server_ready: int = 2) -> None:
    cluster.put_deployment(cluster.namespace, "server", replicas=2, ready=server_ready)
    cluster.put_deployment(cluster.namespace, "proxy", replicas=1)
    cluster.put_stateful_set(cluster.namespace, "redis", replicas=1)


def _wait(kube: KubeClient, cluster: KubeCluster, clock: FakeClock, timeout: float = 60, **options: object):
    return wait_until_healthy(kube, cluster.namespace, timeout_seconds=timeout, poll_seconds=5,
                              monotonic=clock.monotonic, sleep=clock.sleep, **options)  # type: ignore[arg-type]


def test_ready_namespace_passes_on_the_first_poll(kube: KubeClient, cluster: KubeCluster, clock: FakeClock):
    _gitpod_workloads(cluster)

    report = _wait(kube, cluster, clock)

    assert report.healthy
    assert report.polls == 1
    assert clock.sleeps == []
    assert {w.name for w in report.workloads} == {"server", "proxy", "redis"}


def test_polls_until_ready(kube: KubeClient, cluster: KubeCluster, clock: FakeClock):
    _gitpod_workloads(cluster, server_ready=0)
    clock.on_sleep.append(lambda c: cluster.put_deployment(cluster.namespace, "server", replicas=2,
                                                           ready=1 if c.elapsed < 15 else 2))

    report = _wait(kube, cluster, clock)

    assert report.healthy
    assert clock.sleeps == [5, 5, 5]
    assert report.polls == 4
    assert report.waited_seconds == 15


def test_not_ready_until_timeout_names_what_is_not_ready(kube: KubeClient, cluster: KubeCluster, clock: FakeClock):
    _gitpod_workloads(cluster, server_ready=1)
    cluster.put_stateful_set(cluster.namespace, "minio", replicas=1, generation=3, observed_generation=2)

    with pytest.raises(HealthGateTimeout) as timeout:
        _wait(kube, cluster, clock, timeout=12)

    report = timeout.value.report
    assert not report.healthy
    assert sum(clock.sleeps) == 12  # the last sleep is cut to the deadline
    assert {entry.workload.name for entry in report.not_ready} == {"server", "minio"}
    message = str(timeout.value)
    assert "Deployment/server: 1/2 replicas ready" in message
    assert "StatefulSet/minio: generation 3 not yet observed (at 2)" in message


def test_a_spec_change_is_not_ready_until_its_controller_observed_it(kube: KubeClient, cluster: KubeCluster):
    cluster.put_deployment(cluster.namespace, "server", replicas=2)
    assert check_health(kube, cluster.namespace).healthy

    # A new image: the server bumps metadata.generation; the status still describes the old spec.
    cluster.request("PATCH", f"/apis/apps/v1/namespaces/{cluster.namespace}/deployments/server",
                        {"spec": {"template": {"spec": {"containers": [{"name": "app",
                                                                        "image": "registry.invalid/app:2"}]}}}},
                        content_type="application/strategic-merge-patch+json")

    report = check_health(kube, cluster.namespace)
    assert not report.healthy
    assert report.not_ready[0].reasons == ("generation 2 not yet observed (at 1)",)


def test_a_freshly_created_workload_is_not_ready(kube: KubeClient, cluster: KubeCluster):
    """As the installer leaves it, before any controller ran: the server's own empty status."""
    body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "server"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "server"}},
                     "template": {"metadata": {"labels": {"app": "server"}},
                                  "spec": {"containers": [{"name": "app", "image": "registry.invalid/app:1"}]}}}}
    cluster.request("POST", f"/apis/apps/v1/namespaces/{cluster.namespace}/deployments", body)

    report = check_health(kube, cluster.namespace)

    assert report.not_ready[0].reasons == ("generation 1 not yet observed (at 0)", "0/2 replicas ready",
                                           "0/2 replicas updated")


def test_old_replicas_still_ready_during_a_rollout_are_not_ready(kube: KubeClient, cluster: KubeCluster):
    cluster.put_deployment(cluster.namespace, "server", replicas=2, ready=2, updated=1)
    report = check_health(kube, cluster.namespace)
    assert not report.healthy
    assert report.not_ready[0].reasons == ("1/2 replicas updated",)


def test_a_stateful_set_partition_limits_the_replicas_that_must_update(kube: KubeClient, cluster: KubeCluster):
    cluster.put_stateful_set(cluster.namespace, "redis", replicas=3, updated=1,
                             update_strategy={"type": "RollingUpdate", "rollingUpdate": {"partition": 2}})
    assert check_health(kube, cluster.namespace).healthy


def test_an_empty_namespace_is_not_healthy(kube: KubeClient, cluster: KubeCluster, clock: FakeClock):
    with pytest.raises(HealthGateTimeout, match="no Deployments or StatefulSets found"):
        _wait(kube, cluster, clock, timeout=5)


def test_label_selector_limits_the_gate(kube: KubeClient, cluster: KubeCluster, clock: FakeClock):
    cluster.put_deployment(cluster.namespace, "server", replicas=1, labels={"app": "gitpod"})
    cluster.put_deployment(cluster.namespace, "unrelated", replicas=1, ready=0, labels={"app": "other"})
    assert _wait(kube, cluster, clock, label_selector="app=gitpod").healthy
    with pytest.raises(HealthGateTimeout, match="no Deployments or StatefulSets matching 'app=none' found"):
        _wait(kube, cluster, clock, timeout=5, label_selector="app=none")


def test_transient_api_errors_are_retried_until_the_deadline(faults: KubeFaultProxy, faulty_kube: KubeClient,
                                                             cluster: KubeCluster, clock: FakeClock):
    """Fault proxy: the real server gives no 503 on demand."""
    _gitpod_workloads(cluster)
    faults.fail_next(count=2, status=503)

    report = _wait(faulty_kube, cluster, clock)

    assert report.healthy
    assert report.polls == 3  # each failed request ends its poll; the third poll gets through
    assert clock.sleeps == [5, 5]
    assert report.last_error is None


def test_a_persistent_server_error_times_out_and_reports_it(faults: KubeFaultProxy, faulty_kube: KubeClient,
                                                            cluster: KubeCluster, clock: FakeClock):
    """Fault proxy: the real server gives no 500 on demand."""
    faults.fail_when("GET", "/deployments", status=500, times=1000)
    with pytest.raises(HealthGateTimeout,
                       match=f"last API error: GET /apis/apps/v1/namespaces/{cluster.namespace}/deployments"):
        _wait(faulty_kube, cluster, clock, timeout=20)


def test_forbidden_fails_at_once(cluster: KubeCluster, clock: FakeClock):
    """RBAC is the server's: a ServiceAccount that may list Deployments but not StatefulSets."""
    token = cluster.service_account_token("gate", rules=[
        {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["list"]}])
    kube = KubeClient.from_kubeconfig_text(json.dumps(cluster.token_kubeconfig(token)))
    _gitpod_workloads(cluster)

    with pytest.raises(KubeError) as forbidden:
        _wait(kube, cluster, clock)

    assert forbidden.value.status == 403
    assert f"/apis/apps/v1/namespaces/{cluster.namespace}/statefulsets" in str(forbidden.value)
    assert clock.sleeps == []
