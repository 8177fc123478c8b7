"""The Gitpod layer as the real program registers it under the mock engine: releases, issuer, certificate,
namespace, secrets, and the installer Job with its rollout hooks."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from components.gitpod import hooks
from components.gitpod.installer import APPLY_SCRIPT, job_name, sanitise_version
from contract.gitpod_builds import TOOLBOX_IMAGE
from contract.rollout import HookContext
from ops.common.stackfile import load_stack
from ops.plan.runner import PlanDocument, run_program

Registered = Callable[[str], PlanDocument]
STACKS = ("dev", "staging", "prod")
BEFORE = ["preflight", "enter-maintenance", "record-restore-point"]
AFTER = ["health-gate", "backup-config", "exit-maintenance"]


def by_k8s_name(plan: PlanDocument, resource_type: str, name: str) -> dict[str, Any]:
    found = [r for r in plan.by_type(resource_type) if r["inputs"]["metadata"]["name"] == name]
    assert len(found) == 1, f"{resource_type} {name}: {len(found)}"
    return found[0]


def apply_env(plan: PlanDocument) -> dict[str, str]:
    (apply,) = installer_job(plan)["inputs"]["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e["value"] for e in apply["env"]}


def installer_job(plan: PlanDocument) -> dict[str, Any]:
    jobs = [job for job in plan.by_type("kubernetes:batch/v1:Job")
            if job["inputs"]["metadata"]["labels"]["app.kubernetes.io/name"] == "gitpod-installer"]
    assert len(jobs) == 1
    return jobs[0]


def test_everything_runs_on_the_cells_kubernetes_provider(registered: Registered) -> None:
    plan = registered("prod")
    provider = plan.one("pulumi:providers:kubernetes")
    component = plan.one("gitpod-cell:gitpod:GitpodInstallation")
    children = [r for r in plan.resources if r["parent"] == component["urn"] and r["type"].startswith("kubernetes:")]
    assert len(children) >= 12
    assert all(r["provider"].rsplit("::", 1)[0] == provider["urn"] for r in children)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_pinned_helm_releases_bound_to_their_identities(registered: Registered, stack: str) -> None:
    plan = registered(stack)
    releases = {r["inputs"]["chart"]: r["inputs"] for r in plan.by_type("kubernetes:helm.sh/v3:Release")}
    assert set(releases) == {"cert-manager", "external-dns", "cluster-autoscaler"}
    for release in releases.values():
        assert release["version"]
        assert release["repositoryOpts"]["repo"].startswith("https://")
        assert release["atomic"] is True
    cert_manager = releases["cert-manager"]
    assert cert_manager["namespace"] == "cert-manager"
    assert cert_manager["values"]["crds"]["enabled"] is True
    assert cert_manager["values"]["serviceAccount"]["name"] == "cert-manager"
    arn = cert_manager["values"]["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"]
    assert arn.startswith(f"arn:aws:iam::123456789012:role/gitpod-{stack}-cert-manager")
    external_dns = releases["external-dns"]["values"]
    assert external_dns["provider"] == {"name": "aws"}
    assert external_dns["domainFilters"] == [plan.document["outputs"]["gitpodUrl"].removeprefix("https://")]
    assert external_dns["extraArgs"] == [f"--zone-id-filter={plan.document['outputs']['dnsZoneId']}"]
    assert external_dns["txtOwnerId"] == stack
    assert "eks.amazonaws.com/role-arn" in external_dns["serviceAccount"]["annotations"]
    autoscaler_values = releases["cluster-autoscaler"]
    assert autoscaler_values["namespace"] == "kube-system"
    assert autoscaler_values["values"]["autoDiscovery"]["clusterName"] == f"gitpod-{stack}"
    assert autoscaler_values["values"]["image"]["tag"].startswith("v1.34.")
    assert "eks.amazonaws.com/role-arn" in autoscaler_values["values"]["rbac"]["serviceAccount"]["annotations"]


@pytest.mark.parametrize(("stack", "issuer", "server"), [
    ("dev", "letsencrypt-staging", "https://acme-staging-v02.api.letsencrypt.org/directory"),
    ("prod", "letsencrypt", "https://acme-v02.api.letsencrypt.org/directory"),
])
def test_dns01_issuer_and_wildcard_certificate(registered: Registered, stack: str, issuer: str, server: str) -> None:
    plan = registered(stack)
    cluster_issuer = plan.one("kubernetes:cert-manager.io/v1:ClusterIssuer")["inputs"]
    assert cluster_issuer["metadata"]["name"] == issuer
    acme = cluster_issuer["spec"]["acme"]
    assert acme["server"] == server
    assert acme["email"] == "platform-team@example.com"
    route53 = acme["solvers"][0]["dns01"]["route53"]
    assert route53 == {"region": "eu-west-1", "hostedZoneID": plan.document["outputs"]["dnsZoneId"]}
    certificate = plan.one("kubernetes:cert-manager.io/v1:Certificate")
    domain = plan.document["outputs"]["gitpodUrl"].removeprefix("https://")
    assert certificate["inputs"]["metadata"] == {"name": "https-certificates", "namespace": "gitpod"}
    assert certificate["inputs"]["spec"]["secretName"] == "https-certificates"
    assert certificate["inputs"]["spec"]["issuerRef"]["name"] == issuer
    assert certificate["inputs"]["spec"]["dnsNames"] == [domain, f"*.{domain}", f"*.ws.{domain}"]


def test_namespace_and_secrets_keep_every_value_secret(registered: Registered) -> None:
    plan = registered("prod")
    namespace = plan.one("kubernetes:core/v1:Namespace")["inputs"]["metadata"]
    assert namespace["name"] == "gitpod"
    assert namespace["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    assert namespace["labels"]["pod-security.kubernetes.io/warn"] == "baseline"
    database = by_k8s_name(plan, "kubernetes:core/v1:Secret", "gitpod-database")
    registry = by_k8s_name(plan, "kubernetes:core/v1:Secret", "gitpod-registry")
    # The plan shows which keys each Secret holds, never a value.
    assert database["inputs"]["stringData"] == dict.fromkeys(
        ("host", "port", "username", "password", "encryptionKeys"), "[secret]")
    assert registry["inputs"]["stringData"] == {".dockerconfigjson": "[secret]"}
    assert registry["inputs"]["type"] == "kubernetes.io/dockerconfigjson"
    key = plan.one("random:index/randomBytes:RandomBytes")
    assert key["inputs"]["length"] == 32
    assert key["options"]["protect"] is True
    assert key["urn"] in database["dependencies"]


@pytest.mark.parametrize("stack", STACKS)
def test_installer_job_renders_with_the_pinned_installer_and_applies_with_the_toolbox(registered: Registered,
                                                                                     stack: str) -> None:
    plan = registered(stack)
    job = installer_job(plan)
    version = "release-2022.11.3"
    assert job["name"] == f"gitpod-installer-{sanitise_version(version)}"
    metadata = job["inputs"]["metadata"]
    assert metadata["name"] == job_name(version, metadata["annotations"]["gitpod-cell/rollout-hash"])
    assert metadata["annotations"]["gitpod-cell/config-hash"] == plan.document["outputs"]["gitpodConfigHash"]
    assert metadata["name"].startswith("gitpod-installer-release-2022-11-3-")
    assert len(metadata["name"]) <= 63
    assert metadata["labels"]["app.kubernetes.io/name"] == "gitpod-installer"
    assert job["options"]["hooks"] == {"beforeCreate": BEFORE, "beforeUpdate": BEFORE,
                                       "afterCreate": AFTER, "afterUpdate": AFTER}
    assert job["options"]["customTimeouts"] == {"create": "30m", "update": "30m"}
    spec = job["inputs"]["spec"]
    assert "ttlSecondsAfterFinished" not in spec
    assert spec["backoffLimit"] == 2
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["serviceAccountName"] == "gitpod-installer"
    assert pod["securityContext"]["runAsNonRoot"] is True
    (render,) = pod["initContainers"]
    (apply,) = pod["containers"]
    # The installer renders without a shell (later installer images are distroless) ...
    assert render["image"] == f"eu.gcr.io/gitpod-core-dev/build/installer:{version}"
    assert render["command"] == ["/app/installer", "render", "--config", "/config/config.yaml", "--namespace",
                                 "gitpod", "--output-split-files", "/rendered"]
    # ... and the toolbox applies: bash, kubectl, jq, yq and curl (the 2022.11.3 installer image has them).
    assert apply["image"] == TOOLBOX_IMAGE
    assert apply["command"] == ["/bin/bash", "/scripts/apply-gitpod.sh"]
    for container in (render, apply):
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["resources"]["limits"]["memory"]
    env = {e["name"]: e["value"] for e in apply["env"]}
    assert env["DATABASE_CA_URL"].startswith("https://truststore.pki.rds.amazonaws.com/")
    assert env["MAINTENANCE_MECHANISM"] == "scale-ws-manager"
    assert env["WORKSPACE_MANAGER"] == "ws-manager"
    assert (env["LEASE_NAMESPACE"], env["LEASE_CONFIG_MAP"]) == ("default", "ws-manager-mk2-maintenance-mode")
    assert env["STORAGE_USERS"] == "content-service ws-daemon ws-manager"
    assert len(env["STORAGE_KEY_VERSION"]) == 16
    identities = json.loads(env["IDENTITY_ANNOTATIONS"])
    assert set(identities) == {"image-builder-mk3", "registry-facade"}
    assert identities["registry-facade"]["eks.amazonaws.com/role-arn"].startswith(
        f"arn:aws:iam::123456789012:role/gitpod-{stack}-gitpod-registry-facade-registry")
    script = by_k8s_name(plan, "kubernetes:core/v1:ConfigMap", "gitpod-installer-apply")["inputs"]["data"]
    assert script["apply-gitpod.sh"] == APPLY_SCRIPT
    # The Job waits for what its config references, its scripts, the storage key and the maintenance keeper.
    depends = set(job["options"]["dependsOn"])
    for resource_type, name in (("kubernetes:core/v1:ConfigMap", "gitpod-installer-config"),
                                ("kubernetes:core/v1:ConfigMap", "gitpod-installer-apply"),
                                ("kubernetes:core/v1:ConfigMap", "gitpod-installation"),
                                ("kubernetes:core/v1:Secret", "gitpod-database"),
                                ("kubernetes:core/v1:Secret", "gitpod-object-storage"),
                                ("kubernetes:batch/v1:CronJob", "gitpod-maintenance-keeper")):
        assert by_k8s_name(plan, resource_type, name)["urn"] in depends
    assert plan.one("kubernetes:cert-manager.io/v1:Certificate")["urn"] in depends


def test_the_storage_key_reaches_only_its_secret(registered: Registered) -> None:
    plan = registered("prod")
    secret = by_k8s_name(plan, "kubernetes:core/v1:Secret", "gitpod-object-storage")
    assert secret["inputs"]["stringData"] == {"accessKeyId": "[secret]", "secretAccessKey": "[secret]"}
    key = plan.one("aws:iam/accessKey:AccessKey")
    assert key["urn"] in secret["dependencies"]
    text = json.dumps(plan.document["outputs"])
    assert "OFFLINEPLAN" not in text
    assert "offline-plan-secret" not in text
    # The Job's stamp names the key without revealing it.
    assert "OFFLINEPLAN" not in apply_env(plan)["STORAGE_KEY_VERSION"]


def test_the_maintenance_keeper_may_read_the_lease_and_scale_ws_manager_only(registered: Registered) -> None:
    plan = registered("prod")
    cron = by_k8s_name(plan, "kubernetes:batch/v1:CronJob", "gitpod-maintenance-keeper")["inputs"]
    assert cron["spec"]["schedule"] == "* * * * *"
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (keeper,) = pod["containers"]
    assert keeper["image"] == TOOLBOX_IMAGE
    assert {e["name"]: e["value"] for e in keeper["env"]}["WORKSPACE_MANAGER"] == "ws-manager"
    roles = {(r["inputs"]["metadata"]["namespace"], r["inputs"]["metadata"]["name"]): r["inputs"]["rules"]
             for r in plan.by_type("kubernetes:rbac.authorization.k8s.io/v1:Role")
             if r["inputs"]["metadata"]["name"] == "gitpod-maintenance-keeper"}
    assert roles[("default", "gitpod-maintenance-keeper")] == [
        {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["ws-manager-mk2-maintenance-mode"],
         "verbs": ["get"]}]
    rules = roles[("gitpod", "gitpod-maintenance-keeper")]
    assert {name for rule in rules for name in rule["resourceNames"]} == {"ws-manager"}


def test_mk2_builds_need_no_keeper(stack_variant: Callable[..., Any]) -> None:
    gitpod = {**load_stack("dev").config["gitpod-cell:gitpod"], "version": "main-gha.13463",
              "installerImage": "eu.gcr.io/gitpod-core-dev/build/installer:main-gha.13463"}
    gitpod.pop("staticStorageKey")
    resources, outputs = run_program(stack_variant("dev", {"gitpod-cell:gitpod": gitpod}))
    plan = PlanDocument({"resources": resources, "outputs": outputs})
    cron_jobs = {c["inputs"]["metadata"]["name"] for c in plan.by_type("kubernetes:batch/v1:CronJob")}
    assert "gitpod-maintenance-keeper" not in cron_jobs
    env = apply_env(plan)
    assert env["MAINTENANCE_MECHANISM"] == "mk2-lease"
    assert env["STORAGE_KEY_VERSION"] == ""
    identities = json.loads(env["IDENTITY_ANNOTATIONS"])
    assert set(identities) == {"content-service", "ws-daemon", "ws-manager-mk2", "image-builder-mk3",
                               "registry-facade"}
    assert "written onto the rendered ServiceAccount by the installer Job" in outputs["gitpodIdentities"]["ws-daemon"]
    assert outputs["gitpodIdentities"]["server"].startswith("no cloud identity needed: on main-gha.13463")


def test_the_plan_says_how_each_of_the_four_workloads_gets_its_identity(registered: Registered) -> None:
    """server, ws-daemon, registry-facade and image-builder-mk3: the accounts Gitpod's installer has (dropped)
    customizations for. None of them rides on a ServiceAccount customization."""
    outputs = registered("prod").document["outputs"]["gitpodIdentities"]
    for account in ("image-builder-mk3", "registry-facade"):
        assert outputs[account].startswith("IRSA"), account
        assert outputs[account].endswith("(written onto the rendered ServiceAccount by the installer Job)"), account
    assert "static key in Secret 'gitpod-object-storage'" in outputs["ws-daemon"]
    assert outputs["server"].startswith("no cloud identity needed: on release-2022.11.3")
    config = by_k8s_name(registered("prod"), "kubernetes:core/v1:ConfigMap", "gitpod-installer-config")
    assert "ServiceAccount" not in json.dumps(config["inputs"]["data"])


def test_installation_record_and_exports(registered: Registered) -> None:
    plan = registered("prod")
    record = by_k8s_name(plan, "kubernetes:core/v1:ConfigMap", "gitpod-installation")["inputs"]
    outputs = plan.document["outputs"]
    assert record["metadata"]["namespace"] == "gitpod"
    assert record["data"] == {
        "cell": "prod",
        "version": "release-2022.11.3",
        "configHash": outputs["gitpodConfigHash"],
        "timeoutDefault": "30m",
        "timeoutExtended": "180m",
        "timeoutAfterClose": "5m",
        "maxLifetime": "36h",
        "maintenanceLeaseMinutes": "60",
        "garbageCollection": "on: stopped workspaces are deleted 14 days after their last start; "
                             "pinned workspaces are never deleted",
    }
    assert outputs["gitpodUrl"] == "https://gitpod.example.com"
    assert outputs["gitpodVersion"] == "release-2022.11.3"
    assert len(outputs["gitpodConfigHash"]) == 64
    # Where ws-manager-mk2 reads the lease (maintenance_controller.go: namespace "default"), not Gitpod's namespace.
    assert outputs["maintenanceConfigMap"] == "default/ws-manager-mk2-maintenance-mode"
    assert outputs["installationRecord"] == "gitpod/gitpod-installation"


def test_gc_off_is_said_in_the_plan(stack_variant: Callable[..., Any]) -> None:
    resources, _ = run_program(stack_variant("dev", {
        "gitpod-cell:gitpod.workspace.garbageCollection": {"enabled": False}}))
    plan = PlanDocument({"resources": resources})
    record = by_k8s_name(plan, "kubernetes:core/v1:ConfigMap", "gitpod-installation")
    assert record["inputs"]["data"]["garbageCollection"].startswith("OFF: stopped workspaces are never deleted")
    config = by_k8s_name(plan, "kubernetes:core/v1:ConfigMap", "gitpod-installer-config")
    assert "disableWorkspaceGarbageCollection: true" in config["inputs"]["data"]["config.yaml"]
    (render,) = installer_job(plan)["inputs"]["spec"]["template"]["spec"]["initContainers"]
    assert render["command"][-1] == "--use-experimental-config"


def test_config_change_renames_the_job(registered: Registered, stack_variant: Callable[..., Any]) -> None:
    before = installer_job(registered("dev"))
    resources, _ = run_program(stack_variant("dev", {"gitpod-cell:gitpod.workspace.timeoutDefault": "20m"}))
    after = installer_job(PlanDocument({"resources": resources}))
    assert before["name"] == after["name"]  # same Pulumi resource: a replacement, so its create hooks run
    assert before["inputs"]["metadata"]["name"] != after["inputs"]["metadata"]["name"]


def test_job_names_are_dns_labels_for_any_version() -> None:
    name = job_name("Release_2024.11.0+build.5-" + "x" * 80, "f" * 64)
    assert len(name) <= 63
    assert name == name.lower()
    assert not name.startswith("-")
    assert name.endswith("-ffffffffff")


def test_hook_callbacks_delegate_to_ops_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    from ops.rollout import hooks as rollout_hooks

    calls: list[tuple[str, Any, Any, Any]] = []

    def fake_hook_callback(step: str, context: Any, *, ledgers: dict[str, Any]) -> Any:
        async def run(args: Any) -> None:
            calls.append((step, context, ledgers, args))

        return run

    monkeypatch.setattr(rollout_hooks, "hook_callback", fake_hook_callback)
    ledgers: dict[str, Any] = {}
    context = HookContext(stack="dev", region="eu-west-1", db_instance_id="db", bucket="b")
    callback = hooks._step_callback("health-gate", context, ledgers)
    # Not asyncio.run: it would unset the thread's event loop that the mock-engine tests after this one use.
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(callback("args"))
    finally:
        loop.close()
    (step, built, shared, args), = calls
    assert step == "health-gate"
    assert built is context
    assert shared is ledgers
    assert args == "args"


def test_gcp_cell_plugs_in_unchanged(registered: Registered) -> None:
    plan = registered("dev-gcp")
    charts = {r["inputs"]["chart"]: r["inputs"]["values"] for r in plan.by_type("kubernetes:helm.sh/v3:Release")}
    assert set(charts) == {"cert-manager", "external-dns"}  # GKE scales its node pools itself
    assert charts["external-dns"]["provider"] == {"name": "google"}
    assert "--google-project=acme-gitpod-dev" in charts["external-dns"]["extraArgs"]
    solver = plan.one("kubernetes:cert-manager.io/v1:ClusterIssuer")["inputs"]["spec"]["acme"]["solvers"][0]
    assert solver["dns01"]["cloudDNS"]["project"] == "acme-gitpod-dev"
    # Cloud SQL's CA bundle comes with the Platform: Pulumi writes it (as a secret), the Job fetches nothing.
    ca = by_k8s_name(plan, "kubernetes:core/v1:Secret", "gitpod-database-ca")
    assert ca["inputs"]["stringData"] == {"ca.crt": "[secret]"}
    (container,) = installer_job(plan)["inputs"]["spec"]["template"]["spec"]["containers"]
    assert {e["name"]: e["value"] for e in container["env"]}["DATABASE_CA_URL"] == ""
    assert ca["urn"] in installer_job(plan)["options"]["dependsOn"]
    config_map = by_k8s_name(plan, "kubernetes:core/v1:ConfigMap", "gitpod-installer-config")
    document = yaml.safe_load(config_map["inputs"]["data"]["config.yaml"])
    assert document["objectStorage"]["s3"]["endpoint"] == "storage.googleapis.com"
    assert document["containerRegistry"]["external"]["url"].startswith("europe-west1-docker.pkg.dev/acme-gitpod-dev/")


def test_installation_record_names_its_cell(registered) -> None:
    for stack in ("prod", "dev-gcp"):
        record = next(r for r in registered(stack).by_type("kubernetes:core/v1:ConfigMap")
                      if r["inputs"]["metadata"]["name"] == "gitpod-installation")
        assert record["inputs"]["data"]["cell"] == stack
