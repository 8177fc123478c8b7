"""`--policy-pack-config` documents: enforcement levels and per-rule settings, validated against each rule's schema.

The shape is the CLI's: `{"all": "advisory", "<rule>": "disabled", "<rule>": {"enforcementLevel": ..., "<key>": ...}}`.
The CLI validates this itself; `ops plan` goes through `parse_pack_config` so a typo fails the same way offline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from policies.core.rule import Level, Rule

ALL = "all"
LEVEL_KEY = "enforcementLevel"


class PolicyConfigError(ValueError):
    """The policy pack config names an unknown rule, level or setting, or a setting has the wrong type."""


@dataclass(frozen=True)
class PackSettings:
    levels: Mapping[str, Level]
    settings: Mapping[str, Mapping[str, Any]]

    def level(self, rule: Rule) -> Level:
        return self.levels.get(rule.name, rule.level)

    def config(self, rule: Rule) -> Mapping[str, Any]:
        return self.settings.get(rule.name, {})


def _level(value: Any, where: str) -> Level:
    try:
        return Level(value)
    except ValueError:
        accepted = ", ".join(level.value for level in Level)
        raise PolicyConfigError(f"{where}: enforcement level {value!r} is not one of {accepted}") from None


_TYPES: Mapping[str, tuple[type, ...]] = {
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
    "array": (list, tuple),
    "object": (dict, Mapping),
}


def _check_value(value: Any, schema: Mapping[str, Any], where: str) -> None:
    expected = schema.get("type")
    if expected:
        accepted = _TYPES[expected]
        if not isinstance(value, accepted) or (expected in ("integer", "number") and isinstance(value, bool)):
            raise PolicyConfigError(f"{where}: expected {expected}, got {value!r}")
        if expected == "integer" and isinstance(value, float) and not value.is_integer():
            raise PolicyConfigError(f"{where}: expected integer, got {value!r}")
    if "enum" in schema and value not in schema["enum"]:
        raise PolicyConfigError(f"{where}: {value!r} is not one of {list(schema['enum'])}")
    if "minimum" in schema and value < schema["minimum"]:
        raise PolicyConfigError(f"{where}: {value!r} is below the minimum {schema['minimum']}")
    if "maximum" in schema and value > schema["maximum"]:
        raise PolicyConfigError(f"{where}: {value!r} is above the maximum {schema['maximum']}")
    if expected == "array":
        if "minItems" in schema and len(value) < schema["minItems"]:
            raise PolicyConfigError(f"{where}: needs at least {schema['minItems']} item(s)")
        item_schema = schema.get("items")
        if isinstance(item_schema, Mapping):
            for index, item in enumerate(value):
                _check_value(item, item_schema, f"{where}[{index}]")


def _rule_settings(rule: Rule, body: Mapping[str, Any]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for key, value in body.items():
        if key == LEVEL_KEY:
            continue
        if key not in rule.config_schema:
            known = ", ".join(sorted(rule.config_schema)) or "none"
            raise PolicyConfigError(f"{rule.name}: unknown setting {key!r} (settings: {known})")
        _check_value(value, rule.config_schema[key], f"{rule.name}.{key}")
        settings[key] = value
    return settings


def parse_pack_config(rules: Sequence[Rule], raw: Mapping[str, Any] | None) -> PackSettings:
    if raw is None:
        return PackSettings({}, {})
    if not isinstance(raw, Mapping):
        raise PolicyConfigError("policy pack config must be a JSON object keyed by policy name")
    by_name = {rule.name: rule for rule in rules}
    levels: dict[str, Level] = {}
    settings: dict[str, dict[str, Any]] = {}

    all_value = raw.get(ALL)
    if all_value is not None:
        level_value = all_value.get(LEVEL_KEY) if isinstance(all_value, Mapping) else all_value
        if level_value is not None:
            levels.update(dict.fromkeys(by_name, _level(level_value, ALL)))

    for name, value in raw.items():
        if name == ALL:
            continue
        rule = by_name.get(name)
        if rule is None:
            raise PolicyConfigError(f"unknown policy {name!r} in the policy pack config")
        if isinstance(value, Mapping):
            if value.get(LEVEL_KEY) is not None:
                levels[name] = _level(value[LEVEL_KEY], name)
            settings[name] = _rule_settings(rule, value)
        else:
            levels[name] = _level(value, name)
    return PackSettings(levels, settings)
