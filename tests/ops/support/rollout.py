"""A whole rollout's steps in order, as the engine runs the hooks: the before-steps, then (after the installer) the
after-steps, each sharing one ledger. Only tests run them together; `pulumi up` runs one hook at a time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from contract.rollout import (
    BACKUP_CONFIG,
    ENTER_MAINTENANCE,
    EXIT_MAINTENANCE,
    HEALTH_GATE,
    PREFLIGHT,
    RECORD_RESTORE_POINT,
)
from ops.backup.config_backup import ConfigBackup
from ops.backup.restore_point import RestorePoint
from ops.checks.preflight import PreflightReport
from ops.cluster.health import HealthReport
from ops.cluster.maintenance import MaintenanceStatus
from ops.common.check_result import passed
from ops.rollout.steps import RolloutClients, RolloutLedger, RolloutSettings, run_step

StepResult = TypeVar("StepResult")


@dataclass(frozen=True)
class BeforeRolloutResult:
    preflight: PreflightReport
    maintenance: MaintenanceStatus
    restore_point: RestorePoint


@dataclass(frozen=True)
class AfterRolloutResult:
    health: HealthReport
    config_backup: ConfigBackup
    maintenance: MaintenanceStatus


def preflight_passes(progress: Callable[[str], None]) -> PreflightReport:
    """A stand-in for the preflight checks, for tests of the other steps (the real ones run in
    tests/ops/rollout/test_steps.py and test_hooks.py against MariaDB)."""
    return PreflightReport((passed("stand-in", "every check passed"),))


def _typed_step(step: str, expected: type[StepResult], clients: RolloutClients, settings: RolloutSettings,
                ledger: RolloutLedger) -> StepResult:
    result = run_step(step, clients, settings, ledger)
    assert isinstance(result, expected)
    return result


def before_rollout(clients: RolloutClients, settings: RolloutSettings) -> BeforeRolloutResult:
    ledger = RolloutLedger()
    report = _typed_step(PREFLIGHT, PreflightReport, clients, settings, ledger)
    maintenance = _typed_step(ENTER_MAINTENANCE, MaintenanceStatus, clients, settings, ledger)
    restore_point = _typed_step(RECORD_RESTORE_POINT, RestorePoint, clients, settings, ledger)
    return BeforeRolloutResult(report, maintenance, restore_point)


def after_rollout(clients: RolloutClients, settings: RolloutSettings) -> AfterRolloutResult:
    ledger = RolloutLedger()
    health = _typed_step(HEALTH_GATE, HealthReport, clients, settings, ledger)
    backup = _typed_step(BACKUP_CONFIG, ConfigBackup, clients, settings, ledger)
    maintenance = _typed_step(EXIT_MAINTENANCE, MaintenanceStatus, clients, settings, ledger)
    return AfterRolloutResult(health, backup, maintenance)
