"""Rollout and maintenance hooks: the bodies of the Pulumi resource hooks bound to the installer Job.

Before the installer runs:   preflight -> enter-maintenance -> record-restore-point
After it ran:                health-gate -> backup-config -> exit-maintenance

Every step is a plain function `step(clients, settings)`, so tests call it directly against local servers and the
Pulumi layer binds one `pulumi.ResourceHook` per step (names are the step names). What keeps a failed rollout safe:

- Preflight (ops/preflight.py: database, object storage, registry, cluster) runs first: a cell that fails it never
  enters maintenance, and the other before-steps refuse to run in a rollout whose preflight did not pass.
- Maintenance is only ever a lease (`enabledUntil = now + lease`): whatever fails later, it ends by itself. The
  lease lives where ws-manager-mk2 reads it (`default/ws-manager-mk2-maintenance-mode`, ops.maintenance), and must
  outlast the restore-point wait, the installer Job and the health gate (RolloutSettings checks that). The hooks
  never shorten or end an operator's lease: entering keeps `max(existing, new)`, exiting ends only the lease this
  rollout wrote (recorded as `rolloutMaintenanceUntil` in `gitpod-installation`).
- Every step that writes checks that the cluster's `gitpod-installation` record belongs to this stack (`cell`), and
  the first write records it.
- The restore point is recorded in the `gitpod-installation` ConfigMap before the installer changes anything.
- A failing step raises RolloutStepError naming the step; later steps do not run. The after-steps also check, per
  resource, that the steps before them passed in this process, so even an engine that carried on past a failed
  after-hook could not back up an unhealthy rollout or end maintenance early. Pulumi only warns about a failed
  after-hook (`pulumi up` still succeeds), so the deploy gate does not rely on these: `python -m ops fleet health`
  checks the cluster, the record and the lease itself (ops.cell_health).

Nothing here imports Pulumi at module level; only the adapter functions at the bottom do, when called.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from contract.cluster import DEFAULT_GITPOD_NAMESPACE, MK2_MAINTENANCE_NAMESPACE
from contract.rollout import (
    AFTER_ROLLOUT_STEPS,
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
    HookContext,
    minimum_lease_seconds,
)
from ops.config_backup import ConfigBackup
from ops.health import DEFAULT_POLL_SECONDS, HealthReport, wait_until_healthy
from ops.installation_record import (
    NO_LEASE_WRITTEN,
    InstallationRecord,
    check_cell,
    read_installation_record,
    update_installation_record,
)
from ops.kube import KubeApi
from ops.maintenance import MaintenanceLease, MaintenanceStatus, validate_lease_minutes
from ops.mysql_checks import DEFAULT_DATABASE, DEFAULT_USER, MYSQL_PORT, ServerVersionRequirement
from ops.restore_point import RestorePoint
from ops.timestamps import format_rfc3339, utc_now

if TYPE_CHECKING:
    from ops.preflight import PreflightClients, PreflightReport, PreflightSettings

# Kept for callers of the old name: the default health gate timeout.
MAX_DEFAULT_HEALTH_TIMEOUT_SECONDS = DEFAULT_HEALTH_TIMEOUT_SECONDS

log = logging.getLogger("ops.rollout")
StepResult = TypeVar("StepResult")


class RestorePointSource(Protocol):
    def capture(self, now: datetime) -> RestorePoint: ...


class ConfigBackupStore(Protocol):
    def write(
        self, stack: str, gitpod_version: str, config_hash: str, config_yaml: str, now: datetime
    ) -> ConfigBackup: ...


# Runs every preflight check, printing each line through `progress`; raises ops.preflight.PreflightFailed when any
# failed. `preflight_runner` builds one from preflight clients and settings.
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
    config_store: ConfigBackupStore
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


# -- the steps --------------------------------------------------------------------------------------------------


def run_preflight(clients: RolloutClients, settings: RolloutSettings) -> PreflightReport:
    if clients.preflight is None:
        raise PreflightNotConfigured(
            "no preflight runner: the hook context must name the database (database_host, database_port, "
            "database_username, database_password, and database_ca_pem or database_ca_url)"
        )
    return clients.preflight(clients.progress)


def _record_of_this_cell(clients: RolloutClients, settings: RolloutSettings) -> InstallationRecord | None:
    """The `gitpod-installation` record, after checking it belongs to settings.stack (ops.installation_record)."""
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
    clients.progress(change.status.describe())
    return change.status


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
    scheme = getattr(clients.config_store, "scheme", "s3")
    clients.progress(f"installer config backed up to {scheme}://{backup.bucket}/{backup.key} "
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


def _typed_step(step: str, expected: type[StepResult], clients: RolloutClients, settings: RolloutSettings,
                ledger: RolloutLedger) -> StepResult:
    result = run_step(step, clients, settings, ledger)
    assert isinstance(result, expected)
    return result


def before_rollout(clients: RolloutClients, settings: RolloutSettings) -> BeforeRolloutResult:
    from ops.preflight import PreflightReport

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


# -- the Pulumi adapter -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DatabaseTarget:
    """The database preflight connects to, over TLS verified against `ca_pem` (or the bundle at `ca_url`)."""

    host: str
    port: int = MYSQL_PORT
    username: str = DEFAULT_USER
    password: str = field(default="", repr=False)
    name: str = DEFAULT_DATABASE
    ca_pem: str | None = field(default=None, repr=False)
    ca_url: str | None = None


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
    cloud: str = "aws"
    restore_target_kind: str = "rds"
    object_storage_kind: str = "s3"
    gcp_project: str | None = None
    database: DatabaseTarget | None = None
    registry_repositories: tuple[str, ...] = ()
    database_version_requirement: ServerVersionRequirement = field(default_factory=ServerVersionRequirement)


ClientsFactory = Callable[[RolloutSettings, ClientSettings], RolloutClients]
CLOUD_KINDS: Mapping[str, tuple[str, str]] = {"aws": ("rds", "s3"), "gcp": ("cloudsql", "gcs")}
CA_BUNDLE_TIMEOUT_SECONDS = 30.0


async def hook_settings_from_args(context: HookContext, args: Any) -> tuple[RolloutSettings, ClientSettings]:
    """Resolve a HookContext for one hook invocation (`args` is the `pulumi.ResourceHookArgs`)."""
    values = {name: await _resolve(getattr(context, name), args) for name in HookContext.__dataclass_fields__}
    for required in ("stack", "region", "db_instance_id", "bucket"):
        if not values[required]:
            raise ValueError(f"HookContext.{required} resolved to nothing; the hooks cannot run without it")
    settings = RolloutSettings(
        stack=str(values["stack"]),
        namespace=str(values["namespace"] or DEFAULT_GITPOD_NAMESPACE),
        lease_minutes=int(values["lease_minutes"] or DEFAULT_LEASE_MINUTES),
        maintenance_namespace=str(values["maintenance_namespace"] or MK2_MAINTENANCE_NAMESPACE),
        snapshot_wait_seconds=float(values["snapshot_wait_seconds"] or DEFAULT_SNAPSHOT_WAIT_SECONDS),
        gitpod_version=_optional_str(values["gitpod_version"]),
        config_hash=_optional_str(values["config_hash"]),
        installer_config_yaml=_optional_str(values["installer_config_yaml"]),
        health_timeout_seconds=float(values["health_timeout_seconds"]) if values["health_timeout_seconds"] else None,
        health_label_selector=_optional_str(values["health_label_selector"]),
    )
    cloud = str(values["cloud"] or "aws")
    if cloud not in CLOUD_KINDS:
        raise ValueError(f"HookContext.cloud is {cloud!r}; expected one of {', '.join(CLOUD_KINDS)}")
    restore_kind = str(values["restore_target_kind"] or CLOUD_KINDS[cloud][0])
    storage_kind = str(values["object_storage_kind"] or CLOUD_KINDS[cloud][1])
    if (restore_kind, storage_kind) != CLOUD_KINDS[cloud]:
        raise ValueError(f"a {cloud} cell has a {CLOUD_KINDS[cloud][0]} database and {CLOUD_KINDS[cloud][1]} "
                         f"storage; the hook context says {restore_kind} and {storage_kind}")
    gcp_project = _optional_str(values["gcp_project"])
    if cloud == "gcp" and not gcp_project:
        raise ValueError("HookContext.gcp_project resolved to nothing; a GCP cell's hooks cannot run without it")
    repositories = values["registry_repositories"]
    if repositories is None:
        from ops.cell_target import cell_repositories

        repositories = cell_repositories(settings.stack, cloud)
    elif isinstance(repositories, str):
        repositories = [repositories]
    client_settings = ClientSettings(
        aws_region=str(values["region"]),
        db_instance_id=str(values["db_instance_id"]),
        bucket=str(values["bucket"]),
        kubeconfig=_optional_str(values["kubeconfig"]),
        kube_context=_optional_str(values["kube_context"]),
        aws_profile=_optional_str(values["aws_profile"]),
        snapshot_prefix=f"gitpod-cell-{settings.stack}",
        cloud=cloud,
        restore_target_kind=restore_kind,
        object_storage_kind=storage_kind,
        gcp_project=gcp_project,
        database=_database_target(values),
        registry_repositories=tuple(str(name) for name in repositories),
    )
    return settings, client_settings


def _database_target(values: Mapping[str, Any]) -> DatabaseTarget | None:
    host = _optional_str(values["database_host"])
    if host is None:
        return None
    ca_pem, ca_url = _optional_str(values["database_ca_pem"]), _optional_str(values["database_ca_url"])
    if ca_pem is None and ca_url is None:
        raise ValueError("HookContext names a database but neither database_ca_pem nor database_ca_url: preflight "
                         "verifies the database's TLS certificate against the provider's CA")
    return DatabaseTarget(
        host=host,
        port=int(values["database_port"] or MYSQL_PORT),
        username=str(values["database_username"] or DEFAULT_USER),
        password=str(values["database_password"] or ""),
        name=str(values["database_name"] or DEFAULT_DATABASE),
        ca_pem=ca_pem,
        ca_url=ca_url,
    )


def build_rollout_clients(settings: RolloutSettings, client_settings: ClientSettings) -> RolloutClients:
    """Real clients. AWS: boto3 from the standard credential chain (or the given profile). GCP: Application Default
    Credentials (ops.gcp_api). Kubernetes from the kubeconfig text, else $KUBECONFIG / ~/.kube/config / the
    in-cluster service account. Cloud clients are built when a step first needs them."""
    from ops.kube import KubeClient

    if client_settings.kubeconfig:
        kube: KubeApi = KubeClient.from_kubeconfig_text(client_settings.kubeconfig, client_settings.kube_context)
    else:
        kube = KubeClient.from_environment(context=client_settings.kube_context)
    return RolloutClients(
        kube=kube,
        restore_points=_LazyRestorePoints(lambda: _restore_points(settings, client_settings)),
        config_store=_LazyConfigStore(lambda: _config_store(client_settings)),
        preflight=_preflight_runner_for(settings, client_settings, kube),
    )


def _restore_points(settings: RolloutSettings, client_settings: ClientSettings) -> RestorePointSource:
    # A wait for a snapshot or backup (PITR off, or a new RDS instance without a restorable time yet) is bounded by
    # the budget RolloutSettings counted into the lease.
    wait_budget_seconds = settings.snapshot_wait_seconds
    if client_settings.restore_target_kind == "cloudsql":
        from ops.cloudsql_restore_point import OPERATION_POLL_SECONDS, CloudSqlRestorePoints

        assert client_settings.gcp_project is not None
        return CloudSqlRestorePoints(
            client_settings.gcp_project, client_settings.db_instance_id,
            description=f"gitpod-cell {settings.stack}: before a rollout",
            max_polls=max(1, int(wait_budget_seconds / OPERATION_POLL_SECONDS)),
        )
    from ops.cell_target import aws_session
    from ops.restore_point import SNAPSHOT_WAIT_DELAY_SECONDS, RdsRestorePoints

    session = aws_session(client_settings.aws_profile, client_settings.aws_region)
    return RdsRestorePoints(
        session.client("rds"),
        client_settings.db_instance_id,
        snapshot_prefix=client_settings.snapshot_prefix,
        snapshot_tags={"Cell": settings.stack, "ManagedBy": "gitpod-cell-ops", "Purpose": "pre-rollout"},
        wait_max_attempts=max(1, int(wait_budget_seconds / SNAPSHOT_WAIT_DELAY_SECONDS)),
    )


def _config_store(client_settings: ClientSettings) -> ConfigBackupStore:
    if client_settings.object_storage_kind == "gcs":
        from ops import gcp_api
        from ops.gcs_config_store import GcsConfigBackupStore

        return GcsConfigBackupStore(gcp_api.storage_client(client_settings.gcp_project), client_settings.bucket)
    from ops.cell_target import aws_session
    from ops.config_backup import S3ConfigBackupStore

    session = aws_session(client_settings.aws_profile, client_settings.aws_region)
    return S3ConfigBackupStore(session.client("s3"), client_settings.bucket)


def preflight_database_endpoint(client_settings: ClientSettings, ca_pem: str) -> Any:
    """The database as preflight reaches it. Cloud SQL certificates name `<project>:<instance>`, never the private
    IP connected to, so that is the identity checked there; RDS certificates name the host."""
    from ops.mysql_checks import DatabaseEndpoint, ServerIdentity

    database = client_settings.database
    if database is None:
        raise ValueError("no database in the hook context")
    identity = (ServerIdentity.cloud_sql(str(client_settings.gcp_project), client_settings.db_instance_id)
                if client_settings.restore_target_kind == "cloudsql" else None)
    return DatabaseEndpoint(database.host, database.port, database.username, database.password, database.name,
                            ca_pem=ca_pem, server_identity=identity)


def _preflight_runner_for(settings: RolloutSettings, client_settings: ClientSettings,
                          kube: KubeApi) -> PreflightRunner | None:
    database = client_settings.database
    if database is None:
        return None

    def run(progress: Callable[[str], None]) -> PreflightReport:
        from ops.preflight import PreflightSettings, build_preflight_clients

        endpoint = preflight_database_endpoint(client_settings, database.ca_pem or
                                               fetch_ca_bundle(str(database.ca_url)))
        clients = build_preflight_clients(client_settings.aws_region, kube, endpoint,
                                          aws_profile=client_settings.aws_profile, progress=progress,
                                          cloud=client_settings.cloud, gcp_project=client_settings.gcp_project)
        preflight_settings = PreflightSettings(
            stack=settings.stack, bucket=client_settings.bucket, repositories=client_settings.registry_repositories,
            database=database.name, version_requirement=client_settings.database_version_requirement,
        )
        return preflight_runner(clients, preflight_settings)(progress)

    return run


def preflight_runner(clients: PreflightClients, settings: PreflightSettings) -> PreflightRunner:
    """A PreflightRunner over ready-made preflight clients: ops.preflight.preflight, printing through `progress`."""

    def run(progress: Callable[[str], None]) -> PreflightReport:
        from ops.preflight import preflight

        return preflight(replace(clients, progress=progress), settings)

    return run


def fetch_ca_bundle(url: str, timeout_seconds: float = CA_BUNDLE_TIMEOUT_SECONDS) -> str:
    """The provider's published CA bundle (RDS: the global bundle), fetched when preflight runs."""
    import urllib.parse
    import urllib.request

    parsed = urllib.parse.urlsplit(url)
    # Plain HTTP only on loopback (a local test server): a CA bundle fetched in the clear could be anyone's.
    if not (parsed.scheme == "https" or (parsed.scheme == "http" and parsed.hostname in ("127.0.0.1", "localhost"))):
        raise ValueError(f"refusing to fetch the database CA bundle from {url}: https only")
    with urllib.request.urlopen(url, timeout=timeout_seconds) as response:
        text = response.read().decode()
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise ValueError(f"{url} holds no PEM certificate")
    return text


@dataclass
class _LazyRestorePoints:
    build: Callable[[], RestorePointSource]

    def capture(self, now: datetime) -> RestorePoint:
        return self.build().capture(now)


@dataclass
class _LazyConfigStore:
    build: Callable[[], ConfigBackupStore]
    scheme: str = "s3"

    def write(
        self, stack: str, gitpod_version: str, config_hash: str, config_yaml: str, now: datetime
    ) -> ConfigBackup:
        store = self.build()
        self.scheme = str(getattr(store, "scheme", self.scheme))
        return store.write(stack, gitpod_version, config_hash, config_yaml, now)


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
