"""Preflight: the checks Gitpod's installer ran before installing, against the cell's live systems.

    database        reachable over TLS, TLS required, MySQL 8.0, explicit_defaults_for_timestamp OFF, binary log on,
                    utf8mb4                                               (ops.checks.mysql)
    object storage  write, read back and delete a probe object in the cell's bucket (any cloud's ObjectStore)
    registry        credentials obtainable, every Gitpod repository reachable (the cloud's RegistryProbe: ECR, or
                    Artifact Registry)
    cluster         every Gitpod workload label on some node, kernel >= 5.4, containerd, a supported Kubernetes

Each check yields a CheckResult (pass/fail with the reason). `preflight(clients, settings)` is the rollout step:
it prints every result and raises PreflightFailed when any failed, so the installer never runs on a cell that
would fail it.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from components.config import SUPPORTED_KUBERNETES_VERSIONS
from contract.cluster import ALL_WORKLOAD_LABEL_KEYS
from ops.checks.mysql import (
    DEFAULT_DATABASE,
    Connector,
    DatabaseEndpoint,
    ServerVersionRequirement,
    run_database_checks,
)
from ops.clouds.base import CellClients, ObjectStore, ObjectStoreError, RegistryProbe
from ops.cluster.kube import KubeApi
from ops.cluster.nodes import NodeInfo, NodeSource
from ops.common.check_result import CheckResult, failed, passed
from ops.common.timestamps import utc_now

PREFLIGHT = "preflight"
GITPOD_WORKLOAD_LABELS: tuple[str, ...] = ALL_WORKLOAD_LABEL_KEYS
MIN_KERNEL_VERSION: tuple[int, int] = (5, 4)
CONTAINER_RUNTIME = "containerd"
_KERNEL = re.compile(r"^(\d+)\.(\d+)")
_KUBELET = re.compile(r"^v?(\d+)\.(\d+)")


class PreflightFailed(Exception):
    def __init__(self, report: PreflightReport) -> None:
        self.report = report
        names = ", ".join(result.name for result in report.failures)
        reasons = "; ".join(f"{result.name}: {result.reason}" for result in report.failures)
        super().__init__(f"{len(report.failures)} preflight check(s) failed: {names} ({reasons})")


@dataclass(frozen=True)
class PreflightSettings:
    stack: str
    bucket: str
    repositories: tuple[str, ...]
    database: str = DEFAULT_DATABASE
    version_requirement: ServerVersionRequirement = field(default_factory=ServerVersionRequirement)
    workload_labels: tuple[str, ...] = GITPOD_WORKLOAD_LABELS
    min_kernel_version: tuple[int, int] = MIN_KERNEL_VERSION
    supported_kubernetes_versions: tuple[str, ...] = SUPPORTED_KUBERNETES_VERSIONS


@dataclass(frozen=True)
class PreflightClients:
    """The database connector, the cell's bucket and registry (from its cloud's clients), and the cluster's nodes."""

    connect_database: Connector
    object_store: ObjectStore
    registry: RegistryProbe
    nodes: NodeSource
    clock: Callable[[], datetime] = utc_now
    progress: Callable[[str], None] = print


@dataclass(frozen=True)
class PreflightReport:
    results: tuple[CheckResult, ...]

    @property
    def failures(self) -> list[CheckResult]:
        return [result for result in self.results if not result.passed]

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "checks": [result.to_dict() for result in self.results]}


def run_preflight(clients: PreflightClients, settings: PreflightSettings) -> PreflightReport:
    results: list[CheckResult] = []
    groups: Sequence[tuple[str, Callable[[], list[CheckResult]]]] = (
        ("database", lambda: run_database_checks(clients.connect_database, settings.database,
                                                 settings.version_requirement)),
        ("object storage", lambda: [probe_object_storage(clients.object_store, settings.stack, clients.clock())]),
        ("registry", lambda: clients.registry.check(settings.repositories)),
        ("cluster", lambda: check_cluster(clients.nodes, settings)),
    )
    for group, run in groups:
        try:
            group_results = run()
        except Exception as error:  # one broken group must not hide the others' results
            group_results = [failed(group, f"check could not run: {type(error).__name__}: {error}")]
        for result in group_results:
            clients.progress(result.line())
        results.extend(group_results)
    return PreflightReport(tuple(results))


def preflight(clients: PreflightClients, settings: PreflightSettings) -> PreflightReport:
    """The rollout step "preflight": every check printed; PreflightFailed if any failed."""
    report = run_preflight(clients, settings)
    if not report.passed:
        raise PreflightFailed(report)
    clients.progress(f"preflight passed: {len(report.results)} checks")
    return report


# -- object storage ---------------------------------------------------------------------------------------------


# -- object storage ---------------------------------------------------------------------------------------------


def probe_object_storage(store: ObjectStore, stack: str, now: datetime) -> CheckResult:
    """Write, read back and delete a probe; in a versioned bucket the probe's version is deleted, so nothing stays
    behind."""
    key = f"gitpod-cell/{stack}/preflight/probe-{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"
    body = secrets.token_bytes(32)
    name = "object storage"
    step = "write"
    try:
        version_id = store.put(key, body, "application/octet-stream")
        step = "read"
        if store.get(key, version_id) != body:
            return failed(name, f"{store.url(key)} read back different bytes than written")
        step = "delete"
        store.delete(key, version_id)
    except ObjectStoreError as error:
        return failed(name, f"cannot {step} {store.url(key)}: {error}")
    return passed(name, f"wrote, read back and deleted a probe object in {store.url('').rstrip('/')}")


# -- cluster ----------------------------------------------------------------------------------------------------


def check_cluster(nodes: NodeSource, settings: PreflightSettings) -> list[CheckResult]:
    listed = nodes.list_nodes()
    if not listed:
        return [failed("cluster nodes", "the cluster has no nodes")]
    return [
        passed("cluster nodes", f"{len(listed)} node(s)"),
        check_workload_labels(listed, settings.workload_labels),
        check_kernel_versions(listed, settings.min_kernel_version),
        check_container_runtime(listed),
        check_kubernetes_versions(listed, settings.supported_kubernetes_versions),
    ]


def check_workload_labels(nodes: Sequence[NodeInfo], labels: Sequence[str]) -> CheckResult:
    missing = [label for label in labels if not any(node.labels.get(label) == "true" for node in nodes)]
    if missing:
        return failed("workload labels", f"no node has {', '.join(f'{label}=true' for label in missing)}; "
                                         "Gitpod cannot schedule those workloads")
    return passed("workload labels", f"all {len(labels)} Gitpod workload labels are on some node")


def check_kernel_versions(nodes: Sequence[NodeInfo], minimum: tuple[int, int]) -> CheckResult:
    wanted = ".".join(str(part) for part in minimum)
    too_old = []
    for node in nodes:
        match = _KERNEL.match(node.kernel_version)
        if match is None or (int(match.group(1)), int(match.group(2))) < minimum:
            too_old.append(f"{node.name} ({node.kernel_version or 'unknown'})")
    if too_old:
        return failed("kernel version", f"below {wanted}: {', '.join(too_old)}")
    return passed("kernel version", f"every node runs kernel {wanted} or later")


def check_container_runtime(nodes: Sequence[NodeInfo]) -> CheckResult:
    others = [f"{node.name} ({node.container_runtime_version or 'unknown'})" for node in nodes
              if not node.container_runtime_version.startswith(f"{CONTAINER_RUNTIME}://")]
    if others:
        return failed("container runtime", f"not {CONTAINER_RUNTIME}: {', '.join(others)}")
    return passed("container runtime", f"every node runs {CONTAINER_RUNTIME}")


def check_kubernetes_versions(nodes: Sequence[NodeInfo], supported: Sequence[str]) -> CheckResult:
    unsupported = []
    versions = set()
    for node in nodes:
        match = _KUBELET.match(node.kubelet_version)
        minor = f"{match.group(1)}.{match.group(2)}" if match else None
        versions.add(minor or "unknown")
        if minor not in supported:
            unsupported.append(f"{node.name} ({node.kubelet_version or 'unknown'})")
    if unsupported:
        return failed("Kubernetes version", f"unsupported on {', '.join(unsupported)}; supported: "
                                            f"{', '.join(supported)}")
    return passed("Kubernetes version", f"{', '.join(sorted(versions))} (supported: {', '.join(supported)})")




def preflight_clients(cell: CellClients, kube: KubeApi, database: DatabaseEndpoint,
                      progress: Callable[[str], None] = print) -> PreflightClients:
    """Real clients: a TLS connector to `database`, the cell's bucket and registry from its cloud's clients, and
    the nodes through `kube`."""
    from ops.checks.mysql import tls_connector
    from ops.cluster.nodes import KubeNodes

    return PreflightClients(connect_database=tls_connector(database), object_store=cell.object_store(),
                            registry=cell.registry_probe(), nodes=KubeNodes(kube), progress=progress)
