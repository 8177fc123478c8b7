"""The installer Job's apply step (components/gitpod/scripts/apply-gitpod.sh) on a real API server: the identities
land on the ServiceAccounts Gitpod's installer rendered, the storage users get the key's stamp, ws-manager stays at
zero replicas while a lease runs on builds without ws-manager-mk2, CRDs come first, and a missing ServiceAccount
applies nothing. The settings are the ones the program itself gives the Job (the offline plan of a shipped stack)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ops.plan.runner import PlanDocument
from tests.cluster.gitpod_scripts import deployment, remove_lease, rendered_release, run_apply, write_lease
from tests.kube_server import KubeApiError, KubeApiServer


def job_settings(plan: PlanDocument) -> dict[str, str]:
    """The apply container's environment as the program renders it for a stack."""
    (job,) = [j for j in plan.by_type("kubernetes:batch/v1:Job")
              if j["inputs"]["metadata"]["labels"]["app.kubernetes.io/name"] == "gitpod-installer"]
    (apply,) = job["inputs"]["spec"]["template"]["spec"]["containers"]
    keep = ("IDENTITY_ANNOTATIONS", "STORAGE_USERS", "STORAGE_KEY_VERSION", "MAINTENANCE_MECHANISM",
            "WORKSPACE_MANAGER", "LEASE_NAMESPACE", "LEASE_CONFIG_MAP", "REPLICAS_ANNOTATION")
    return {e["name"]: e["value"] for e in apply["env"] if e["name"] in keep}


GROUP = f"g{uuid.uuid4().hex[:8]}.example.com"  # the stand-in CRD's group, once per test process


@pytest.fixture
def release(kube_api: KubeApiServer, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    remove_lease(kube_api)
    namespace = kube_api.create_namespace("gitpod")
    yield namespace, rendered_release(tmp_path / "rendered", namespace, GROUP)
    remove_lease(kube_api)


def test_identities_and_key_stamp_land_where_the_pods_need_them(kube_api: KubeApiServer, release: tuple[str, Path],
                                                                registered: Callable[[str], PlanDocument],
                                                                tmp_path: Path) -> None:
    namespace, rendered = release
    settings = job_settings(registered("prod"))
    result = run_apply(kube_api, rendered, namespace, tmp_path, settings)
    assert result.returncode == 0, result.stderr
    identities = json.loads(settings["IDENTITY_ANNOTATIONS"])
    assert set(identities) == {"image-builder-mk3", "registry-facade"}
    for account in ("image-builder-mk3", "registry-facade"):
        live = kube_api.request("GET", f"/api/v1/namespaces/{namespace}/serviceaccounts/{account}")
        assert live["metadata"]["annotations"] == identities[account]
    server = kube_api.request("GET", f"/api/v1/namespaces/{namespace}/serviceaccounts/server")
    assert not server["metadata"].get("annotations")
    stamp = "gitpod-cell/storage-key-version"
    for kind, name in (("deployments", "content-service"), ("daemonsets", "ws-daemon"),
                       ("deployments", "ws-manager")):
        live = kube_api.request("GET", f"/apis/apps/v1/namespaces/{namespace}/{kind}/{name}")
        assert live["spec"]["template"]["metadata"]["annotations"][stamp] == settings["STORAGE_KEY_VERSION"]
    assert stamp not in deployment(kube_api, namespace, "server")["spec"]["template"]["metadata"]["annotations"]
    # The CRD came first and was established: its object, rendered after it, was accepted in the same run.
    probe = kube_api.request("GET", f"/apis/{GROUP}/v1/namespaces/{namespace}/workspaces/probe")
    assert probe["spec"] == {"size": "small"}


def test_ws_manager_stays_paused_while_a_lease_runs_on_mk1_builds(kube_api: KubeApiServer,
                                                                 release: tuple[str, Path],
                                                                 registered: Callable[[str], PlanDocument],
                                                                 tmp_path: Path) -> None:
    namespace, rendered = release
    settings = job_settings(registered("dev"))
    assert settings["MAINTENANCE_MECHANISM"] == "scale-ws-manager"
    write_lease(kube_api, datetime.now(UTC) + timedelta(minutes=30))
    result = run_apply(kube_api, rendered, namespace, tmp_path / "during", settings)
    assert result.returncode == 0, result.stderr
    live = deployment(kube_api, namespace, "ws-manager")
    assert live["spec"]["replicas"] == 0
    assert live["metadata"]["annotations"]["gitpod-cell/replicas-after-maintenance"] == "1"
    assert deployment(kube_api, namespace, "server")["spec"]["replicas"] == 1

    write_lease(kube_api, datetime.now(UTC) - timedelta(minutes=1))  # the lease has passed
    result = run_apply(kube_api, rendered, namespace, tmp_path / "after", settings)
    assert result.returncode == 0, result.stderr
    assert deployment(kube_api, namespace, "ws-manager")["spec"]["replicas"] == 1


def test_mk2_builds_leave_the_replicas_to_ws_manager_mk2(kube_api: KubeApiServer, release: tuple[str, Path],
                                                        registered: Callable[[str], PlanDocument],
                                                        tmp_path: Path) -> None:
    namespace, rendered = release
    settings = {**job_settings(registered("dev")), "MAINTENANCE_MECHANISM": "mk2-lease"}
    write_lease(kube_api, datetime.now(UTC) + timedelta(minutes=30))
    assert run_apply(kube_api, rendered, namespace, tmp_path, settings).returncode == 0
    assert deployment(kube_api, namespace, "ws-manager")["spec"]["replicas"] == 1


def test_an_identity_for_a_service_account_that_was_not_rendered_applies_nothing(
        kube_api: KubeApiServer, release: tuple[str, Path], tmp_path: Path) -> None:
    namespace, rendered = release
    identities = {"content-service": {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/x"},
                  "ws-manager-mk2": {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/y"}}
    result = run_apply(kube_api, rendered, namespace, tmp_path, {"IDENTITY_ANNOTATIONS": json.dumps(identities),
                                                                  "REPLICAS_ANNOTATION": "x/y"})
    assert result.returncode != 0
    assert "rendered no ServiceAccount ws-manager-mk2" in result.stderr
    with pytest.raises(KubeApiError) as missing:
        kube_api.request("GET", f"/api/v1/namespaces/{namespace}/serviceaccounts/content-service")
    assert missing.value.status == 404
