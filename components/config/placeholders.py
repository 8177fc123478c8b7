"""Example values left in a stack file: the shipped stacks are examples, so they must plan, but none of their
placeholders may reach a real staging or prod cell.

A placeholder is a documentation name or range (RFC 2606 `example.com|org|net` and their subdomains, also inside an
e-mail address or URL; RFC 5737 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24), AWS's documentation account
123456789012, or a `CHANGE` marker in a value (`CHANGE-ME`, `<CHANGE>`). Comments are not values: the engine never
sees them, so a `# CHANGE:` comment beside a real value is fine.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping
from typing import Any

EXAMPLE_DOMAIN = re.compile(r"(?:^|[.@/])example\.(?:com|org|net)(?:$|[/:.])", re.IGNORECASE)
DOCUMENTATION_NETWORKS = tuple(ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"))
EXAMPLE_ACCOUNT = "123456789012"
_ACCOUNT = re.compile(rf"(?<!\d){EXAMPLE_ACCOUNT}(?!\d)")
_CHANGE_MARKER = re.compile(r"CHANGE")


def placeholder_reason(value: str) -> str | None:
    """Why `value` is a placeholder, or None."""
    if _CHANGE_MARKER.search(value):
        return "a CHANGE marker"
    if EXAMPLE_DOMAIN.search(value.strip().rstrip(".")):
        return "a documentation domain (example.com/.org/.net)"
    if _ACCOUNT.search(value):
        return f"the documentation AWS account {EXAMPLE_ACCOUNT}"
    try:
        network = ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return None
    if any(network.version == doc.version and network.subnet_of(doc) for doc in DOCUMENTATION_NETWORKS):  # type: ignore[arg-type]
        return "a documentation address range (RFC 5737)"
    return None


def _walk(key: str, value: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, Mapping):
        for name, item in value.items():
            yield from _walk(f"{key}.{name}", item)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _walk(f"{key}[{index}]", item)


def find_placeholders(raw: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(stack-config key, message) for every placeholder in the flat stack-config map, structured values walked
    (JSON text, as the engine passes sections, is parsed first)."""
    import contextlib
    import json

    found: list[tuple[str, str]] = []
    for top, value in sorted(raw.items()):
        if isinstance(value, str) and value[:1] in "{[":
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        for key, text in _walk(top, value):
            reason = placeholder_reason(text)
            if reason:
                found.append((key, f"{text!r} is {reason}, a placeholder: set the real value"))
    return found
