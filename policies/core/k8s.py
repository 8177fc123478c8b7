"""Kubernetes objects as pulumi-kubernetes registers them: metadata, pod specs, containers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies.core.props import as_list, get

# Where each workload kind keeps its pod spec.
POD_SPEC_PATHS: Mapping[str, str] = {
    "kubernetes:core/v1:Pod": "spec",
    "kubernetes:batch/v1:Job": "spec.template.spec",
    "kubernetes:batch/v1:CronJob": "spec.jobTemplate.spec.template.spec",
    "kubernetes:apps/v1:Deployment": "spec.template.spec",
    "kubernetes:apps/v1:StatefulSet": "spec.template.spec",
    "kubernetes:apps/v1:DaemonSet": "spec.template.spec",
    "kubernetes:apps/v1:ReplicaSet": "spec.template.spec",
}
WORKLOAD_TYPES = frozenset(POD_SPEC_PATHS)

# Namespaced kinds the cell creates or is likely to; a Helm release keeps its namespace at the top level.
NAMESPACED_TYPES = frozenset(
    {
        *WORKLOAD_TYPES,
        "kubernetes:core/v1:Secret",
        "kubernetes:core/v1:ConfigMap",
        "kubernetes:core/v1:ServiceAccount",
        "kubernetes:core/v1:Service",
        "kubernetes:core/v1:PersistentVolumeClaim",
        "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        "kubernetes:networking.k8s.io/v1:Ingress",
        "kubernetes:rbac.authorization.k8s.io/v1:Role",
        "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
        "kubernetes:cert-manager.io/v1:Certificate",
        "kubernetes:cert-manager.io/v1:Issuer",
    }
)
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
JOB = "kubernetes:batch/v1:Job"


def object_name(resource: Any) -> str:
    """`metadata.name`, or the Pulumi resource name when the provider will auto-name the object."""
    name = get(resource.props, "metadata.name")
    return str(name) if name else str(resource.name)


def labels(props: Any) -> Mapping[str, Any]:
    value = get(props, "metadata.labels")
    return value if isinstance(value, Mapping) else {}


def pod_spec(resource_type: str, props: Any) -> Mapping[str, Any] | None:
    path = POD_SPEC_PATHS.get(resource_type)
    spec = get(props, path) if path else None
    return spec if isinstance(spec, Mapping) else None


def containers(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Init containers, then containers: everything that runs in the pod."""
    found = [*as_list(get(spec, "initContainers")), *as_list(get(spec, "containers"))]
    return [container for container in found if isinstance(container, Mapping)]


def container_label(container: Mapping[str, Any]) -> str:
    return f"container {container.get('name') or '<unnamed>'}"
