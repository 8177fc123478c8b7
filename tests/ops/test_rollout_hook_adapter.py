"""The Pulumi adapter: hook callbacks as the engine calls them (ResourceHookArgs in, exception text out)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
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
from ops.clouds.aws.restore_points import RdsRestorePoints
from ops.cluster.installation_record import read_installation_record
from ops.cluster.kube import KubeClient
from ops.cluster.maintenance import MAINTENANCE_CONFIG_KEY, MAINTENANCE_CONFIG_MAP
from ops.rollout.hooks import ClientSettings, hook_callback
from ops.rollout.steps import RolloutClients, RolloutLedger, RolloutSettings
from tests.ops.support.kube_double import KubeDouble
from tests.ops.support.stores import s3_config_store
from tests.ops.support.values import AWS_REGION, FakeClock, create_rds_instance
from tests.ops.test_rollout_hooks import preflight_passes

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

    async def scenario() -> list[BaseException | None]:
        context = _context(**context_overrides)
        outcomes: list[BaseException | None] = []
        for step in steps:
            try:
                await hook_callback(step, context, clients_factory=factory, ledgers=ledgers)(_job_args())
                outcomes.append(None)
            except Exception as error:
                outcomes.append(error)
        return outcomes

    return asyncio.run(scenario())


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


def test_callbacks_resolve_outputs_and_callables_and_run_the_steps(cell_clients, kube_double: KubeDouble,
                                                                   aws: Callable[[str], Any]):
    factory, seen = cell_clients
    kube_double.put_deployment("gitpod", "server", replicas=1)

    outcomes = _run_steps(ALL_STEPS, {}, factory, {})

    assert outcomes == [None] * len(ALL_STEPS)
    settings, client_settings = seen[0]
    assert settings.gitpod_version == "2024.11.0"  # read from the Job's inputs
    assert settings.installer_config_yaml == INSTALLER_CONFIG
    assert client_settings.bucket == "gitpod-cell-test-bucket"  # a secret Output, unwrapped
    assert client_settings.snapshot_prefix == "gitpod-cell-prod"
    record = read_installation_record(KubeClient.from_kubeconfig_text(json.dumps(kube_double.kubeconfig())),
                                      "gitpod")
    assert record is not None
    assert record.restore_point is not None
    assert record.last_config_backup is not None
    assert s3_config_store(aws("s3"), "gitpod-cell-test-bucket").read_latest("prod") is not None


def test_after_a_failed_health_gate_no_later_hook_acts_even_if_the_engine_calls_it(
    cell_clients, kube_double: KubeDouble
):
    factory, _ = cell_clients
    kube_double.put_deployment("gitpod", "server", replicas=1, ready=0)
    ledgers: dict[str, RolloutLedger] = {}

    before = _run_steps(BEFORE_ROLLOUT_STEPS, {}, factory, ledgers)
    lease = kube_double.config_map_data("default", MAINTENANCE_CONFIG_MAP)
    after = _run_steps(AFTER_ROLLOUT_STEPS, {}, factory, ledgers)

    assert before == [None, None, None]
    messages = [str(error) for error in after]
    assert messages[0].startswith("rollout step 'health-gate' failed: HealthGateTimeout")
    assert messages[1].startswith("rollout step 'backup-config' failed: PrerequisiteNotMet: not running: "
                                  "health-gate did not pass")
    assert messages[2].startswith("rollout step 'exit-maintenance' failed: PrerequisiteNotMet")
    assert kube_double.config_map_data("default", MAINTENANCE_CONFIG_MAP) == lease


def test_a_context_that_resolves_to_nothing_fails_naming_the_step(cell_clients):
    factory, _ = cell_clients
    (outcome,) = _run_steps((ENTER_MAINTENANCE,), {"db_instance_id": lambda args: None}, factory, {})
    assert isinstance(outcome, Exception)
    assert "rollout step 'enter-maintenance' failed" in str(outcome)
    assert "db_instance_id resolved to nothing" in str(outcome)


def test_real_clients_from_a_kubeconfig_text_and_the_aws_environment(aws: Callable[[str], Any],
                                                                     kube_double: KubeDouble):
    # build_rollout_clients makes boto3 clients without an endpoint: AWS_ENDPOINT_URL (conftest) sends them to moto.
    create_rds_instance(aws("rds"), "gitpod-prod-db", backup_retention_days=0)
    async def scenario() -> None:
        # The kubeconfig arrives as the cluster component's secret Output, as components/aws builds it.
        context = _context(kubeconfig=pulumi.Output.secret(json.dumps(kube_double.kubeconfig())))
        # Preflight with real clients runs in test_rollout_preflight.py (it needs MariaDB); here it passed.
        ledgers = {JOB_URN: RolloutLedger(passed={PREFLIGHT})}
        for step in (ENTER_MAINTENANCE, RECORD_RESTORE_POINT):
            await hook_callback(step, context, ledgers=ledgers)(_job_args())

    asyncio.run(scenario())

    lease = kube_double.config_map_data("default", MAINTENANCE_CONFIG_MAP)
    assert lease is not None
    assert "enabledUntil" in json.loads(lease[MAINTENANCE_CONFIG_KEY])
    record = read_installation_record(KubeClient.from_kubeconfig_text(json.dumps(kube_double.kubeconfig())),
                                      "gitpod")
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
    cell_clients, kube_double: KubeDouble
):
    factory, seen = cell_clients
    kube_double.namespaces.add("ws")
    assert _run_steps(BEFORE_ROLLOUT_STEPS, {"maintenance_namespace": "ws"}, factory, {}) == [None, None, None]
    assert seen[0][0].maintenance_namespace == "ws"
    assert kube_double.config_map_names(MAINTENANCE_CONFIG_MAP) == [("ws", MAINTENANCE_CONFIG_MAP)]

    (outcome,) = _run_steps((BEFORE_ROLLOUT_STEPS[0],), {"lease_minutes": 30}, factory, {})
    assert "rollout step 'preflight' failed: ValueError: maintenance lease of 30 min is shorter" in str(outcome)
