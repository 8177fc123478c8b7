"""`python -m ops drill --stack NAME`: a recovery drill of the cell's database (see ops/drill.py).

Run it from where the database is reachable (the VPC, a bastion, a CI runner inside it): the scratch instance gets
the source's subnets and security groups. The password is the database's master password, read from the
environment variable named by --db-password-env; the CA bundle is RDS's (https://truststore.pki.rds.amazonaws.com/
global/global-bundle.pem), passed with --ca-file.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ops.cell_target import add_target_arguments
from ops.cli import EXIT_CONFIG_ERROR, OpsError

EXIT_DRILL_FAILED = 1
DEFAULT_PASSWORD_ENV = "GITPOD_DB_PASSWORD"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("drill", help="recovery drill: restore the database to a scratch instance, "
                                                 "verify, measure RTO/RPO, delete it, report",
                                   description=__doc__.splitlines()[0])
    add_target_arguments(parser)
    parser.add_argument("--time", default="latest", help="restore time (RFC3339) or 'latest' (default)")
    parser.add_argument("--tolerance-fraction", type=float, default=0.01,
                        help="rows a restored table may lack, as a fraction of the source's (default 0.01)")
    parser.add_argument("--tolerance-rows", type=int, default=10,
                        help="rows a restored table may lack in any case (default 10)")
    parser.add_argument("--db-user", default="gitpod", help="database user (default gitpod, the master user)")
    parser.add_argument("--database", default="gitpod", help="database name (default gitpod)")
    parser.add_argument("--db-password-env", default=DEFAULT_PASSWORD_ENV,
                        help=f"environment variable holding the password (default {DEFAULT_PASSWORD_ENV})")
    parser.add_argument("--ca-file", type=Path, default=None, help="CA bundle for TLS to the database")
    parser.add_argument("--scratch-instance-class", default=None, help="default: the source's class")
    parser.add_argument("--wait-delay-seconds", type=int, default=30, help=argparse.SUPPRESS)
    parser.set_defaults(handler=drill_command, make_connectors=rds_connectors)


def rds_connectors(args: argparse.Namespace, source_host: str, source_port: int
                   ) -> tuple[Callable[[], Any], Callable[[str, int], Any]]:
    """TLS connectors to the source instance and to the scratch instance, with the same credentials."""
    from ops.mysql_checks import DatabaseEndpoint, tls_connector

    password = os.environ.get(args.db_password_env)
    if not password:
        raise OpsError(f"set {args.db_password_env} to the database password (or pass --db-password-env)",
                       EXIT_CONFIG_ERROR)

    def endpoint(host: str, port: int) -> DatabaseEndpoint:
        return DatabaseEndpoint(host, port, args.db_user, password, args.database, ca_file=args.ca_file)

    return tls_connector(endpoint(source_host, source_port)), lambda host, port: tls_connector(endpoint(host, port))()


def drill_command(args: argparse.Namespace) -> int:
    from ops.cell_target import aws_session, target_from_args
    from ops.drill import DrillClients, DrillFailed, DrillSettings, run_drill
    from ops.mysql_checks import RowCountTolerance
    from ops.pitr_window import PitrWindowError, describe_instance
    from ops.timestamps import parse_rfc3339

    target = target_from_args(args)
    try:
        restore_time = None if args.time == "latest" else parse_rfc3339(args.time)
        tolerance = RowCountTolerance(args.tolerance_fraction, args.tolerance_rows)
    except ValueError as error:
        raise OpsError(str(error), EXIT_CONFIG_ERROR) from error
    session = aws_session(args.aws_profile, target.region)
    rds = session.client("rds")
    try:
        source = describe_instance(rds, target.db_instance_id)
    except PitrWindowError as error:
        raise OpsError(f"drill step 'pitr-window' failed: {error}") from error
    endpoint = source.get("Endpoint") or {}
    connect_source, connect_restored = args.make_connectors(args, str(endpoint.get("Address")),
                                                            int(endpoint.get("Port") or 3306))
    settings = DrillSettings(
        stack=target.stack, db_instance_id=target.db_instance_id, bucket=target.bucket, database=args.database,
        tolerance=tolerance, restore_time=restore_time, scratch_instance_class=args.scratch_instance_class,
        wait_delay_seconds=args.wait_delay_seconds,
    )
    clients = DrillClients(rds=rds, s3=session.client("s3"), connect_source=connect_source,
                           connect_restored=connect_restored, progress=lambda line: print(line, flush=True))
    try:
        report = run_drill(clients, settings, scratch_prefix=target.name_prefix)
    except DrillFailed as failure:
        raise OpsError(f"drill failed at step {failure.step!r}: {failure.cause} (scratch instance "
                       f"{failure.report.scratch_instance}: {failure.report.scratch_state})",
                       EXIT_DRILL_FAILED) from failure
    print(f"report: {', '.join(f's3://{target.bucket}/{key}' for key in report.report_keys)}")
    return 0
