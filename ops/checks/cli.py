"""`python -m ops preflight|drill --stack NAME`: the checks of a live cell.

preflight  the installer's preflight checks against the live cell (ops.checks.preflight). Database: --db-host
           (default: the RDS instance's endpoint, or the Cloud SQL instance's private IP from the Admin API), the
           password from the environment variable named by --db-password-env, TLS verified against --ca-file (RDS's
           global bundle; on GCP, by default, the instance's own server CA from the Admin API). Object storage and
           registry: the cell's bucket and registry on its cloud. Cluster: --kubeconfig/--context as kubectl. Exits
           1 when any check fails.
drill      a recovery drill of the cell's database (ops.checks.drill). Run it from where the database is reachable
           (the VPC, a bastion, a CI runner inside it): the scratch instance gets the source's subnets and security
           groups (RDS), or is a Cloud SQL clone on the source's private network. The password is the database's
           master password, read from the environment variable named by --db-password-env; the CA bundle is RDS's
           (https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem), passed with --ca-file. On GCP each
           instance's own server CA is read from the Admin API unless --ca-file is given, and each certificate must
           name its instance (CN `<project>:<instance>`, or the instance's DNS name): a Cloud SQL certificate never
           names the private IP connected to.

           SIGTERM (a cancelled CI job) is turned into KeyboardInterrupt while the drill runs, so the scratch instance
           is still deleted and the report written; a second SIGTERM during that cleanup is ignored. `--cleanup`
           deletes the stack's scratch instances older than --older-than-hours that an earlier drill left behind,
           instead of running a drill.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ops.clouds import SUPPORTED_CLOUDS
from ops.common.arguments import add_target_arguments, target_from_args
from ops.errors import EXIT_BAD_INPUT, EXIT_CANNOT_CHECK, EXIT_FAILED, EXIT_INTERRUPTED, OpsError

if TYPE_CHECKING:
    from ops.checks.mysql import ServerIdentity
    from ops.clouds.base import CellClients
    from ops.common.cell_target import CellTarget

DEFAULT_PASSWORD_ENV = "GITPOD_DB_PASSWORD"
PREFLIGHT_DESCRIPTION = ("`python -m ops preflight --stack NAME`: the installer's preflight checks against the live "
                         "cell.")
DRILL_DESCRIPTION = "`python -m ops drill --stack NAME`: a recovery drill of the cell's database."


def register(subparsers: Any) -> None:
    register_preflight(subparsers)
    register_drill(subparsers)


# -- preflight ----------------------------------------------------------------------------------------------------


def register_preflight(subparsers: Any) -> None:
    from ops.checks.mysql import ServerVersionRequirement

    parser = subparsers.add_parser("preflight", help="check database, object storage, registry and cluster as "
                                                     "Gitpod's installer would", description=PREFLIGHT_DESCRIPTION)
    add_target_arguments(parser)
    parser.add_argument("--db-host", default=None,
                        help="default: the RDS instance's endpoint address, or the Cloud SQL instance's private IP")
    parser.add_argument("--db-port", type=int, default=None, help="default: the RDS instance's port, or 3306")
    parser.add_argument("--db-user", default="gitpod", help="default gitpod")
    parser.add_argument("--database", default="gitpod",
                        help="the database Gitpod uses, checked for utf8mb4 and reachable as --db-user (default "
                             "gitpod)")
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
    from ops.checks.mysql import DatabaseEndpoint
    from ops.checks.preflight import PreflightSettings, preflight_clients, run_preflight
    from ops.clouds import cell_clients
    from ops.clouds.base import DatabaseAddressError
    from ops.cluster.kube import KubeClient, KubeConfigError
    from ops.common.failures import LOGIN_HINTS

    password = _check_database_arguments(args)
    target = target_from_args(args, clouds=SUPPORTED_CLOUDS)
    cell = cell_clients(target, profile=args.aws_profile)
    try:
        address = cell.database_address(args.db_host, args.db_port, need_ca=args.ca_file is None)
    except DatabaseAddressError as error:
        raise OpsError(f"{error}; pass --db-host (and on GCP --ca-file) to check a database by address") from error
    try:
        kube = KubeClient.from_environment(args.kubeconfig, args.context)
    except KubeConfigError as error:
        raise OpsError(f"kubeconfig: {error} ({LOGIN_HINTS['kubernetes']})", EXIT_CANNOT_CHECK) from error
    quiet = args.json
    endpoint = DatabaseEndpoint(address.host, address.port, args.db_user, password, args.database,
                                ca_pem=None if args.ca_file else address.ca_pem, ca_file=args.ca_file,
                                server_identity=address.server_identity)
    clients = preflight_clients(cell, kube, endpoint, (lambda _line: None) if quiet else print)
    settings = PreflightSettings(stack=target.stack, bucket=target.bucket, repositories=target.repositories,
                                 database=args.database, version_requirement=args.version_requirement)
    report = run_preflight(clients, settings)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        verdict = "passed" if report.passed else f"FAILED ({len(report.failures)} of {len(report.results)} checks)"
        print(f"preflight of {target.stack!r} {verdict}")
    return 0 if report.passed else EXIT_FAILED


def _check_database_arguments(args: argparse.Namespace, need_password: bool = True) -> str:
    """The flags preflight and drill read locally, checked before any stack file or cloud; the password."""
    from ops.common.files import read_text

    if getattr(args, "ca_file", None) is not None:
        read_text(args.ca_file, "--ca-file", hint="RDS's bundle: https://truststore.pki.rds.amazonaws.com/global/"
                                                     "global-bundle.pem; on GCP leave it out to use the instance's CA")
    if getattr(args, "kubeconfig", None) is not None:
        read_text(Path(args.kubeconfig), "--kubeconfig")
    port = getattr(args, "db_port", None)
    if port is not None and not 1 <= port <= 65535:
        raise OpsError(f"--db-port {port}: accepted 1-65535", EXIT_BAD_INPUT)
    for flag, value in (("--db-user", args.db_user), ("--database", args.database)):
        if not value or not value.strip() or len(value) > 64:
            raise OpsError(f"{flag} {value!r}: a MySQL name of 1-64 characters", EXIT_BAD_INPUT)
    if not need_password:
        return ""
    if not args.db_password_env or "=" in args.db_password_env or "\0" in args.db_password_env:
        raise OpsError(f"--db-password-env {args.db_password_env!r}: the NAME of an environment variable",
                       EXIT_BAD_INPUT)
    password = os.environ.get(args.db_password_env)
    if not password:
        raise OpsError(f"set {args.db_password_env} to the database password (or pass --db-password-env NAME)",
                       EXIT_BAD_INPUT)
    return password


# -- drill -----------------------------------------------------------------------------------------------------------


def register_drill(subparsers: Any) -> None:
    parser = subparsers.add_parser("drill", help="recovery drill: restore the database to a scratch instance, "
                                                 "verify, measure RTO/RPO, delete it, report",
                                   description=DRILL_DESCRIPTION)
    add_target_arguments(parser)
    parser.add_argument("--time", default="latest", help="restore time (RFC3339) or 'latest' (default)")
    parser.add_argument("--tolerance-fraction", type=float, default=0.01,
                        help="rows a restored table may lack, as a fraction of the source's (default 0.01)")
    parser.add_argument("--tolerance-rows", type=int, default=10,
                        help="rows a restored table may lack in any case (default 10)")
    parser.add_argument("--db-user", default="gitpod", help="database user (default gitpod, the master user)")
    parser.add_argument("--database", default="gitpod",
                        help="the database whose tables are counted in the source and the restored copy (default "
                             "gitpod, Gitpod's own)")
    parser.add_argument("--db-password-env", default=DEFAULT_PASSWORD_ENV,
                        help=f"environment variable holding the password (default {DEFAULT_PASSWORD_ENV})")
    parser.add_argument("--ca-file", type=Path, default=None, help="CA bundle for TLS to the database")
    parser.add_argument("--scratch-instance-class", default=None,
                        help="default: the source's class (RDS only: a Cloud SQL clone takes the source's tier)")
    parser.add_argument("--cleanup", action="store_true",
                        help="instead of a drill: delete this stack's leftover scratch instances "
                             "(gitpod-<stack>-drill-<time>, left by a drill that was killed) older than "
                             "--older-than-hours; reads no database, needs no password; exit 1 if any is left")
    parser.add_argument("--older-than-hours", type=float, default=None, metavar="HOURS",
                        help="with --cleanup only: minimum age of a scratch instance to delete, 0-8760 (default 6, "
                             "so a drill running now is never touched)")
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
    from ops.checks.mysql import DatabaseEndpoint, tls_connector

    password = os.environ.get(args.db_password_env)
    if not password:
        raise OpsError(f"set {args.db_password_env} to the database password (or pass --db-password-env)",
                       EXIT_BAD_INPUT)
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
    from ops.checks.drill import PITR_WINDOW, DrillClients, DrillFailed, DrillSettings, run_drill
    from ops.checks.mysql import RowCountTolerance
    from ops.clouds import cell_clients
    from ops.clouds.base import DatabaseAddressError
    from ops.common.timestamps import parse_rfc3339, utc_now

    try:
        restore_time = None if args.time == "latest" else parse_rfc3339(args.time)
    except ValueError as error:
        raise OpsError(f"--time: {error}, or 'latest'", EXIT_BAD_INPUT) from None
    try:
        tolerance = RowCountTolerance(args.tolerance_fraction, args.tolerance_rows)
    except ValueError as error:
        raise OpsError(f"--tolerance-fraction/--tolerance-rows: {error}", EXIT_BAD_INPUT) from None
    if args.older_than_hours is not None and not args.cleanup:
        raise OpsError("--older-than-hours goes with --cleanup", EXIT_BAD_INPUT)
    if args.older_than_hours is not None and not 0 <= args.older_than_hours <= 24 * 365:
        raise OpsError(f"--older-than-hours {args.older_than_hours:g}: accepted 0-8760", EXIT_BAD_INPUT)
    if args.scratch_instance_class is not None and not re.match(r"^[a-z0-9][a-z0-9.-]{1,62}$",
                                                                args.scratch_instance_class):
        raise OpsError(f"--scratch-instance-class {args.scratch_instance_class!r}: not an instance class such as "
                       "db.r6g.large", EXIT_BAD_INPUT)
    # The cleanup deletes instances and reads no database: it needs no password (nor do connectors a caller
    # injected, such as the tests' to local servers).
    _check_database_arguments(args, need_password=not args.cleanup and args.make_connectors is database_connectors)
    target = target_from_args(args, clouds=SUPPORTED_CLOUDS)
    clients = cell_clients(target, profile=args.aws_profile)
    settings = DrillSettings(
        stack=target.stack, db_instance_id=target.db_instance_id, bucket=target.bucket, database=args.database,
        tolerance=tolerance, restore_time=restore_time, scratch_instance_class=args.scratch_instance_class,
        wait_delay_seconds=args.wait_delay_seconds, **_delete_timeout(args),
    )
    try:
        clients.check_drill_settings(settings)
    except ValueError as error:
        raise OpsError(str(error), EXIT_BAD_INPUT) from error
    if args.cleanup:
        return cleanup_command(args, target, clients)
    try:
        source = clients.database_address(need_ca=args.ca_file is None)
    except DatabaseAddressError as error:
        raise OpsError(f"drill step {PITR_WINDOW!r} failed: {error}") from error
    backend = clients.drill_backend(settings, utc_now)
    args.database_ca = DatabaseCa(source.ca_pem, lambda: getattr(backend, "restored_ca_pem", None),
                                  source.server_identity, lambda: getattr(backend, "restored_identity", None))
    connect_source, connect_restored = args.make_connectors(args, source.host, source.port)
    progress = _flushed_print
    drill_clients = DrillClients(backend=backend, reports=clients.object_store(), connect_source=connect_source,
                                 connect_restored=connect_restored, progress=progress)
    try:
        with sigterm_as_keyboard_interrupt(progress):
            report = run_drill(drill_clients, settings, scratch_prefix=target.name_prefix)
    except DrillFailed as failure:
        where = (f"scratch instance {failure.report.scratch_instance}: {failure.report.scratch_state}")
        if isinstance(failure.cause, KeyboardInterrupt):
            raise OpsError(f"drill interrupted at step {failure.step!r} ({where})", EXIT_INTERRUPTED) from failure
        raise OpsError(f"drill failed at step {failure.step!r}: {failure.cause} ({where})",
                       EXIT_FAILED) from failure
    print(f"report: {', '.join(report.report_urls)}")
    return 0


def cleanup_command(args: argparse.Namespace, target: CellTarget, clients: CellClients) -> int:
    """`--cleanup`: delete the stack's scratch instances older than --older-than-hours; exit 1 if any is left."""
    from datetime import timedelta

    from ops.checks.drill import DEFAULT_CLEANUP_AGE_HOURS, DrillSettings, cleanup_leftovers
    from ops.common.timestamps import utc_now

    hours = DEFAULT_CLEANUP_AGE_HOURS if args.older_than_hours is None else args.older_than_hours
    if hours < 0:
        raise OpsError("--older-than-hours must be at least 0", EXIT_BAD_INPUT)
    settings = DrillSettings(stack=target.stack, db_instance_id=target.db_instance_id, bucket=target.bucket,
                             wait_delay_seconds=args.wait_delay_seconds, **_delete_timeout(args))
    backend = clients.drill_backend(settings, utc_now)
    result = cleanup_leftovers(backend, settings, target.name_prefix, timedelta(hours=hours), utc_now(),
                               _flushed_print)
    print(f"cleanup of {target.stack!r}: {len(result.deleted)} deleted, {len(result.too_young)} younger than "
          f"{hours:g}h kept, {len(result.failed)} NOT deleted")
    if result.failed:
        raise OpsError("scratch instances NOT deleted: " + "; ".join(f"{name}: {reason}" for name, reason
                                                                     in result.failed.items()), EXIT_FAILED)
    return 0


def _flushed_print(line: str) -> None:
    print(line, flush=True)


def _delete_timeout(args: argparse.Namespace) -> dict[str, float]:
    value = getattr(args, "delete_timeout_seconds", None)
    return {} if value is None else {"delete_timeout_seconds": value}
