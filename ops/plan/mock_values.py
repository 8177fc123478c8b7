"""What the offline plan's mock answers share: stable digests (the same inputs give the same ids run to run) and
the builder types each cloud's answers follow."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

# A resource's physical id and the outputs it adds, from its name, its inputs and its provider's region.
OutputBuilder = Callable[[str, dict[str, Any], str], tuple[str, dict[str, Any]]]
# A data source's answer, from its arguments and its provider's region.
CallAnswer = Callable[[dict[str, Any], str], dict[str, Any]]


def digest(*parts: str, length: int = 17) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def static_key(id_key: str) -> OutputBuilder:
    """Keys (AWS access keys, GCS HMAC keys): an id and a secret that only say they are the plan's placeholders."""
    def build(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
        key_id = f"OFFLINEPLAN{digest(name, length=9).upper()}"
        return key_id, {id_key: key_id, "secret": f"offline-plan-secret-{digest(name)}"}

    return build
