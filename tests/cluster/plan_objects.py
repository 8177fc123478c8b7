"""Kubernetes manifests out of an offline plan, and cert-manager's CRDs out of cert-manager's own Go module.

A plan records each `kubernetes:<group>/<version>:<Kind>` resource's inputs (camelCase, as the provider sends
them). Skipped, because they are not Kubernetes objects the provider applies as such: `kubernetes:helm.sh/v3:Release`
(Helm renders the chart in the provider, with no chart repository reachable here) and providers
(`pulumi:providers:kubernetes`). Secret inputs are redacted in a plan (`[secret]`): a Secret's redacted
`stringData`/`data` becomes placeholder keys of the kind its `type` requires, so the server validates the rest.
An object without `metadata.name` gets the name pulumi-kubernetes would give it (resource name + 8 characters).
"""

from __future__ import annotations

import base64
import copy
import json
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ops.plan.mocks import SECRET

AUTONAME_SUFFIX = "x7k2m9qa"
SKIPPED_TYPES = frozenset({"kubernetes:helm.sh/v3:Release"})
CERT_MANAGER_MODULE = "github.com/cert-manager/cert-manager"
# The keys the API server requires for each built-in Secret type (pkg/apis/core/validation).
_SECRET_PLACEHOLDERS: dict[str, dict[str, str]] = {
    "kubernetes.io/dockerconfigjson": {".dockerconfigjson": json.dumps({"auths": {"registry.invalid": {
        "auth": "cGxhY2Vob2xkZXI6cGxhY2Vob2xkZXI="}}})},
    "kubernetes.io/dockercfg": {".dockercfg": json.dumps({"registry.invalid": {"auth": "cGxhY2Vob2xkZXI="}})},
    "kubernetes.io/tls": {"tls.crt": "placeholder", "tls.key": "placeholder"},
    "kubernetes.io/basic-auth": {"username": "placeholder", "password": "placeholder"},
    "kubernetes.io/ssh-auth": {"ssh-privatekey": "placeholder"},
}


@dataclass(frozen=True)
class PlannedObject:
    resource_type: str
    resource_name: str
    manifest: dict[str, Any]

    @property
    def label(self) -> str:
        metadata = self.manifest["metadata"]
        where = f"{metadata['namespace']}/" if metadata.get("namespace") else ""
        return f"{self.resource_type} {where}{metadata['name']} (resource {self.resource_name})"


def api_version_of(resource_type: str) -> tuple[str, str]:
    """`kubernetes:apps/v1:Deployment` -> ("apps/v1", "Deployment"); the core group has no prefix."""
    _, group_version, kind = resource_type.split(":")
    group, version = group_version.split("/")
    return (version if group == "core" else f"{group}/{version}"), kind


def kubernetes_objects(resources: Iterable[Mapping[str, Any]]) -> list[PlannedObject]:
    objects = []
    for resource in resources:
        resource_type = str(resource["type"])
        if not resource_type.startswith("kubernetes:") or resource_type in SKIPPED_TYPES:
            continue
        api_version, kind = api_version_of(resource_type)
        manifest = with_placeholders(resource["inputs"])
        # The provider sets these from the type token when a program leaves them out.
        manifest.setdefault("apiVersion", api_version)
        manifest.setdefault("kind", kind)
        metadata = manifest.setdefault("metadata", {})
        if not metadata.get("name"):
            # The provider auto-names an object without metadata.name: resource name, "-", 8 random characters.
            metadata["name"] = f"{resource['name']}-{AUTONAME_SUFFIX}"
        if (manifest["apiVersion"], manifest["kind"]) != (api_version, kind):
            raise AssertionError(f"{resource['name']}: inputs say {manifest['apiVersion']} {manifest['kind']}, "
                                 f"the type token {resource_type}")
        objects.append(PlannedObject(resource_type, str(resource["name"]), manifest))
    return objects


def with_placeholders(inputs: Mapping[str, Any]) -> dict[str, Any]:
    manifest = copy.deepcopy(dict(inputs))
    if manifest.get("kind") == "Secret":
        placeholder = _SECRET_PLACEHOLDERS.get(str(manifest.get("type", "Opaque")), {"placeholder": "placeholder"})
        for field in ("stringData", "data"):
            if manifest.get(field) == SECRET:
                manifest[field] = placeholder if field == "stringData" else {
                    key: _base64(value) for key, value in placeholder.items()}
    return manifest


def _base64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def cert_manager_crds(version: str) -> list[dict[str, Any]]:
    """The CRDs of cert-manager `version`, from `go mod download` of its module (the Go module proxy).

    deploy/crds/*.yaml there are Helm templates, but every template action except three label values sits in a
    YAML comment (`# START crd {{- if ... }}`), so YAML reads them as they are; the labels (chart name and release
    name) are rendered as `cert-manager`, what the chart's release in this cell is called.
    """
    directory = Path(_go_mod_download(CERT_MANAGER_MODULE, version)) / "deploy" / "crds"
    rendered = {
        "'{{ template \"cert-manager.name\" . }}'": "cert-manager",
        "'{{ .Release.Name }}'": "cert-manager",
    }
    crds = []
    for path in sorted(directory.glob("crd-*.yaml")):
        text = path.read_text()
        for template, value in rendered.items():
            text = text.replace(template, value)
        for document in yaml.safe_load_all(text):
            if document:
                crds.append(document)
    if not crds:
        raise AssertionError(f"no CRDs under {directory}")
    return crds


def _go_mod_download(module: str, version: str) -> str:
    # Outside any module, so the download neither reads nor changes a go.mod of ours.
    with tempfile.TemporaryDirectory() as outside:
        result = subprocess.run(["go", "mod", "download", "-json", f"{module}@{version}"], cwd=outside,
                                capture_output=True, text=True, timeout=600, check=False)
    if result.returncode != 0:
        raise AssertionError(f"go mod download {module}@{version} failed: {result.stdout}{result.stderr}")
    return str(json.loads(result.stdout)["Dir"])
