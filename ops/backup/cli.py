"""`python -m ops backup status|config` and `python -m ops restore plan`: what is backed up, a config backup on
demand, and a restore into a new cell.

backup status   database PITR window, cross-region backup copies, last snapshot; bucket versioning and replication;
                the last installer config + version-label backup; registry; and what is not protected, in plain words
backup config   back up the applied installer config and version label now (same format as the rollout hook's)
restore plan    --from-stack OLD --to-stack NEW [--time T] [--region R] [--config-backup KEY[@VERSION]]: writes
                stacks/Pulumi.NEW.yaml from OLD's stack file and backups (ops.backup.restore_plan) and prints the
                commands to run. The installer config backup (and with it the Gitpod version) is the newest taken at
                or before T, and the plan says which and why; none that old is refused unless --config-backup names
                the one to install. AWS: --region R restores into OLD's replica region (when OLD's region is gone):
                the replica bucket is adopted and the database is restored from the backups replicated there. GCP:
                the database is a Cloud SQL clone of OLD's instance and OLD's multi-region bucket is adopted; a clone
                stays in its source's region, so --region is refused.

Every command works on every cloud: the cell's clients come from ops.clouds.cell_clients.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from ops.clouds import SUPPORTED_CLOUDS
from ops.common.arguments import add_target_arguments, target_from_args
from ops.errors import EXIT_BAD_INPUT, EXIT_CANNOT_CHECK, EXIT_FAILED, OpsError

# The whole `backup status`: each cloud call gives up sooner (connect 5 s, read 20 s, 3 attempts).
DEFAULT_STATUS_TIMEOUT = 90.0

BACKUP_DESCRIPTION = ("`python -m ops backup status|config --stack NAME`: what is backed up, and a config backup on "
                      "demand.")
RESTORE_DESCRIPTION = ("`python -m ops restore plan --from-stack OLD --to-stack NEW [--time T] [--region R] "
                       "[--config-backup KEY[@VERSION]]`.")


def register(subparsers: Any) -> None:
    register_backup(subparsers)
    register_restore(subparsers)


# -- backup -------------------------------------------------------------------------------------------------------


def register_backup(subparsers: Any) -> None:
    parser = subparsers.add_parser("backup", help="backup status of a cell; installer config backup on demand",
                                   description=BACKUP_DESCRIPTION)
    actions = parser.add_subparsers(dest="backup_action", required=True, metavar="ACTION")
    status = actions.add_parser(
        "status", help="what is backed up, where, and what is not protected",
        description="What is backed up, where, and what is not protected. Exits 0 when every section was read and "
                    "nothing is unprotected beyond what is so by design (the cluster, registry images), 1 when "
                    "something is not protected, 3 when a section could not be read (no credentials, unreachable) "
                    f"or the whole check took longer than --timeout (default {DEFAULT_STATUS_TIMEOUT:g} s; each "
                    "cloud call gives up sooner, see docs/backup-and-restore.md).")
    add_target_arguments(status)
    status.add_argument("--json", action="store_true", help="one JSON document")
    status.add_argument("--timeout", type=float, default=DEFAULT_STATUS_TIMEOUT, metavar="SECONDS",
                        help=f"give up (exit 3) after this long (default {DEFAULT_STATUS_TIMEOUT:g})")
    status.set_defaults(handler=status_command)
    config = actions.add_parser("config", help="back up the installer config and version label now")
    add_target_arguments(config)
    config.add_argument("--kubeconfig", default=None, help="kubeconfig path; default $KUBECONFIG or ~/.kube/config")
    config.add_argument("--context", default=None, help="kubeconfig context")
    config.add_argument("--namespace", default=None, help="Gitpod namespace; default: the stack's gitpod.namespace")
    config.set_defaults(handler=config_command)


def status_command(args: argparse.Namespace) -> int:
    from ops.backup.status import collect_backup_status
    from ops.clouds import cell_clients
    from ops.common.deadline import run_within
    from ops.common.failures import classify
    from ops.common.timestamps import utc_now

    if not 1 <= args.timeout <= 3600:
        raise OpsError(f"--timeout {args.timeout:g}: accepted 1-3600 seconds", EXIT_BAD_INPUT)
    target = target_from_args(args, clouds=SUPPORTED_CLOUDS)

    def collect() -> Any:
        cell = cell_clients(target, profile=args.aws_profile)
        return collect_backup_status(cell.backup_status(), cell.object_store(), target, utc_now(),
                                     progress=_progress)

    status = run_within(args.timeout, collect, f"backup status of {target.stack!r}")
    print(json.dumps(status.to_dict(), indent=2, sort_keys=True) if args.json else status.describe())
    if status.failures:
        name, error = next(iter(status.failures.items()))
        cannot = classify(error)
        reason = cannot.line() if cannot else f"{type(error).__name__}: {error}"
        raise OpsError(f"backup status of {target.stack!r}: {len(status.failures)} of {len(status.sections)} "
                       f"sections could not be read ({name}: {reason})", EXIT_CANNOT_CHECK)
    return EXIT_FAILED if status.gaps else 0


def _progress(line: str) -> None:
    import sys

    print(line, file=sys.stderr, flush=True)


def config_command(args: argparse.Namespace) -> int:
    from ops.backup.config_backup import ConfigBackupError
    from ops.backup.config_now import BackupConfigError, backup_config_now
    from ops.backup.config_store import ConfigBackupStore
    from ops.clouds import cell_clients
    from ops.cluster.kube import KubeClient, KubeConfigError, KubeError
    from ops.common.failures import LOGIN_HINTS
    from ops.common.files import read_text
    from ops.common.timestamps import utc_now

    if args.kubeconfig is not None:
        read_text(Path(args.kubeconfig), "--kubeconfig")
    target = target_from_args(args, clouds=SUPPORTED_CLOUDS)
    try:
        kube = KubeClient.from_environment(args.kubeconfig, args.context)
    except KubeConfigError as error:
        raise OpsError(f"kubeconfig: {error} ({LOGIN_HINTS['kubernetes']})", EXIT_CANNOT_CHECK) from error
    objects = cell_clients(target, profile=args.aws_profile).object_store()
    try:
        backup = backup_config_now(kube, ConfigBackupStore(objects), target.stack,
                                   args.namespace or target.gitpod_namespace, utc_now())
    except (BackupConfigError, ConfigBackupError, KubeError) as error:
        raise OpsError(f"config backup failed: {error}") from error
    print(f"backed up Gitpod {backup.gitpod_version} (config {backup.config_hash}) to "
          f"{objects.url(backup.key)} version {backup.version_id}")
    return 0


# -- restore ----------------------------------------------------------------------------------------------------


def register_restore(subparsers: Any) -> None:
    parser = subparsers.add_parser("restore", help="restore a cell into a new one from its backups",
                                   description=RESTORE_DESCRIPTION)
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
    plan.add_argument("--installer-image", default=None, metavar="IMAGE",
                      help="installer image for the backed-up version, e.g. a mirror's (default: OLD's installer "
                           "repository tagged with that version)")
    plan.add_argument("--db-instance", default=None,
                      help="OLD's RDS or Cloud SQL instance (default gitpod-<OLD>-db)")
    plan.add_argument("--bucket", default=None, help="OLD's primary bucket (default gitpod-<OLD>-<account>-<region> "
                                                     "on AWS, gitpod-<OLD>-<project> on GCP)")
    plan.add_argument("--aws-profile", default=None, help="AWS profile (default: the standard credential chain)")
    plan.add_argument("--force", action="store_true",
                      help="overwrite stacks/Pulumi.NEW.yaml if it exists (e.g. a plan written earlier for another "
                           "--time); without it an existing file is never touched")
    plan.set_defaults(handler=plan_command)


def plan_command(args: argparse.Namespace) -> int:
    from components.config import stack_name_problem
    from ops.backup.config_backup import describe_backup
    from ops.backup.restore_plan import RestorePlanError, RestoreRequest, plan_restore
    from ops.clouds import cell_clients
    from ops.common import stackfile
    from ops.common.cell_config import load_cell
    from ops.common.cell_target import resolve_cell_target

    if args.from_stack == args.to_stack:
        raise OpsError("--to-stack must name a new stack, not the one restored from", EXIT_BAD_INPUT)
    _check_restore_arguments(args)
    # Checked before anything reaches the cloud: during an incident a stack file that fails at `ops plan` costs time.
    old, old_config = load_cell(args.from_stack, flag="--from-stack")
    name_problem = stack_name_problem(args.to_stack, old_config.cloud)
    if name_problem:
        raise OpsError(f"--to-stack {name_problem}", EXIT_BAD_INPUT)
    new_path = stackfile.stack_path(args.to_stack, stackfile.STACKS_DIR)
    if new_path.is_dir():
        raise OpsError(f"--to-stack {args.to_stack}: {new_path} is a directory; remove it or pick another name",
                       EXIT_BAD_INPUT)
    if new_path.exists() and not args.force:
        raise OpsError(f"--to-stack {args.to_stack}: {new_path} exists; pass --force to overwrite it", EXIT_BAD_INPUT)
    _check_restore_region(args, old_config)
    old_target = resolve_cell_target(args.from_stack, old.config, profile=args.aws_profile,
                                     db_instance=args.db_instance, bucket=args.bucket, clouds=SUPPORTED_CLOUDS)
    clients = cell_clients(old_target, profile=args.aws_profile)
    request = RestoreRequest(args.from_stack, args.to_stack, args.time, args.region, args.installer_image,
                             args.config_backup)
    try:
        plan = plan_restore(request, dict(old.config), old.secret_keys, old_target,
                            clients.restore_sources(args.region))
    except RestorePlanError as error:
        raise OpsError(f"cannot plan the restore: {error}", EXIT_BAD_INPUT) from error
    new_path.write_text(plan.stack_file_text(args.from_stack))
    print(f"wrote {new_path}")
    print(f"  database: {plan.window.describe()}")
    print(f"  restore to: {plan.restore['pointInTime']}; adopt bucket {plan.restore['adoptBucket']}")
    print(f"  Gitpod {plan.backup.gitpod_version} with the config backed up at "
          f"{clients.object_store(plan.backup.bucket).url(plan.backup.key)} (version {plan.backup.version_id})")
    print(f"  config backup: {describe_backup(plan.backup)}")
    print(f"    chosen as {plan.backup_reason}")
    for note in plan.notes:
        print(f"  note: {note}")
    print("then run:")
    for command in plan.commands(_relative(new_path)):
        print(f"  {command}")
    return 0


def _check_restore_arguments(args: argparse.Namespace) -> None:
    """--time, --config-backup and --installer-image, before any stack file or cloud is read."""
    from ops.common.timestamps import parse_rfc3339

    if args.time != "latest":
        try:
            parse_rfc3339(args.time)
        except ValueError as error:
            raise OpsError(f"--time: {error}, or 'latest'", EXIT_BAD_INPUT) from None
    if args.config_backup is not None and (not args.config_backup.strip() or args.config_backup.startswith("@")):
        raise OpsError(f"--config-backup {args.config_backup!r}: expected KEY[@VERSION], a key in the old cell's "
                       "bucket (`ops backup status` shows the last one)", EXIT_BAD_INPUT)
    if args.installer_image is not None and not _IMAGE.match(args.installer_image):
        raise OpsError(f"--installer-image {args.installer_image!r}: not an image reference such as "
                       "eu.gcr.io/gitpod-core-dev/build/installer:release-2022.11.3", EXIT_BAD_INPUT)


def _check_restore_region(args: argparse.Namespace, config: Any) -> None:
    """--region: the old cell's region, or (AWS) its replica region; a GCP clone stays in its source's region."""
    if args.region is None or args.region == config.region:
        return
    if config.cloud == "gcp":
        from ops.clouds.gcp.restore import other_region_refusal
        from ops.clouds.gcp.target import resolve_target

        target = resolve_target(args.from_stack, _flat(config), account_id=None, profile=None,
                                db_instance=args.db_instance, bucket=args.bucket, region=None)
        raise OpsError(other_region_refusal(target, args.region), EXIT_BAD_INPUT)
    if args.region != config.replica_region:
        raise OpsError(f"--region {args.region}: the old cell's objects are replicated to "
                       f"{config.replica_region or 'no other region'}, so a restore can only go to {config.region} "
                       f"or {config.replica_region} (leave out --region for {config.region})", EXIT_BAD_INPUT)


def _flat(config: Any) -> dict[str, Any]:
    return {"gcp:project": config.project, "gcp:region": config.region,
            "gitpod-cell:replicaRegion": config.replica_region,
            "gitpod-cell:database": {"crossRegionBackups": config.database.cross_region_backups}}


_IMAGE = re.compile(r"^[a-z0-9]+([._/:-][a-zA-Z0-9_.-]+)*(@sha256:[a-f0-9]{64})?$")


def _relative(path: Path) -> Path:
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path
