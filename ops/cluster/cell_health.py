"""The cell's health as the deploy gate sees it, independent of whether the rollout hooks passed.

A failed after-hook (health-gate, backup-config, exit-maintenance) fails `pulumi up` (Pulumi CLI v3.274, seen by
`make e2e`), but the deploy gate does not take the hooks' word for it: `python -m ops fleet health` and the
rollout's health step check the outcome on the cluster itself:

1. workloads   every Deployment and StatefulSet in the Gitpod namespace ready (ops.cluster.health.wait_until_healthy)
2. record      `gitpod-installation` belongs to this cell, the last rollout that started also finished
               (`lastRolloutFinishedAt >= lastRolloutStartedAt`), and the config backed up is the config applied
               (`lastConfigBackup.configHash == configHash`)
3. maintenance off, or its lease already ran out (ws-manager-mk2 starts workspaces again)

Each problem is one line; the result is healthy only when there are none.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from contract.cluster import INSTALLATION_CONFIG_MAP
from ops.cluster.health import DEFAULT_POLL_SECONDS, HealthGateTimeout, wait_until_healthy
from ops.cluster.installation_record import InstallationRecord, read_installation_record
from ops.cluster.kube import KubeApi, KubeError
from ops.cluster.maintenance import MAINTENANCE_NAMESPACE, MaintenanceLease
from ops.common.timestamps import format_rfc3339

# After `pulumi up` the hooks' own gate already waited; this one confirms, with a shorter wait.
DEFAULT_CELL_HEALTH_TIMEOUT_SECONDS = 5 * 60


@dataclass(frozen=True)
class CellHealth:
    stack: str
    namespace: str
    problems: tuple[str, ...]
    facts: tuple[str, ...] = ()

    @property
    def healthy(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if self.healthy:
            return "; ".join(self.facts) or "healthy"
        return "; ".join(self.problems)


def check_cell_health(
    kube: KubeApi,
    stack: str,
    namespace: str,
    now: datetime,
    *,
    maintenance_namespace: str = MAINTENANCE_NAMESPACE,
    timeout_seconds: float = DEFAULT_CELL_HEALTH_TIMEOUT_SECONDS,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    monotonic: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> CellHealth:
    problems: list[str] = []
    facts: list[str] = []
    try:
        report = wait_until_healthy(kube, namespace, timeout_seconds=timeout_seconds, poll_seconds=poll_seconds,
                                    monotonic=monotonic, sleep=sleep)
        facts.append(report.summary())
    except HealthGateTimeout as error:
        problems.append("workloads: " + " / ".join(line.strip() for line in error.report.summary().splitlines()))
    except KubeError as error:
        problems.append(f"workloads: {error}")

    try:
        record = read_installation_record(kube, namespace)
        problems += record_problems(record, stack, namespace)
        if record is not None and record.version:
            facts.append(f"Gitpod {record.version} (config {record.config_hash}) applied and backed up")
    except KubeError as error:
        problems.append(f"record: {error}")

    try:
        status = MaintenanceLease(kube, maintenance_namespace).status(now)
        if status.enabled:
            problems.append(f"maintenance: still on until {format_rfc3339(status.until) if status.until else '?'} "
                            f"({status.namespace}/{status.config_map}): exit-maintenance did not run or another "
                            "lease holds it")
        else:
            facts.append("maintenance off")
    except KubeError as error:
        problems.append(f"maintenance: {error}")
    return CellHealth(stack, namespace, tuple(problems), tuple(facts))


def record_problems(record: InstallationRecord | None, stack: str, namespace: str) -> list[str]:
    where = f"{namespace}/{INSTALLATION_CONFIG_MAP}"
    if record is None:
        return [f"record: {where} does not exist: Gitpod was never installed by this cell"]
    problems = [f"record: {key} is unreadable: {why}" for key, why in record.problems.items()]
    if record.cell and record.cell != stack:
        problems.append(f"record: {where} belongs to cell {record.cell!r}, not {stack!r}")
    started, finished = record.last_rollout_started_at, record.last_rollout_finished_at
    if started is None:
        problems.append(f"record: {where} has no lastRolloutStartedAt: the rollout hooks never ran")
    elif finished is None or finished < started:
        ended = format_rfc3339(finished) if finished else "never"
        problems.append(f"record: the rollout started {format_rfc3339(started)} has not finished (last finished: "
                        f"{ended}): an after-hook failed")
    backup = record.last_config_backup
    if backup is None:
        problems.append("record: no lastConfigBackup: the applied config was never backed up")
    elif not record.config_hash or backup.config_hash != record.config_hash:
        problems.append(f"record: lastConfigBackup is of config {backup.config_hash}, the cell runs "
                        f"{record.config_hash}: backup-config did not run for this rollout")
    return problems


def cluster_health_from_kubeconfig(
    stack: str,
    kubeconfig_text: str,
    namespace: str,
    now: datetime,
    *,
    context: str | None = None,
    maintenance_namespace: str = MAINTENANCE_NAMESPACE,
    timeout_seconds: float = DEFAULT_CELL_HEALTH_TIMEOUT_SECONDS,
) -> CellHealth:
    from ops.cluster.kube import KubeClient, KubeConfigError

    try:
        kube = KubeClient.from_kubeconfig_text(kubeconfig_text, context)
    except KubeConfigError as error:
        return CellHealth(stack, namespace, (f"kubeconfig: {error}",))
    return check_cell_health(kube, stack, namespace, now, maintenance_namespace=maintenance_namespace,
                             timeout_seconds=timeout_seconds)
