"""`python -m ops`: operator errors and missing cloud credentials end in one `error:` line, not a traceback."""

from __future__ import annotations

import argparse

import pytest
from botocore.exceptions import NoCredentialsError

from ops import cli


def parser_whose_command_raises(error: BaseException) -> argparse.ArgumentParser:
    def handler(_args: argparse.Namespace) -> int:
        raise error

    parser = argparse.ArgumentParser(prog="python -m ops")
    parser.add_subparsers(dest="command", required=True).add_parser("probe").set_defaults(handler=handler)
    return parser


def test_missing_cloud_credentials_are_a_config_error(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(cli, "build_parser", lambda: parser_whose_command_raises(NoCredentialsError()))
    assert cli.main(["probe"]) == cli.EXIT_CONFIG_ERROR
    err = capsys.readouterr().err
    assert err.startswith("error: no cloud credentials: Unable to locate credentials")
    assert "Traceback" not in err


def test_other_errors_are_not_swallowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "build_parser", lambda: parser_whose_command_raises(ZeroDivisionError("bug")))
    with pytest.raises(ZeroDivisionError):
        cli.main(["probe"])
