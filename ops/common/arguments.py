"""What the commands that reach a cell share: `--stack` and its overrides on the command line, and the stack file
and cell target they resolve to."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ops.common.cell_target import CellTarget, resolve_cell_target


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", required=True, help="stack name (stacks/Pulumi.<stack>.yaml)")
    parser.add_argument("--stack-file", type=Path, default=None, help="read this stack file instead")
    parser.add_argument("--db-instance", default=None,
                        help="RDS or Cloud SQL instance name (default gitpod-<stack>-db)")
    parser.add_argument("--bucket", default=None,
                        help="the cell's bucket (default gitpod-<stack>-<account>-<region> on AWS, "
                             "gitpod-<stack>-<project> on GCP)")
    parser.add_argument("--region", default=None,
                        help="region of the cell (default: the stack's aws:region or gcp:region)")
    parser.add_argument("--aws-profile", default=None, help="AWS profile (default: the standard credential chain)")


def stack_config(args: argparse.Namespace) -> dict[str, Any]:
    from ops.common import stackfile

    if getattr(args, "stack_file", None):
        return dict(stackfile.load_stack_file(args.stack_file, args.stack).config)
    return dict(stackfile.load_stack(args.stack, stackfile.STACKS_DIR).config)


def target_from_args(args: argparse.Namespace, clouds: tuple[str, ...] = ("aws",)) -> CellTarget:
    return resolve_cell_target(args.stack, stack_config(args), profile=args.aws_profile, db_instance=args.db_instance,
                               bucket=args.bucket, region=args.region, clouds=clouds)
