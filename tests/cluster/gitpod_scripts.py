"""Running the installer Job's apply step and the maintenance keeper the way their pods do: bash, with kubectl, jq
and yq (v4, built by `make kube-tools`) on PATH, against the local API server, as cluster-admin.

The rendered Gitpod release is a small hand-written stand-in with the names, kinds and quirks of what the
release-2022.11.3 installer renders with `--output-split-files` (one NNN_<Kind>_<name>.yaml per object, some files
without a final newline): the ServiceAccounts of Gitpod's workloads, ws-manager and the storage users, and a CRD
with an object of it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import yaml

from components.gitpod.installer import APPLY_SCRIPT
from components.gitpod.maintenance_keeper import KEEPER_SCRIPT
from contract.cluster import MK2_MAINTENANCE_CONFIG_MAP, MK2_MAINTENANCE_NAMESPACE, REPLICAS_AFTER_MAINTENANCE
from ops.common.timestamps import format_rfc3339
from tests.kube_server import KubeApiError, KubeApiServer

TOOLS = Path(__file__).resolve().parents[2] / ".tools" / "bin"
ACCOUNTS = ("server", "ws-daemon", "content-service", "ws-manager", "registry-facade", "image-builder-mk3")
LEASE_PATH = f"/api/v1/namespaces/{MK2_MAINTENANCE_NAMESPACE}/configmaps"


def _workload(kind: str, name: str, namespace: str, replicas: int | None = 1) -> dict:
    labels = {"app": "gitpod", "component": name}
    spec: dict = {"selector": {"matchLabels": labels},
                  "template": {"metadata": {"labels": labels, "annotations": {"gitpod.io/checksum_config": "x"}},
                               "spec": {"serviceAccountName": name,
                                        "containers": [{"name": name, "image": f"registry.invalid/{name}:1"}]}}}
    if kind == "Deployment" and replicas is not None:
        spec["replicas"] = replicas
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name, "namespace": namespace,
                                                                 "labels": labels}, "spec": spec}


def rendered_release(directory: Path, namespace: str, crd_group: str) -> Path:
    """A stand-in for `installer render --output-split-files`, in `directory`."""
    objects: list[dict] = [
        {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
         "metadata": {"name": f"workspaces.{crd_group}"},
         "spec": {"group": crd_group, "scope": "Namespaced",
                  "names": {"plural": "workspaces", "singular": "workspace", "kind": "Workspace"},
                  "versions": [{"name": "v1", "served": True, "storage": True,
                                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                                    "spec": {"type": "object", "properties": {"size": {"type": "string"}}}}}}}]}},
        *({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": account, "namespace": namespace}}
          for account in ACCOUNTS),
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "server", "namespace": namespace},
         "data": {"config.json": "{}"}},
        _workload("DaemonSet", "ws-daemon", namespace),
        _workload("Deployment", "content-service", namespace),
        _workload("Deployment", "server", namespace),
        _workload("Deployment", "ws-manager", namespace),
        {"apiVersion": f"{crd_group}/v1", "kind": "Workspace", "metadata": {"name": "probe", "namespace": namespace},
         "spec": {"size": "small"}},
    ]
    directory.mkdir(parents=True, exist_ok=True)
    for index, document in enumerate(objects):
        text = f"---\n# {document['apiVersion']}/{document['kind']} {document['metadata']['name']}\n"
        text += yaml.safe_dump(document, sort_keys=False)
        if index % 2:
            text = text.rstrip("\n")  # the installer writes some files without a final newline
        path = directory / f"{index:03d}_{document['kind']}_{document['metadata']['name']}.yaml"
        path.write_text(text)
    return directory


def script_environment(kube_api: KubeApiServer, settings: Mapping[str, str]) -> dict[str, str]:
    missing = [tool for tool in ("kubectl", "yq") if not (TOOLS / tool).exists()]
    if missing or shutil.which("jq") is None:
        raise RuntimeError(f"{', '.join(missing or ['jq'])} missing: run `make kube-tools` (jq: apt-get install jq)")
    return {"PATH": f"{TOOLS}:{os.environ['PATH']}", "KUBECONFIG": str(kube_api.kubeconfig_path),
            "HOME": os.environ.get("HOME", "/tmp"), **settings}


def run_script(script: str, kube_api: KubeApiServer, work: Path, settings: Mapping[str, str],
               ) -> subprocess.CompletedProcess[str]:
    work.mkdir(parents=True, exist_ok=True)
    path = work / "script.sh"
    path.write_text(script)
    return subprocess.run(["bash", str(path)], env=script_environment(kube_api, settings), capture_output=True,
                          text=True, timeout=120, check=False)


def run_apply(kube_api: KubeApiServer, rendered: Path, namespace: str, work: Path,
              settings: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return run_script(APPLY_SCRIPT, kube_api, work, {"NAMESPACE": namespace, "RENDERED": str(rendered),
                                                    "WORK": str(work / "apply"), **settings})


def run_keeper(kube_api: KubeApiServer, namespace: str, work: Path) -> subprocess.CompletedProcess[str]:
    return run_script(KEEPER_SCRIPT, kube_api, work, {
        "NAMESPACE": namespace, "WORKSPACE_MANAGER": "ws-manager", "LEASE_NAMESPACE": MK2_MAINTENANCE_NAMESPACE,
        "LEASE_CONFIG_MAP": MK2_MAINTENANCE_CONFIG_MAP, "REPLICAS_ANNOTATION": REPLICAS_AFTER_MAINTENANCE})


def write_lease(kube_api: KubeApiServer, until: datetime) -> None:
    """The lease as ws-manager-mk2 reads it (and as ops writes it), at its fixed location."""
    data = {"config.json": f'{{"enabledUntil": "{format_rfc3339(until)}"}}'}
    kube_api.apply({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": MK2_MAINTENANCE_CONFIG_MAP, "namespace": MK2_MAINTENANCE_NAMESPACE},
                    "data": data}, field_manager="test-operator", force=True)


def remove_lease(kube_api: KubeApiServer) -> None:
    try:
        kube_api.request("DELETE", f"{LEASE_PATH}/{MK2_MAINTENANCE_CONFIG_MAP}")
    except KubeApiError as error:
        if error.status != 404:  # absent is fine: every test starts without a lease
            raise


def deployment(kube_api: KubeApiServer, namespace: str, name: str) -> dict:
    return kube_api.request("GET", f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}")
