"""Reading resource properties the same way whether they are plain dicts (offline) or CrossGuard proxies (CLI).

CrossGuard wraps properties in Mapping/Sequence proxies that raise `UnknownValueError` when a value is unknown
during preview. `get` lets that propagate (the CLI then reports "can't run policy during preview"); `known`
swallows it, for joins that have a fallback.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any


def is_unknown_error(error: BaseException) -> bool:
    return type(error).__name__ == "UnknownValueError"


def get(obj: Any, path: str, default: Any = None) -> Any:
    """`obj["a"]["b"]` for path "a.b"; `default` when a step is missing or None."""
    current = obj
    for part in path.split("."):
        if not isinstance(current, Mapping):
            return default
        try:
            current = current[part]
        except KeyError:
            return default
        if current is None:
            return default
    return current


def known(obj: Any, path: str, default: Any = None) -> Any:
    """Like `get`, but an unknown value reads as `default` instead of raising."""
    try:
        return get(obj, path, default)
    except Exception as error:
        if is_unknown_error(error):
            return default
        raise


def truthy(value: Any) -> bool:
    """True for True and for the string "true" (some bridged inputs, e.g. EBS `encrypted`, are strings)."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return value is True


def is_false(value: Any) -> bool:
    """Explicitly false: False or the string "false" (absent is not false)."""
    if isinstance(value, str):
        return value.strip().lower() == "false"
    return value is False


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return list(value)
    return [value]


def as_mapping(value: Any) -> Mapping[str, Any]:
    """A mapping, also when the engine hands it over as a JSON string (provider inputs are JSON-encoded)."""
    if isinstance(value, Mapping):
        return value
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            decoded = json.loads(value)
        except ValueError:
            return {}
        return decoded if isinstance(decoded, Mapping) else {}
    return {}


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def json_document(value: Any) -> Mapping[str, Any] | None:
    """A JSON policy document given as a string or an object; None when absent or not JSON."""
    if isinstance(value, Mapping):
        return value
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            return None
        return decoded if isinstance(decoded, Mapping) else None
    return None

