"""`python -m ops drill --stack NAME`: a recovery drill of the cell's database (see ops/drill.py).

Run it from where the database is reachable (the VPC, a bastion, a CI runner inside it): the scratch instance gets
the source's subnets and security groups (RDS), or is a Cloud SQL clone on the source's private network. The
password is the database's master password, read from the environment variable named by --db-password-env; the CA
bundle is RDS's (https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem), passed with --ca-file. On GCP
each instance's own server CA is read from the Admin API unless --ca-file is given, and each certificate must name
its instance (CN `<project>:<instance>`, or the instance's DNS name): a Cloud SQL certificate never names the
private IP connected to.

SIGTERM (a cancelled CI job) is turned into KeyboardInterrupt while the drill runs, so the scratch instance is still
deleted and the report written; a second SIGTERM during that cleanup is ignored. `--cleanup` deletes the stack's
scratch instances older than --older-than-hours that an earlier drill left behind, instead of running a drill.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ops.cell_target import add_target_arguments
from ops.cli import EXIT_CONFIG_ERROR, OpsError

if TYPE_CHECKING:
    from ops.mysql_checks import ServerIdentity

EXIT_DRILL_FAILED = 1
EXIT_INTERRUPTED = 130
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
    parser.add_argument("--scratch-instance-class", default=None,
                        help="default: the source's class (RDS only: a Cloud SQL clone takes the source's tier)")
    parser.add_argument("--cleanup", action="store_true",
                        help="instead of a drill: delete this stack's leftover scratch instances "
                             "(<prefix>-drill-<time>) older than --older-than-hours")
    parser.add_argument("--older-than-hours", type=float, default=None,
                        help="with --cleanup: minimum age of a scratch instance to delete (default 6)")
    parser.add_argument("--wait-delay-seconds", type=float, default=30, help=argparse.SUPPRESS)
    parser.add_argument("--delete-timeout-seconds", type=float, default=None, help=argparse.SUPPRESS)
    parser.set_defaults(handler=drill_command, make_connectors=database_connectors)


@dataclass(frozen=True)
class DatabaseCa:
    """The CAs the API gives (Cloud SQL: each instance's own), used when --ca-file is not given, and the
    identities the certificates must name (Cloud SQL; used with --ca-file too). No identity: the host name is
    verified (RDS)."""

    source_pem: str | None = None
    restored_pem: Callable[[], str | None] = lambda: None
    source_identity: ServerIdentity | None = None
    restored_identity: Callable[[], ServerIdentity | None] = lambda: None


def database_connectors(args: argparse.Namespace, source_host: str, source_port: int
                        ) -> tuple[Callable[[], Any], Callable[[str, int], Any]]:
    """TLS connectors to the source instance and to the scratch instance, with the same credentials."""
    from ops.mysql_checks import DatabaseEndpoint, tls_connector

    password = os.environ.get(args.db_password_env)
    if not password:
        raise OpsError(f"set {args.db_password_env} to the database password (or pass --db-password-env)",
                       EXIT_CONFIG_ERROR)
    ca: DatabaseCa = getattr(args, "database_ca", None) or DatabaseCa()

    def endpoint(host: str, port: int, ca_pem: str | None, identity: ServerIdentity | None) -> DatabaseEndpoint:
        return DatabaseEndpoint(host, port, args.db_user, password, args.database,
                                ca_pem=None if args.ca_file else ca_pem, ca_file=args.ca_file,
                                server_identity=identity)

    return (tls_connector(endpoint(source_host, source_port, ca.source_pem, ca.source_identity)),
            lambda host, port: tls_connector(endpoint(host, port, ca.restored_pem(), ca.restored_identity()))())


@contextmanager
def sigterm_as_keyboard_interrupt(progress: Callable[[str], None] = print) -> Iterator[None]:
    """While inside: the first SIGTERM raises KeyboardInterrupt (so `finally` cleanup runs), later ones are
    ignored until the block ends; the previous handler is restored after. Outside the main thread: nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired = False

    def handler(signum: int, frame: Any) -> None:
        nonlocal fired
        if fired:
            progress("[drill] SIGTERM again: still cleaning up, ignored")
            return
        fired = True
        raise KeyboardInterrupt("SIGTERM")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def drill_command(args: argparse.Namespace) -> int:
    from contract.naming import SUPPORTED_CLOUDS
    from ops.cell_target import target_from_args
    from ops.cloud_clients import DatabaseAddressError, cell_clients
    from ops.drill import PITR_WINDOW, DrillClients, DrillFailed, DrillSettings, run_drill
    from ops.mysql_checks import RowCountTolerance
    from ops.timestamps import parse_rfc3339, utc_now

    target = target_from_args(args, clouds=SUPPORTED_CLOUDS)
    try:
        restore_time = None if args.time == "latest" else parse_rfc3339(args.time)
        tolerance = RowCountTolerance(args.tolerance_fraction, args.tolerance_rows)
    except ValueError as error:
        raise OpsError(str(error), EXIT_CONFIG_ERROR) from error
    if target.cloud == "gcp" and args.scratch_instance_class:
        raise OpsError("--scratch-instance-class: a Cloud SQL clone takes its source's tier; leave it out on GCP",
                       EXIT_CONFIG_ERROR)
    if args.older_than_hours is not None and not args.cleanup:
        raise OpsError("--older-than-hours goes with --cleanup", EXIT_CONFIG_ERROR)
    clients = cell_clients(target, aws_profile=args.aws_profile)
    if args.cleanup:
        return cleanup_command(args, target, clients)
    try:
        source = clients.database_address(need_ca=args.ca_file is None)
    except DatabaseAddressError as error:
        raise OpsError(f"drill step {PITR_WINDOW!r} failed: {error}") from error
    settings = DrillSettings(
        stack=target.stack, db_instance_id=target.db_instance_id, bucket=target.bucket, database=args.database,
        tolerance=tolerance, restore_time=restore_time, scratch_instance_class=args.scratch_instance_class,
        wait_delay_seconds=args.wait_delay_seconds, **_delete_timeout(args),
    )
    backend = clients.drill_backend(settings, utc_now)
    args.database_ca = DatabaseCa(source.ca_pem, lambda: getattr(backend, "restored_ca_pem", None),
                                  source.server_identity, lambda: getattr(backend, "restored_identity", None))
    connect_source, connect_restored = args.make_connectors(args, source.host, source.port)
    progress = _flushed_print
    drill_clients = DrillClients(rds=None, s3=None, connect_source=connect_source, connect_restored=connect_restored,
                                 progress=progress, backend=backend)
    try:
        with sigterm_as_keyboard_interrupt(progress):
            report = run_drill(drill_clients, settings, scratch_prefix=target.name_prefix)
    except DrillFailed as failure:
        where = (f"scratch instance {failure.report.scratch_instance}: {failure.report.scratch_state}")
        if isinstance(failure.cause, KeyboardInterrupt):
            raise OpsError(f"drill interrupted at step {failure.step!r} ({where})", EXIT_INTERRUPTED) from failure
        raise OpsError(f"drill failed at step {failure.step!r}: {failure.cause} ({where})",
                       EXIT_DRILL_FAILED) from failure
    print(f"report: {', '.join(report.report_urls)}")
    return 0


def cleanup_command(args: argparse.Namespace, target: Any, clients: Any) -> int:
    """`--cleanup`: delete the stack's scratch instances older than --older-than-hours; exit 1 if any is left."""
    from datetime import timedelta

    from ops.drill import DEFAULT_CLEANUP_AGE_HOURS, DrillSettings, cleanup_leftovers
    from ops.timestamps import utc_now

    hours = DEFAULT_CLEANUP_AGE_HOURS if args.older_than_hours is None else args.older_than_hours
    if hours < 0:
        raise OpsError("--older-than-hours must be at least 0", EXIT_CONFIG_ERROR)
    settings = DrillSettings(stack=target.stack, db_instance_id=target.db_instance_id, bucket=target.bucket,
                             wait_delay_seconds=args.wait_delay_seconds, **_delete_timeout(args))
    backend = clients.drill_backend(settings, utc_now)
    result = cleanup_leftovers(backend, settings, target.name_prefix, timedelta(hours=hours), utc_now(),
                               _flushed_print)
    print(f"cleanup of {target.stack!r}: {len(result.deleted)} deleted, {len(result.too_young)} younger than "
          f"{hours:g}h kept, {len(result.failed)} NOT deleted")
    if result.failed:
        raise OpsError("scratch instances NOT deleted: " + "; ".join(f"{name}: {reason}" for name, reason
                                                                     in result.failed.items()), EXIT_DRILL_FAILED)
    return 0


def _flushed_print(line: str) -> None:
    print(line, flush=True)


def _delete_timeout(args: argparse.Namespace) -> dict[str, float]:
    value = getattr(args, "delete_timeout_seconds", None)
    return {} if value is None else {"delete_timeout_seconds": value}
