"""Shared fixtures: offline plans of the shipped stacks, computed once per test session."""

from __future__ import annotations

import copy
import functools
import gc
import json
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from ops.common.stackfile import REPO_ROOT, STACKS_DIR, StackFile, load_stack, load_stack_file
from ops.plan import runner
from ops.plan.runner import PlanDocument, run_program
from tests.kube_server import kube_api as kube_api  # the real local API server fixture

# The real engine `make engine` builds: first on PATH for every test (the CLI finds its providers there, and the
# Automation API finds the CLI there), so the `pulumi_cli` tests run wherever `make engine` has run.
TOOLS_BIN = REPO_ROOT / ".tools" / "bin"
os.environ["PATH"] = f"{TOOLS_BIN}{os.pathsep}{os.environ.get('PATH', '')}"


# pytest caches each test module's assertion-rewritten code in __pycache__ (git-ignored) unless bytecode writing is
# off, and this machine's environment turns it off (PYTHONDONTWRITEBYTECODE=1): then every worker rewrites all ~110
# test modules again, ~3 of the ~6 s it spends collecting. Test processes write it; subprocesses keep the setting.
sys.dont_write_bytecode = False

# A test process keeps a large, long-lived heap (the cloud SDKs' modules, the cached program runs) while every
# mock-engine run makes hundreds of thousands of short-lived objects: at the default thresholds (700, 10, 10) the
# collector walked that heap ~35 times per worker and took ~17% of a full run (measured with gc.callbacks: 30 s of
# 173 s per worker on a busy machine). Rarer young collections and far rarer full ones cut that to ~9 s; peak memory
# grows ~10% (~380 MB instead of ~340 MB for tests/components + tests/policies). Nothing here relies on cycles being
# freed promptly.
gc.set_threshold(10_000, 20, 100)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A `pulumi_cli` test without the CLI fails, naming the fix: it is never skipped."""
    if item.get_closest_marker("pulumi_cli") and shutil.which("pulumi") is None:
        pytest.fail(f"needs the Pulumi CLI ({TOOLS_BIN / 'pulumi'}): run `make engine`", pytrace=False)


ProgramRun = tuple[list[dict[str, Any]], dict[str, Any], list[str]]


_RUNS: dict[tuple[str, str, frozenset[str]], ProgramRun] = {}


def recorded_run(stack: StackFile) -> ProgramRun:
    """What the program registers for `stack` (resources, outputs, the warnings it logs), run under the mock engine
    once per test process for each distinct stack (name, config, secret keys); a copy, so a test may change it."""
    key = (stack.name, json.dumps(stack.config, sort_keys=True, default=str), stack.secret_keys)
    if key not in _RUNS:
        warnings: list[str] = []
        resources, outputs = run_program(stack, warnings=warnings)
        _RUNS[key] = (resources, outputs, warnings)
    return copy.deepcopy(_RUNS[key])


def shared_run_program(stack: StackFile, program: Path = runner.PROGRAM, warnings: list[str] | None = None
                       ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """`ops.plan.runner.run_program` served by `recorded_run` (the real one for another program)."""
    if program != runner.PROGRAM:
        return run_program(stack, program, warnings)
    resources, outputs, logged = recorded_run(stack)
    if warnings is not None:
        warnings.extend(logged)
    return resources, outputs


@pytest.fixture
def shared_program_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Code under test that plans (`build_plan`) shares the process's runs of each distinct stack: for tests that
    patch nothing the program runs (a patched program must run again)."""
    monkeypatch.setattr(runner, "run_program", shared_run_program)


@functools.cache
def _registered(stack_name: str) -> PlanDocument:
    resources, outputs, _warnings = recorded_run(load_stack(stack_name))
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
