"""Preflight: the checks Gitpod's installer ran before installing, against the cell's live systems.

    database        reachable over TLS, TLS required, MySQL 8.0, explicit_defaults_for_timestamp OFF, binary log on,
                    utf8mb4                                               (ops.mysql_checks)
    object storage  write, read back and delete a probe object in the cell's bucket (S3, or GCS)
    registry        credentials obtainable (ECR authorization token, or a Google access token), every Gitpod
                    repository reachable (ECR repositories, or the Artifact Registry repository)
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
from ops.check_result import CheckResult, failed, passed
from ops.cluster_nodes import NodeInfo, NodeSource
from ops.mysql_checks import DEFAULT_DATABASE, Connector, ServerVersionRequirement, run_database_checks
from ops.timestamps import utc_now

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
class ArtifactRegistry:
    """Artifact Registry (GCP) as preflight checks it: a REST API (ops.gcp_api.GoogleApi), where the repositories
    live, and how an access token is obtained."""

    api: Any
    project: str
    location: str
    access_token: Callable[[], str]


@dataclass(frozen=True)
class PreflightClients:
    """AWS cells: `s3` and `ecr` (boto3 clients). GCP cells: `gcs` (a google.cloud.storage.Client) and
    `artifact_registry`, with `s3` and `ecr` None."""

    connect_database: Connector
    s3: Any
    ecr: Any
    nodes: NodeSource
    clock: Callable[[], datetime] = utc_now
    progress: Callable[[str], None] = print
    gcs: Any = None
    artifact_registry: ArtifactRegistry | None = None


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
        ("object storage", lambda: [
            probe_gcs_object_storage(clients.gcs, settings.bucket, settings.stack, clients.clock())
            if clients.gcs is not None
            else probe_object_storage(clients.s3, settings.bucket, settings.stack, clients.clock())
        ]),
        ("registry", lambda: check_artifact_registry(clients.artifact_registry, settings.repositories)
            if clients.artifact_registry is not None else check_registry(clients.ecr, settings.repositories)),
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


def probe_object_storage(s3: Any, bucket: str, stack: str, now: datetime) -> CheckResult:
    """Write, read back and delete a probe; with versioning, the probe's version is deleted too (no residue)."""
    from botocore.exceptions import BotoCoreError, ClientError

    key = f"gitpod-cell/{stack}/preflight/probe-{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"
    body = secrets.token_bytes(32)
    name = "object storage"
    step = "write"
    try:
        written = s3.put_object(Bucket=bucket, Key=key, Body=body)
        step = "read"
        if s3.get_object(Bucket=bucket, Key=key)["Body"].read() != body:
            return failed(name, f"s3://{bucket}/{key} read back different bytes than written")
        step = "delete"
        version_id = written.get("VersionId")
        if version_id:
            s3.delete_object(Bucket=bucket, Key=key, VersionId=version_id)
        else:
            s3.delete_object(Bucket=bucket, Key=key)
    except (ClientError, BotoCoreError) as error:
        return failed(name, f"cannot {step} s3://{bucket}/{key}: {error}")
    return passed(name, f"wrote, read back and deleted a probe object in s3://{bucket}")


def probe_gcs_object_storage(gcs: Any, bucket: str, stack: str, now: datetime) -> CheckResult:
    """As probe_object_storage, on GCS: the probe's generation is deleted, so a versioned bucket keeps nothing."""
    from ops.gcs_config_store import REQUEST_TIMEOUT_SECONDS, gcs_errors

    key = f"gitpod-cell/{stack}/preflight/probe-{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"
    body = secrets.token_bytes(32)
    name = "object storage"
    step = "write"
    try:
        blob = gcs.bucket(bucket).blob(key)
        blob.upload_from_string(body, content_type="application/octet-stream", timeout=REQUEST_TIMEOUT_SECONDS)
        step = "read"
        written = gcs.bucket(bucket).blob(key, generation=blob.generation)
        if written.download_as_bytes(timeout=REQUEST_TIMEOUT_SECONDS) != body:
            return failed(name, f"gs://{bucket}/{key} read back different bytes than written")
        step = "delete"
        written.delete(timeout=REQUEST_TIMEOUT_SECONDS)
    except gcs_errors() as error:
        return failed(name, f"cannot {step} gs://{bucket}/{key}: {error}")
    return passed(name, f"wrote, read back and deleted a probe object in gs://{bucket}")


# -- registry ---------------------------------------------------------------------------------------------------


def check_registry(ecr: Any, repositories: Sequence[str]) -> list[CheckResult]:
    from botocore.exceptions import BotoCoreError, ClientError

    results = []
    try:
        data = ecr.get_authorization_token().get("authorizationData") or []
        if data and data[0].get("authorizationToken"):
            results.append(passed("registry credentials", f"ECR token for {data[0].get('proxyEndpoint', 'ECR')}"))
        else:
            results.append(failed("registry credentials", "ECR returned no authorization token"))
    except (ClientError, BotoCoreError) as error:
        results.append(failed("registry credentials", f"cannot get an ECR authorization token: {error}"))
    found: set[str] = set()
    try:
        paginator = ecr.get_paginator("describe_repositories")
        for page in paginator.paginate():
            found.update(str(repo["repositoryName"]) for repo in page.get("repositories") or [])
    except (ClientError, BotoCoreError) as error:
        results.append(failed("registry repositories", f"cannot list ECR repositories: {error}"))
        return results
    missing = [name for name in repositories if name not in found]
    if missing:
        results.append(failed("registry repositories", f"missing: {', '.join(missing)}"))
    else:
        results.append(passed("registry repositories", f"reachable: {', '.join(repositories)}"))
    return results


def check_artifact_registry(registry: ArtifactRegistry, repositories: Sequence[str]) -> list[CheckResult]:
    from ops.gcp_api import GoogleApiError

    results = []
    try:
        token = registry.access_token()
        results.append(passed("registry credentials", "a Google access token was issued") if token
                       else failed("registry credentials", "no Google access token was issued"))
    except Exception as error:  # google-auth raises several types; any of them means no credentials
        results.append(failed("registry credentials", f"cannot obtain a Google access token: "
                                                      f"{type(error).__name__}: {error}"))
    missing: list[str] = []
    other: list[str] = []
    for repository in repositories:
        path = f"projects/{registry.project}/locations/{registry.location}/repositories/{repository}"
        try:
            found = registry.api.call("GET", path)
        except GoogleApiError as error:
            if error.status == 404:
                missing.append(repository)
            else:
                other.append(f"{repository}: {error}")
            continue
        if found.get("format") not in (None, "DOCKER"):
            other.append(f"{repository} is a {found.get('format')} repository, not DOCKER")
    if missing or other:
        reasons = ([f"missing: {', '.join(missing)}"] if missing else []) + other
        results.append(failed("registry repositories", "; ".join(reasons)))
    else:
        results.append(passed("registry repositories", f"reachable: {', '.join(repositories)} in "
                                                       f"{registry.location}-docker.pkg.dev/{registry.project}"))
    return results


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


def build_preflight_clients(
    aws_region: str,
    kube: Any,
    database: Any,
    *,
    aws_profile: str | None = None,
    progress: Callable[[str], None] = print,
    cloud: str = "aws",
    gcp_project: str | None = None,
) -> PreflightClients:
    """Real clients for the rollout hook: the hooks' KubeClient, a TLS connector to `database` (an
    ops.mysql_checks.DatabaseEndpoint), and the cloud's: boto3 from the standard chain on AWS (`aws_region` is the
    cell's region), Application Default Credentials on GCP (`aws_region` is then the GCP region)."""
    from ops.cluster_nodes import KubeNodes
    from ops.mysql_checks import tls_connector

    if cloud == "gcp":
        from ops import gcp_api

        if not gcp_project:
            raise ValueError("a GCP cell's preflight needs its project")
        registry = ArtifactRegistry(gcp_api.GoogleApi(gcp_api.authorized_session(), gcp_api.ARTIFACT_REGISTRY_URL),
                                    gcp_project, aws_region, gcp_api.access_token)
        return PreflightClients(connect_database=tls_connector(database), s3=None, ecr=None, nodes=KubeNodes(kube),
                                progress=progress, gcs=gcp_api.storage_client(gcp_project),
                                artifact_registry=registry)
    from ops.cell_target import aws_session

    session = aws_session(aws_profile, aws_region)
    return PreflightClients(connect_database=tls_connector(database), s3=session.client("s3"),
                            ecr=session.client("ecr"), nodes=KubeNodes(kube), progress=progress)
