"""Shared fixtures: offline plans of the shipped stacks, computed once per test session."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from ops.plan.runner import PlanDocument, run_program
from ops.stackfile import STACKS_DIR, StackFile, load_stack, load_stack_file
from tests.kube_server import kube_api as kube_api  # the real local API server fixture


@functools.cache
def _registered(stack_name: str) -> PlanDocument:
    resources, outputs = run_program(load_stack(stack_name))
    return PlanDocument({"stack": stack_name, "resources": resources, "outputs": outputs,
                         "policies": {"ran": 0, "violations": []}})


@pytest.fixture(scope="session")
def registered() -> Callable[[str], PlanDocument]:
    """What the real program registers for a shipped stack, under the mock engine (no policy run)."""
    return _registered


def with_changes(config: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Apply `{"gitpod-cell:database.backupRetentionDays": 1}`-style changes; a value of None deletes the key."""
    for path, value in changes.items():
        top, *rest = path.split(".")
        target = config
        keys = [top, *rest]
        for key in keys[:-1]:
            target = target.setdefault(key, {})
        if value is None:
            target.pop(keys[-1], None)
        else:
            target[keys[-1]] = value
    return config


@pytest.fixture
def stack_variant(tmp_path: Path) -> Callable[[str, dict[str, Any]], StackFile]:
    """A copy of a shipped stack file with some config changed, written to a temporary stack file."""

    def make(base: str, changes: dict[str, Any]) -> StackFile:
        document = yaml.safe_load((STACKS_DIR / f"Pulumi.{base}.yaml").read_text())
        with_changes(document["config"], changes)
        path = tmp_path / f"Pulumi.{base}-variant.yaml"
        path.write_text(yaml.safe_dump(document))
        return load_stack_file(path)

    return make
