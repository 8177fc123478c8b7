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


def all_resources(statement: Mapping[str, Any]) -> str | None:
    """How a statement's resources cover the account: "'*'" for `Resource: "*"`, "every resource except ..." for a
    `NotResource` (anything but `*`), None when it names resources."""
    if "*" in values(statement, "Resource"):
        return "'*'"
    excluded = values(statement, "NotResource")
    if excluded and "*" not in excluded:
        return f"every resource except {', '.join(excluded)}"
    return None


def not_actions(statement: Mapping[str, Any]) -> list[str]:
    """The `NotAction` list of a statement that allows everything else; [] when it has none (or excludes `*`)."""
    excluded = values(statement, "NotAction")
    return [] if "*" in excluded else excluded


def managed_policy_name(arn: str) -> str | None:
    """The name of an AWS-managed policy ARN (`arn:PARTITION:iam::aws:policy/[PATH/]NAME`), else None."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or parts[4] != "aws":
        return None
    if not parts[5].startswith("policy/"):
        return None
    return parts[5].rsplit("/", 1)[-1] or None


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

