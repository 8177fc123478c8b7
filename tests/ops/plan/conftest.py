"""The plan tests run `python -m ops plan` in-process, and the program itself once per distinct stack: the mock
engine's run is what costs (seconds), not the policy pack or the rendering, so every test that plans a shipped stack
shares one run of it (tests/conftest.py recorded_run, which the component tests use too)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ops.common.stackfile import StackFile
from ops.plan import runner
from tests.conftest import recorded_run


@pytest.fixture(scope="package", autouse=True)
def program_runs_once_per_stack() -> Iterator[None]:
    real = runner.run_program

    def run_program(stack: StackFile, program: Path = runner.PROGRAM, warnings: list[str] | None = None
                    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        if program != runner.PROGRAM:
            return real(stack, program, warnings)
        resources, outputs, logged = recorded_run(stack)
        if warnings is not None:
            warnings.extend(logged)
        return resources, outputs

    patch = pytest.MonkeyPatch()
    patch.setattr(runner, "run_program", run_program)
    yield
    patch.undo()
