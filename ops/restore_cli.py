"""`python -m ops restore plan --from-stack OLD --to-stack NEW [--time T] [--region R] [--config-backup KEY[@VERSION]]`.

Writes stacks/Pulumi.NEW.yaml from OLD's stack file and backups (ops/restore_plan.py) and prints the commands to
run. The installer config backup (and with it the Gitpod version) is the newest taken at or before T, and the plan
says which and why; none that old is refused unless --config-backup names the one to install. AWS: --region R
restores into OLD's replica region (when OLD's region is gone): the replica bucket is adopted and the database is
restored from the backups replicated there. GCP: the database is a Cloud SQL clone of OLD's
instance and OLD's multi-region bucket is adopted; a clone stays in its source's region, so --region is refused.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ops.cli import EXIT_CONFIG_ERROR, OpsError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("restore", help="restore a cell into a new one from its backups",
                                   description=__doc__.splitlines()[0])
    actions = parser.add_subparsers(dest="restore_action", required=True, metavar="ACTION")
    plan = actions.add_parser("plan", help="write the new stack file and print the `pulumi up` to run")
    plan.add_argument("--from-stack", required=True, help="the cell to restore from")
    plan.add_argument("--to-stack", required=True, help="the new cell's stack name")
    plan.add_argument("--time", default="latest", help="restore time (RFC3339) or 'latest' (default)")
    plan.add_argument("--region", default=None, help="region of the new cell: OLD's region (default) or, on AWS, "
                                                     "its replica region")
    plan.add_argument("--config-backup", default=None, metavar="KEY[@VERSION]",
                      help="the installer config backup to install, exactly (a key in OLD's bucket, @ its S3 "
                           "version id or GCS generation; no version: the current one). Default: the newest backup "
                           "taken at or before --time")
    plan.add_argument("--installer-image", default=None,
                      help="installer image for the backed-up version (default: OLD's image with that tag)")
    plan.add_argument("--db-instance", default=None,
                      help="OLD's RDS or Cloud SQL instance (default gitpod-<OLD>-db)")
    plan.add_argument("--bucket", default=None, help="OLD's primary bucket (default gitpod-<OLD>-<account>-<region> "
                                                     "on AWS, gitpod-<OLD>-<project> on GCP)")
    plan.add_argument("--aws-profile", default=None, help="AWS profile (default: the standard credential chain)")
    plan.add_argument("--force", action="store_true", help="overwrite the new stack file if it exists")
    plan.set_defaults(handler=plan_command)


def plan_command(args: argparse.Namespace) -> int:
    from components.config import stack_name_problem
    from contract.naming import SUPPORTED_CLOUDS
    from ops import stackfile
    from ops.cell_target import aws_session, resolve_cell_target
    from ops.cloud_clients import cell_clients, object_url
    from ops.config_backup import describe_backup
    from ops.restore_plan import RestorePlanError, RestoreRequest, plan_restore

    if args.from_stack == args.to_stack:
        raise OpsError("--to-stack must name a new stack, not the one restored from", EXIT_CONFIG_ERROR)
    old = stackfile.load_stack(args.from_stack, stackfile.STACKS_DIR)
    # Checked before anything reaches the cloud: during an incident a stack file that fails at `ops plan` costs time.
    name_problem = stack_name_problem(args.to_stack, str(old.config.get("gitpod-cell:cloud") or "aws"))
    if name_problem:
        raise OpsError(f"--to-stack {name_problem}", EXIT_CONFIG_ERROR)
    new_path = stackfile.stack_path(args.to_stack, stackfile.STACKS_DIR)
    if new_path.exists() and not args.force:
        raise OpsError(f"{new_path} exists; pass --force to overwrite it", EXIT_CONFIG_ERROR)
    old_region = str(old.config.get("aws:region") or "")

    def account_id() -> str:
        return str(aws_session(args.aws_profile, old_region or "us-east-1").client("sts")
                   .get_caller_identity()["Account"])

    old_target = resolve_cell_target(args.from_stack, old.config, account_id=account_id,
                                     db_instance=args.db_instance, bucket=args.bucket, clouds=SUPPORTED_CLOUDS)
    clients = cell_clients(old_target, aws_profile=args.aws_profile)
    request = RestoreRequest(args.from_stack, args.to_stack, args.time, args.region, args.installer_image,
                             args.config_backup)
    try:
        plan = plan_restore(request, dict(old.config), old.secret_keys, old_target,
                            clients.restore_sources(args.region))
    except RestorePlanError as error:
        raise OpsError(f"cannot plan the restore: {error}", EXIT_CONFIG_ERROR) from error
    new_path.write_text(plan.stack_file_text(args.from_stack))
    print(f"wrote {new_path}")
    print(f"  database: {plan.window.describe()}")
    print(f"  restore to: {plan.restore['pointInTime']}; adopt bucket {plan.restore['adoptBucket']}")
    print(f"  Gitpod {plan.backup.gitpod_version} with the config backed up at "
          f"{object_url(clients.scheme, plan.backup.bucket, plan.backup.key)} (version {plan.backup.version_id})")
    print(f"  config backup: {describe_backup(plan.backup)}")
    print(f"    chosen as {plan.backup_reason}")
    for note in plan.notes:
        print(f"  note: {note}")
    print("then run:")
    for command in plan.commands(_relative(new_path)):
        print(f"  {command}")
    return 0


def _relative(path: Path) -> Path:
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path
