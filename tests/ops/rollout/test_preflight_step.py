"""Preflight, the first rollout step: real MariaDB, moto's S3 and ECR, the real local API server. A cell that fails
it never enters maintenance."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from contract.cluster import INSTALLATION_CONFIG_MAP
from contract.rollout import (
    ENTER_MAINTENANCE,
    PREFLIGHT,
)
from ops.checks.mysql import tls_connector
from ops.checks.preflight import (
    GITPOD_WORKLOAD_LABELS,
    PreflightClients,
    PreflightFailed,
    PreflightSettings,
)
from ops.clouds.aws.ecr import EcrRegistry
from ops.clouds.aws.restore_points import RdsRestorePoints
from ops.clouds.aws.s3 import S3ObjectStore
from ops.cluster.kube import KubeClient
from ops.cluster.maintenance import MAINTENANCE_CONFIG_MAP
from ops.cluster.nodes import KubeNodes
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
from tests.ops.support.kube_cluster import KubeCluster
from tests.ops.support.mariadb import (
    ACCEPT_MARIADB,
    PitrScenario,
    changed_globals,
    endpoint_for,
    scenario,  # noqa: F401 (a fixture)
)
from tests.ops.support.rollout import before_rollout
from tests.ops.support.stores import s3_config_store
from tests.ops.support.values import PROD_REPOSITORIES, FakeClock


def rollout_clients(live_cell: dict[str, Any], kube: KubeClient, clock: FakeClock, server: Any,
                    lines: list[str]) -> RolloutClients:
    preflight_clients = PreflightClients(connect_database=tls_connector(endpoint_for(server)),
                                         object_store=S3ObjectStore(live_cell["s3"], live_cell["bucket"]),
                                         registry=EcrRegistry(live_cell["ecr"]), nodes=KubeNodes(kube))
    settings = PreflightSettings(stack="prod", bucket=live_cell["bucket"], repositories=PROD_REPOSITORIES,
                                 version_requirement=ACCEPT_MARIADB)
    return RolloutClients(
        kube=kube,
        restore_points=RdsRestorePoints(live_cell["rds"], "gitpod-prod-db"),
        config_store=s3_config_store(live_cell["s3"], live_cell["bucket"]),
        preflight=preflight_runner(preflight_clients, settings),
        clock=clock.now, monotonic=clock.monotonic, sleep=clock.sleep, progress=lines.append,
    )


def settings_for(cluster: KubeCluster) -> RolloutSettings:
    return RolloutSettings(stack="prod", namespace=cluster.namespace, lease_minutes=60)


@pytest.fixture
def source_variable(scenario: PitrScenario) -> Iterator[Callable[[str, str], None]]:  # noqa: F811
    """Change a dynamic global variable on the source server for one test, then put it back."""
    with changed_globals(scenario.source) as set_variable:
        yield set_variable


def test_a_cell_that_passes_preflight_enters_maintenance(live_cell, kube, cluster, clock, scenario):  # noqa: F811
    lines: list[str] = []

    result = before_rollout(rollout_clients(live_cell, kube, clock, scenario.source, lines), settings_for(cluster))

    assert result.preflight.passed
    assert result.maintenance.enabled
    assert cluster.ws_manager_maintenance() is not None
    assert "[PASS] explicit_defaults_for_timestamp: OFF, as Gitpod's migrations need" in "\n".join(lines)
    assert any(line.startswith("preflight passed:") for line in lines)


def test_a_database_failing_preflight_never_enters_maintenance(live_cell, kube, cluster, clock, scenario,  # noqa: F811
                                                               source_variable):
    source_variable("explicit_defaults_for_timestamp", "ON")
    lines: list[str] = []

    with pytest.raises(RolloutStepError) as failure:
        before_rollout(rollout_clients(live_cell, kube, clock, scenario.source, lines), settings_for(cluster))

    assert failure.value.step == PREFLIGHT
    assert isinstance(failure.value.cause, PreflightFailed)
    message = str(failure.value)
    assert message.startswith("rollout step 'preflight' failed: PreflightFailed: 1 preflight check(s) failed: "
                              "explicit_defaults_for_timestamp (explicit_defaults_for_timestamp: is ON")
    assert "maintenance was not entered" in message
    assert cluster.config_map_data("default", MAINTENANCE_CONFIG_MAP) is None
    assert cluster.config_map_data(cluster.namespace, INSTALLATION_CONFIG_MAP) is None
    assert "[FAIL] explicit_defaults_for_timestamp: is ON; Gitpod needs it OFF" in "\n".join(lines)


def test_a_missing_workload_label_fails_preflight_naming_it(live_cell, kube, cluster, clock, scenario):  # noqa: F811
    labels = dict.fromkeys(GITPOD_WORKLOAD_LABELS, "true")
    del labels["gitpod.io/workload_workspace_headless"]
    cluster.put_node("services-1", labels=labels)

    with pytest.raises(RolloutStepError) as failure:
        before_rollout(rollout_clients(live_cell, kube, clock, scenario.source, []), settings_for(cluster))

    assert failure.value.step == PREFLIGHT
    assert "failed: workload labels (workload labels: no node has gitpod.io/workload_workspace_headless=true" \
        in str(failure.value)
    assert cluster.config_map_data("default", MAINTENANCE_CONFIG_MAP) is None


def test_a_rollout_without_a_preflight_runner_fails_instead_of_skipping_it(live_cell, kube, cluster, clock,
                                                                           scenario):  # noqa: F811
    clients = replace(rollout_clients(live_cell, kube, clock, scenario.source, []), preflight=None)

    with pytest.raises(RolloutStepError) as failure:
        before_rollout(clients, settings_for(cluster))

    assert failure.value.step == PREFLIGHT
    assert isinstance(failure.value.cause, PreflightNotConfigured)
    assert cluster.config_map_data("default", MAINTENANCE_CONFIG_MAP) is None


def test_enter_maintenance_refuses_to_run_after_a_failed_preflight(live_cell, kube, cluster, clock, scenario,  # noqa: F811
                                                                   source_variable):
    source_variable("explicit_defaults_for_timestamp", "ON")
    clients = rollout_clients(live_cell, kube, clock, scenario.source, [])
    ledger = RolloutLedger()

    with pytest.raises(RolloutStepError):
        run_step(PREFLIGHT, clients, settings_for(cluster), ledger)
    # An engine that carried on past the failed hook: the ledger still stops maintenance.
    with pytest.raises(RolloutStepError) as failure:
        run_step(ENTER_MAINTENANCE, clients, settings_for(cluster), ledger)

    assert isinstance(failure.value.cause, PrerequisiteNotMet)
    assert "preflight did not pass" in str(failure.value)
    assert cluster.config_map_data("default", MAINTENANCE_CONFIG_MAP) is None
