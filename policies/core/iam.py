"""AWS IAM policy documents: statements, actions, resources, principals, conditions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies.core.props import as_list, json_document


def statements(document: Any) -> list[Mapping[str, Any]]:
    """The statements of a policy given as a JSON string or an object; [] when absent or unparsable."""
    parsed = json_document(document)
    if parsed is None:
        return []
    return [statement for statement in as_list(parsed.get("Statement")) if isinstance(statement, Mapping)]


def is_allow(statement: Mapping[str, Any]) -> bool:
    return str(statement.get("Effect", "")).lower() == "allow"


def is_deny(statement: Mapping[str, Any]) -> bool:
    return str(statement.get("Effect", "")).lower() == "deny"


def values(statement: Mapping[str, Any], key: str) -> list[str]:
    return [str(value) for value in as_list(statement.get(key))]


def is_full_wildcard_action(action: str) -> bool:
    return action in ("*", "*:*")


def is_service_wildcard_action(action: str) -> bool:
    return action.endswith(":*") and not is_full_wildcard_action(action)


def condition_values(statement: Mapping[str, Any], operator: str, key_suffix: str) -> list[str]:
    """Values of every condition key ending in `key_suffix` under `operator` (e.g. StringEquals, ":sub")."""
    conditions = statement.get("Condition")
    if not isinstance(conditions, Mapping):
        return []
    block = conditions.get(operator)
    if not isinstance(block, Mapping):
        return []
    found: list[str] = []
    for key, value in block.items():
        if str(key).endswith(key_suffix):
            found.extend(str(item) for item in as_list(value))
    return found

