"""`python -m ops`: operator errors and missing cloud credentials end in one `error:` line, not a traceback."""

from __future__ import annotations

import argparse

import pytest
from botocore.exceptions import NoCredentialsError

from ops import cli
from ops.errors import EXIT_CANNOT_CHECK


def parser_whose_command_raises(error: BaseException) -> argparse.ArgumentParser:
    def handler(_args: argparse.Namespace) -> int:
        raise error

    parser = argparse.ArgumentParser(prog="python -m ops")
    parser.add_subparsers(dest="command", required=True).add_parser("probe").set_defaults(handler=handler)
    return parser


def test_missing_cloud_credentials_could_not_be_checked(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(cli, "build_parser", lambda: parser_whose_command_raises(NoCredentialsError()))
    assert cli.main(["probe"]) == EXIT_CANNOT_CHECK
    err = capsys.readouterr().err
    assert err == ("error: no usable AWS credentials: Unable to locate credentials (log in with `aws sso login` (or "
                   "set AWS_PROFILE / pass --aws-profile))\n")


def test_a_bug_is_one_line_and_shows_its_traceback_on_request(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(cli, "build_parser", lambda: parser_whose_command_raises(ZeroDivisionError("bug")))
    assert cli.main(["probe"]) == EXIT_CANNOT_CHECK
    err = capsys.readouterr().err
    assert err.startswith("error: unexpected ZeroDivisionError: bug (a bug in ops")
    assert err.count("\n") == 1
    monkeypatch.setenv("OPS_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        cli.main(["probe"])
