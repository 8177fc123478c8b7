"""Pods the cell creates itself (Jobs, Deployments, ...): resources, non-root, no escalation, no plain secrets."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from policies.core import k8s
from policies.core.props import as_int, as_list, get, is_false, truthy
from policies.core.rule import Level, Report, configured, resource_rule

SECRET_NAME = re.compile(r"PASSW(OR)?D|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL", re.IGNORECASE)
OFFLINE_SECRET = "[secret]"
RESOURCES_SCHEMA = {
    "requireCpuLimit": {
        "type": "boolean",
        "default": False,
        "description": "Also require limits.cpu (CPU limits throttle bursty installers; off by default).",
    },
}


def pod_containers(args: Any) -> Iterator[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    """(pod spec, container) for every container of the workload."""
    spec = k8s.pod_spec(args.resource_type, args.props)
    if spec is None:
        return
    for container in k8s.containers(spec):
        yield spec, container


def _effective(spec: Mapping[str, Any], container: Mapping[str, Any], key: str) -> Any:
    value = get(container, f"securityContext.{key}")
    return value if value is not None else get(spec, f"securityContext.{key}")


@resource_rule(
    name="k8s-container-resources",
    summary="Every container sets CPU and memory requests and a memory limit (and a CPU limit if configured).",
    types=k8s.WORKLOAD_TYPES,
    control="CKV_K8S_10, CKV_K8S_11, CKV_K8S_12, CKV_K8S_13",
    config=RESOURCES_SCHEMA,
)
def container_resources(args: Any, report: Report) -> None:
    required = ["requests.cpu", "requests.memory", "limits.memory"]
    if configured(args, RESOURCES_SCHEMA)["requireCpuLimit"]:
        required.append("limits.cpu")
    for _, container in pod_containers(args):
        missing = [path for path in required if get(container, f"resources.{path}") is None]
        if missing:
            report(f"{k8s.container_label(container)} sets no resources.{', resources.'.join(missing)}.")


@resource_rule(
    name="k8s-run-as-non-root",
    summary="Containers run as a non-root user (runAsNonRoot, or a non-zero runAsUser, on the pod or container).",
    types=k8s.WORKLOAD_TYPES,
    control="CKV_K8S_23",
)
def run_as_non_root(args: Any, report: Report) -> None:
    for spec, container in pod_containers(args):
        user = as_int(_effective(spec, container, "runAsUser"))
        label = k8s.container_label(container)
        if user == 0:
            report(f"{label} runs as root (runAsUser 0).")
        elif not truthy(_effective(spec, container, "runAsNonRoot")) and not user:
            report(f"{label} may run as root; set securityContext.runAsNonRoot: true.")


@resource_rule(
    name="k8s-no-privilege-escalation",
    summary="Containers are not privileged and set allowPrivilegeEscalation: false.",
    types=k8s.WORKLOAD_TYPES,
    control="CKV_K8S_16, CKV_K8S_20",
)
def no_privilege_escalation(args: Any, report: Report) -> None:
    for _, container in pod_containers(args):
        label = k8s.container_label(container)
        if truthy(get(container, "securityContext.privileged")):
            report(f"{label} is privileged.")
        if not is_false(get(container, "securityContext.allowPrivilegeEscalation")):
            report(f"{label} does not set securityContext.allowPrivilegeEscalation: false.")


@resource_rule(
    name="k8s-read-only-root-filesystem",
    summary="Containers mount their root filesystem read-only where possible.",
    types=k8s.WORKLOAD_TYPES,
    control="CKV_K8S_22",
    level=Level.ADVISORY,
    why_advisory="Some images (installers, shells) need a writable root; the rule says 'where possible'.",
)
def read_only_root_filesystem(args: Any, report: Report) -> None:
    for _, container in pod_containers(args):
        if not truthy(get(container, "securityContext.readOnlyRootFilesystem")):
            report(f"{k8s.container_label(container)} should set securityContext.readOnlyRootFilesystem: true.")


@resource_rule(
    name="k8s-no-plain-secret-env",
    summary="No container gets a secret as a plain env value: secret-named variables use valueFrom.secretKeyRef, "
    "and no Pulumi secret is inlined into `value`.",
    types=k8s.WORKLOAD_TYPES,
)
def no_plain_secret_env(args: Any, report: Report) -> None:
    for _, container in pod_containers(args):
        label = k8s.container_label(container)
        for entry in as_list(get(container, "env")):
            name, value = str(get(entry, "name") or ""), get(entry, "value")
            if value is None:
                continue
            if value == OFFLINE_SECRET:
                report(f"{label} env {name} inlines a Pulumi secret as a plain value; use valueFrom.secretKeyRef.")
            elif SECRET_NAME.search(name):
                report(f"{label} env {name} looks like a secret but is a plain value; use valueFrom.secretKeyRef.")
