"""`python -m ops backup status|config --stack NAME`: what is backed up, and a config backup on demand.

status   database PITR window, cross-region backup copies, last snapshot; bucket versioning and replication; the
         last installer config + version-label backup; registry; and what is not protected, in plain words
config   back up the applied installer config and version label now (same format as the rollout hook's)

Both work on AWS and GCP cells (ops/cloud_clients.py picks the clients: RDS, S3, ECR; or Cloud SQL, GCS, Artifact
Registry).
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
    from contract.naming import SUPPORTED_CLOUDS
    from ops.backup_status import collect_backup_status
    from ops.cell_target import target_from_args
    from ops.cloud_clients import cell_clients
    from ops.timestamps import utc_now

    target = target_from_args(args, clouds=SUPPORTED_CLOUDS)
    status = collect_backup_status(cell_clients(target, aws_profile=args.aws_profile).backup_status(), target,
                                   utc_now())
    print(json.dumps(status.to_dict(), indent=2, sort_keys=True) if args.json else status.describe())
    return 0


def config_command(args: argparse.Namespace) -> int:
    from contract.naming import SUPPORTED_CLOUDS
    from ops.backup_config_now import BackupConfigError, backup_config_now
    from ops.cell_target import target_from_args
    from ops.cloud_clients import cell_clients, object_url
    from ops.config_backup import ConfigBackupError
    from ops.kube import KubeClient, KubeConfigError, KubeError
    from ops.timestamps import utc_now

    target = target_from_args(args, clouds=SUPPORTED_CLOUDS)
    try:
        kube = KubeClient.from_environment(args.kubeconfig, args.context)
    except KubeConfigError as error:
        raise OpsError(f"kubeconfig: {error}", EXIT_CONFIG_ERROR) from error
    store = cell_clients(target, aws_profile=args.aws_profile).config_store()
    try:
        backup = backup_config_now(kube, None, target.bucket, target.stack, args.namespace or target.gitpod_namespace,
                                   utc_now(), store=store)
    except (BackupConfigError, ConfigBackupError, KubeError) as error:
        raise OpsError(f"config backup failed: {error}") from error
    print(f"backed up Gitpod {backup.gitpod_version} (config {backup.config_hash}) to "
          f"{object_url(store.scheme, backup.bucket, backup.key)} version {backup.version_id}")
    return 0
