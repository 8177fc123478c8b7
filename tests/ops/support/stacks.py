"""Valid stack files for command tests: every command now validates its stack as `ops plan` does, so a test's
stack is a shipped one (dev on AWS, dev-gcp on GCP) with the test's own values merged in."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import yaml

from ops.common.stackfile import STACKS_DIR


def shipped_config(stack: str = "dev") -> dict[str, Any]:
    document = yaml.safe_load((STACKS_DIR / f"Pulumi.{stack}.yaml").read_text())
    return dict(document["config"])


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        elif value is None:
            merged.pop(key, None)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def stack_config(base: str = "dev", overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The shipped `base` stack's config with `overrides` deep-merged (a None value removes a key)."""
    return _merge(shipped_config(base), overrides or {})


def stack_text(base: str = "dev", overrides: Mapping[str, Any] | None = None, **top: Any) -> str:
    """A stack file's text: `base`'s config with `overrides` merged (and `top`-level keys such as
    `encryptionsalt`)."""
    return yaml.safe_dump({**top, "config": stack_config(base, overrides)}, sort_keys=False)
