"""Running the pack without the Pulumi CLI, over the records of `ops plan` (docs/architecture.md's plan schema).

    from policies.offline import evaluate
    report = evaluate(plan["resources"], policy_config)   # {"ran": N, "violations": [...]}

Each record becomes the same kind of arguments object CrossGuard hands a rule (resource_type, props, urn, name,
opts, provider, get_config(); for stacks, resources with parent/dependencies), so every rule runs unchanged.
Records carry inputs, not outputs, and options the CLI never shows policies (hooks, retainOnDelete): rules that
read those are checked here only. Importing this module imports no Pulumi SDK.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from policies.core.config import PackSettings, PolicyConfigError, parse_pack_config
from policies.core.durations import parse_go_duration
from policies.core.rule import Level, NotApplicableError, Rule
from policies.rules import ALL_RULES

__all__ = ["PolicyConfigError", "evaluate"]

_PROVIDER_PREFIX = "pulumi:providers:"


@dataclass
class OfflineCustomTimeouts:
    create_seconds: float = 0.0
    update_seconds: float = 0.0
    delete_seconds: float = 0.0


@dataclass
class OfflineOptions:
    """PolicyResourceOptions' attributes, plus the plan-only `retain_on_delete`, `depends_on` and `hooks`."""

    protect: bool = False
    ignore_changes: list[str] = field(default_factory=list)
    delete_before_replace: bool | None = None
    aliases: list[str] = field(default_factory=list)
    custom_timeouts: OfflineCustomTimeouts = field(default_factory=OfflineCustomTimeouts)
    additional_secret_outputs: list[str] = field(default_factory=list)
    parent: str | None = None
    retain_on_delete: bool = False
    depends_on: list[str] = field(default_factory=list)
    hooks: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class OfflineProvider:
    """PolicyProviderResource's attributes."""

    resource_type: str
    props: Mapping[str, Any]
    urn: str
    name: str


@dataclass(eq=False)
class OfflineResource:
    """PolicyResource's attributes (a stack rule's view of one resource)."""

    resource_type: str
    props: Mapping[str, Any]
    urn: str
    name: str
    opts: OfflineOptions
    provider: OfflineProvider | None
    parent: OfflineResource | None = None
    dependencies: list[OfflineResource] = field(default_factory=list)
    property_dependencies: dict[str, list[OfflineResource]] = field(default_factory=dict)


class _ConfigMixin:
    _config: Mapping[str, Any]

    def get_config(self) -> Mapping[str, Any]:
        return self._config

    def not_applicable(self, reason: str | None = None) -> None:
        raise NotApplicableError(reason)


class OfflineResourceArgs(_ConfigMixin):
    """ResourceValidationArgs' attributes."""

    def __init__(self, resource: OfflineResource, config: Mapping[str, Any]) -> None:
        self.resource_type = resource.resource_type
        self.props = resource.props
        self.urn = resource.urn
        self.name = resource.name
        self.opts = resource.opts
        self.provider = resource.provider
        self.stack_tags: Mapping[str, str] = {}
        self._config = config


class OfflineStackArgs(_ConfigMixin):
    """StackValidationArgs' attributes."""

    def __init__(self, resources: list[OfflineResource], config: Mapping[str, Any]) -> None:
        self.resources = resources
        self.stack_tags: Mapping[str, str] = {}
        self._config = config


def _seconds(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and value:
        try:
            return parse_go_duration(value)
        except ValueError:
            return 0.0
    return 0.0


def _options(record: Mapping[str, Any]) -> OfflineOptions:
    options = record.get("options") or {}
    timeouts = options.get("customTimeouts") or {}
    hooks = options.get("hooks") or {}
    return OfflineOptions(
        protect=bool(options.get("protect")),
        ignore_changes=list(options.get("ignoreChanges") or []),
        delete_before_replace=options.get("deleteBeforeReplace"),
        aliases=list(options.get("aliases") or []),
        custom_timeouts=OfflineCustomTimeouts(
            _seconds(timeouts.get("create")), _seconds(timeouts.get("update")), _seconds(timeouts.get("delete"))
        ),
        additional_secret_outputs=list(options.get("additionalSecretOutputs") or []),
        parent=record.get("parent"),
        retain_on_delete=bool(options.get("retainOnDelete")),
        depends_on=list(options.get("dependsOn") or []),
        hooks={str(kind): [str(name) for name in names or []] for kind, names in hooks.items()},
    )


def provider_urn(reference: Any, known_urns: Mapping[str, Any]) -> str | None:
    """A provider reference is `<provider urn>::<provider id>`: the URN contains `::` itself, the id does not.
    A bare URN is accepted too."""
    if not isinstance(reference, str) or not reference:
        return None
    if reference in known_urns:
        return reference
    urn, separator, _ = reference.rpartition("::")
    return urn if separator else None


def build_resources(records: Sequence[Mapping[str, Any]]) -> list[OfflineResource]:
    """Records -> linked OfflineResources (providers resolved, parents and dependencies as objects)."""
    resources: list[OfflineResource] = []
    for record in records:
        resources.append(
            OfflineResource(
                resource_type=str(record["type"]),
                props=copy.deepcopy(dict(record.get("inputs") or {})),
                urn=str(record["urn"]),
                name=str(record.get("name") or str(record["urn"]).rsplit("::", 1)[-1]),
                opts=_options(record),
                provider=None,
            )
        )
    by_urn = {resource.urn: resource for resource in resources}
    for record, resource in zip(records, resources, strict=True):
        target = by_urn.get(provider_urn(record.get("provider"), by_urn) or "")
        if target is not None and target.resource_type.startswith(_PROVIDER_PREFIX):
            resource.provider = OfflineProvider(target.resource_type, target.props, target.urn, target.name)
        parent = record.get("parent")
        resource.parent = by_urn.get(parent) if isinstance(parent, str) else None
        dependencies = [*(record.get("dependencies") or []), *resource.opts.depends_on]
        resource.dependencies = [by_urn[urn] for urn in dict.fromkeys(dependencies) if urn in by_urn]
    return resources


Found = list[tuple[str | None, str]]


def _call(rule: Rule, urn: str | None, found: Found, validate: Callable[[], None]) -> None:
    """Run one validation; a rule that raises is reported as a violation naming it, not a crash."""
    try:
        validate()
    except NotApplicableError:
        return
    except Exception as error:
        found.append((urn, f"policy {rule.name} failed: {type(error).__name__}: {error}"))


def _run_stack_rule(rule: Rule, resources: list[OfflineResource], config: Mapping[str, Any]) -> Found:
    found: Found = []

    def report(message: str, urn: str | None = None) -> None:
        found.append((urn, str(message)))

    _call(rule, None, found, lambda: rule.validate(OfflineStackArgs(resources, config), report))
    return found


def _run_resource_rule(rule: Rule, resources: list[OfflineResource], config: Mapping[str, Any]) -> Found:
    """Like the CLI, a resource rule's violations always name the resource, whatever URN it passes."""
    found: Found = []
    for resource in resources:
        if not rule.applies_to(resource.resource_type):
            continue

        def report(message: str, urn: str | None = None, own_urn: str = resource.urn) -> None:
            found.append((own_urn, str(message)))

        args = OfflineResourceArgs(resource, config)
        _call(rule, resource.urn, found, lambda args=args, report=report: rule.validate(args, report))
    return found


def _reported_level(level: Level) -> str:
    return Level.ADVISORY.value if level is Level.ADVISORY else Level.MANDATORY.value


def evaluate(
    resources: Sequence[Mapping[str, Any]],
    policy_config: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Run every enabled rule over plan records. `policy_config` has the `--policy-pack-config` JSON shape;
    an invalid one raises PolicyConfigError (a ValueError) naming the rule and setting."""
    settings: PackSettings = parse_pack_config(ALL_RULES, policy_config)
    linked = build_resources(resources)
    ran = 0
    violations: list[dict[str, Any]] = []
    for rule in ALL_RULES:
        level = settings.level(rule)
        if level is Level.DISABLED:
            continue
        ran += 1
        run = _run_stack_rule if rule.kind == "stack" else _run_resource_rule
        for urn, message in run(rule, linked, settings.config(rule)):
            violations.append(
                {"policy": rule.name, "urn": urn, "message": message, "enforcement": _reported_level(level)}
            )
    violations.sort(key=lambda v: (v["policy"], v["urn"] or "", v["message"]))
    return {"ran": ran, "violations": violations}
