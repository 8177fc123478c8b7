"""`python -m ops <command>`: one entry point; each command family registers its own sub-commands.

Each module named in COMMAND_MODULES exposes `register(subparsers)`, which adds its sub-command(s) and sets
`handler=<callable(args) -> int>` on each parser. Modules stay cheap to import: heavy imports happen in handlers.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ops.errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, OpsError

__all__ = ["COMMAND_MODULES", "EXIT_CONFIG_ERROR", "OpsError", "build_parser", "main"]

COMMAND_MODULES: tuple[str, ...] = (
    "ops.plan.cli",  # plan
    "ops.rollout.cli",  # rollout, fleet
    "ops.cluster.cli",  # maintenance
    "ops.backup.cli",  # backup, restore
    "ops.checks.cli",  # preflight, drill
)

# What a missing credential exits with today (the table in ops.errors reserves 3 for it).
EXIT_CONFIG_ERROR = EXIT_BAD_INPUT
# boto3's and google-auth's "nothing to authenticate with" errors, matched by name so that the CLI imports neither.
CREDENTIAL_ERRORS = frozenset({"NoCredentialsError", "PartialCredentialsError", "DefaultCredentialsError",
                               "NoRegionError", "ProfileNotFound", "TokenRetrievalError", "SSOTokenLoadError"})


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
        return EXIT_INTERRUPTED
