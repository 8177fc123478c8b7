"""The health gate, polled with a fake clock: no real sleeping."""

from __future__ import annotations

import pytest

from ops.cluster.health import HealthGateTimeout, check_health, wait_until_healthy
from ops.cluster.kube import KubeClient, KubeError
from tests.ops.support.kube_double import KubeDouble
from tests.ops.support.values import FakeClock


def _gitpod_workloads(double: KubeDouble, *, server_ready: int = 2) -> None:
    double.put_deployment("gitpod", "server", replicas=2, ready=server_ready)
    double.put_deployment("gitpod", "proxy", replicas=1)
    double.put_stateful_set("gitpod", "redis", replicas=1)


def _wait(kube: KubeClient, clock: FakeClock, timeout: float = 60, **options: object):
    return wait_until_healthy(kube, "gitpod", timeout_seconds=timeout, poll_seconds=5, monotonic=clock.monotonic,
                              sleep=clock.sleep, **options)  # type: ignore[arg-type]


def test_ready_namespace_passes_on_the_first_poll(kube: KubeClient, kube_double: KubeDouble, clock: FakeClock):
    _gitpod_workloads(kube_double)

    report = _wait(kube, clock)

    assert report.healthy
    assert report.polls == 1
    assert clock.sleeps == []
    assert {w.name for w in report.workloads} == {"server", "proxy", "redis"}


def test_polls_until_ready(kube: KubeClient, kube_double: KubeDouble, clock: FakeClock):
    _gitpod_workloads(kube_double, server_ready=0)
    clock.on_sleep.append(lambda c: kube_double.put_deployment("gitpod", "server", replicas=2,
                                                               ready=1 if c.elapsed < 15 else 2))

    report = _wait(kube, clock)

    assert report.healthy
    assert clock.sleeps == [5, 5, 5]
    assert report.polls == 4
    assert report.waited_seconds == 15


def test_not_ready_until_timeout_names_what_is_not_ready(kube: KubeClient, kube_double: KubeDouble,
                                                         clock: FakeClock):
    _gitpod_workloads(kube_double, server_ready=1)
    kube_double.put_stateful_set("gitpod", "minio", replicas=1, generation=3, observed_generation=2)

    with pytest.raises(HealthGateTimeout) as timeout:
        _wait(kube, clock, timeout=12)

    report = timeout.value.report
    assert not report.healthy
    assert sum(clock.sleeps) == 12  # the last sleep is cut to the deadline
    assert {entry.workload.name for entry in report.not_ready} == {"server", "minio"}
    message = str(timeout.value)
    assert "Deployment/server: 1/2 replicas ready" in message
    assert "StatefulSet/minio: generation 3 not yet observed (at 2)" in message


def test_old_replicas_still_ready_during_a_rollout_are_not_ready(kube: KubeClient, kube_double: KubeDouble,
                                                                 clock: FakeClock):
    kube_double.put_deployment("gitpod", "server", replicas=2, ready=2, updated=1)
    report = check_health(kube, "gitpod")
    assert not report.healthy
    assert report.not_ready[0].reasons == ("1/2 replicas updated",)


def test_an_empty_namespace_is_not_healthy(kube: KubeClient, clock: FakeClock):
    with pytest.raises(HealthGateTimeout, match="no Deployments or StatefulSets found"):
        _wait(kube, clock, timeout=5)


def test_label_selector_limits_the_gate(kube: KubeClient, kube_double: KubeDouble, clock: FakeClock):
    kube_double.put_deployment("gitpod", "server", replicas=1, labels={"app": "gitpod"})
    kube_double.put_deployment("gitpod", "unrelated", replicas=1, ready=0, labels={"app": "other"})
    assert _wait(kube, clock, label_selector="app=gitpod").healthy


def test_transient_api_errors_are_retried_until_the_deadline(kube: KubeClient, kube_double: KubeDouble,
                                                             clock: FakeClock):
    _gitpod_workloads(kube_double)
    kube_double.fail_next(count=2, status=503)

    report = _wait(kube, clock)

    assert report.healthy
    assert report.polls == 3  # each failed request ends its poll; the third poll gets through
    assert clock.sleeps == [5, 5]
    assert report.last_error is None


def test_a_persistent_server_error_times_out_and_reports_it(kube: KubeClient, kube_double: KubeDouble,
                                                            clock: FakeClock):
    kube_double.fail_when("GET", "/deployments", status=500, times=1000)
    with pytest.raises(HealthGateTimeout, match="last API error: GET /apis/apps/v1/namespaces/gitpod/deployments"):
        _wait(kube, clock, timeout=20)


def test_forbidden_fails_at_once(kube: KubeClient, kube_double: KubeDouble, clock: FakeClock):
    kube_double.fail_next(status=403)
    with pytest.raises(KubeError) as forbidden:
        _wait(kube, clock)
    assert forbidden.value.status == 403
    assert clock.sleeps == []
