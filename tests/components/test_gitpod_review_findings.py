"""Regressions for the Gitpod layer's review findings, through the mock engine: DNS for the proxy, waiting for the
cluster's nodes, the installer's token, where the maintenance lease lives, and what the plan says about GCS object
storage, old Gitpod builds and the cluster-autoscaler chart."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pulumi
import pytest
import yaml

import components.cells
from components.config import CellConfig
from components.gitpod.charts import CLUSTER_AUTOSCALER, CLUSTER_AUTOSCALER_MIN_CHART
from components.gitpod.cluster_autoscaler import AUTOSCALER_IMAGE_TAGS
from components.gitpod.installer_config import (
    DOCUMENTED_KEYS,
    EXTERNAL_DNS_HOSTNAME_ANNOTATION,
    CustomizationMetadata,
    key_paths,
    version_warnings,
    version_year,
)
from components.platform import Platform
from ops.plan.command import build_plan
from ops.plan.runner import PlanDocument, run_program
from ops.stackfile import load_stack

Registered = Callable[[str], PlanDocument]
ALL_STACKS = ("dev", "staging", "prod", "dev-gcp", "prod-gcp")
RELEASE = "kubernetes:helm.sh/v3:Release"
JOB = "kubernetes:batch/v1:Job"
READY_MARKER = "gitpod-cell:test:NodesReady"


def installer_config(plan: PlanDocument) -> dict[str, Any]:
    (config_map,) = [r for r in plan.by_type("kubernetes:core/v1:ConfigMap")
                     if r["inputs"]["metadata"]["name"] == "gitpod-installer-config"]
    return yaml.safe_load(config_map["inputs"]["data"]["config.yaml"])


def jobs_named(plan: PlanDocument, app: str) -> list[dict[str, Any]]:
    return [job for job in plan.by_type(JOB) if job["inputs"]["metadata"]["labels"]["app.kubernetes.io/name"] == app]


# 1. external-dns publishes the Gitpod domain from the proxy Service -------------------------------------------------

@pytest.mark.parametrize("stack", ALL_STACKS)
def test_proxy_service_carries_the_external_dns_hostnames(registered: Registered, stack: str) -> None:
    plan = registered(stack)
    document = installer_config(plan)
    domain = document["domain"]
    (proxy,) = [c for c in document["customization"] if c["kind"] == "Service"]
    assert proxy["apiVersion"] == "v1"
    assert proxy["metadata"]["name"] == "proxy"
    hostnames = proxy["metadata"]["annotations"][EXTERNAL_DNS_HOSTNAME_ANNOTATION]
    assert hostnames == f"{domain},*.{domain},*.ws.{domain}"
    # The records are exactly the names the certificate covers, inside the zone external-dns may write to, from a
    # source it watches.
    certificate = plan.one("kubernetes:cert-manager.io/v1:Certificate")["inputs"]["spec"]
    assert hostnames.split(",") == certificate["dnsNames"]
    external_dns = next(r["inputs"]["values"] for r in plan.by_type(RELEASE) if r["inputs"]["chart"] == "external-dns")
    assert "service" in external_dns["sources"]
    assert all(name.removeprefix("*.").endswith(external_dns["domainFilters"][0]) for name in hostnames.split(","))
    assert key_paths(document) <= DOCUMENTED_KEYS


def test_customization_metadata_takes_only_declared_keys() -> None:
    with pytest.raises(TypeError):
        CustomizationMetadata(name="proxy", annotations={}, namespace="gitpod")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        CustomizationMetadata(name="proxy", annotation={})  # type: ignore[call-arg]


# 2. Helm releases and Jobs wait for the cluster's nodes and add-ons --------------------------------------------------

@pytest.fixture
def with_ready_marker(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cloud's Platform with one more resource in `cluster.ready`, so the wiring is visible whatever the cloud
    cell puts there itself."""
    build = components.cells.build_platform

    def build_platform(config: CellConfig) -> Platform:
        platform = build(config)
        marker = pulumi.CustomResource(READY_MARKER, "nodes-ready", {})
        cluster = dataclasses.replace(platform.cluster, ready=(*platform.cluster.ready, marker))
        return dataclasses.replace(platform, cluster=cluster)

    monkeypatch.setattr(components.cells, "build_platform", build_platform)


@pytest.mark.parametrize(("stack", "charts"), [
    ("prod", {"cert-manager", "external-dns", "cluster-autoscaler"}),
    ("prod-gcp", {"cert-manager", "external-dns"}),
])
def test_releases_and_jobs_wait_for_the_clusters_nodes(with_ready_marker: None, stack: str, charts: set[str]) -> None:
    resources, _ = run_program(load_stack(stack))
    plan = PlanDocument({"resources": resources})
    marker = plan.one(READY_MARKER)["urn"]
    releases = plan.by_type(RELEASE)
    assert {r["inputs"]["chart"] for r in releases} == charts
    (refresher,) = [job for job in plan.by_type(JOB)
                    if job["inputs"]["metadata"]["labels"]["app.kubernetes.io/name"] == "registry-credentials"]
    (installer,) = jobs_named(plan, "gitpod-installer")
    for resource in (*releases, refresher, installer):
        assert marker in resource["options"]["dependsOn"], resource["name"]
        assert marker in resource["dependencies"], resource["name"]


@pytest.mark.parametrize(("stack", "node_type"), [
    ("prod", "aws:eks/nodeGroup:NodeGroup"),
    ("prod-gcp", "gcp:container/nodePool:NodePool"),
])
def test_the_clouds_node_pools_are_waited_for(registered: Registered, stack: str, node_type: str) -> None:
    """With the cloud cell's own `cluster.ready`: every release and pod-running Job waits for every node pool."""
    plan = registered(stack)
    pools = {r["urn"] for r in plan.by_type(node_type)}
    assert len(pools) == 3
    waiting = [*plan.by_type(RELEASE), *jobs_named(plan, "gitpod-installer"), *jobs_named(plan, "registry-credentials")]
    for resource in waiting:
        assert pools <= set(resource["options"]["dependsOn"]), resource["name"]


# 3. The installer's cluster-admin token is mounted by the installer pod only -----------------------------------------

@pytest.mark.parametrize("stack", ["prod", "dev-gcp"])
def test_installer_token_is_mounted_only_by_the_installer_pod(registered: Registered, stack: str) -> None:
    plan = registered(stack)
    (account,) = [r for r in plan.by_type("kubernetes:core/v1:ServiceAccount")
                  if r["inputs"]["metadata"]["name"] == "gitpod-installer"]
    assert account["inputs"]["automountServiceAccountToken"] is False
    (binding,) = [r for r in plan.by_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding")
                  if r["inputs"]["subjects"][0]["name"] == "gitpod-installer"]
    assert binding["inputs"]["roleRef"]["name"] == "cluster-admin"
    (installer,) = jobs_named(plan, "gitpod-installer")
    pod = installer["inputs"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "gitpod-installer"
    assert pod["automountServiceAccountToken"] is True
    others = [job for job in plan.by_type(JOB) if job is not installer]
    assert all(job["inputs"]["spec"]["template"]["spec"]["serviceAccountName"] != "gitpod-installer"
               for job in others)


# 4. The maintenance lease lives where ws-manager-mk2 reads it ---------------------------------------------------------

@pytest.mark.parametrize("stack", ALL_STACKS)
def test_maintenance_config_map_is_exported_at_its_fixed_location(registered: Registered, stack: str) -> None:
    outputs = registered(stack).document["outputs"]
    assert outputs["maintenanceConfigMap"] == "default/ws-manager-mk2-maintenance-mode"


def test_rollout_hooks_lease_the_config_map_where_ws_manager_mk2_reads_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import components.gitpod.installation as installation
    from contract.rollout import HookContext

    contexts: list[HookContext] = []
    real = installation.rollout_hooks

    def recording(context: HookContext) -> Any:
        contexts.append(context)
        return real(context)

    monkeypatch.setattr(installation, "rollout_hooks", recording)
    run_program(load_stack("dev"))
    (context,) = contexts
    assert context.maintenance_namespace == "default"
    assert context.namespace == "gitpod"  # the installation record stays in Gitpod's namespace


# 5. GCS object storage: rendered as config v1 requires, and the plan says what that means -----------------------------

def test_gcs_object_storage_consequence_is_a_plan_warning() -> None:
    plan = build_plan(load_stack("prod-gcp"))
    assert installer_config(PlanDocument(plan))["objectStorage"]["cloudStorage"] == {
        "project": "acme-gitpod-prod", "serviceAccount": {"kind": "secret", "name": "gitpod-object-storage"}}
    (warning,) = [w for w in plan["warnings"] if "object storage on GCP" in w]
    for consequence in ("'gitpod-object-storage'", "service-account.json", "per-user buckets",
                        "does not use the cell's bucket"):
        assert consequence in warning
    assert "create 'gitpod-object-storage' out of band" in warning
    assert "Workload Identity" in warning
    assert [v for v in plan["policies"]["violations"] if v["enforcement"] == "mandatory"] == []


def test_s3_object_storage_has_no_such_warning() -> None:
    assert not [w for w in build_plan(load_stack("prod"))["warnings"] if "object storage" in w]


# 6. A pre-2023 Gitpod build is said in the plan, not refused --------------------------------------------------------

@pytest.mark.parametrize(("label", "year"), [
    ("release-2022.06.0.10", 2022), ("2024.11.0", 2024), ("release-2023.01.1", 2023), ("2022.6", 2022),
    ("main-gha.12345", None), ("2022.13.0", None), ("v1.2.3", None),
])
def test_version_year(label: str, year: int | None) -> None:
    assert version_year(label) == year


def shipped_config(stack: str, **gitpod: str) -> CellConfig:
    raw = dict(load_stack(stack).config)
    raw["gitpod-cell:gitpod"] = {**raw["gitpod-cell:gitpod"], **gitpod}
    return CellConfig.from_stack_config(stack, raw)


def test_old_builds_warn_and_new_ones_do_not() -> None:
    (warning,) = version_warnings(shipped_config("prod"))
    for fact in ("'release-2022.06.0.10'", "2023+", "default/ws-manager-mk2-maintenance-mode", "timeoutDefault"):
        assert fact in warning
    assert version_warnings(shipped_config("prod", version="2024.11.0",
                                           installerImage="eu.gcr.io/gitpod-core-dev/build/installer:2024.11.0")) == []
    # An undated label falls back to the installer image's tag.
    assert version_warnings(shipped_config("prod", version="main-gha.1")) != []


@pytest.mark.parametrize("stack", ALL_STACKS)
def test_shipped_stacks_plan_with_the_old_build_warning_and_no_mandatory_violation(stack: str) -> None:
    plan = build_plan(load_stack(stack))
    assert any("is a 2022 build" in warning for warning in plan["warnings"])
    assert [v for v in plan["policies"]["violations"] if v["enforcement"] == "mandatory"] == []


# 7. The cluster-autoscaler chart's RBAC matches the images it runs ----------------------------------------------------

def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.lstrip("v").split("."))


def test_autoscaler_chart_is_new_enough_for_its_images(registered: Registered) -> None:
    assert _version(CLUSTER_AUTOSCALER.version) >= _version(CLUSTER_AUTOSCALER_MIN_CHART)
    newest_image = max(_version(tag)[:2] for tag in AUTOSCALER_IMAGE_TAGS.values())
    assert newest_image >= (1, 32)  # images that need the newer chart's RBAC (volumeattachments)
    (release,) = [r for r in registered("prod").by_type(RELEASE) if r["inputs"]["chart"] == "cluster-autoscaler"]
    assert release["inputs"]["version"] == CLUSTER_AUTOSCALER.version
