"""`python -m ops <command>`: one entry point, one module per command family.

Each module named in COMMAND_MODULES exposes `register(subparsers)`, which adds its sub-command(s) and sets
`handler=<callable(args) -> int>` on each parser. Modules stay cheap to import: heavy imports happen in handlers.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMAND_MODULES: tuple[str, ...] = (
    "ops.plan.command",
    "ops.rollout_cli",
    "ops.maintenance_cli",
    "ops.backup_cli",
    "ops.restore_cli",
    "ops.drill_cli",
    "ops.preflight_cli",
)

EXIT_CONFIG_ERROR = 2
# boto3's and google-auth's "nothing to authenticate with" errors, matched by name so that the CLI imports neither.
CREDENTIAL_ERRORS = frozenset({"NoCredentialsError", "PartialCredentialsError", "DefaultCredentialsError",
                               "NoRegionError", "ProfileNotFound", "TokenRetrievalError", "SSOTokenLoadError"})


class OpsError(Exception):
    """An operator-facing failure: printed as one clear message, no traceback."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ops",
        description="Operate gitpod-cell cells: offline plans, rollouts, maintenance, backups, restores, drills and "
                    "preflight checks. Commands that reach a cell use the standard cloud credential chain and "
                    "$KUBECONFIG.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except OpsError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except Exception as error:
        if type(error).__name__ not in CREDENTIAL_ERRORS:
            raise
        print(f"error: no cloud credentials: {error} (log in with `aws sso login` / `gcloud auth "
              "application-default login`, or set AWS_PROFILE)", file=sys.stderr)
        return EXIT_CONFIG_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
