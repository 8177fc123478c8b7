"""Helpers for config tests: a shipped stack's raw config, changed, and the issues validation reports."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from components.config import CellConfig, CellConfigError
from ops.common.stackfile import load_stack
from tests.conftest import with_changes


def shipped(name: str) -> dict[str, Any]:
    return copy.deepcopy(load_stack(name).config)


def issues_for(base: str, changes: dict[str, Any]) -> dict[str, str]:
    """The (key -> message) issues of a shipped stack's config with `changes` applied; it must be invalid."""
    with pytest.raises(CellConfigError) as caught:
        CellConfig.from_stack_config(base, with_changes(shipped(base), changes))
    return dict(caught.value.issues)
