"""How the Gitpod layer is wired to the cell, through the mock engine: DNS for the proxy, waiting for the cluster's
nodes, the installer's token, where the maintenance lease lives, and the cluster-autoscaler chart."""

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
from components.gitpod.installer_config import EXTERNAL_DNS_HOSTNAME_ANNOTATION, CustomizationMetadata
from components.platform import Platform
from ops.common.stackfile import load_stack
from ops.plan.runner import PlanDocument, run_program

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


# 5. The cluster-autoscaler chart's RBAC matches the images it runs ----------------------------------------------------

def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.lstrip("v").split("."))


def test_autoscaler_chart_is_new_enough_for_its_images(registered: Registered) -> None:
    assert _version(CLUSTER_AUTOSCALER.version) >= _version(CLUSTER_AUTOSCALER_MIN_CHART)
    newest_image = max(_version(tag)[:2] for tag in AUTOSCALER_IMAGE_TAGS.values())
    assert newest_image >= (1, 32)  # images that need the newer chart's RBAC (volumeattachments)
    (release,) = [r for r in registered("prod").by_type(RELEASE) if r["inputs"]["chart"] == "cluster-autoscaler"]
    assert release["inputs"]["version"] == CLUSTER_AUTOSCALER.version
