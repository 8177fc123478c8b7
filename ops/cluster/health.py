"""The post-rollout health gate: every Deployment and StatefulSet in the namespace rolled out and ready.

A workload counts as ready when its controller has observed the newest spec (observedGeneration >= generation),
exactly the desired number of replicas are ready (more means old pods are still around), and the replicas that
should run the new template do. The gate polls until that holds for all of them or the timeout passes; the clock
and sleep are injectable so tests never wait.

API errors that may pass (no response, 429, 5xx) are retried until the deadline and reported; anything else
(401, 403, 404) means the gate cannot work at all and fails at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ops.cluster.kube import KubeApi, KubeError, WorkloadStatus

DEFAULT_POLL_SECONDS = 10.0


@dataclass(frozen=True)
class NotReady:
    workload: WorkloadStatus
    reasons: tuple[str, ...]

    def describe(self) -> str:
        return f"{self.workload.kind}/{self.workload.name}: {', '.join(self.reasons)}"


@dataclass(frozen=True)
class HealthReport:
    namespace: str
    healthy: bool
    workloads: tuple[WorkloadStatus, ...] = ()
    not_ready: tuple[NotReady, ...] = ()
    waited_seconds: float = 0.0
    polls: int = 0
    # Set when the last poll failed or found nothing to check; then `workloads` is from the last good poll.
    last_error: str | None = None
    problems: tuple[str, ...] = field(default=())

    def summary(self) -> str:
        if self.healthy:
            return f"{len(self.workloads)} workloads in {self.namespace} ready after {self.waited_seconds:.0f}s"
        lines = [f"namespace {self.namespace} not healthy after {self.waited_seconds:.0f}s ({self.polls} polls)"]
        lines += [f"  {entry.describe()}" for entry in self.not_ready]
        lines += [f"  {problem}" for problem in self.problems]
        if self.last_error:
            lines.append(f"  last API error: {self.last_error}")
        return "\n".join(lines)


class HealthGateTimeout(Exception):
    def __init__(self, report: HealthReport) -> None:
        self.report = report
        super().__init__(report.summary())


def readiness_problems(workload: WorkloadStatus) -> tuple[str, ...]:
    reasons = []
    if workload.observed_generation < workload.generation:
        reasons.append(f"generation {workload.generation} not yet observed (at {workload.observed_generation})")
    if workload.ready_replicas != workload.desired_replicas:
        reasons.append(f"{workload.ready_replicas}/{workload.desired_replicas} replicas ready")
    if workload.updated_replicas < workload.expected_updated_replicas:
        reasons.append(f"{workload.updated_replicas}/{workload.expected_updated_replicas} replicas updated")
    return tuple(reasons)


def check_health(
    kube: KubeApi, namespace: str, label_selector: str | None = None, *, require_workloads: bool = True
) -> HealthReport:
    """One look at the namespace, no waiting."""
    workloads = (*kube.list_deployments(namespace, label_selector), *kube.list_stateful_sets(namespace, label_selector))
    not_ready = tuple(NotReady(w, reasons) for w in workloads if (reasons := readiness_problems(w)))
    problems: tuple[str, ...] = ()
    if require_workloads and not workloads:
        # After an install there must be something to check; an empty namespace is a failed install.
        selector = f" matching {label_selector!r}" if label_selector else ""
        problems = (f"no Deployments or StatefulSets{selector} found",)
    return HealthReport(namespace, not not_ready and not problems, tuple(workloads), not_ready, problems=problems)


def wait_until_healthy(
    kube: KubeApi,
    namespace: str,
    *,
    timeout_seconds: float,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    label_selector: str | None = None,
    require_workloads: bool = True,
    monotonic: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> HealthReport:
    """Poll until healthy and return the report, or raise HealthGateTimeout with what was still not ready."""
    if timeout_seconds <= 0 or poll_seconds <= 0:
        raise ValueError("timeout_seconds and poll_seconds must be positive")
    started = monotonic()
    deadline = started + timeout_seconds
    last = HealthReport(namespace, healthy=False)
    polls = 0
    while True:
        polls += 1
        last_error = None
        try:
            last = check_health(kube, namespace, label_selector, require_workloads=require_workloads)
        except KubeError as error:
            if not error.is_transient:
                raise
            last_error = str(error)
        now = monotonic()
        if last.healthy and last_error is None:
            return _with_timing(last, now - started, polls, None)
        if now >= deadline:
            raise HealthGateTimeout(_with_timing(last, now - started, polls, last_error))
        sleep(min(poll_seconds, deadline - now))


def _with_timing(report: HealthReport, waited: float, polls: int, last_error: str | None) -> HealthReport:
    return HealthReport(report.namespace, report.healthy and last_error is None, report.workloads, report.not_ready,
                        waited, polls, last_error, report.problems)
