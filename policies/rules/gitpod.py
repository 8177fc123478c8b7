"""The Gitpod installation: a pinned installer, its rollout hooks, and workspace/maintenance bounds.

Workspace timeouts are checked where the installer reads them (the rendered config in gitpod-installer-config)
and where the cell records them (gitpod-installation), and the two must agree. The maintenance lease exists only
in the record: it is the rollout hooks' setting, not the installer's.
"""

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
# What the installer Job actually renders Gitpod from: this ConfigMap's `config.yaml` (the installer config).
INSTALLER_CONFIG_MAP = "gitpod-installer-config"
INSTALLER_CONFIG_FILE = "config.yaml"
# How the offline plan shows a secret value; the CLI may also hand over a value it cannot read.
OFFLINE_SECRET = "[secret]"
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
    "minMinutes": {"type": "integer", "minimum": 1, "default": 60,
                   "description": "Shortest lease, in minutes: a whole rollout (snapshot, Job, health gate)."},
    "maxMinutes": {"type": "integer", "minimum": 1, "default": 240, "description": "Longest lease, in minutes."},
}


def is_installer(resource_type: str, props: Any) -> bool:
    key, value = INSTALLER_LABEL
    return resource_type == k8s.JOB and k8s.labels(props).get(key) == value


def is_installation_config_map(resource: Any) -> bool:
    return resource.resource_type == k8s.CONFIG_MAP and k8s.object_name(resource) == INSTALLATION_CONFIG_MAP


def is_installer_config_map(resource: Any) -> bool:
    return resource.resource_type == k8s.CONFIG_MAP and k8s.object_name(resource) == INSTALLER_CONFIG_MAP


def namespace_of(resource: Any) -> str:
    return str(get(resource.props, "metadata.namespace") or "")


def rendered_installer_config(props: Any) -> tuple[Mapping[str, Any] | None, str | None]:
    """The installer config in a gitpod-installer-config ConfigMap, as (document, problem).

    (None, None) when it cannot be read here: `config.yaml` absent, a secret, or no YAML parser. A YAML error or a
    document that is not a mapping is a problem. An unknown value (CLI preview) raises, as `get` does.
    """
    data = get(props, "data")
    text = data.get(INSTALLER_CONFIG_FILE) if isinstance(data, Mapping) else None
    if not isinstance(text, str) or not text.strip() or text.strip() == OFFLINE_SECRET:
        return None, None
    try:
        import yaml  # PyYAML: pinned in policies/requirements.txt; imported here so the pack stays import-light.
    except ImportError:
        return None, None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or type(error).__name__
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        return None, f"data.{INSTALLER_CONFIG_FILE} is not valid YAML ({problem}{where})."
    if not isinstance(document, Mapping):
        return None, f"data.{INSTALLER_CONFIG_FILE} is not a YAML mapping (the installer config)."
    return document, None


def rendered_workspace(document: Mapping[str, Any]) -> Mapping[str, Any]:
    workspace = document.get("workspace")
    return workspace if isinstance(workspace, Mapping) else {}


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


class _Where:
    """How messages name the timeout settings: the installation record's `data.KEY`, or the rendered installer
    config's `workspace.KEY` (prefixed with `config.yaml: `)."""

    def __init__(self, container: str, lead: str, compare_prefix: str) -> None:
        self.container, self.lead, self.compare_prefix = container, lead, compare_prefix

    def field(self, key: str) -> str:
        return f"{self.container}.{key}"

    def name(self, key: str) -> str:
        return f"{self.compare_prefix}{key}"


RECORD = _Where("data", "", "")
RENDERED = _Where("workspace", f"{INSTALLER_CONFIG_FILE}: ", "workspace.")


def _durations(data: Mapping[str, Any], where: _Where, report: Report) -> dict[str, float] | None:
    missing = [key for key in TIMEOUT_KEYS if data.get(key) is None]
    if missing:
        report(f"{where.lead}{where.container} is missing {', '.join(missing)}.")
        return None
    parsed: dict[str, float] = {}
    for key in TIMEOUT_KEYS:
        try:
            parsed[key] = parse_go_duration(str(data[key]))
        except ValueError:
            report(f"{where.lead}{where.field(key)} {data[key]!r} is not a Go duration (e.g. '30m', '24h').")
            continue
        if parsed[key] <= 0:
            report(f"{where.lead}{where.field(key)} must be positive.")
    return parsed if len(parsed) == len(TIMEOUT_KEYS) else None


def _check_timeouts(data: Mapping[str, Any], where: _Where, settings: Mapping[str, Any], report: Report) -> None:
    values = _durations(data, where, report)
    if values is None:
        return
    shown = {key: str(data[key]) for key in TIMEOUT_KEYS}

    def say(message: str) -> None:
        report(f"{where.lead}{message}")

    default, extended = where.name("timeoutDefault"), where.name("timeoutExtended")
    after_close, lifetime = where.name("timeoutAfterClose"), where.name("maxLifetime")
    if values["timeoutDefault"] > values["timeoutExtended"]:
        say(f"{default} ({shown['timeoutDefault']}) exceeds {extended} ({shown['timeoutExtended']}).")
    if values["timeoutExtended"] > parse_go_duration(settings["maxTimeoutExtended"]):
        say(f"{extended} ({shown['timeoutExtended']}) exceeds the {settings['maxTimeoutExtended']} maximum.")
    if values["timeoutAfterClose"] > values["timeoutDefault"]:
        say(f"{after_close} ({shown['timeoutAfterClose']}) exceeds {default} ({shown['timeoutDefault']}).")
    if values["maxLifetime"] > parse_go_duration(settings["maxLifetime"]):
        say(f"{lifetime} ({shown['maxLifetime']}) exceeds the {settings['maxLifetime']} maximum.")


@resource_rule(
    name="gitpod-workspace-timeouts",
    summary="Workspace timeouts stay within their maxima, both as recorded (gitpod-installation ConfigMap) and as "
    "the installer renders them (`workspace.*` in the gitpod-installer-config ConfigMap's config.yaml; not "
    "applicable when that is a secret or absent): timeoutDefault <= timeoutExtended <= `maxTimeoutExtended` (24h), "
    "timeoutAfterClose <= timeoutDefault, maxLifetime <= `maxLifetime` (36h).",
    types=[k8s.CONFIG_MAP],
    config=TIMEOUT_SCHEMA,
)
def workspace_timeouts(args: Any, report: Report) -> None:
    if is_installation_config_map(args):
        _check_timeouts(get(args.props, "data") or {}, RECORD, configured(args, TIMEOUT_SCHEMA), report)
    elif is_installer_config_map(args):
        document, problem = rendered_installer_config(args.props)
        if problem:
            report(problem)
        elif document is None:
            args.not_applicable(f"data.{INSTALLER_CONFIG_FILE} is absent or secret; the gitpod-installation "
                                "record is checked instead")
        else:
            _check_timeouts(rendered_workspace(document), RENDERED, configured(args, TIMEOUT_SCHEMA), report)


def _same_duration(recorded: Any, rendered: Any) -> bool:
    if recorded is None or rendered is None:
        return recorded is rendered
    try:
        return parse_go_duration(str(recorded)) == parse_go_duration(str(rendered))
    except ValueError:
        return str(recorded) == str(rendered)


@stack_rule(
    name="gitpod-installation-record-matches-config",
    summary="The workspace timeouts recorded in the gitpod-installation ConfigMap are the ones the installer "
    "renders (`workspace.*` in the gitpod-installer-config ConfigMap's config.yaml, same namespace), so the record "
    "(and the rules that read it) tell the truth; not applicable when config.yaml is a secret or absent.",
)
def installation_record_matches_config(args: Any, report: Report) -> None:
    view = StackView(args.resources)
    records = [cm for cm in view.of_type(k8s.CONFIG_MAP) if is_installation_config_map(cm)]
    for config_map in (cm for cm in view.of_type(k8s.CONFIG_MAP) if is_installer_config_map(cm)):
        document, _problem = rendered_installer_config(config_map.props)
        if document is None:
            continue  # unreadable here; an invalid document is gitpod-workspace-timeouts' to report
        workspace = rendered_workspace(document)
        for record in (r for r in records if namespace_of(r) == namespace_of(config_map)):
            data = get(record.props, "data") or {}
            for key in TIMEOUT_KEYS:
                recorded, rendered = data.get(key), workspace.get(key)
                if not _same_duration(recorded, rendered):
                    report(f"{INSTALLATION_CONFIG_MAP} records {key} {_shown(recorded)} but the installer renders "
                           f"workspace.{key} {_shown(rendered)} ({INSTALLER_CONFIG_MAP} {INSTALLER_CONFIG_FILE}); "
                           "record what the installer applies.", record.urn)


def _shown(value: Any) -> str:
    return "nothing" if value is None else repr(str(value))


@resource_rule(
    name="gitpod-maintenance-lease",
    summary="The maintenance lease (gitpod-installation ConfigMap, maintenanceLeaseMinutes) is between "
    "`minMinutes` and `maxMinutes` (60-240), so a crashed rollout ends maintenance on its own.",
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
