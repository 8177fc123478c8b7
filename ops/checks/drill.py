"""The recovery drill: restore the cell's database to a scratch instance, prove it usable, measure, clean up.

Steps, in order (a failure names its step):

    pitr-window     read the source's point-in-time window; choose the restore time (latest, or the one asked for)
    source-counts   row counts of Gitpod's key tables on the source, now
    restore         restore the source at that time into a scratch instance
    wait-available  wait until the scratch instance is available and has an endpoint
    verify          connect over TLS, Gitpod schema present, row counts within tolerance of the source
    delete-scratch  delete the scratch instance (no final snapshot): runs whatever happened before
    write-report    JSON + Markdown to <bucket>/gitpod-cell/<stack>/drills/<timestamp>.{json,md}

The steps, the verification and the report (ops.checks.drill_report, written through the cell's ObjectStore) are
the same on every cloud; what differs sits behind DrillBackend, which the cell's clients give:

    ops.clouds.aws.drill   restore_db_instance_to_point_in_time (same subnets, security groups, parameter group),
                           boto3 waiters, delete_db_instance
    ops.clouds.gcp.drill   instances.clone with pointInTime, the clone operation, instances.delete (deletion
                           protection, which a clone inherits, switched off first)

RTO is start to verified. RPO is the source's "now" (when the restore time was chosen) minus the restore time, when
the restore time is one the cloud honours exactly (RDS; a Cloud SQL clone at a point in time). A Cloud SQL clone of
"latest" goes to the source's latest binary-log position at a moment the API does not report, so "now minus now"
would claim an RPO of 0 it never measured: there, RPO is the newest write (Gitpod's `_lastModified`) the source
showed when the drill began minus the newest write in the restored copy (0: nothing the source showed was lost), or
"not measured" when the tables carry no such stamp. A Cloud SQL clone operation's own times go into the report.

An interrupt (Ctrl-C, or SIGTERM, which `python -m ops drill` turns into one) fails the running step; the scratch
instance is still deleted and the report written, then DrillFailed names the step, its cause the interrupt.
`cleanup_leftovers` (`python -m ops drill --cleanup`) deletes a stack's scratch instances older than a given age
that an earlier drill could not delete: named `<prefix>-drill-<yyyymmddhhmmss>`, and when tagged or labelled
(`Purpose`/`purpose`), tagged as a recovery drill's.

The cloud clients are injected, and so are the two database connectors: tests point the restored one at a MariaDB
rebuilt from a binlog replay, since neither moto's nor the Cloud SQL double's scratch instance has a database behind it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from ops.backup.pitr_window import PitrWindow
from ops.checks.drill_report import DrillReport, StepRecord, duration, report_key, text
from ops.checks.mysql import (
    DEFAULT_DATABASE,
    GITPOD_KEY_TABLES,
    GITPOD_SCHEMA_TABLES,
    RowCountTolerance,
    check_schema_present,
    check_tls,
    compare_row_counts,
    newest_write,
    row_counts,
)
from ops.clouds.base import ObjectStore
from ops.common.check_result import failed
from ops.common.timestamps import format_rfc3339, utc_now

PITR_WINDOW = "pitr-window"
SOURCE_COUNTS = "source-counts"
RESTORE = "restore"
WAIT_AVAILABLE = "wait-available"
VERIFY = "verify"
DELETE_SCRATCH = "delete-scratch"
WRITE_REPORT = "write-report"
DRILL_STEPS: tuple[str, ...] = (PITR_WINDOW, SOURCE_COUNTS, RESTORE, WAIT_AVAILABLE, VERIFY, DELETE_SCRATCH,
                                WRITE_REPORT)
BACKUP_ROOT = "gitpod-cell"
WAIT_DELAY_SECONDS = 30
WAIT_MAX_ATTEMPTS = 120  # an hour at the default delay: large instances take a while to restore
DELETE_TIMEOUT_SECONDS = 1800.0  # how long a delete waits for a running restore and retries "busy" answers
DRILL_LABEL_KEY = "purpose"  # Cloud SQL label; RDS tags it "Purpose"
DRILL_LABEL_VALUE = "recovery-drill"
DEFAULT_CLEANUP_AGE_HOURS = 6.0
_SCRATCH_TIME = re.compile(r"-drill-(\d{14})$")

RestoredConnector = Callable[[str, int], Any]


class DrillFailed(Exception):
    """The drill failed at `step`; `report` is what was measured (also written to the bucket when possible)."""

    def __init__(self, step: str, cause: BaseException, report: DrillReport) -> None:
        self.step = step
        self.cause = cause
        self.report = report
        super().__init__(f"drill step {step!r} failed: {type(cause).__name__}: {cause}")


class VerificationFailed(Exception):
    pass


@dataclass(frozen=True)
class DrillSettings:
    stack: str
    db_instance_id: str
    bucket: str
    database: str = DEFAULT_DATABASE
    key_tables: tuple[str, ...] = GITPOD_KEY_TABLES
    schema_tables: tuple[str, ...] = GITPOD_SCHEMA_TABLES
    tolerance: RowCountTolerance = field(default_factory=RowCountTolerance)
    restore_time: datetime | None = None  # None: the latest restorable time
    scratch_instance_class: str | None = None  # None: as the source
    wait_delay_seconds: float = WAIT_DELAY_SECONDS
    wait_max_attempts: int = WAIT_MAX_ATTEMPTS
    delete_timeout_seconds: float = DELETE_TIMEOUT_SECONDS


@dataclass(frozen=True)
class LeftoverInstance:
    """A drill's scratch instance found still there; `created` None when neither the cloud nor its name says."""

    name: str
    created: datetime | None
    state: str = ""


class DrillBackend(Protocol):
    """The cloud-specific half of a drill. Each method is one step's work; a raised exception fails that step."""

    def pitr_window(self) -> PitrWindow:
        """The source's point-in-time window, now."""
        ...

    def restore(self, scratch: str, restore_time: datetime, *, latest: bool) -> None:
        """Start restoring the source at `restore_time` (`latest`: it is the latest restorable time) into `scratch`."""
        ...

    def wait_available(self, scratch: str) -> tuple[str, int]:
        """Wait until `scratch` serves; its host and port."""
        ...

    def delete(self, scratch: str) -> None:
        """Delete `scratch` and wait until it is gone; nothing to do if it was never created."""
        ...

    def leftover_scratch_instances(self, prefix: str, now: datetime) -> list[LeftoverInstance]:
        """Scratch instances named `<prefix>-drill-<time>` that are still there (for `--cleanup`)."""
        ...

    # Optional, read with getattr: `latest_restore_time_exact` (default True) False when "latest" restores to a
    # moment the cloud does not report, `latest_restore_note` why, and `restore_operation` (the restore's own
    # times, for the report).


@dataclass(frozen=True)
class DrillClients:
    """The cloud's half (`backend`, from the cell's clients), the cell's bucket for the report, and connectors to
    the source and to a restored instance."""

    backend: DrillBackend
    reports: ObjectStore
    connect_source: Callable[[], Any]
    connect_restored: RestoredConnector
    clock: Callable[[], datetime] = utc_now
    progress: Callable[[str], None] = print


def scratch_instance_id(stack_prefix: str, started_at: datetime) -> str:
    """`<prefix>-drill-<yyyymmddhhmmss>`: unmistakable as a drill's, never the source's (RDS: at most 63)."""
    return f"{stack_prefix[:40].rstrip('-')}-drill-{started_at:%Y%m%d%H%M%S}"


def scratch_name_time(name: str) -> datetime | None:
    """The time a scratch instance's name carries (`...-drill-<yyyymmddhhmmss>`, UTC), or None."""
    match = _SCRATCH_TIME.search(name)
    if match is None:
        return None
    try:
        return datetime.strptime(match.group(1), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def run_drill(clients: DrillClients, settings: DrillSettings, *, scratch_prefix: str | None = None) -> DrillReport:
    """Run every step; raise DrillFailed naming the first failing step, after cleanup and the report."""
    backend = clients.backend
    started_at = clients.clock()
    scratch = scratch_instance_id(scratch_prefix or settings.db_instance_id, started_at)
    if scratch == settings.db_instance_id:
        raise ValueError("the scratch instance must never be the source instance")
    report = DrillReport(settings.stack, settings.db_instance_id, scratch, started_at)
    latest = settings.restore_time is None
    if latest and not getattr(backend, "latest_restore_time_exact", True):
        report.restore_time_exact = False
        report.rpo_note = getattr(backend, "latest_restore_note", None)
    runner = _StepRunner(clients, report)
    restore_requested = False
    try:
        window = runner.run(PITR_WINDOW, backend.pitr_window)
        report.source_now = clients.clock()
        restore_time: datetime = runner.run(PITR_WINDOW, lambda: window.restore_time(settings.restore_time),
                                            record=False)
        restore_text = format_rfc3339(restore_time)
        if report.restore_time_exact:
            report.restore_time = restore_time
        else:
            restore_text = f"its latest position (requested at {restore_text})"
        runner.detail(PITR_WINDOW, f"{window.describe()}; restoring to {restore_text}")
        report.source_counts = runner.run(SOURCE_COUNTS, lambda: _counts(clients.connect_source, settings, report))
        runner.detail(SOURCE_COUNTS, _counts_text(report.source_counts))
        restore_requested = report.scratch_requested = True
        try:
            runner.run(RESTORE, lambda: backend.restore(scratch, restore_time, latest=latest))
        finally:
            report.restore_operation = dict(getattr(backend, "restore_operation", None) or {})
        runner.detail(RESTORE, f"{scratch} from {settings.db_instance_id} at {restore_text}")
        try:
            host, port = runner.run(WAIT_AVAILABLE, lambda: backend.wait_available(scratch))
        finally:
            report.restore_operation = dict(getattr(backend, "restore_operation", None) or {})
        runner.detail(WAIT_AVAILABLE, f"{scratch} available at {host}:{port}")
        runner.run(VERIFY, lambda: _verify(clients, settings, report, host, port))
        report.verified_at = clients.clock()
        runner.detail(VERIFY, "TLS, schema and row counts as expected")
    except _StepFailed:
        pass
    except KeyboardInterrupt as interrupt:
        # Recorded as its step's failure (between steps: the last one's); cleanup and the report still run.
        if runner.first_failure is None:
            step_name = report.steps[-1].name if report.steps else PITR_WINDOW
            runner.first_failure = (step_name, interrupt)
            report.failed_step, report.error = step_name, "interrupted (SIGTERM or Ctrl-C)"
    finally:
        if restore_requested:
            try:
                runner.run(DELETE_SCRATCH, lambda: _delete_scratch(backend, settings, scratch))
                report.scratch_deleted = True
                runner.detail(DELETE_SCRATCH, f"{scratch} deleted")
            except _StepFailed:
                pass
            # The delete may have waited for a restore that was still running: its times are known now.
            report.restore_operation = dict(getattr(backend, "restore_operation", None) or {})
        report.finished_at = clients.clock()
        try:
            runner.run(WRITE_REPORT, lambda: _write_report(clients.reports, settings, report))
            runner.detail(WRITE_REPORT, ", ".join(report.report_urls))
        except _StepFailed:
            pass
    if runner.first_failure is not None:
        step, cause = runner.first_failure
        raise DrillFailed(step, cause, report)
    clients.progress(f"drill passed: RTO {duration(report.rto_seconds)}, RPO {report.rpo_text()}")
    return report


@dataclass
class CleanupResult:
    deleted: list[str] = field(default_factory=list)
    too_young: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def cleanup_leftovers(backend: DrillBackend, settings: DrillSettings, prefix: str, older_than: timedelta,
                      now: datetime, progress: Callable[[str], None] = print) -> CleanupResult:
    """Delete the scratch instances `<prefix>-drill-<time>` older than `older_than` (a younger one may be a drill
    still running); each failure is recorded and the others still tried."""
    result = CleanupResult()
    prefix = prefix[:40].rstrip("-")  # as scratch_instance_id shortens it
    for leftover in backend.leftover_scratch_instances(prefix, now):
        age = now - leftover.created if leftover.created else None
        if age is None or age < older_than:
            result.too_young.append(leftover.name)
            progress(f"[cleanup] {leftover.name}: kept (created {text(leftover.created)}, younger than "
                     f"{duration(older_than.total_seconds())} or of unknown age)")
            continue
        progress(f"[cleanup] {leftover.name}: created {text(leftover.created)} ({leftover.state or 'state ?'}), "
                 "deleting ...")
        try:
            _delete_scratch(backend, settings, leftover.name)
        except Exception as error:
            result.failed[leftover.name] = f"{type(error).__name__}: {error}"
            progress(f"[cleanup] {leftover.name}: NOT deleted: {error}")
            continue
        result.deleted.append(leftover.name)
        progress(f"[cleanup] {leftover.name}: deleted")
    return result


class _StepFailed(Exception):
    pass


@dataclass
class _StepRunner:
    clients: DrillClients
    report: DrillReport
    first_failure: tuple[str, BaseException] | None = None

    def run(self, name: str, action: Callable[[], Any], *, record: bool = True) -> Any:
        step = self._step(name) if not record else StepRecord(name, self.clients.clock())
        if record:
            self.report.steps.append(step)
            self.clients.progress(f"[drill] {name} ...")
        try:
            result = action()
        except KeyboardInterrupt as interrupt:
            step.passed, step.finished_at = False, self.clients.clock()
            step.detail = "interrupted (SIGTERM or Ctrl-C); cleaning up"
            self.clients.progress(f"[drill] {name} INTERRUPTED: cleaning up")
            if self.first_failure is None:
                self.first_failure = (name, interrupt)
                self.report.failed_step, self.report.error = name, "interrupted (SIGTERM or Ctrl-C)"
            raise
        except Exception as error:
            step.passed, step.finished_at, step.detail = False, self.clients.clock(), f"{type(error).__name__}: {error}"
            self.clients.progress(f"[drill] {name} FAILED: {error}")
            if self.first_failure is None:
                self.first_failure = (name, error)
                self.report.failed_step, self.report.error = name, str(error)
            raise _StepFailed(name) from error
        step.passed, step.finished_at = True, self.clients.clock()
        return result

    def detail(self, name: str, text: str) -> None:
        self._step(name).detail = text
        self.clients.progress(f"[drill] {name} ok: {text}")

    def _step(self, name: str) -> StepRecord:
        return next(step for step in reversed(self.report.steps) if step.name == name)


def _counts(connect: Callable[[], Any], settings: DrillSettings, report: DrillReport) -> dict[str, int]:
    connection = connect()
    try:
        if not report.restore_time_exact:
            report.source_newest_write = newest_write(connection, settings.database, settings.key_tables)
        return row_counts(connection, settings.database, settings.key_tables)
    finally:
        connection.close()


def _verify(clients: DrillClients, settings: DrillSettings, report: DrillReport, host: str, port: int) -> None:
    connection = clients.connect_restored(host, port)
    try:
        report.checks.append(check_tls(connection))
        schema = check_schema_present(connection, settings.database, settings.schema_tables)
        report.checks.append(schema)
        if schema.passed:
            report.restored_counts = row_counts(connection, settings.database, settings.key_tables)
            if not report.restore_time_exact:
                report.restored_newest_write = newest_write(connection, settings.database, settings.key_tables)
            report.checks.append(compare_row_counts(report.source_counts, report.restored_counts,
                                                    settings.tolerance))
        else:
            report.checks.append(failed("row counts", "not compared: the schema is incomplete"))
    finally:
        connection.close()
    for check in report.checks:
        clients.progress(f"[drill]   {check.line()}")
    failures = [check for check in report.checks if not check.passed]
    if failures:
        raise VerificationFailed("; ".join(f"{check.name}: {check.reason}" for check in failures))


def _delete_scratch(backend: DrillBackend, settings: DrillSettings, scratch: str) -> None:
    if scratch == settings.db_instance_id or "-drill-" not in scratch:
        raise ValueError(f"refusing to delete {scratch!r}: not a drill's scratch instance")
    backend.delete(scratch)


def _write_report(reports: ObjectStore, settings: DrillSettings, report: DrillReport) -> None:
    json_key = report_key(settings.stack, report.started_at, "json")
    markdown_key = report_key(settings.stack, report.started_at, "md")
    report.report_keys = [json_key, markdown_key]
    report.report_urls = [
        _stored(reports, json_key, json.dumps(report.to_dict(), indent=2, sort_keys=True).encode(), "application/json"),
        _stored(reports, markdown_key, report.to_markdown().encode(), "text/markdown"),
    ]


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{table}={count}" for table, count in counts.items())


def _stored(reports: ObjectStore, key: str, body: bytes, content_type: str) -> str:
    reports.put(key, body, content_type)
    return reports.url(key)
