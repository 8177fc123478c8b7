"""`python -m ops preflight --stack NAME`: the installer's preflight checks against the live cell (ops/preflight.py).

Database: --db-host (default: the RDS instance's endpoint, or the Cloud SQL instance's private IP from the Admin API),
the password from the environment variable named by --db-password-env, TLS verified against --ca-file (RDS's global
bundle; on GCP, by default, the instance's own server CA from the Admin API). Object storage and registry: S3 and
ECR, or GCS and Artifact Registry. Cluster: --kubeconfig/--context as kubectl. Exits 1 when any check fails.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from ops.cell_target import add_target_arguments
from ops.cli import EXIT_CONFIG_ERROR, OpsError

EXIT_CHECKS_FAILED = 1
DEFAULT_PASSWORD_ENV = "GITPOD_DB_PASSWORD"


def register(subparsers: Any) -> None:
    from ops.mysql_checks import ServerVersionRequirement

    parser = subparsers.add_parser("preflight", help="check database, object storage, registry and cluster as "
                                                     "Gitpod's installer would", description=__doc__.splitlines()[0])
    add_target_arguments(parser)
    parser.add_argument("--db-host", default=None,
                        help="default: the RDS instance's endpoint address, or the Cloud SQL instance's private IP")
    parser.add_argument("--db-port", type=int, default=None, help="default: the RDS instance's port, or 3306")
    parser.add_argument("--db-user", default="gitpod", help="default gitpod")
    parser.add_argument("--database", default="gitpod", help="default gitpod")
    parser.add_argument("--db-password-env", default=DEFAULT_PASSWORD_ENV,
                        help=f"environment variable holding the password (default {DEFAULT_PASSWORD_ENV})")
    parser.add_argument("--ca-file", type=Path, default=None,
                        help="CA bundle for TLS to the database (GCP default: the instance's server CA)")
    parser.add_argument("--kubeconfig", default=None, help="kubeconfig path; default $KUBECONFIG or ~/.kube/config")
    parser.add_argument("--context", default=None, help="kubeconfig context")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON document")
    # A seam for tests (local MariaDB servers); not a command-line option.
    parser.set_defaults(handler=preflight_command, version_requirement=ServerVersionRequirement())


def preflight_command(args: argparse.Namespace) -> int:
    from contract.naming import SUPPORTED_CLOUDS
    from ops.cell_target import target_from_args
    from ops.cloud_clients import DatabaseAddressError, cell_clients
    from ops.kube import KubeClient, KubeConfigError
    from ops.mysql_checks import DatabaseEndpoint
    from ops.preflight import PreflightSettings, build_preflight_clients, run_preflight

    target = target_from_args(args, clouds=SUPPORTED_CLOUDS)
    password = os.environ.get(args.db_password_env)
    if not password:
        raise OpsError(f"set {args.db_password_env} to the database password (or pass --db-password-env)",
                       EXIT_CONFIG_ERROR)
    try:
        address = cell_clients(target, aws_profile=args.aws_profile).database_address(
            args.db_host, args.db_port, need_ca=args.ca_file is None)
    except DatabaseAddressError as error:
        raise OpsError(f"{error}; pass --db-host (and on GCP --ca-file) to check a database by address") from error
    try:
        kube = KubeClient.from_environment(args.kubeconfig, args.context)
    except KubeConfigError as error:
        raise OpsError(f"kubeconfig: {error}", EXIT_CONFIG_ERROR) from error
    quiet = args.json
    endpoint = DatabaseEndpoint(address.host, address.port, args.db_user, password, args.database,
                                ca_pem=None if args.ca_file else address.ca_pem, ca_file=args.ca_file,
                                server_identity=address.server_identity)
    clients = build_preflight_clients(target.region, kube, endpoint, aws_profile=args.aws_profile,
                                      progress=(lambda _line: None) if quiet else print, cloud=target.cloud,
                                      gcp_project=target.project)
    settings = PreflightSettings(stack=target.stack, bucket=target.bucket, repositories=target.repositories,
                                 database=args.database, version_requirement=args.version_requirement)
    report = run_preflight(clients, settings)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        verdict = "passed" if report.passed else f"FAILED ({len(report.failures)} of {len(report.results)} checks)"
        print(f"preflight of {target.stack!r} {verdict}")
    return 0 if report.passed else EXIT_CHECKS_FAILED

