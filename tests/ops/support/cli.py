"""Run one `python -m ops` command family in-process, as `ops.cli.main` would, with test seams on its arguments."""

from __future__ import annotations

import argparse
import contextlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ops import cli
from ops.common import stackfile


def run_command(module: Any, argv: list[str], **overrides: Any) -> int:
    """Only `module`'s commands are registered: other command families are not under test. Operator errors are
    printed to stdout as `error: ...` and give their exit code, as the real entry point does."""
    parser = argparse.ArgumentParser(prog="python -m ops")
    module.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    for name, value in overrides.items():
        setattr(args, name, value)
    try:
        return int(args.handler(args) or 0)
    except cli.OpsError as error:
        print(f"error: {error}")
        return error.exit_code


def use_stack_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str]) -> Path:
    """A stacks/ directory holding `Pulumi.<name>.yaml` for each entry, used instead of the repository's."""
    directory = tmp_path / "stacks"
    directory.mkdir(exist_ok=True)
    for name, text in files.items():
        (directory / f"Pulumi.{name}.yaml").write_text(text)
    monkeypatch.setattr(stackfile, "STACKS_DIR", directory)
    return directory


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: str
    stderr: str


def run_ops(*argv: str) -> Completed:
    """`python -m ops ARGV` in this process, through the real entry point (ops.cli.main): its exit code and what it
    printed. An exception other than an operator error propagates, failing the test, as a traceback would."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = cli.main(list(argv))
    return Completed(code, stdout.getvalue(), stderr.getvalue())
