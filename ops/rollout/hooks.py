"""The Pulumi adapter of the rollout steps: what a `pulumi.ResourceHook` on the installer Job calls.

components/gitpod/hooks.py binds one hook per step (named after the step) and imports `hook_callback` from here
only when a hook runs. Each call resolves the program's typed HookContext (contract.rollout; plain values,
`pulumi.Output`s or callables of the hook's args) into RolloutSettings and ClientSettings, builds the real clients
(the cell's cloud clients from `ops.clouds.cell_clients`, a KubeClient from the cell's kubeconfig) and runs the
step (ops.rollout.steps) in a worker thread.

Nothing here imports Pulumi at module level; only the functions that need it do, when called.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, get_args

from contract.cluster import DEFAULT_GITPOD_NAMESPACE, MK2_MAINTENANCE_NAMESPACE
from contract.gitpod_builds import MaintenanceMechanism
from contract.rollout import ALL_STEPS, DEFAULT_LEASE_MINUTES, DEFAULT_SNAPSHOT_WAIT_SECONDS, HookContext
from ops.backup.config_backup import ConfigBackup
from ops.backup.restore_point import RestorePoint, RestorePointSource
from ops.checks.mysql import DEFAULT_DATABASE, DEFAULT_USER, MYSQL_PORT, ServerVersionRequirement
from ops.cluster.kube import KubeApi
from ops.common.cell_target import CellTarget
from ops.rollout.steps import (
    STEP_FUNCTIONS,
    PreflightRunner,
    RolloutClients,
    RolloutLedger,
    RolloutSettings,
    RolloutStepError,
    preflight_runner,
    run_step,
)

if TYPE_CHECKING:
    from ops.checks.mysql import DatabaseEndpoint
    from ops.checks.preflight import PreflightReport
    from ops.clouds.base import CellClients

log = logging.getLogger("ops.rollout")
CA_BUNDLE_TIMEOUT_SECONDS = 30.0


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
    """How to reach the live systems; resolved from a HookContext. `region` is the restore target's region."""

    region: str
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
    # The hook context's values of the fields the cell's cloud adapter asks for (CloudAdapter.hook_context_fields).
    cloud_settings: Mapping[str, str] = field(default_factory=dict)
    database: DatabaseTarget | None = None
    registry_repositories: tuple[str, ...] = ()
    database_version_requirement: ServerVersionRequirement = field(default_factory=ServerVersionRequirement)

    def cell_target(self, settings: RolloutSettings) -> CellTarget:
        """The cell as ops.clouds sees it: what its clients need, from the hook context."""
        return CellTarget(
            stack=settings.stack, cloud=self.cloud, region=self.region, replica_region=None,
            db_instance_id=self.db_instance_id, bucket=self.bucket, replica_bucket=None,
            gitpod_namespace=settings.namespace, gitpod_version=settings.gitpod_version, installer_image=None,
            cross_region_backups=False, project=self.gcp_project, settings=dict(self.cloud_settings),
        )


ClientsFactory = Callable[[RolloutSettings, ClientSettings], RolloutClients]


async def hook_settings_from_args(context: HookContext, args: Any) -> tuple[RolloutSettings, ClientSettings]:
    """Resolve a HookContext for one hook invocation (`args` is the `pulumi.ResourceHookArgs`)."""
    from ops.clouds import ADAPTERS, UnknownCloud, cloud_adapter

    values = {name: await _resolve(getattr(context, name), args) for name in HookContext.__dataclass_fields__}
    for required in ("stack", "region", "db_instance_id", "bucket"):
        if not values[required]:
            raise ValueError(f"HookContext.{required} resolved to nothing; the hooks cannot run without it")
    settings = RolloutSettings(
        stack=str(values["stack"]),
        namespace=str(values["namespace"] or DEFAULT_GITPOD_NAMESPACE),
        lease_minutes=int(values["lease_minutes"] or DEFAULT_LEASE_MINUTES),
        maintenance_namespace=str(values["maintenance_namespace"] or MK2_MAINTENANCE_NAMESPACE),
        maintenance_mechanism=_mechanism(values["maintenance_mechanism"]),
        workspace_manager=str(values["workspace_manager"] or "ws-manager-mk2"),
        snapshot_wait_seconds=float(values["snapshot_wait_seconds"] or DEFAULT_SNAPSHOT_WAIT_SECONDS),
        gitpod_version=_optional_str(values["gitpod_version"]),
        config_hash=_optional_str(values["config_hash"]),
        installer_config_yaml=_optional_str(values["installer_config_yaml"]),
        health_timeout_seconds=float(values["health_timeout_seconds"]) if values["health_timeout_seconds"] else None,
        health_label_selector=_optional_str(values["health_label_selector"]),
    )
    cloud = str(values["cloud"] or "aws")
    try:
        adapter = cloud_adapter(cloud)
    except UnknownCloud as error:
        raise ValueError(f"HookContext.cloud is {cloud!r}; expected one of {', '.join(ADAPTERS)}") from error
    kinds = (adapter.restore_target_kind, adapter.object_storage_kind)
    restore_kind = str(values["restore_target_kind"] or kinds[0])
    storage_kind = str(values["object_storage_kind"] or kinds[1])
    if (restore_kind, storage_kind) != kinds:
        raise ValueError(f"a {cloud} cell has a {kinds[0]} database and {kinds[1]} storage; the hook context says "
                         f"{restore_kind} and {storage_kind}")
    for required in adapter.hook_context_fields:
        if not values[required]:
            raise ValueError(f"HookContext.{required} resolved to nothing; a {adapter.title} cell's hooks cannot run "
                             "without it")
    repositories = values["registry_repositories"]
    if repositories is None:
        from contract.naming import registry_repositories

        repositories = registry_repositories(settings.stack, cloud)
    elif isinstance(repositories, str):
        repositories = [repositories]
    client_settings = ClientSettings(
        region=str(values["region"]),
        db_instance_id=str(values["db_instance_id"]),
        bucket=str(values["bucket"]),
        kubeconfig=_optional_str(values["kubeconfig"]),
        kube_context=_optional_str(values["kube_context"]),
        aws_profile=_optional_str(values["aws_profile"]),
        snapshot_prefix=f"gitpod-cell-{settings.stack}",
        cloud=cloud,
        restore_target_kind=restore_kind,
        object_storage_kind=storage_kind,
        gcp_project=_optional_str(values["gcp_project"]),
        cloud_settings={name: str(values[name]) for name in adapter.hook_context_fields},
        database=_database_target(values),
        registry_repositories=tuple(str(name) for name in repositories),
        database_version_requirement=ServerVersionRequirement(accept_mariadb=values["database_accept_mariadb"]
                                                              is True),
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
    """Real clients: the cell's cloud clients (ops.clouds.cell_clients: boto3 from the standard credential chain or
    the given profile, or Application Default Credentials on GCP), Kubernetes from the kubeconfig text, else
    $KUBECONFIG / ~/.kube/config / the in-cluster service account. Cloud clients are built when a step first needs
    them."""
    from ops.clouds import cell_clients
    from ops.cluster.kube import KubeClient

    if client_settings.kubeconfig:
        kube: KubeApi = KubeClient.from_kubeconfig_text(client_settings.kubeconfig, client_settings.kube_context)
    else:
        kube = KubeClient.from_environment(context=client_settings.kube_context)
    cell = cell_clients(client_settings.cell_target(settings), profile=client_settings.aws_profile)
    # A wait for a snapshot or backup (PITR off, or a new instance without a restorable time yet) is bounded by the
    # budget RolloutSettings counted into the lease.
    return RolloutClients(
        kube=kube,
        restore_points=_LazyRestorePoints(lambda: cell.restore_points(client_settings.snapshot_prefix,
                                                                      settings.snapshot_wait_seconds)),
        config_store=_LazyConfigStore(cell),
        preflight=_preflight_runner_for(settings, client_settings, cell, kube),
    )


def preflight_database_endpoint(cell: CellClients, client_settings: ClientSettings, ca_pem: str) -> DatabaseEndpoint:
    """The database as preflight reaches it, naming the identity its certificate must carry when that is not the
    host (a Cloud SQL certificate names `<project>:<instance>`, never the private IP connected to)."""
    from ops.checks.mysql import DatabaseEndpoint

    database = client_settings.database
    if database is None:
        raise ValueError("no database in the hook context")
    identity = cell.database_address(database.host, database.port, need_ca=False).server_identity
    return DatabaseEndpoint(database.host, database.port, database.username, database.password, database.name,
                            ca_pem=ca_pem, server_identity=identity)


def _preflight_runner_for(settings: RolloutSettings, client_settings: ClientSettings, cell: CellClients,
                          kube: KubeApi) -> PreflightRunner | None:
    database = client_settings.database
    if database is None:
        return None

    def run(progress: Callable[[str], None]) -> PreflightReport:
        from ops.checks.preflight import PreflightSettings, preflight_clients

        endpoint = preflight_database_endpoint(cell, client_settings, database.ca_pem or
                                               fetch_ca_bundle(str(database.ca_url)))
        clients = preflight_clients(cell, kube, endpoint, progress)
        preflight_settings = PreflightSettings(
            stack=settings.stack, bucket=client_settings.bucket, repositories=client_settings.registry_repositories,
            database=database.name, version_requirement=client_settings.database_version_requirement,
        )
        return preflight_runner(clients, preflight_settings)(progress)

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


class _LazyConfigStore:
    """The cell's config backup store, built (and its cloud authenticated) only when backup-config writes."""

    def __init__(self, cell: CellClients) -> None:
        self.cell = cell

    @property
    def scheme(self) -> str:
        return self.cell.object_store().scheme

    def write(self, stack: str, gitpod_version: str, config_hash: str, config_yaml: str, now: datetime
              ) -> ConfigBackup:
        from ops.backup.config_store import ConfigBackupStore

        return ConfigBackupStore(self.cell.object_store()).write(stack, gitpod_version, config_hash, config_yaml, now)


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
    one resource so the after-steps can see what passed (components/gitpod/hooks.py shares one per program).
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
    callback.__doc__ = f"gitpod-cell rollout step {step!r} (ops.rollout.hooks)."
    return callback


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


def _mechanism(value: Any) -> MaintenanceMechanism:
    if value in (None, ""):
        return "mk2-lease"
    if value not in get_args(MaintenanceMechanism):
        raise ValueError(f"HookContext.maintenance_mechanism is {value!r}; expected one of "
                         f"{', '.join(get_args(MaintenanceMechanism))}")
    return value  # type: ignore[no-any-return]


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
