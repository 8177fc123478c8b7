"""Kubernetes object records as pulumi-kubernetes registers them (camelCase inputs)."""

from __future__ import annotations

from typing import Any

from tests.policies.records import resource

JOB = "kubernetes:batch/v1:Job"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
INSTALLER_LABELS = {"app.kubernetes.io/name": "gitpod-installer"}
HARDENED = {"runAsNonRoot": True, "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True}
RESOURCES = {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}}
ALL_HOOKS = {
    "beforeCreate": ["preflight", "enter-maintenance", "record-restore-point"],
    "afterCreate": ["health-gate", "backup-config", "exit-maintenance"],
}


def container(name: str = "installer", image: str = "eu.gcr.io/gitpod-io/installer:release-2024.01.1",
              **fields: Any) -> dict[str, Any]:
    return {"name": name, "image": image, "securityContext": dict(HARDENED), "resources": RESOURCES, **fields}


def job(*containers: dict[str, Any], name: str = "installer", labels: dict[str, str] | None = None,
        namespace: str = "gitpod", hooks: dict[str, list[str]] | None = None,
        pod: dict[str, Any] | None = None) -> dict[str, Any]:
    return resource(JOB, name, {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "namespace": namespace, "labels": labels if labels is not None else {}},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": list(containers), **(pod or {})}}},
    }, hooks=hooks)


def installer(*containers: dict[str, Any], hooks: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return job(*(containers or (container(),)), labels=INSTALLER_LABELS, hooks=ALL_HOOKS if hooks is None else hooks)


def installation_config_map(data: dict[str, str] | None = None, name: str = "gitpod-installation") -> dict[str, Any]:
    defaults = {"version": "release-2024.01.1", "timeoutDefault": "30m", "timeoutExtended": "3h",
                "timeoutAfterClose": "2m", "maxLifetime": "36h", "maintenanceLeaseMinutes": "60"}
    return resource(CONFIG_MAP, "installation", {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "gitpod"},
        "data": defaults if data is None else data,
    })


WORKSPACE_TIMEOUTS = {"timeoutDefault": "30m", "timeoutExtended": "3h", "timeoutAfterClose": "2m", "maxLifetime": "36h"}


def rendered_config(workspace: dict[str, Any] | None = None) -> str:
    """An installer config.yaml as the cell renders it (yaml.safe_dump, sorted keys), with these workspace keys."""
    lines = ["apiVersion: v1", "domain: gitpod.example.com", "kind: Full", "workspace:"]
    values = WORKSPACE_TIMEOUTS if workspace is None else workspace
    lines += [f"  {key}: {value}" for key, value in sorted(values.items())]
    lines += ["  resources:", "    requests:", "      memory: 2Gi"]
    return "\n".join(lines) + "\n"


def installer_config_map(config_yaml: Any = None, *, name: str = "gitpod-installer-config",
                         namespace: str = "gitpod", data: dict[str, Any] | None = None) -> dict[str, Any]:
    """The gitpod-installer-config ConfigMap; `config_yaml` defaults to `rendered_config()`."""
    if data is None:
        data = {"config.yaml": rendered_config() if config_yaml is None else config_yaml}
    return resource(CONFIG_MAP, f"installer-config-{namespace}", {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(INSTALLER_LABELS)},
        "data": data,
    })
