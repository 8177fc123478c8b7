"""What the commands that reach a cell share: `--stack` and its overrides on the command line, and the stack file
and cell target they resolve to."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from ops.common.cell_target import CellTarget, resolve_cell_target
from ops.errors import EXIT_BAD_INPUT, OpsError

_IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$")


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
    """The stack's config, read and validated as `ops plan` validates it (OpsError, exit 2, naming the key)."""
    from ops.common.cell_config import load_cell

    stack, _config = load_cell(args.stack, getattr(args, "stack_file", None))
    return dict(stack.config)


def check_target_arguments(args: argparse.Namespace, cloud: str) -> None:
    """What the overrides must be for the stack's cloud, before any client is built."""
    from contract.naming import db_instance_identifier

    region = getattr(args, "region", None)
    if region is not None:
        from components.config.aws import AWS_REGION
        from components.config.gcp import GCP_REGION

        pattern, example = (GCP_REGION, "europe-west1") if cloud == "gcp" else (AWS_REGION, "eu-west-1")
        if not pattern.match(region):
            raise OpsError(f"--region {region!r}: not a {cloud.upper()} region such as {example}", EXIT_BAD_INPUT)
    if cloud == "gcp" and getattr(args, "aws_profile", None):
        raise OpsError(f"--aws-profile: stack {args.stack!r} is a GCP cell; GCP credentials come from "
                       "`gcloud auth application-default login`", EXIT_BAD_INPUT)
    overrides = (("--db-instance", getattr(args, "db_instance", None)), ("--bucket", getattr(args, "bucket", None)))
    for flag, value in overrides:
        if value is not None and not _IDENTIFIER.match(value):
            raise OpsError(f"{flag} {value!r}: not a resource name (letters, digits, '-', '_', '.'; e.g. "
                           f"{db_instance_identifier(args.stack) if flag == '--db-instance' else 'my-bucket'})",
                           EXIT_BAD_INPUT)


def target_from_args(args: argparse.Namespace, clouds: tuple[str, ...] = ("aws",)) -> CellTarget:
    config = stack_config(args)
    check_target_arguments(args, str(config.get("gitpod-cell:cloud") or "aws"))
    return resolve_cell_target(args.stack, config, profile=args.aws_profile, db_instance=args.db_instance,
                               bucket=args.bucket, region=args.region, clouds=clouds)
