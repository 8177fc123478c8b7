"""Preflight as the first rollout step: real MariaDB, moto's S3 and ECR, the Kubernetes double.

A cell that fails preflight never enters maintenance: the step raises naming `preflight` and the failing checks, and
the maintenance ConfigMap is not written.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pulumi
import pytest

from contract.cluster import INSTALLATION_CONFIG_MAP
from contract.rollout import BEFORE_ROLLOUT_STEPS, ENTER_MAINTENANCE, PREFLIGHT, HookContext
from ops.checks.mysql import ServerVersionRequirement, tls_connector
from ops.checks.preflight import GITPOD_WORKLOAD_LABELS, PreflightClients, PreflightFailed, PreflightSettings
from ops.clouds.aws.ecr import EcrRegistry
from ops.clouds.aws.restore_points import RdsRestorePoints
from ops.clouds.aws.s3 import S3ObjectStore
from ops.cluster.kube import KubeClient
from ops.cluster.maintenance import MAINTENANCE_CONFIG_MAP
from ops.cluster.nodes import KubeNodes
from ops.rollout.hooks import ClientSettings, build_rollout_clients, fetch_ca_bundle, hook_callback
from ops.rollout.steps import (
    PreflightNotConfigured,
    PrerequisiteNotMet,
    RolloutClients,
    RolloutLedger,
    RolloutSettings,
    RolloutStepError,
    preflight_runner,
    run_step,
)
from tests.ops.support.kube_double import KubeDouble
from tests.ops.support.mariadb import ROOT_PASSWORD, PitrScenario, endpoint_for, run_sql, scenario  # noqa: F401
from tests.ops.support.rollout import before_rollout
from tests.ops.support.stores import s3_config_store
from tests.ops.support.values import AWS_REGION, FakeClock, create_rds_instance

ACCEPT_MARIADB = ServerVersionRequirement(accept_mariadb=True)
REPOSITORIES = ("gitpod-prod/base-images", "gitpod-prod/workspace-images")  # the convention for stack "prod"
JOB_URN = "urn:pulumi:prod::gitpod-cell::gitpod-cell:gitpod:GitpodInstallation$kubernetes:batch/v1:Job::installer"


@pytest.fixture
def live_cell(aws: Callable[[str], Any], versioned_bucket: str, kube_double: KubeDouble) -> dict[str, Any]:
    """Everything preflight looks at, healthy: repositories, a versioned bucket, a node with every label."""
    ecr = aws("ecr")
    for name in REPOSITORIES:
        ecr.create_repository(repositoryName=name)
    create_rds_instance(aws("rds"), "gitpod-prod-db", backup_retention_days=7)
    kube_double.put_node("services-1", labels=dict.fromkeys(GITPOD_WORKLOAD_LABELS, "true"))
    return {"s3": aws("s3"), "ecr": ecr, "rds": aws("rds"), "bucket": versioned_bucket}


def rollout_clients(live_cell: dict[str, Any], kube: KubeClient, clock: FakeClock, server: Any,
                    lines: list[str]) -> RolloutClients:
    preflight_clients = PreflightClients(connect_database=tls_connector(endpoint_for(server)),
                                         object_store=S3ObjectStore(live_cell["s3"], live_cell["bucket"]),
                                         registry=EcrRegistry(live_cell["ecr"]), nodes=KubeNodes(kube))
    settings = PreflightSettings(stack="prod", bucket=live_cell["bucket"], repositories=REPOSITORIES,
                                 version_requirement=ACCEPT_MARIADB)
    return RolloutClients(
        kube=kube,
        restore_points=RdsRestorePoints(live_cell["rds"], "gitpod-prod-db"),
        config_store=s3_config_store(live_cell["s3"], live_cell["bucket"]),
        preflight=preflight_runner(preflight_clients, settings),
        clock=clock.now, monotonic=clock.monotonic, sleep=clock.sleep, progress=lines.append,
    )


SETTINGS = RolloutSettings(stack="prod", lease_minutes=60)


@pytest.fixture
def source_variable(scenario: PitrScenario) -> Iterator[Callable[[str, str], None]]:  # noqa: F811
    """Change a dynamic global variable on the source server for one test, then put it back."""
    changed: list[tuple[str, Any]] = []

    def set_variable(name: str, value: str) -> None:
        with scenario.source.connect() as connection, connection.cursor() as cursor:
            cursor.execute(f"SELECT @@GLOBAL.{name}")
            changed.append((name, cursor.fetchone()[0]))
        run_sql(scenario.source, [f"SET GLOBAL {name} = {value}"])

    yield set_variable
    for name, value in reversed(changed):
        run_sql(scenario.source, [f"SET GLOBAL {name} = {int(value)}"])


def test_a_cell_that_passes_preflight_enters_maintenance(live_cell, kube, kube_double, clock, scenario):  # noqa: F811
    lines: list[str] = []

    result = before_rollout(rollout_clients(live_cell, kube, clock, scenario.source, lines), SETTINGS)

    assert result.preflight.passed
    assert result.maintenance.enabled
    assert kube_double.config_map_data("default", MAINTENANCE_CONFIG_MAP) is not None
    assert "[PASS] explicit_defaults_for_timestamp: OFF, as Gitpod's migrations need" in "\n".join(lines)
    assert any(line.startswith("preflight passed:") for line in lines)


def test_a_database_failing_preflight_never_enters_maintenance(live_cell, kube, kube_double, clock, scenario,  # noqa: F811
                                                               source_variable):
    source_variable("explicit_defaults_for_timestamp", "ON")
    lines: list[str] = []

    with pytest.raises(RolloutStepError) as failure:
        before_rollout(rollout_clients(live_cell, kube, clock, scenario.source, lines), SETTINGS)

    assert failure.value.step == PREFLIGHT
    assert isinstance(failure.value.cause, PreflightFailed)
    message = str(failure.value)
    assert message.startswith("rollout step 'preflight' failed: PreflightFailed: 1 preflight check(s) failed: "
                              "explicit_defaults_for_timestamp (explicit_defaults_for_timestamp: is ON")
    assert "maintenance was not entered" in message
    assert kube_double.config_map_data("default", MAINTENANCE_CONFIG_MAP) is None
    assert kube_double.config_map_data("gitpod", INSTALLATION_CONFIG_MAP) is None
    assert "[FAIL] explicit_defaults_for_timestamp: is ON; Gitpod needs it OFF" in "\n".join(lines)


def test_a_missing_workload_label_fails_preflight_naming_it(live_cell, kube, kube_double, clock, scenario):  # noqa: F811
    labels = dict.fromkeys(GITPOD_WORKLOAD_LABELS, "true")
    del labels["gitpod.io/workload_workspace_headless"]
    kube_double.put_node("services-1", labels=labels)

    with pytest.raises(RolloutStepError) as failure:
        before_rollout(rollout_clients(live_cell, kube, clock, scenario.source, []), SETTINGS)

    assert failure.value.step == PREFLIGHT
    assert "failed: workload labels (workload labels: no node has gitpod.io/workload_workspace_headless=true" \
        in str(failure.value)
    assert kube_double.config_map_data("default", MAINTENANCE_CONFIG_MAP) is None


def test_a_rollout_without_a_preflight_runner_fails_instead_of_skipping_it(live_cell, kube, kube_double, clock,
                                                                           scenario):  # noqa: F811
    clients = replace(rollout_clients(live_cell, kube, clock, scenario.source, []), preflight=None)

    with pytest.raises(RolloutStepError) as failure:
        before_rollout(clients, SETTINGS)

    assert failure.value.step == PREFLIGHT
    assert isinstance(failure.value.cause, PreflightNotConfigured)
    assert kube_double.config_map_data("default", MAINTENANCE_CONFIG_MAP) is None


def test_enter_maintenance_refuses_to_run_after_a_failed_preflight(live_cell, kube, kube_double, clock, scenario,  # noqa: F811
                                                                   source_variable):
    source_variable("explicit_defaults_for_timestamp", "ON")
    clients = rollout_clients(live_cell, kube, clock, scenario.source, [])
    ledger = RolloutLedger()

    with pytest.raises(RolloutStepError):
        run_step(PREFLIGHT, clients, SETTINGS, ledger)
    # An engine that carried on past the failed hook: the ledger still stops maintenance.
    with pytest.raises(RolloutStepError) as failure:
        run_step(ENTER_MAINTENANCE, clients, SETTINGS, ledger)

    assert isinstance(failure.value.cause, PrerequisiteNotMet)
    assert "preflight did not pass" in str(failure.value)
    assert kube_double.config_map_data("default", MAINTENANCE_CONFIG_MAP) is None


# -- the Pulumi adapter with real clients ------------------------------------------------------------------------


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


def test_hooks_build_preflight_from_the_context_and_run_it_first(live_cell, kube_double, scenario,  # noqa: F811
                                                                 ca_bundle_url):
    """The context as installation.py hands it over (secret password, Output port, CA bundle URL); the clients
    are the real ones (boto3 to moto via AWS_ENDPOINT_URL, KubeClient to the double, PyMySQL over TLS)."""
    import json

    seen: list[ClientSettings] = []

    def factory(settings: RolloutSettings, client_settings: ClientSettings) -> RolloutClients:
        seen.append(client_settings)
        # The one seam: MariaDB stands in for MySQL 8.0.
        return build_rollout_clients(settings, replace(client_settings, database_version_requirement=ACCEPT_MARIADB))

    async def scenario_steps(explicit_defaults: str) -> list[BaseException | None]:
        context = HookContext(
            stack="prod", region=AWS_REGION, db_instance_id="gitpod-prod-db", bucket=live_cell["bucket"],
            kubeconfig=pulumi.Output.secret(json.dumps(kube_double.kubeconfig())),
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
        assert kube_double.config_map_data("default", MAINTENANCE_CONFIG_MAP) is None
        passing = asyncio.run(scenario_steps("OFF"))
    finally:
        run_sql(scenario.source, ["SET GLOBAL explicit_defaults_for_timestamp = OFF"])

    assert [getattr(outcome, "step", None) for outcome in failing] == [PREFLIGHT, ENTER_MAINTENANCE,
                                                                      "record-restore-point"]
    assert "explicit_defaults_for_timestamp" in str(failing[0])
    # An engine that carried on past the failed hook: the later before-steps refuse to act.
    assert all(isinstance(getattr(outcome, "cause", None), PrerequisiteNotMet) for outcome in failing[1:])
    assert passing == [None, None, None]
    assert kube_double.config_map_data("default", MAINTENANCE_CONFIG_MAP) is not None
    database = seen[0].database
    assert database is not None
    assert (database.host, database.port, database.username) == ("127.0.0.1", scenario.source.port, "root")
    assert ROOT_PASSWORD not in repr(seen[0])  # the password stays out of logs and tracebacks
    assert seen[0].registry_repositories == REPOSITORIES


def _job_args() -> pulumi.ResourceHookArgs:
    return pulumi.ResourceHookArgs(urn=JOB_URN, id="gitpod/installer", name="installer",
                                   type="kubernetes:batch/v1:Job", new_inputs={}, old_inputs={})


def test_a_context_naming_a_database_without_a_ca_is_refused():
    async def resolve() -> None:
        from ops.rollout.hooks import hook_settings_from_args

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
