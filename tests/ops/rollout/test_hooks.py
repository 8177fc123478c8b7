"""The Pulumi adapter: hook callbacks as the engine calls them (ResourceHookArgs in, exception text out), against
the real local API server (the record in the test's own namespace, handed over as the context's `namespace`)."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pulumi
import pulumi.resource_hooks
import pytest

from components.gitpod.hooks import rollout_binding, rollout_hooks
from contract.rollout import (
    AFTER_ROLLOUT_STEPS,
    ALL_STEPS,
    BEFORE_ROLLOUT_STEPS,
    ENTER_MAINTENANCE,
    PREFLIGHT,
    RECORD_RESTORE_POINT,
    HookContext,
)
from ops.checks.mysql import ServerVersionRequirement
from ops.checks.preflight import GITPOD_WORKLOAD_LABELS
from ops.clouds.aws.restore_points import RdsRestorePoints
from ops.cluster.installation_record import read_installation_record
from ops.cluster.kube import KubeClient
from ops.cluster.maintenance import MAINTENANCE_CONFIG_KEY, MAINTENANCE_CONFIG_MAP
from ops.rollout.hooks import (
    ClientSettings,
    build_rollout_clients,
    fetch_ca_bundle,
    hook_callback,
    hook_settings_from_args,
)
from ops.rollout.steps import (
    PrerequisiteNotMet,
    RolloutClients,
    RolloutLedger,
    RolloutSettings,
    RolloutStepError,
)
from tests.ops.support.gcp import GCP_REGION
from tests.ops.support.google_double import CloudSqlLikeServer, GoogleApiDouble
from tests.ops.support.kube_cluster import KubeCluster
from tests.ops.support.mariadb import (
    ACCEPT_MARIADB,
    ROOT_PASSWORD,
    PitrScenario,
    run_sql,
    scenario,  # noqa: F401 (a fixture)
)
from tests.ops.support.rollout import preflight_passes
from tests.ops.support.stores import gcs_config_store, s3_config_store
from tests.ops.support.values import AWS_REGION, GCP_PROJECT, PROD_REPOSITORIES, FakeClock, create_rds_instance

JOB_URN = "urn:pulumi:prod::gitpod-cell::gitpod-cell:gitpod:GitpodInstallation$kubernetes:batch/v1:Job::installer"
INSTALLER_CONFIG = "apiVersion: v1\ndomain: gitpod.example.com\n"


def _job_args(version: str = "2024.11.0") -> pulumi.ResourceHookArgs:
    inputs = {"metadata": {"name": f"gitpod-installer-{version}-abc123",
                           "annotations": {"gitpod-cell.io/version": version}}}
    return pulumi.ResourceHookArgs(urn=JOB_URN, id="gitpod/installer", name="installer",
                                   type="kubernetes:batch/v1:Job", new_inputs=inputs, old_inputs=inputs)


def _context(**overrides: Any) -> HookContext:
    # Built inside the running loop: Outputs belong to the loop that awaits them, as in a Pulumi program.
    values: dict[str, Any] = {
        "stack": "prod",
        "region": AWS_REGION,
        "db_instance_id": pulumi.Output.from_input("gitpod-prod-db"),
        "bucket": pulumi.Output.secret("gitpod-cell-test-bucket"),
        "gitpod_version": lambda args: args.new_inputs["metadata"]["annotations"]["gitpod-cell.io/version"],
        "config_hash": "abc123",
        "installer_config_yaml": pulumi.Output.from_input(INSTALLER_CONFIG),
        "lease_minutes": 60,
        "health_timeout_seconds": 120,
    }
    values.update(overrides)
    return HookContext(**values)


def _run_steps(steps: tuple[str, ...], context_overrides: dict[str, Any], factory: Any,
               ledgers: dict[str, RolloutLedger]) -> list[BaseException | None]:
    """Run the callbacks one after another, like the engine, and collect what each raised."""

    async def steps_in_order() -> list[BaseException | None]:
        context = _context(**context_overrides)
        outcomes: list[BaseException | None] = []
        for step in steps:
            try:
                await hook_callback(step, context, clients_factory=factory, ledgers=ledgers)(_job_args())
                outcomes.append(None)
            except Exception as error:
                outcomes.append(error)
        return outcomes

    return asyncio.run(steps_in_order())


@pytest.fixture
def cell_clients(kube: KubeClient, aws: Callable[[str], Any], versioned_bucket: str, clock: FakeClock):
    rds = aws("rds")
    create_rds_instance(rds, "gitpod-prod-db", backup_retention_days=7)
    seen: list[tuple[RolloutSettings, ClientSettings]] = []

    def factory(settings: RolloutSettings, client_settings: ClientSettings) -> RolloutClients:
        seen.append((settings, client_settings))
        return RolloutClients(
            kube=kube,
            restore_points=RdsRestorePoints(rds, client_settings.db_instance_id, wait_delay_seconds=1),
            config_store=s3_config_store(aws("s3"), client_settings.bucket),
            preflight=preflight_passes,
            clock=clock.now, monotonic=clock.monotonic, sleep=clock.sleep,
        )

    return factory, seen


def test_callbacks_resolve_outputs_and_callables_and_run_the_steps(cell_clients, cluster: KubeCluster,
                                                                   aws: Callable[[str], Any]):
    factory, seen = cell_clients
    cluster.put_deployment(cluster.namespace, "server", replicas=1)

    outcomes = _run_steps(ALL_STEPS, {"namespace": cluster.namespace}, factory, {})

    assert outcomes == [None] * len(ALL_STEPS)
    settings, client_settings = seen[0]
    assert settings.gitpod_version == "2024.11.0"  # read from the Job's inputs
    assert settings.installer_config_yaml == INSTALLER_CONFIG
    assert client_settings.bucket == "gitpod-cell-test-bucket"  # a secret Output, unwrapped
    assert client_settings.snapshot_prefix == "gitpod-cell-prod"
    assert settings.namespace == cluster.namespace
    record = read_installation_record(KubeClient.from_kubeconfig_text(cluster.kubeconfig_text()), cluster.namespace)
    assert record is not None
    assert record.restore_point is not None
    assert record.last_config_backup is not None
    assert s3_config_store(aws("s3"), "gitpod-cell-test-bucket").read_latest("prod") is not None


def test_after_a_failed_health_gate_no_later_hook_acts_even_if_the_engine_calls_it(
    cell_clients, cluster: KubeCluster
):
    factory, _ = cell_clients
    cluster.put_deployment(cluster.namespace, "server", replicas=1, ready=0)
    ledgers: dict[str, RolloutLedger] = {}

    before = _run_steps(BEFORE_ROLLOUT_STEPS, {"namespace": cluster.namespace}, factory, ledgers)
    lease = cluster.config_map_data("default", MAINTENANCE_CONFIG_MAP)
    assert lease is not None
    after = _run_steps(AFTER_ROLLOUT_STEPS, {"namespace": cluster.namespace}, factory, ledgers)

    assert before == [None, None, None]
    messages = [str(error) for error in after]
    assert messages[0].startswith("rollout step 'health-gate' failed: HealthGateTimeout")
    assert messages[1].startswith("rollout step 'backup-config' failed: PrerequisiteNotMet: not running: "
                                  "health-gate did not pass")
    assert messages[2].startswith("rollout step 'exit-maintenance' failed: PrerequisiteNotMet")
    assert cluster.config_map_data("default", MAINTENANCE_CONFIG_MAP) == lease


def test_a_context_that_resolves_to_nothing_fails_naming_the_step(cell_clients):
    factory, _ = cell_clients
    (outcome,) = _run_steps((ENTER_MAINTENANCE,), {"db_instance_id": lambda args: None}, factory, {})
    assert isinstance(outcome, Exception)
    assert "rollout step 'enter-maintenance' failed" in str(outcome)
    assert "db_instance_id resolved to nothing" in str(outcome)


def test_real_clients_from_a_kubeconfig_text_and_the_aws_environment(aws: Callable[[str], Any],
                                                                     cluster: KubeCluster):
    # build_rollout_clients makes boto3 clients without an endpoint: AWS_ENDPOINT_URL (conftest) sends them to moto.
    create_rds_instance(aws("rds"), "gitpod-prod-db", backup_retention_days=0)
    async def enter_and_record() -> None:
        # The kubeconfig arrives as the cluster component's secret Output, as components/aws builds it.
        context = _context(kubeconfig=pulumi.Output.secret(cluster.kubeconfig_text()), namespace=cluster.namespace)
        # Preflight with real clients runs in test_rollout_preflight.py (it needs MariaDB); here it passed.
        ledgers = {JOB_URN: RolloutLedger(passed={PREFLIGHT})}
        for step in (ENTER_MAINTENANCE, RECORD_RESTORE_POINT):
            await hook_callback(step, context, ledgers=ledgers)(_job_args())

    asyncio.run(enter_and_record())

    lease = cluster.config_map_data("default", MAINTENANCE_CONFIG_MAP)
    assert lease is not None
    assert "enabledUntil" in json.loads(lease[MAINTENANCE_CONFIG_KEY])
    record = read_installation_record(KubeClient.from_kubeconfig_text(cluster.kubeconfig_text()), cluster.namespace)
    assert record is not None
    assert record.restore_point is not None
    assert record.restore_point.kind == "snapshot"
    assert record.restore_point.snapshot_id is not None
    assert record.restore_point.snapshot_id.startswith("gitpod-cell-prod-gitpod-prod-db-")
    # The snapshot exists in moto: the hook's own boto3 clients went there, and nowhere else.
    (snapshot,) = aws("rds").describe_db_snapshots(DBSnapshotIdentifier=record.restore_point.snapshot_id)[
        "DBSnapshots"]
    assert snapshot["Status"] == "available"


def test_the_program_names_each_hook_after_its_step(monkeypatch: pytest.MonkeyPatch):
    registered: list[str] = []
    monkeypatch.setattr(pulumi.resource_hooks, "register_resource_hook", lambda hook: registered.append(hook.name))

    hooks = rollout_hooks(HookContext(stack="prod", region=AWS_REGION, db_instance_id="db", bucket="bucket"))
    binding = rollout_binding(hooks)

    assert list(hooks) == list(ALL_STEPS)
    assert registered == list(ALL_STEPS)
    assert all(isinstance(hook, pulumi.ResourceHook) and hook.name == step for step, hook in hooks.items())
    for before in (binding.before_create, binding.before_update):
        assert [hook.name for hook in before] == list(BEFORE_ROLLOUT_STEPS)
    for after in (binding.after_create, binding.after_update):
        assert [hook.name for hook in after] == list(AFTER_ROLLOUT_STEPS)


def test_unknown_step_is_refused_when_binding():
    with pytest.raises(ValueError, match="unknown rollout step"):
        hook_callback("reboot", HookContext(stack="s", region="r", db_instance_id="d", bucket="b"))


def test_the_context_carries_the_maintenance_namespace_and_a_too_short_lease_fails_before_anything(
    cell_clients, cluster: KubeCluster
):
    factory, seen = cell_clients
    elsewhere = cluster.create_namespace("ws")
    overrides = {"namespace": cluster.namespace, "maintenance_namespace": elsewhere}
    assert _run_steps(BEFORE_ROLLOUT_STEPS, overrides, factory, {}) == [None, None, None]
    assert seen[0][0].maintenance_namespace == elsewhere
    assert cluster.config_map_names(MAINTENANCE_CONFIG_MAP) == [(elsewhere, MAINTENANCE_CONFIG_MAP)]

    (outcome,) = _run_steps((BEFORE_ROLLOUT_STEPS[0],), {"lease_minutes": 30}, factory, {})
    assert "rollout step 'preflight' failed: ValueError: maintenance lease of 30 min is shorter" in str(outcome)


# -- a whole rollout of a GCP cell, with the real GCP clients ----------------------------------------------------------


def test_a_whole_rollout_of_a_gcp_cell(gcp_apis: GoogleApiDouble, fake_gcs_url: str, gcs: Any,
                                       versioned_gcs_bucket: str, cluster: KubeCluster,
                                       cloudsql_db: CloudSqlLikeServer):
    # The database as Cloud SQL serves it: its certificate names the instance, not the IP preflight connects to.
    database = cloudsql_db
    # PITR on, as the cell configures it (the backup-run path, which polls: clouds/gcp/test_restore_points.py).
    gcp_apis.put_instance(GCP_PROJECT, "gitpod-prod-gcp-db", binary_log=True)
    gcp_apis.put_repository(GCP_PROJECT, GCP_REGION, "gitpod-prod-gcp")
    cluster.put_node("services-1", labels=dict.fromkeys(GITPOD_WORKLOAD_LABELS, "true"),
                     kubelet_version="v1.33.5-gke.1080000")
    cluster.put_deployment(cluster.namespace, "server", replicas=1)
    seen: list[ClientSettings] = []

    def factory(settings: RolloutSettings, client_settings: ClientSettings) -> RolloutClients:
        seen.append(client_settings)
        clients = build_rollout_clients(settings, replace(
            client_settings, database_version_requirement=ServerVersionRequirement(accept_mariadb=True)))
        return clients

    async def rollout() -> list[BaseException | None]:
        # The context installation.py builds from the GCP Platform.
        context = HookContext(
            stack="prod-gcp", region=GCP_REGION, db_instance_id=pulumi.Output.from_input("gitpod-prod-gcp-db"),
            bucket=pulumi.Output.from_input(versioned_gcs_bucket), gitpod_version="2024.11.0", config_hash="abc123",
            installer_config_yaml="domain: gitpod.example.com\n",
            kubeconfig=pulumi.Output.secret(cluster.kubeconfig_text()), namespace=cluster.namespace,
            lease_minutes=60,
            health_timeout_seconds=60, cloud="gcp", restore_target_kind="cloudsql", object_storage_kind="gcs",
            gcp_project=GCP_PROJECT, database_host="127.0.0.1",
            database_port=pulumi.Output.from_input(database.port), database_username="root",
            database_password=pulumi.Output.secret(ROOT_PASSWORD),
            database_ca_pem=pulumi.Output.secret(database.ca_pem),
        )
        ledgers: dict[str, RolloutLedger] = {}
        outcomes: list[BaseException | None] = []
        args = pulumi.ResourceHookArgs(urn="urn:pulumi:prod-gcp::gitpod-cell::job::installer", id="gitpod/installer",
                                       name="installer", type="kubernetes:batch/v1:Job", new_inputs={},
                                       old_inputs={})
        for step in ALL_STEPS:
            try:
                await hook_callback(step, context, clients_factory=factory, ledgers=ledgers)(args)
                outcomes.append(None)
            except RolloutStepError as error:
                outcomes.append(error)
        return outcomes

    outcomes = asyncio.run(rollout())

    assert outcomes == [None] * len(ALL_STEPS), [str(outcome) for outcome in outcomes if outcome]
    assert seen[0].cloud == "gcp"
    # What the GCP adapter asks of the context reaches it with the cell's target.
    assert seen[0].cloud_settings == {"gcp_project": GCP_PROJECT}
    assert seen[0].cell_target(RolloutSettings(stack="prod-gcp")).settings == {"gcp_project": GCP_PROJECT}
    assert seen[0].registry_repositories == ("gitpod-prod-gcp",)
    record = read_installation_record(KubeClient.from_kubeconfig_text(cluster.kubeconfig_text()), cluster.namespace)
    assert record is not None
    assert record.restore_point is not None
    assert record.restore_point.kind == "pitr"
    assert record.restore_point.db_instance_id == "gitpod-prod-gcp-db"
    assert gcp_apis.backup_runs() == []
    restored = gcs_config_store(gcs, versioned_gcs_bucket).read_latest("prod-gcp")
    assert restored is not None
    assert restored.backup == record.last_config_backup
    assert restored.config_yaml == "domain: gitpod.example.com\n"
    assert cluster.ws_manager_maintenance() is not None


def test_a_gcp_context_without_a_project_is_refused():
    async def resolve() -> None:
        await hook_settings_from_args(HookContext(stack="prod-gcp", region=GCP_REGION, db_instance_id="db",
                                                  bucket="b", cloud="gcp"), None)

    with pytest.raises(ValueError, match="gcp_project resolved to nothing"):
        asyncio.run(resolve())


# -- preflight from the hook context -----------------------------------------------------------------------------------


@pytest.fixture
def ca_bundle_url(scenario: PitrScenario) -> Iterator[str]:  # noqa: F811
    """The test CA served over loopback HTTP, as RDS publishes its bundle at a URL."""
    pem = scenario.source.ca_pem

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/x-pem-file")
            self.send_header("Content-Length", str(len(pem)))
            self.end_headers()
            self.wfile.write(pem)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/global-bundle.pem"
    server.shutdown()
    server.server_close()


def test_hooks_build_preflight_from_the_context_and_run_it_first(live_cell, cluster, scenario,  # noqa: F811
                                                                 ca_bundle_url):
    """The context as installation.py hands it over (secret password, Output port, CA bundle URL); the clients
    are the real ones (boto3 to moto via AWS_ENDPOINT_URL, KubeClient to the local API server, PyMySQL over
    TLS)."""

    seen: list[ClientSettings] = []

    def factory(settings: RolloutSettings, client_settings: ClientSettings) -> RolloutClients:
        seen.append(client_settings)
        # The one seam: MariaDB stands in for MySQL 8.0.
        return build_rollout_clients(settings, replace(client_settings, database_version_requirement=ACCEPT_MARIADB))

    async def scenario_steps(explicit_defaults: str) -> list[BaseException | None]:
        context = HookContext(
            stack="prod", region=AWS_REGION, db_instance_id="gitpod-prod-db", bucket=live_cell["bucket"],
            kubeconfig=pulumi.Output.secret(cluster.kubeconfig_text()), namespace=cluster.namespace,
            cloud="aws", restore_target_kind="rds", object_storage_kind="s3",
            database_host="127.0.0.1", database_port=pulumi.Output.from_input(scenario.source.port),
            database_username="root", database_password=pulumi.Output.secret(ROOT_PASSWORD),
            database_ca_url=ca_bundle_url, lease_minutes=60,
        )
        run_sql(scenario.source, [f"SET GLOBAL explicit_defaults_for_timestamp = {explicit_defaults}"])
        outcomes: list[BaseException | None] = []
        ledgers: dict[str, RolloutLedger] = {}
        for step in BEFORE_ROLLOUT_STEPS:
            try:
                await hook_callback(step, context, clients_factory=factory, ledgers=ledgers)(_job_args())
                outcomes.append(None)
            except RolloutStepError as error:
                outcomes.append(error)
        return outcomes

    try:
        failing = asyncio.run(scenario_steps("ON"))
        assert cluster.config_map_data("default", MAINTENANCE_CONFIG_MAP) is None
        passing = asyncio.run(scenario_steps("OFF"))
    finally:
        run_sql(scenario.source, ["SET GLOBAL explicit_defaults_for_timestamp = OFF"])

    assert [getattr(outcome, "step", None) for outcome in failing] == [PREFLIGHT, ENTER_MAINTENANCE,
                                                                      "record-restore-point"]
    assert "explicit_defaults_for_timestamp" in str(failing[0])
    # An engine that carried on past the failed hook: the later before-steps refuse to act.
    assert all(isinstance(getattr(outcome, "cause", None), PrerequisiteNotMet) for outcome in failing[1:])
    assert passing == [None, None, None]
    assert cluster.ws_manager_maintenance() is not None
    database = seen[0].database
    assert database is not None
    assert (database.host, database.port, database.username) == ("127.0.0.1", scenario.source.port, "root")
    assert ROOT_PASSWORD not in repr(seen[0])  # the password stays out of logs and tracebacks
    assert seen[0].registry_repositories == PROD_REPOSITORIES


def test_a_context_naming_a_database_without_a_ca_is_refused():
    async def resolve() -> None:
        await hook_settings_from_args(HookContext(stack="prod", region=AWS_REGION, db_instance_id="db",
                                                  bucket="b", database_host="db.internal"), _job_args())

    with pytest.raises(ValueError, match="neither database_ca_pem nor database_ca_url"):
        asyncio.run(resolve())


def test_the_ca_bundle_is_fetched_over_https_only(ca_bundle_url):
    assert "BEGIN CERTIFICATE" in fetch_ca_bundle(ca_bundle_url)  # loopback: a local test server
    with pytest.raises(ValueError, match="https only"):
        fetch_ca_bundle("http://truststore.example.com/global-bundle.pem")


def test_preflight_checks_cloud_sql_by_instance_name_and_rds_by_host() -> None:
    from ops.checks.mysql import ServerIdentity
    from ops.clouds import cell_clients
    from ops.rollout.hooks import ClientSettings, DatabaseTarget, preflight_database_endpoint
    from ops.rollout.steps import RolloutSettings

    database = DatabaseTarget(host="10.20.0.5", password="secret")
    gcp = ClientSettings(region="europe-west1", db_instance_id="gitpod-prod-gcp-db", bucket="b", cloud="gcp",
                         restore_target_kind="cloudsql", object_storage_kind="gcs", gcp_project="acme-gitpod",
                         database=database)
    # No API call: the identity follows from the project and the instance name.
    gcp_cell = cell_clients(gcp.cell_target(RolloutSettings(stack="prod-gcp")))
    endpoint = preflight_database_endpoint(gcp_cell, gcp, "-----BEGIN CERTIFICATE-----\n")
    assert endpoint.server_identity == ServerIdentity("acme-gitpod:gitpod-prod-gcp-db")

    aws = ClientSettings(region="eu-west-1", db_instance_id="gitpod-prod-db", bucket="b", database=database)
    aws_cell = cell_clients(aws.cell_target(RolloutSettings(stack="prod")))
    assert preflight_database_endpoint(aws_cell, aws, "-----BEGIN CERTIFICATE-----\n").server_identity is None


@pytest.mark.parametrize(("overrides", "refusal"), [
    ({"cloud": "azure"}, "HookContext.cloud is 'azure'; expected one of aws, gcp"),
    ({"cloud": "gcp", "gcp_project": "p", "restore_target_kind": "rds"},
     "a gcp cell has a cloudsql database and gcs storage; the hook context says rds and gcs"),
])
def test_a_context_the_cells_cloud_does_not_match_is_refused(overrides: dict[str, Any], refusal: str):
    async def resolve() -> None:
        await hook_settings_from_args(HookContext(stack="prod", region=AWS_REGION, db_instance_id="db", bucket="b",
                                                  **overrides), _job_args())

    with pytest.raises(ValueError, match=re.escape(refusal)):
        asyncio.run(resolve())
