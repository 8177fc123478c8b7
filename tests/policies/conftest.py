"""Fixtures for policy tests: run one rule offline over a few records and get its violations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from policies.offline import evaluate

Violations = list[tuple[str | None, str]]


@pytest.fixture
def check() -> Callable[..., Violations]:
    """`check(rule, *records, config=None)` -> [(urn, message), ...] for that rule only, sorted as `evaluate` sorts."""

    def run(rule: str, *records: dict[str, Any], config: Any = None) -> Violations:
        policy_config = {rule: config} if config is not None else None
        result = evaluate(list(records), policy_config)
        return [(v["urn"], v["message"]) for v in result["violations"] if v["policy"] == rule]

    return run
