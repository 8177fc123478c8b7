"""The bad-input corpus and the CLI property test: every command run in-process through the real entry point
(ops.cli.main), with no cloud reachable. AWS calls go to a closed port on 127.0.0.1 (AWS_ENDPOINT_URL), Google has
no credentials and its metadata server is a closed loopback port (tests/ops/conftest.py), no kubeconfig exists,
and the Pulumi CLI is not on PATH, so nothing can leave the machine or change a real stack. The stacks directory is
a copy of the shipped one, so commands that write stack files (restore plan, storage-key rotate) write there."""

from __future__ import annotations

import contextlib
import io
import shutil
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from ops import cli
from ops.common import stackfile
from ops.rollout import cli as rollout_cli
from ops.rollout import fleet as fleet_module

EXIT_CODES = {0, 1, 2, 3}


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("error:")]


def run_ops(*argv: str) -> Run:
    out, err = io.StringIO(), io.StringIO()
    started = time.monotonic()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(list(argv))
        except SystemExit as exit_:  # argparse: --help (0) and usage errors (2)
            code = exit_.code if isinstance(exit_.code, int) else 2
    return Run(code, out.getvalue(), err.getvalue(), time.monotonic() - started)


def assert_well_behaved(run: Run) -> None:
    """The contract for any input: an exit code from the table, no traceback, a bug never, one error line."""
    assert run.code in EXIT_CODES, run
    assert "Traceback" not in run.stderr + run.stdout, run
    assert "unexpected" not in run.stderr, run  # ops.cli's catch-all: a bug, whatever the input
    assert len(run.error_lines) <= 1, run
    if run.code == 2:
        assert len(run.error_lines) == 1, run


@pytest.fixture
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of stacks/ as the stacks directory, and an environment in which no cloud is reachable."""
    stacks = tmp_path / "stacks"
    shutil.copytree(stackfile.STACKS_DIR, stacks)
    monkeypatch.setattr(stackfile, "STACKS_DIR", stacks)
    monkeypatch.setattr(fleet_module, "DEFAULT_FLEET_PATH", stacks / "fleet.yaml")
    monkeypatch.setattr(rollout_cli, "DEFAULT_FLEET_PATH", stacks / "fleet.yaml")
    monkeypatch.setattr(rollout_cli, "STACKS_DIR", stacks)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.delenv("GITPOD_DB_PASSWORD", raising=False)
    monkeypatch.chdir(tmp_path)
    return stacks
