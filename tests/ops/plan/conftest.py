"""The plan tests run `python -m ops plan` in-process, and the program itself once per distinct stack: the mock
engine's run is what costs (seconds), not the policy pack or the rendering, so every test that plans a shipped stack
shares one run of it (tests/conftest.py recorded_run, which the component tests use too)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ops.plan import runner
from tests.conftest import shared_run_program


@pytest.fixture(scope="package", autouse=True)
def program_runs_once_per_stack() -> Iterator[None]:
    patch = pytest.MonkeyPatch()
    patch.setattr(runner, "run_program", shared_run_program)
    yield
    patch.undo()
