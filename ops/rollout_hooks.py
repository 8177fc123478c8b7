"""Rollout and maintenance hooks: the bodies of the Pulumi resource hooks bound to the installer Job.

Before the installer runs:   enter-maintenance -> record-restore-point
After it ran:                health-gate -> backup-config -> exit-maintenance

Every step is a plain function `step(clients, settings)`, so tests call it directly against local servers and the
Pulumi layer binds one `pulumi.ResourceHook` per step (names are the step names). What keeps a failed rollout safe:

- Maintenance is only ever a lease (`enabledUntil = now + lease`): whatever fails later, it ends by itself.
- The restore point is recorded in the `gitpod-installation` ConfigMap before the installer changes anything.
- A failing step raises RolloutStepError naming the step; later steps do not run. The after-steps also check, per
  resource, that the steps before them passed in this process, so even an engine that carried on past a failed
  after-hook could not back up an unhealthy rollout or end maintenance early.

Nothing here imports Pulumi at module level; only the adapter functions at the bottom do, when called.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol, TypeVar

from ops.config_backup import ConfigBackup
from ops.health import DEFAULT_POLL_SECONDS, HealthReport, wait_until_healthy
from ops.installation_record import update_installation_record
from ops.kube import KubeApi
from ops.maintenance import (
    DEFAULT_LEASE_MINUTES,
    DEFAULT_NAMESPACE,
    MaintenanceLease,
    MaintenanceStatus,
    validate_lease_minutes,
)
from ops.restore_point import RestorePoint
from ops.timestamps import utc_now

ENTER_MAINTENANCE = "enter-maintenance"
RECORD_RESTORE_POINT = "record-restore-point"
HEALTH_GATE = "health-gate"
BACKUP_CONFIG = "backup-config"
EXIT_MAINTENANCE = "exit-maintenance"
BEFORE_ROLLOUT_STEPS: tuple[str, ...] = (ENTER_MAINTENANCE, RECORD_RESTORE_POINT)
AFTER_ROLLOUT_STEPS: tuple[str, ...] = (HEALTH_GATE, BACKUP_CONFIG, EXIT_MAINTENANCE)
ALL_STEPS: tuple[str, ...] = BEFORE_ROLLOUT_STEPS + AFTER_ROLLOUT_STEPS
# A step runs only after these passed for the same resource in the same process.
PREREQUISITES: Mapping[str, tuple[str, ...]] = {
    BACKUP_CONFIG: (HEALTH_GATE,),
    EXIT_MAINTENANCE: (HEALTH_GATE, BACKUP_CONFIG),
}
# The health gate gets at most this long by default, and never more than half the lease, so the lease still covers
# the installer Job that runs between the before- and after-steps.
MAX_DEFAULT_HEALTH_TIMEOUT_SECONDS = 15 * 60

log = logging.getLogger("ops.rollout")
StepResult = TypeVar("StepResult")


class RestorePointSource(Protocol):
    def capture(self, now: datetime) -> RestorePoint: ...


class ConfigBackupStore(Protocol):
    def write(
        self, stack: str, gitpod_version: str, config_hash: str, config_yaml: str, now: datetime
    ) -> ConfigBackup: ...


class RolloutStepError(Exception):
    """A rollout step failed. `step` is one of ALL_STEPS, `cause` the underlying exception."""

    def __init__(self, step: str, cause: BaseException) -> None:
        self.step = step
        self.cause = cause
        after_lease = (
            "" if step == ENTER_MAINTENANCE
            else " (maintenance, if entered, ends by itself when its lease runs out: "
                 "`python -m ops maintenance status --stack <stack>`)"
        )
        super().__init__(f"rollout step {step!r} failed: {type(cause).__name__}: {cause}{after_lease}")


class PrerequisiteNotMet(Exception):
    """A step was asked to run although a step it depends on did not pass in this rollout."""


@dataclass(frozen=True)
class RolloutSettings:
    stack: str
    namespace: str = DEFAULT_NAMESPACE
    lease_minutes: int = DEFAULT_LEASE_MINUTES
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
        if self.health_timeout_seconds is not None and self.health_timeout_seconds >= self.lease_minutes * 60:
            raise ValueError(
                f"health gate timeout {self.health_timeout_seconds:g}s must be shorter than the "
                f"{self.lease_minutes}-minute maintenance lease, or maintenance ends while the gate still waits"
            )

    @property
    def effective_health_timeout_seconds(self) -> float:
        if self.health_timeout_seconds is not None:
            return self.health_timeout_seconds
        return min(MAX_DEFAULT_HEALTH_TIMEOUT_SECONDS, self.lease_minutes * 60 / 2)


@dataclass(frozen=True)
class RolloutClients:
    kube: KubeApi
    restore_points: RestorePointSource
    config_store: ConfigBackupStore
    clock: Callable[[], datetime] = utc_now
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    progress: Callable[[str], None] = log.info


@dataclass
class RolloutLedger:
    """The steps that passed in the current rollout of one resource."""

    passed: set[str] = field(default_factory=set)

    def check(self, step: str) -> None:
        missing = [name for name in PREREQUISITES.get(step, ()) if name not in self.passed]
        if missing:
            raise PrerequisiteNotMet(
                f"not running: {', '.join(missing)} did not pass in this rollout, so the cell stays as it is "
                "and maintenance ends when its lease runs out"
            )

    def record(self, step: str) -> None:
        if step == ENTER_MAINTENANCE:
            self.passed.clear()  # a new rollout begins
        self.passed.add(step)


@dataclass(frozen=True)
class BeforeRolloutResult:
    maintenance: MaintenanceStatus
    restore_point: RestorePoint


@dataclass(frozen=True)
class AfterRolloutResult:
    health: HealthReport
    config_backup: ConfigBackup
    maintenance: MaintenanceStatus


# -- the steps --------------------------------------------------------------------------------------------------


def enter_maintenance(clients: RolloutClients, settings: RolloutSettings) -> MaintenanceStatus:
    status = MaintenanceLease(clients.kube, settings.namespace).enter(settings.lease_minutes, clients.clock())
    clients.progress(status.describe())
    return status


def record_restore_point(clients: RolloutClients, settings: RolloutSettings) -> RestorePoint:
    started_at = clients.clock()
    restore_point = clients.restore_points.capture(started_at)
    update_installation_record(
        clients.kube, settings.namespace, rollout_started_at=started_at, restore_point=restore_point
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
    backup = clients.config_store.write(settings.stack, version, config_hash, config_yaml, clients.clock())
    update_installation_record(clients.kube, settings.namespace, config_backup=backup)
    clients.progress(f"installer config backed up to s3://{backup.bucket}/{backup.key} (version {backup.version_id})")
    return backup


def exit_maintenance(clients: RolloutClients, settings: RolloutSettings) -> MaintenanceStatus:
    now = clients.clock()
    status = MaintenanceLease(clients.kube, settings.namespace).exit(now)
    update_installation_record(clients.kube, settings.namespace, rollout_finished_at=now)
    clients.progress(status.describe())
    return status


STEP_FUNCTIONS: Mapping[str, Callable[[RolloutClients, RolloutSettings], object]] = {
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
            ledger.check(step)
        result = STEP_FUNCTIONS[step](clients, settings)
    except Exception as error:
        raise RolloutStepError(step, error) from error
    if ledger is not None:
        ledger.record(step)
    return result


def _typed_step(step: str, expected: type[StepResult], clients: RolloutClients, settings: RolloutSettings,
                ledger: RolloutLedger) -> StepResult:
    result = run_step(step, clients, settings, ledger)
    assert isinstance(result, expected)
    return result


def before_rollout(clients: RolloutClients, settings: RolloutSettings) -> BeforeRolloutResult:
    ledger = RolloutLedger()
    maintenance = _typed_step(ENTER_MAINTENANCE, MaintenanceStatus, clients, settings, ledger)
    restore_point = _typed_step(RECORD_RESTORE_POINT, RestorePoint, clients, settings, ledger)
    return BeforeRolloutResult(maintenance, restore_point)


def after_rollout(clients: RolloutClients, settings: RolloutSettings) -> AfterRolloutResult:
    ledger = RolloutLedger()
    health = _typed_step(HEALTH_GATE, HealthReport, clients, settings, ledger)
    backup = _typed_step(BACKUP_CONFIG, ConfigBackup, clients, settings, ledger)
    maintenance = _typed_step(EXIT_MAINTENANCE, MaintenanceStatus, clients, settings, ledger)
    return AfterRolloutResult(health, backup, maintenance)


# -- the Pulumi adapter -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HookContext:
    """What the Pulumi layer hands the hooks. Each field is a plain value, a `pulumi.Output` (awaited when the hook
    runs; it must come from resources the hooked resource depends on, never from that resource itself), or a
    callable taking the `pulumi.ResourceHookArgs` (e.g. to read the Job's `new_inputs`)."""

    stack: Any
    aws_region: Any
    db_instance_id: Any
    bucket: Any
    gitpod_version: Any = None
    config_hash: Any = None
    installer_config_yaml: Any = None
    kubeconfig: Any = None  # kubeconfig text (a secret Output is fine); None: $KUBECONFIG, ~/.kube/config, in-cluster
    kube_context: Any = None
    namespace: Any = DEFAULT_NAMESPACE
    lease_minutes: Any = DEFAULT_LEASE_MINUTES
    health_timeout_seconds: Any = None
    health_label_selector: Any = None
    aws_profile: Any = None


@dataclass(frozen=True)
class ClientSettings:
    """How to reach the live systems; resolved from a HookContext."""

    aws_region: str
    db_instance_id: str
    bucket: str
    kubeconfig: str | None = None
    kube_context: str | None = None
    aws_profile: str | None = None
    snapshot_prefix: str = "gitpod-cell"


ClientsFactory = Callable[[RolloutSettings, ClientSettings], RolloutClients]


async def hook_settings_from_args(context: HookContext, args: Any) -> tuple[RolloutSettings, ClientSettings]:
    """Resolve a HookContext for one hook invocation (`args` is the `pulumi.ResourceHookArgs`)."""
    values = {name: await _resolve(getattr(context, name), args) for name in HookContext.__dataclass_fields__}
    for required in ("stack", "aws_region", "db_instance_id", "bucket"):
        if not values[required]:
            raise ValueError(f"HookContext.{required} resolved to nothing; the hooks cannot run without it")
    settings = RolloutSettings(
        stack=str(values["stack"]),
        namespace=str(values["namespace"] or DEFAULT_NAMESPACE),
        lease_minutes=int(values["lease_minutes"] or DEFAULT_LEASE_MINUTES),
        gitpod_version=_optional_str(values["gitpod_version"]),
        config_hash=_optional_str(values["config_hash"]),
        installer_config_yaml=_optional_str(values["installer_config_yaml"]),
        health_timeout_seconds=float(values["health_timeout_seconds"]) if values["health_timeout_seconds"] else None,
        health_label_selector=_optional_str(values["health_label_selector"]),
    )
    client_settings = ClientSettings(
        aws_region=str(values["aws_region"]),
        db_instance_id=str(values["db_instance_id"]),
        bucket=str(values["bucket"]),
        kubeconfig=_optional_str(values["kubeconfig"]),
        kube_context=_optional_str(values["kube_context"]),
        aws_profile=_optional_str(values["aws_profile"]),
        snapshot_prefix=f"gitpod-cell-{settings.stack}",
    )
    return settings, client_settings


def build_rollout_clients(settings: RolloutSettings, client_settings: ClientSettings) -> RolloutClients:
    """Real clients: boto3 from the standard credential chain (or the given profile), Kubernetes from the
    kubeconfig text, else $KUBECONFIG / ~/.kube/config / the in-cluster service account."""
    import boto3

    from ops.config_backup import S3ConfigBackupStore
    from ops.kube import KubeClient
    from ops.restore_point import SNAPSHOT_WAIT_DELAY_SECONDS, RdsRestorePoints

    session = boto3.session.Session(profile_name=client_settings.aws_profile, region_name=client_settings.aws_region)
    # A snapshot wait (PITR off, or a new instance without a restorable time yet) may use at most a quarter of the
    # lease, leaving the rest for the installer Job and the health gate.
    snapshot_wait_attempts = max(1, int(settings.lease_minutes * 60 / 4 / SNAPSHOT_WAIT_DELAY_SECONDS))
    if client_settings.kubeconfig:
        kube: KubeApi = KubeClient.from_kubeconfig_text(client_settings.kubeconfig, client_settings.kube_context)
    else:
        kube = KubeClient.from_environment(context=client_settings.kube_context)
    return RolloutClients(
        kube=kube,
        restore_points=RdsRestorePoints(
            session.client("rds"),
            client_settings.db_instance_id,
            snapshot_prefix=client_settings.snapshot_prefix,
            snapshot_tags={"Cell": settings.stack, "ManagedBy": "gitpod-cell-ops", "Purpose": "pre-rollout"},
            wait_max_attempts=snapshot_wait_attempts,
        ),
        config_store=S3ConfigBackupStore(session.client("s3"), client_settings.bucket),
    )


def hook_callback(
    step: str,
    context: HookContext,
    *,
    clients_factory: ClientsFactory = build_rollout_clients,
    ledgers: dict[str, RolloutLedger] | None = None,
) -> Callable[[Any], Awaitable[None]]:
    """The async function a `pulumi.ResourceHook` calls for `step`.

    The step blocks (HTTP calls, the health gate's polling), so it runs in a worker thread: the Pulumi program's
    event loop keeps serving the engine meanwhile. `ledgers` (per resource URN) must be shared by the callbacks of
    one resource so the after-steps can see what passed; build_resource_hooks does that.
    """
    if step not in STEP_FUNCTIONS:
        raise ValueError(f"unknown rollout step {step!r}; steps: {', '.join(ALL_STEPS)}")
    shared_ledgers = ledgers if ledgers is not None else {}

    async def callback(args: Any) -> None:
        try:
            settings, client_settings = await hook_settings_from_args(context, args)
        except Exception as error:
            raise RolloutStepError(step, error) from error
        progress = _pulumi_progress()
        ledger = shared_ledgers.setdefault(str(getattr(args, "urn", "")), RolloutLedger())

        def build_clients_and_run() -> None:
            try:
                clients = clients_factory(settings, client_settings)
            except Exception as error:
                raise RolloutStepError(step, error) from error
            run_step(step, replace(clients, progress=progress) if progress else clients, settings, ledger)

        await asyncio.to_thread(build_clients_and_run)

    callback.__name__ = f"gitpod_cell_{step.replace('-', '_')}"
    callback.__doc__ = f"gitpod-cell rollout step {step!r} (ops.rollout_hooks)."
    return callback


def build_resource_hooks(
    context: HookContext, *, clients_factory: ClientsFactory = build_rollout_clients
) -> dict[str, Any]:
    """One `pulumi.ResourceHook` per step, named exactly as the step. Call once per program (hook names are unique
    per program)."""
    import pulumi

    ledgers: dict[str, RolloutLedger] = {}
    return {
        step: pulumi.ResourceHook(step, hook_callback(step, context, clients_factory=clients_factory, ledgers=ledgers))
        for step in ALL_STEPS
    }


def rollout_hook_binding(hooks: Mapping[str, Any]) -> Any:
    """The `pulumi.ResourceHookBinding` for the installer Job. Its name carries the version and config hash, so a
    rollout is a replacement (create hooks), while first installs are creates too; in-place updates get the same
    steps."""
    import pulumi

    before = [hooks[step] for step in BEFORE_ROLLOUT_STEPS]
    after = [hooks[step] for step in AFTER_ROLLOUT_STEPS]
    return pulumi.ResourceHookBinding(before_create=before, before_update=list(before),
                                      after_create=after, after_update=list(after))


async def _resolve(value: Any, args: Any) -> Any:
    import inspect

    import pulumi

    if callable(value) and not isinstance(value, pulumi.Output):
        value = value(args)
    if isinstance(value, pulumi.Output):
        return await value.future()
    if inspect.isawaitable(value):
        return await value
    return value


def _optional_str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _pulumi_progress() -> Callable[[str], None] | None:
    """Progress lines in `pulumi up` output, attached to the hooked resource; None outside a Pulumi program."""
    try:
        import pulumi
        from pulumi.runtime.settings import get_engine
    except ImportError:
        return None
    if get_engine() is None:
        return None

    def progress(message: str) -> None:
        log.info(message)
        pulumi.log.info(message)

    return progress
