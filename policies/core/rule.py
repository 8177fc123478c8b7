"""The rule model: one validation function plus the metadata the pack, the table and `ops plan` need."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, Protocol

_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


class Level(StrEnum):
    """Enforcement levels, spelled as the Pulumi CLI and `--policy-pack-config` spell them."""

    ADVISORY = "advisory"
    MANDATORY = "mandatory"
    REMEDIATE = "remediate"
    DISABLED = "disabled"


class Report(Protocol):
    """CrossGuard's `report_violation(message, urn=None)`."""

    def __call__(self, message: str, urn: str | None = None, /) -> None: ...


class NotApplicableError(Exception):
    """Raised by offline arguments' `not_applicable()`; the CLI's arguments raise their own equivalent."""

    def __init__(self, reason: str | None = None) -> None:
        super().__init__(reason or "policy does not apply")
        self.reason = reason


Validator = Callable[[Any, Report], None]
Schema = Mapping[str, Mapping[str, Any]]
Kind = Literal["resource", "stack"]


@dataclass(frozen=True)
class Rule:
    """A policy. `summary` says what it enforces; `control` names the external control it implements."""

    name: str
    summary: str
    kind: Kind
    validate: Validator
    types: frozenset[str] = frozenset()
    control: str | None = None
    level: Level = Level.MANDATORY
    config_schema: Schema = field(default_factory=dict)
    why_advisory: str | None = None

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"rule name {self.name!r} must be kebab-case")
        if self.kind == "resource" and not self.types:
            raise ValueError(f"resource rule {self.name} must name the resource types it checks")
        if self.level is Level.ADVISORY and not self.why_advisory:
            raise ValueError(f"advisory rule {self.name} must say why it is not mandatory")
        for key, prop in self.config_schema.items():
            if "default" not in prop:
                raise ValueError(f"config property {self.name}.{key} needs a default")

    @property
    def description(self) -> str:
        return f"{self.summary} [{self.control}]" if self.control else self.summary

    def applies_to(self, resource_type: str) -> bool:
        return self.kind == "resource" and resource_type in self.types

    def defaults(self) -> dict[str, Any]:
        return {key: prop["default"] for key, prop in self.config_schema.items()}


def _decorator(
    kind: Kind,
    name: str,
    summary: str,
    types: Iterable[str],
    control: str | None,
    level: Level,
    config: Schema | None,
    why_advisory: str | None,
) -> Callable[[Validator], Rule]:
    def wrap(validate: Validator) -> Rule:
        return Rule(
            name=name,
            summary=summary,
            kind=kind,
            validate=validate,
            types=frozenset(types),
            control=control,
            level=level,
            config_schema=dict(config or {}),
            why_advisory=why_advisory,
        )

    return wrap


def resource_rule(
    *,
    name: str,
    summary: str,
    types: Iterable[str],
    control: str | None = None,
    level: Level = Level.MANDATORY,
    config: Schema | None = None,
    why_advisory: str | None = None,
) -> Callable[[Validator], Rule]:
    """Declare a rule run once per resource of one of `types`, with CrossGuard's ResourceValidationArgs."""
    return _decorator("resource", name, summary, types, control, level, config, why_advisory)


def stack_rule(
    *,
    name: str,
    summary: str,
    control: str | None = None,
    level: Level = Level.MANDATORY,
    config: Schema | None = None,
    why_advisory: str | None = None,
) -> Callable[[Validator], Rule]:
    """Declare a rule run once over the whole stack, with CrossGuard's StackValidationArgs."""
    return _decorator("stack", name, summary, (), control, level, config, why_advisory)


def _as_schema_type(value: Any, prop: Mapping[str, Any]) -> Any:
    """The CLI hands config over as a protobuf Struct, where every number is a float: restore integers."""
    if prop.get("type") == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    if prop.get("type") == "array" and isinstance(value, list | tuple):
        items = prop.get("items")
        return [_as_schema_type(item, items) if isinstance(items, Mapping) else item for item in value]
    return value


def configured(args: Any, rule_or_schema: Rule | Schema) -> dict[str, Any]:
    """The rule's settings: schema defaults overlaid with what `--policy-pack-config` supplied."""
    schema = rule_or_schema.config_schema if isinstance(rule_or_schema, Rule) else rule_or_schema
    settings = {key: prop["default"] for key, prop in schema.items()}
    supplied = args.get_config() or {}
    settings.update({key: _as_schema_type(supplied[key], schema[key]) for key in schema if key in supplied})
    return settings
