"""Kubernetes manifests out of an offline plan.

A plan records each `kubernetes:<group>/<version>:<Kind>` resource's inputs (camelCase, as the provider sends
them). Skipped, because they are not Kubernetes objects the provider applies as such: `kubernetes:helm.sh/v3:Release`
(Helm renders the chart in the provider, with no chart repository reachable here) and providers
(`pulumi:providers:kubernetes`). Secret values are redacted in a plan (`[secret]`, keys kept): a Secret's
redacted values become placeholders of the kind its `type` requires, so the server validates the rest.
An object without `metadata.name` is an error: `kubectl apply` of the plan needs every name.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ops.plan.mocks import SECRET

SKIPPED_TYPES = frozenset({"kubernetes:helm.sh/v3:Release"})
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
            # pulumi-kubernetes would auto-name it, but `kubectl apply` of the plan could not: every object is named.
            raise AssertionError(f"{resource['name']}: {kind} without metadata.name")
        if (manifest["apiVersion"], manifest["kind"]) != (api_version, kind):
            raise AssertionError(f"{resource['name']}: inputs say {manifest['apiVersion']} {manifest['kind']}, "
                                 f"the type token {resource_type}")
        objects.append(PlannedObject(resource_type, str(resource["name"]), manifest))
    return objects


def with_placeholders(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """A Secret's redacted values (the plan keeps its keys, `[secret]` for each value) become placeholders of the
    kind its `type` requires."""
    manifest = copy.deepcopy(dict(inputs))
    if manifest.get("kind") == "Secret":
        required = _SECRET_PLACEHOLDERS.get(str(manifest.get("type", "Opaque")), {})
        for field in ("stringData", "data"):
            value = manifest.get(field)
            if isinstance(value, dict):
                filled = {key: required.get(key, "placeholder") if item == SECRET else item
                          for key, item in value.items()}
                manifest[field] = filled if field == "stringData" else {
                    key: _base64(item) if value[key] == SECRET else item for key, item in filled.items()}
    return manifest


def _base64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()
