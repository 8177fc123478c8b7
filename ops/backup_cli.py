"""`python -m ops backup status|config --stack NAME`: what is backed up, and a config backup on demand.

status   database PITR window, cross-region backup copies, last snapshot; bucket versioning and replication; the
         last installer config + version-label backup; registry; and what is not protected, in plain words
config   back up the applied installer config and version label now (same format as the rollout hook's)
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ops.cell_target import add_target_arguments
from ops.cli import EXIT_CONFIG_ERROR, OpsError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("backup", help="backup status of a cell; installer config backup on demand",
                                   description=__doc__.splitlines()[0])
    actions = parser.add_subparsers(dest="backup_action", required=True, metavar="ACTION")
    status = actions.add_parser("status", help="what is backed up, where, and what is not protected")
    add_target_arguments(status)
    status.add_argument("--json", action="store_true", help="one JSON document")
    status.set_defaults(handler=status_command)
    config = actions.add_parser("config", help="back up the installer config and version label now")
    add_target_arguments(config)
    config.add_argument("--kubeconfig", default=None, help="kubeconfig path; default $KUBECONFIG or ~/.kube/config")
    config.add_argument("--context", default=None, help="kubeconfig context")
    config.add_argument("--namespace", default=None, help="Gitpod namespace; default: the stack's gitpod.namespace")
    config.set_defaults(handler=config_command)


def status_command(args: argparse.Namespace) -> int:
    from ops.backup_status import StatusClients, collect_backup_status
    from ops.cell_target import aws_session, target_from_args
    from ops.timestamps import utc_now

    target = target_from_args(args)
    session = aws_session(args.aws_profile, target.region)
    replica = aws_session(args.aws_profile, target.replica_region) if target.replica_region else None
    clients = StatusClients(
        rds=session.client("rds"), s3=session.client("s3"), ecr=session.client("ecr"),
        replica_rds=replica.client("rds") if replica else None, replica_s3=replica.client("s3") if replica else None,
    )
    status = collect_backup_status(clients, target, utc_now())
    print(json.dumps(status.to_dict(), indent=2, sort_keys=True) if args.json else status.describe())
    return 0


def config_command(args: argparse.Namespace) -> int:
    from ops.backup_config_now import BackupConfigError, backup_config_now
    from ops.cell_target import aws_session, target_from_args
    from ops.config_backup import ConfigBackupError
    from ops.kube import KubeClient, KubeConfigError, KubeError
    from ops.timestamps import utc_now

    target = target_from_args(args)
    try:
        kube = KubeClient.from_environment(args.kubeconfig, args.context)
    except KubeConfigError as error:
        raise OpsError(f"kubeconfig: {error}", EXIT_CONFIG_ERROR) from error
    s3 = aws_session(args.aws_profile, target.region).client("s3")
    try:
        backup = backup_config_now(kube, s3, target.bucket, target.stack, args.namespace or target.gitpod_namespace,
                                   utc_now())
    except (BackupConfigError, ConfigBackupError, KubeError) as error:
        raise OpsError(f"config backup failed: {error}") from error
    print(f"backed up Gitpod {backup.gitpod_version} (config {backup.config_hash}) to "
          f"s3://{backup.bucket}/{backup.key} version {backup.version_id}")
    return 0
