"""The rollout's steps: what runs before and after the installer Job, one plain function per step.

Before the installer runs:   preflight -> enter-maintenance -> record-restore-point
After it ran:                health-gate -> backup-config -> exit-maintenance

Every step is a plain function `step(clients, settings)`, so tests call it directly against local servers; the
Pulumi adapter (ops.rollout.hooks) resolves a hook's context into RolloutSettings and RolloutClients and runs the
step named after the hook. What keeps a failed rollout safe:

- Preflight (ops.checks.preflight: database, object storage, registry, cluster) runs first: a cell that fails it
  never enters maintenance, and the other before-steps refuse to run in a rollout whose preflight did not pass.
- Maintenance is only ever a lease (`enabledUntil = now + lease`): whatever fails later, it ends by itself. The
  lease lives where ws-manager-mk2 reads it (`default/ws-manager-mk2-maintenance-mode`, ops.cluster.maintenance),
  and must outlast the restore-point wait, the installer Job and the health gate (RolloutSettings checks that). The
  steps never shorten or end an operator's lease: entering keeps `max(existing, new)`, exiting ends only the lease
  this rollout wrote (recorded as `rolloutMaintenanceUntil` in `gitpod-installation`).
- Every step that writes checks that the cluster's `gitpod-installation` record belongs to this stack (`cell`), and
  the first write records it.
- The restore point is recorded in the `gitpod-installation` ConfigMap before the installer changes anything.
- A failing step raises RolloutStepError naming the step; later steps do not run. The after-steps also check, per
  resource, that the steps before them passed in this process (RolloutLedger), so even an engine that carried on
  past a failed after-hook could not back up an unhealthy rollout or end maintenance early. A failed after-hook fails
  `pulumi up` (CLI v3.274, seen by `make e2e`); the deploy gate still does not rely on the hooks alone:
  `python -m ops fleet health` checks the cluster, the record and the lease itself (ops.cluster.cell_health).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from contract.cluster import DEFAULT_GITPOD_NAMESPACE, MK2_MAINTENANCE_NAMESPACE
from contract.gitpod_builds import MaintenanceMechanism
from contract.rollout import (
    ALL_STEPS,
    BACKUP_CONFIG,
    BEFORE_ROLLOUT_STEPS,
    DEFAULT_HEALTH_TIMEOUT_SECONDS,
    DEFAULT_LEASE_MINUTES,
    DEFAULT_SNAPSHOT_WAIT_SECONDS,
    ENTER_MAINTENANCE,
    EXIT_MAINTENANCE,
    HEALTH_GATE,
    INSTALLER_JOB_DEADLINE_SECONDS,
    LEASE_MARGIN_SECONDS,
    PREFLIGHT,
    PREREQUISITES,
    RECORD_RESTORE_POINT,
    minimum_lease_seconds,
)
from ops.backup.config_backup import ConfigBackup
from ops.backup.restore_point import RestorePoint, RestorePointSource
from ops.cluster.health import DEFAULT_POLL_SECONDS, HealthReport, wait_until_healthy
from ops.cluster.installation_record import (
    NO_LEASE_WRITTEN,
    InstallationRecord,
    check_cell,
    read_installation_record,
    update_installation_record,
)
from ops.cluster.kube import KubeApi
from ops.cluster.maintenance import MaintenanceLease, MaintenanceStatus, validate_lease_minutes
from ops.cluster.workspace_manager import WorkspaceManager
from ops.common.timestamps import format_rfc3339, utc_now

if TYPE_CHECKING:
    from ops.checks.preflight import PreflightClients, PreflightReport, PreflightSettings

log = logging.getLogger("ops.rollout")


class ConfigBackupWriter(Protocol):
    """Where backup-config writes (ops.backup.config_store.ConfigBackupStore on the cell's bucket)."""

    scheme: str

    def write(
        self, stack: str, gitpod_version: str, config_hash: str, config_yaml: str, now: datetime
    ) -> ConfigBackup: ...


# Runs every preflight check, printing each line through `progress`; raises ops.checks.preflight.PreflightFailed
# when any failed. `preflight_runner` builds one from preflight clients and settings.
PreflightRunner = Callable[[Callable[[str], None]], "PreflightReport"]


class PreflightNotConfigured(Exception):
    """The rollout has no preflight runner: the hook context gave no database to check."""


class RolloutStepError(Exception):
    """A rollout step failed. `step` is one of ALL_STEPS, `cause` the underlying exception."""

    def __init__(self, step: str, cause: BaseException) -> None:
        self.step = step
        self.cause = cause
        if step == PREFLIGHT:
            after_lease = " (nothing was changed: maintenance was not entered)"
        elif step == ENTER_MAINTENANCE:
            after_lease = ""
        else:
            after_lease = (" (maintenance, if entered, ends by itself when its lease runs out: "
                           "`python -m ops maintenance status --stack <stack>`)")
        super().__init__(f"rollout step {step!r} failed: {type(cause).__name__}: {cause}{after_lease}")


class PrerequisiteNotMet(Exception):
    """A step was asked to run although a step it depends on did not pass in this rollout."""


@dataclass(frozen=True)
class RolloutSettings:
    stack: str
    namespace: str = DEFAULT_GITPOD_NAMESPACE  # the Gitpod namespace: the `gitpod-installation` record
    lease_minutes: int = DEFAULT_LEASE_MINUTES
    # Where ws-manager-mk2 reads its maintenance ConfigMap: `default`, whatever the Gitpod namespace.
    maintenance_namespace: str = MK2_MAINTENANCE_NAMESPACE
    # How maintenance pauses workspaces on the pinned build (contract.gitpod_builds) and which Deployment starts
    # and stops them: builds without ws-manager-mk2 also hold that Deployment at zero replicas during the lease.
    maintenance_mechanism: MaintenanceMechanism = "mk2-lease"
    workspace_manager: str = "ws-manager-mk2"
    # The longest record-restore-point waits for an on-demand snapshot/backup.
    snapshot_wait_seconds: float = DEFAULT_SNAPSHOT_WAIT_SECONDS
    # Needed by backup-config only; the before-steps run without them.
    gitpod_version: str | None = None
    config_hash: str | None = None
    installer_config_yaml: str | None = None
    health_timeout_seconds: float | None = None
    health_poll_seconds: float = DEFAULT_POLL_SECONDS
    health_label_selector: str | None = None

    def __post_init__(self) -> None:
        if not self.stack:
            raise ValueError("RolloutSettings.stack is required")
        validate_lease_minutes(self.lease_minutes)
        if self.snapshot_wait_seconds <= 0:
            raise ValueError(f"snapshot wait {self.snapshot_wait_seconds:g}s must be positive")
        if self.health_timeout_seconds is not None and self.health_timeout_seconds <= 0:
            raise ValueError(f"health gate timeout {self.health_timeout_seconds:g}s must be positive")
        health = self.effective_health_timeout_seconds
        needed = minimum_lease_seconds(self.snapshot_wait_seconds, health)
        if self.lease_minutes * 60 < needed:
            raise ValueError(
                f"maintenance lease of {self.lease_minutes} min is shorter than the rollout it must cover: "
                f"snapshot wait {self.snapshot_wait_seconds / 60:g} min + installer Job deadline "
                f"{INSTALLER_JOB_DEADLINE_SECONDS / 60:g} min + health gate timeout {health / 60:g} min + margin "
                f"{LEASE_MARGIN_SECONDS / 60:g} min = {needed / 60:g} min; raise gitpod.maintenanceLeaseMinutes to "
                f"at least {_whole_minutes(needed)} or shorten the health timeout / snapshot wait"
            )

    @property
    def effective_health_timeout_seconds(self) -> float:
        if self.health_timeout_seconds is not None:
            return self.health_timeout_seconds
        return DEFAULT_HEALTH_TIMEOUT_SECONDS


def _whole_minutes(seconds: float) -> int:
    return int(-(-seconds // 60))


@dataclass(frozen=True)
class RolloutClients:
    kube: KubeApi
    restore_points: RestorePointSource
    config_store: ConfigBackupWriter
    # None: no preflight can run, and the preflight step fails (a rollout never skips it silently).
    preflight: PreflightRunner | None = None
    clock: Callable[[], datetime] = utc_now
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    progress: Callable[[str], None] = log.info


@dataclass
class RolloutLedger:
    """The steps that passed in the current rollout of one resource."""

    passed: set[str] = field(default_factory=set)

    def begin(self, step: str) -> None:
        """Called before a step runs: the first before-step starts a new rollout, forgetting the last one's."""
        if step == BEFORE_ROLLOUT_STEPS[0]:
            self.passed.clear()

    def check(self, step: str) -> None:
        missing = [name for name in PREREQUISITES.get(step, ()) if name not in self.passed]
        if missing:
            raise PrerequisiteNotMet(
                f"not running: {', '.join(missing)} did not pass in this rollout, so the cell stays as it is "
                "and maintenance ends when its lease runs out"
            )

    def record(self, step: str) -> None:
        self.passed.add(step)


# -- the steps --------------------------------------------------------------------------------------------------


def run_preflight(clients: RolloutClients, settings: RolloutSettings) -> PreflightReport:
    if clients.preflight is None:
        raise PreflightNotConfigured(
            "no preflight runner: the hook context must name the database (database_host, database_port, "
            "database_username, database_password, and database_ca_pem or database_ca_url)"
        )
    return clients.preflight(clients.progress)


def _record_of_this_cell(clients: RolloutClients, settings: RolloutSettings) -> InstallationRecord | None:
    """The `gitpod-installation` record, after checking it belongs to settings.stack
    (ops.cluster.installation_record)."""
    record = read_installation_record(clients.kube, settings.namespace)
    check_cell(record, settings.stack)
    return record


def enter_maintenance(clients: RolloutClients, settings: RolloutSettings) -> MaintenanceStatus:
    _record_of_this_cell(clients, settings)
    change = MaintenanceLease(clients.kube, settings.maintenance_namespace).extend(settings.lease_minutes,
                                                                                    clients.clock())
    # What this rollout wrote is what exit-maintenance may end; `none`: an existing longer lease was kept.
    update_installation_record(
        clients.kube, settings.namespace, cell=settings.stack,
        rollout_maintenance_until=format_rfc3339(change.written) if change.written else NO_LEASE_WRITTEN,
    )
    if change.note:
        clients.progress(change.note)
    # Builds without ws-manager-mk2: ws-manager at zero replicas now (the maintenance keeper would within a minute).
    clients.progress(_workspace_manager(clients, settings).pause())
    clients.progress(change.status.describe())
    return change.status


def _workspace_manager(clients: RolloutClients, settings: RolloutSettings) -> WorkspaceManager:
    return WorkspaceManager(clients.kube, settings.namespace, settings.workspace_manager,
                            settings.maintenance_mechanism)


def record_restore_point(clients: RolloutClients, settings: RolloutSettings) -> RestorePoint:
    _record_of_this_cell(clients, settings)
    started_at = clients.clock()
    restore_point = clients.restore_points.capture(started_at)
    update_installation_record(
        clients.kube, settings.namespace, rollout_started_at=started_at, restore_point=restore_point,
        cell=settings.stack,
    )
    clients.progress(f"restore point recorded: {restore_point.to_json()}")
    return restore_point


def health_gate(clients: RolloutClients, settings: RolloutSettings) -> HealthReport:
    report = wait_until_healthy(
        clients.kube,
        settings.namespace,
        timeout_seconds=settings.effective_health_timeout_seconds,
        poll_seconds=settings.health_poll_seconds,
        label_selector=settings.health_label_selector,
        monotonic=clients.monotonic,
        sleep=clients.sleep,
    )
    clients.progress(report.summary())
    return report


def backup_config(clients: RolloutClients, settings: RolloutSettings) -> ConfigBackup:
    version, config_hash, config_yaml = (settings.gitpod_version, settings.config_hash,
                                         settings.installer_config_yaml)
    if not (version and config_hash and config_yaml):
        raise ValueError("RolloutSettings needs gitpod_version, config_hash and installer_config_yaml to back up "
                         "the applied config")
    _record_of_this_cell(clients, settings)
    backup = clients.config_store.write(settings.stack, version, config_hash, config_yaml, clients.clock())
    update_installation_record(clients.kube, settings.namespace, config_backup=backup)
    clients.progress(f"installer config backed up to {clients.config_store.scheme}://{backup.bucket}/{backup.key} "
                     f"(version {backup.version_id})")
    return backup


def exit_maintenance(clients: RolloutClients, settings: RolloutSettings) -> MaintenanceStatus:
    record = _record_of_this_cell(clients, settings)
    now = clients.clock()
    written = record.rollout_maintenance_until if record is not None else None
    change = MaintenanceLease(clients.kube, settings.maintenance_namespace).end_if_unchanged(written, now)
    update_installation_record(clients.kube, settings.namespace, rollout_finished_at=now)
    if change.note:
        log.warning(change.note)
        clients.progress(change.note)
    elif change.written is not None:
        # This rollout ended its own lease: its workspace manager may run again (someone else's longer lease keeps
        # it paused; the maintenance keeper resumes it when that one passes).
        clients.progress(_workspace_manager(clients, settings).resume())
    clients.progress(change.status.describe())
    return change.status


STEP_FUNCTIONS: Mapping[str, Callable[[RolloutClients, RolloutSettings], object]] = {
    PREFLIGHT: run_preflight,
    ENTER_MAINTENANCE: enter_maintenance,
    RECORD_RESTORE_POINT: record_restore_point,
    HEALTH_GATE: health_gate,
    BACKUP_CONFIG: backup_config,
    EXIT_MAINTENANCE: exit_maintenance,
}


def run_step(
    step: str, clients: RolloutClients, settings: RolloutSettings, ledger: RolloutLedger | None = None
) -> object:
    """Run one step by name; any failure becomes RolloutStepError(step, cause)."""
    if step not in STEP_FUNCTIONS:
        raise ValueError(f"unknown rollout step {step!r}; steps: {', '.join(ALL_STEPS)}")
    try:
        if ledger is not None:
            ledger.begin(step)
            ledger.check(step)
        result = STEP_FUNCTIONS[step](clients, settings)
    except Exception as error:
        raise RolloutStepError(step, error) from error
    if ledger is not None:
        ledger.record(step)
    return result


def preflight_runner(clients: PreflightClients, settings: PreflightSettings) -> PreflightRunner:
    """A PreflightRunner over ready-made preflight clients: ops.checks.preflight.preflight, printing through
    `progress`."""

    def run(progress: Callable[[str], None]) -> PreflightReport:
        from ops.checks.preflight import preflight

        return preflight(replace(clients, progress=progress), settings)

    return run
