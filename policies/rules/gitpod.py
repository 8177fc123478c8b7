"""The Gitpod installation: a pinned installer, its rollout hooks, and workspace/maintenance bounds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies.core import k8s
from policies.core.durations import parse_go_duration
from policies.core.images import parse_image
from policies.core.props import as_int, as_list, get
from policies.core.rule import Report, configured, resource_rule, stack_rule
from policies.core.stack import StackView

INSTALLER_LABEL = ("app.kubernetes.io/name", "gitpod-installer")
INSTALLATION_CONFIG_MAP = "gitpod-installation"
MUTABLE_TAGS = ("latest", "main", "master", "stable", "edge", "nightly", "dev")
HOOKS_BEFORE = ("preflight", "enter-maintenance", "record-restore-point")
HOOKS_AFTER = ("health-gate", "backup-config", "exit-maintenance")
TIMEOUT_KEYS = ("timeoutDefault", "timeoutExtended", "timeoutAfterClose", "maxLifetime")
TIMEOUT_SCHEMA = {
    "maxTimeoutExtended": {
        "type": "string",
        "default": "24h",
        "description": "Longest extended workspace timeout (Go duration).",
    },
    "maxLifetime": {
        "type": "string",
        "default": "36h",
        "description": "Longest workspace lifetime (Go duration).",
    },
}
LEASE_SCHEMA = {
    "minMinutes": {"type": "integer", "minimum": 1, "default": 5, "description": "Shortest lease, in minutes."},
    "maxMinutes": {"type": "integer", "minimum": 1, "default": 240, "description": "Longest lease, in minutes."},
}


def is_installer(resource_type: str, props: Any) -> bool:
    key, value = INSTALLER_LABEL
    return resource_type == k8s.JOB and k8s.labels(props).get(key) == value


def is_installation_config_map(resource: Any) -> bool:
    return resource.resource_type == k8s.CONFIG_MAP and k8s.object_name(resource) == INSTALLATION_CONFIG_MAP


def image_problem(image: Any) -> str | None:
    if not image:
        return "has no image"
    ref = parse_image(str(image))
    if ref.digest:
        return None
    if ref.tag is None:
        return f"image {image!r} has no tag (it resolves to 'latest')"
    if ref.tag.lower() in MUTABLE_TAGS or not any(char.isdigit() for char in ref.tag):
        return f"image {image!r} uses the moving tag {ref.tag!r}"
    return None


@resource_rule(
    name="gitpod-installer-image-pinned",
    summary="The Gitpod installer Job runs an image pinned to a version tag or a digest, never `latest` or "
    "untagged.",
    types=[k8s.JOB],
    control="CKV_K8S_14, CKV_K8S_43",
)
def installer_image_pinned(args: Any, report: Report) -> None:
    if not is_installer(args.resource_type, args.props):
        return
    spec = k8s.pod_spec(args.resource_type, args.props)
    containers = k8s.containers(spec) if spec else []
    if not containers:
        report("the installer Job has no containers.")
    for container in containers:
        problem = image_problem(get(container, "image"))
        if problem:
            report(f"{k8s.container_label(container)} {problem}; pin a release version or a digest.")


@resource_rule(
    name="gitpod-installer-hooks",
    summary="The installer Job has its rollout hooks bound: preflight, enter-maintenance and record-restore-point "
    "before create/update; health-gate, backup-config and exit-maintenance after (checked offline; the CLI does not "
    "expose hooks to policies).",
    types=[k8s.JOB],
)
def installer_hooks(args: Any, report: Report) -> None:
    if not is_installer(args.resource_type, args.props):
        return
    hooks = getattr(args.opts, "hooks", None)
    if not isinstance(hooks, Mapping):
        args.not_applicable("resource hooks are not visible to CLI policies; `ops plan` checks them")
        return
    before = {*as_list(hooks.get("beforeCreate")), *as_list(hooks.get("beforeUpdate"))}
    after = {*as_list(hooks.get("afterCreate")), *as_list(hooks.get("afterUpdate"))}
    missing = [f"{name} (before create/update)" for name in HOOKS_BEFORE if name not in before]
    missing += [f"{name} (after create/update)" for name in HOOKS_AFTER if name not in after]
    if missing:
        report(f"hooks not bound: {', '.join(missing)}.")


def _durations(data: Mapping[str, Any], report: Report) -> dict[str, float] | None:
    missing = [key for key in TIMEOUT_KEYS if key not in data]
    if missing:
        report(f"data is missing {', '.join(missing)}.")
        return None
    parsed: dict[str, float] = {}
    for key in TIMEOUT_KEYS:
        try:
            parsed[key] = parse_go_duration(str(data[key]))
        except ValueError:
            report(f"data.{key} {data[key]!r} is not a Go duration (e.g. '30m', '24h').")
            continue
        if parsed[key] <= 0:
            report(f"data.{key} must be positive.")
    return parsed if len(parsed) == len(TIMEOUT_KEYS) else None


@resource_rule(
    name="gitpod-workspace-timeouts",
    summary="Workspace timeouts in the gitpod-installation ConfigMap stay within their maxima: timeoutDefault "
    "<= timeoutExtended <= `maxTimeoutExtended` (24h), timeoutAfterClose <= timeoutDefault, maxLifetime <= "
    "`maxLifetime` (36h).",
    types=[k8s.CONFIG_MAP],
    config=TIMEOUT_SCHEMA,
)
def workspace_timeouts(args: Any, report: Report) -> None:
    if not is_installation_config_map(args):
        return
    settings = configured(args, TIMEOUT_SCHEMA)
    data = get(args.props, "data") or {}
    values = _durations(data, report)
    if values is None:
        return
    shown = {key: str(data[key]) for key in TIMEOUT_KEYS}
    if values["timeoutDefault"] > values["timeoutExtended"]:
        report(f"timeoutDefault ({shown['timeoutDefault']}) exceeds timeoutExtended ({shown['timeoutExtended']}).")
    if values["timeoutExtended"] > parse_go_duration(settings["maxTimeoutExtended"]):
        report(f"timeoutExtended ({shown['timeoutExtended']}) exceeds the {settings['maxTimeoutExtended']} maximum.")
    if values["timeoutAfterClose"] > values["timeoutDefault"]:
        report(f"timeoutAfterClose ({shown['timeoutAfterClose']}) exceeds timeoutDefault "
               f"({shown['timeoutDefault']}).")
    if values["maxLifetime"] > parse_go_duration(settings["maxLifetime"]):
        report(f"maxLifetime ({shown['maxLifetime']}) exceeds the {settings['maxLifetime']} maximum.")


@resource_rule(
    name="gitpod-maintenance-lease",
    summary="The maintenance lease (gitpod-installation ConfigMap, maintenanceLeaseMinutes) is between "
    "`minMinutes` and `maxMinutes` (5-240), so a crashed rollout ends maintenance on its own.",
    types=[k8s.CONFIG_MAP],
    config=LEASE_SCHEMA,
)
def maintenance_lease(args: Any, report: Report) -> None:
    if not is_installation_config_map(args):
        return
    settings = configured(args, LEASE_SCHEMA)
    raw = get(args.props, "data.maintenanceLeaseMinutes")
    minutes = as_int(raw)
    bounds = f"{settings['minMinutes']}-{settings['maxMinutes']} minutes"
    if raw is None:
        report(f"data.maintenanceLeaseMinutes is not set; set a lease of {bounds}.")
    elif minutes is None:
        report(f"data.maintenanceLeaseMinutes {raw!r} is not a whole number of minutes.")
    elif not settings["minMinutes"] <= minutes <= settings["maxMinutes"]:
        report(f"data.maintenanceLeaseMinutes is {minutes}; the lease must be {bounds}.")


@stack_rule(
    name="gitpod-installation-configmap-present",
    summary="A stack with a Gitpod installer Job also has the gitpod-installation ConfigMap that records its "
    "version, timeouts and maintenance lease.",
)
def installation_config_map_present(args: Any, report: Report) -> None:
    view = StackView(args.resources)
    installers = [job for job in view.of_type(k8s.JOB) if is_installer(job.resource_type, job.props)]
    if installers and not any(is_installation_config_map(cm) for cm in view.of_type(k8s.CONFIG_MAP)):
        for job in installers:
            report(f"no ConfigMap named {INSTALLATION_CONFIG_MAP} accompanies the installer Job.", job.urn)
