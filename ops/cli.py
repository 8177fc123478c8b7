"""`python -m ops <command>`: one entry point; each command family registers its own sub-commands.

Each module named in COMMAND_MODULES exposes `register(subparsers)`, which adds its sub-command(s) and sets
`handler=<callable(args) -> int>` on each parser. Modules stay cheap to import: heavy imports happen in handlers.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from ops.common.failures import classify
from ops.errors import (
    EXIT_BAD_INPUT,
    EXIT_CANNOT_CHECK,
    EXIT_CODES_HELP,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    OpsError,
)

__all__ = ["COMMAND_MODULES", "EXIT_CONFIG_ERROR", "OpsError", "build_parser", "main"]

COMMAND_MODULES: tuple[str, ...] = (
    "ops.plan.cli",  # plan
    "ops.rollout.cli",  # rollout, fleet
    "ops.cluster.cli",  # maintenance
    "ops.backup.cli",  # backup, restore
    "ops.checks.cli",  # preflight, drill
)

# A bad flag or file (ops.errors.EXIT_BAD_INPUT); a missing credential is "could not check" (EXIT_CANNOT_CHECK).
EXIT_CONFIG_ERROR = EXIT_BAD_INPUT
EXIT_UNEXPECTED = EXIT_CANNOT_CHECK
DEBUG_ENV = "OPS_DEBUG"


class OpsArgumentParser(argparse.ArgumentParser):
    """Usage errors as one `error:` line naming the flag and where help is (exit 2), like every other error.
    Sub-command parsers are of the same class (argparse builds them with the parent's)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"error: {self.prog}: {_one_line(message)} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OpsArgumentParser(
        prog="python -m ops",
        description="Operate gitpod-cell cells: offline plans, rollouts, maintenance, backups, restores, drills and "
                    "preflight checks. Commands that reach a cell use the standard cloud credential chain and "
                    "$KUBECONFIG. Run it with the project's virtualenv: .venv/bin/python -m ops (make venv).",
        epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    _add_exit_codes(parser)
    return parser


def _add_exit_codes(parser: argparse.ArgumentParser) -> None:
    """Every sub-command's --help ends with the same exit-code table."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                child.epilog = (child.epilog + "\n\n" if child.epilog else "") + EXIT_CODES_HELP
                child.formatter_class = argparse.RawDescriptionHelpFormatter
                _add_exit_codes(child)


def _missing_module(error: ModuleNotFoundError) -> int:
    """`python -m ops` run outside the project's virtualenv: say which interpreter to use."""
    if os.environ.get(DEBUG_ENV):
        raise error
    print(f"error: module {error.name!r} is missing: run ops with the project's virtualenv, `make venv` then "
          "`.venv/bin/python -m ops ...`", file=sys.stderr)
    return EXIT_BAD_INPUT


def _one_line(text: str) -> str:
    return "; ".join(part.strip() for part in str(text).splitlines() if part.strip())


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
    except ModuleNotFoundError as error:
        return _missing_module(error)
    args = parser.parse_args(argv)  # usage errors: one line (OpsArgumentParser.error), exit 2
    try:
        return int(args.handler(args) or 0)
    except OpsError as error:
        code = error.exit_code
        cannot = classify(error) if code == EXIT_FAILED else None
        message = _one_line(str(error))
        if cannot is not None:
            code, message = EXIT_CANNOT_CHECK, f"{message} ({cannot.what}; {cannot.hint})"
        print(f"error: {message}", file=sys.stderr)
        return code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except ModuleNotFoundError as error:
        return _missing_module(error)
    except Exception as error:
        if os.environ.get(DEBUG_ENV):
            raise
        cannot = classify(error)
        if cannot is not None:
            print(f"error: {_one_line(cannot.line())}", file=sys.stderr)
            return EXIT_CANNOT_CHECK
        print(f"error: unexpected {type(error).__name__}: {_one_line(str(error))[:500]} (a bug in ops: please "
              f"report it; {DEBUG_ENV}=1 shows the traceback)", file=sys.stderr)
        return EXIT_UNEXPECTED
