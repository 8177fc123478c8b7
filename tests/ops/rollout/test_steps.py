"""The rollout steps end to end: the real local API server (the record in the test's own namespace, the lease in
`default` where ws-manager-mk2 reads it) + moto's RDS and S3, fake clock. Faults the API server cannot give on demand
(5xx mid-way, a hanging call) come from the fault proxy in front of it (`faulty_cell`)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest

from contract.cluster import INSTALLATION_CONFIG_MAP
from contract.rollout import (
    ALL_STEPS,
    BACKUP_CONFIG,
    ENTER_MAINTENANCE,
    EXIT_MAINTENANCE,
    HEALTH_GATE,
    MIN_ROLLOUT_LEASE_MINUTES,
    PREFLIGHT,
    RECORD_RESTORE_POINT,
)
from ops.clouds.aws.restore_points import RdsRestorePoints
from ops.cluster.installation_record import read_installation_record
from ops.cluster.kube import KubeApi, KubeClient, KubeUnavailable
from ops.cluster.kubeconfig import ClusterConnection
from ops.cluster.maintenance import MAINTENANCE_CONFIG_KEY, MAINTENANCE_CONFIG_MAP, MaintenanceLease
from ops.rollout.steps import (
    PrerequisiteNotMet,
    RolloutClients,
    RolloutLedger,
    RolloutSettings,
    RolloutStepError,
    run_step,
)
from tests.ops.support.kube_cluster import KubeCluster
from tests.ops.support.kube_faults import KubeFaultProxy
from tests.ops.support.rollout import after_rollout, before_rollout, preflight_passes
from tests.ops.support.stores import s3_config_store
from tests.ops.support.values import START, FakeClock, create_rds_instance

INSTALLER_CONFIG = "apiVersion: v1\ndomain: gitpod.example.com\n"
LEASE_END = "2025-03-14T10:26:53Z"  # START + 60 minutes


@dataclass
class Cell:
    clients: RolloutClients
    settings: RolloutSettings
    cluster: KubeCluster
    clock: FakeClock
    s3: Any
    bucket: str
    admin: KubeClient  # straight to the server, whatever `clients.kube` goes through

    @property
    def namespace(self) -> str:
        return self.cluster.namespace

    def enabled_until(self) -> str | None:
        data = self.cluster.config_map_data("default", MAINTENANCE_CONFIG_MAP)
        return json.loads(data[MAINTENANCE_CONFIG_KEY])["enabledUntil"] if data else None

    def record_data(self) -> dict[str, str] | None:
        return self.cluster.config_map_data(self.namespace, INSTALLATION_CONFIG_MAP)

    def maintenance_on(self) -> bool:
        return MaintenanceLease(self.admin).status(self.clock.now()).enabled

    def installer_ran(self, ready: bool = True) -> None:
        """What the installer Job leaves behind: Gitpod's workloads, ready or not (as their controllers report)."""
        self.clock.advance(240)
        self.cluster.put_deployment(self.namespace, "server", replicas=2, ready=2 if ready else 0)
        self.cluster.put_stateful_set(self.namespace, "redis", replicas=1)


def _cell(kube: KubeApi, admin: KubeClient, cluster: KubeCluster, aws: Callable[[str], Any], bucket: str,
          clock: FakeClock) -> Cell:
    rds = aws("rds")
    create_rds_instance(rds, "gitpod-prod-db", backup_retention_days=14)
    s3 = aws("s3")
    clients = RolloutClients(
        kube=kube,
        restore_points=RdsRestorePoints(rds, "gitpod-prod-db", wait_delay_seconds=1),
        config_store=s3_config_store(s3, bucket),
        preflight=preflight_passes,
        clock=clock.now,
        monotonic=clock.monotonic,
        sleep=clock.sleep,
    )
    settings = RolloutSettings(stack="prod", namespace=cluster.namespace, lease_minutes=60,
                               gitpod_version="2024.11.0", config_hash="abc123",
                               installer_config_yaml=INSTALLER_CONFIG, health_timeout_seconds=600,
                               health_poll_seconds=10)
    return Cell(clients, settings, cluster, clock, s3, bucket, admin)


@pytest.fixture
def cell(kube: KubeClient, cluster: KubeCluster, aws: Callable[[str], Any], versioned_bucket: str,
         clock: FakeClock) -> Cell:
    return _cell(kube, kube, cluster, aws, versioned_bucket, clock)


@pytest.fixture
def faulty_cell(faulty_kube: KubeClient, kube: KubeClient, cluster: KubeCluster, aws: Callable[[str], Any],
                versioned_bucket: str, clock: FakeClock) -> Cell:
    """The same cell, its steps talking to the API server through the fault proxy (`faults`)."""
    return _cell(faulty_kube, kube, cluster, aws, versioned_bucket, clock)


def test_a_whole_rollout(cell: Cell):
    before = before_rollout(cell.clients, cell.settings)

    assert before.maintenance.enabled
    assert cell.enabled_until() == LEASE_END
    record = read_installation_record(cell.clients.kube, cell.namespace)
    assert record is not None
    assert record.restore_point == before.restore_point
    assert record.restore_point.kind == "pitr"
    assert record.last_rollout_started_at == START

    cell.installer_ran()
    after = after_rollout(cell.clients, cell.settings)

    assert after.health.healthy
    assert not after.maintenance.enabled
    assert cell.enabled_until() == "2025-03-14T09:30:53Z"  # ended at the moment the rollout finished
    latest = s3_config_store(cell.s3, cell.bucket).read_latest("prod")
    assert latest is not None
    assert latest.config_yaml == INSTALLER_CONFIG
    assert latest.backup == after.config_backup
    record = read_installation_record(cell.clients.kube, cell.namespace)
    assert record is not None
    assert record.last_config_backup == after.config_backup
    assert record.last_rollout_finished_at == START + dt.timedelta(seconds=240)
    assert record.restore_point == before.restore_point  # still there for whoever needs to undo this rollout


def test_api_error_after_the_lease_was_written_names_the_step_and_the_lease_still_expires(
    faulty_cell: Cell, faults: KubeFaultProxy
):
    """Fault proxy: a 500 on record-restore-point's first call, after enter-maintenance wrote the lease."""
    cell, ledger = faulty_cell, RolloutLedger()
    for step in (PREFLIGHT, ENTER_MAINTENANCE):
        run_step(step, cell.clients, cell.settings, ledger)
    faults.fail_next(status=500)

    with pytest.raises(RolloutStepError) as failure:
        run_step(RECORD_RESTORE_POINT, cell.clients, cell.settings, ledger)

    assert failure.value.step == RECORD_RESTORE_POINT
    assert "rollout step 'record-restore-point' failed" in str(failure.value)
    assert "HTTP 500" in str(failure.value)
    assert cell.enabled_until() == LEASE_END
    assert cell.maintenance_on()
    cell.clock.advance(60 * 60)
    assert not cell.maintenance_on()  # nobody ended it: the lease ran out


def test_failure_entering_maintenance_records_nothing(faulty_cell: Cell, faults: KubeFaultProxy):
    """Fault proxy: a 503 on enter-maintenance's first call."""
    faults.fail_next(status=503)

    with pytest.raises(RolloutStepError) as failure:
        before_rollout(faulty_cell.clients, faulty_cell.settings)

    assert failure.value.step == ENTER_MAINTENANCE
    assert faulty_cell.record_data() is None
    assert faulty_cell.enabled_until() is None


def test_a_hanging_api_server_fails_the_step_instead_of_the_rollout_hanging(faulty_cell: Cell,
                                                                            faults: KubeFaultProxy):
    """Fault proxy: the real server does not hang on demand."""
    slow = KubeClient(ClusterConnection(server=faults.url), timeout_seconds=0.2)
    faults.hang_when("GET", MAINTENANCE_CONFIG_MAP)

    with pytest.raises(RolloutStepError) as failure:
        before_rollout(replace(faulty_cell.clients, kube=slow), faulty_cell.settings)

    assert failure.value.step == ENTER_MAINTENANCE
    assert isinstance(failure.value.cause, KubeUnavailable)


def test_health_gate_timeout_keeps_maintenance_until_the_lease_and_keeps_the_restore_point(cell: Cell):
    before = before_rollout(cell.clients, cell.settings)
    cell.installer_ran(ready=False)

    with pytest.raises(RolloutStepError) as failure:
        after_rollout(cell.clients, cell.settings)

    assert failure.value.step == HEALTH_GATE
    assert "rollout step 'health-gate' failed: HealthGateTimeout" in str(failure.value)
    assert "Deployment/server: 0/2 replicas ready" in str(failure.value)
    assert sum(cell.clock.sleeps) == 600
    # Maintenance was not ended early, and is still bounded by the lease entered before the rollout.
    assert cell.enabled_until() == LEASE_END
    assert cell.maintenance_on()
    record = read_installation_record(cell.clients.kube, cell.namespace)
    assert record is not None
    assert record.restore_point == before.restore_point
    assert record.last_config_backup is None
    assert record.last_rollout_finished_at is None
    assert "Contents" not in cell.s3.list_objects_v2(Bucket=cell.bucket)
    cell.clock.advance(60 * 60)
    assert not cell.maintenance_on()


def test_backup_failure_leaves_maintenance_to_its_lease(cell: Cell, aws: Callable[[str], Any]):
    before_rollout(cell.clients, cell.settings)
    cell.installer_ran()
    broken = replace(cell.clients, config_store=s3_config_store(aws("s3"), "bucket-that-is-gone"))

    with pytest.raises(RolloutStepError) as failure:
        after_rollout(broken, cell.settings)

    assert failure.value.step == BACKUP_CONFIG
    assert "s3://bucket-that-is-gone" in str(failure.value)
    assert cell.enabled_until() == LEASE_END


def test_exit_failure_names_the_step_and_the_lease_still_bounds_maintenance(faulty_cell: Cell,
                                                                            faults: KubeFaultProxy):
    """Fault proxy: a 500 on exit-maintenance's patch of the lease."""
    before_rollout(faulty_cell.clients, faulty_cell.settings)
    faulty_cell.installer_ran()
    faults.fail_when("PATCH", MAINTENANCE_CONFIG_MAP, status=500)

    with pytest.raises(RolloutStepError) as failure:
        after_rollout(faulty_cell.clients, faulty_cell.settings)

    assert failure.value.step == EXIT_MAINTENANCE
    assert faulty_cell.enabled_until() == LEASE_END


def test_after_steps_refuse_to_run_past_a_step_that_did_not_pass(cell: Cell):
    before_rollout(cell.clients, cell.settings)
    ledger = RolloutLedger()

    for step in (BACKUP_CONFIG, EXIT_MAINTENANCE):
        with pytest.raises(RolloutStepError) as failure:
            run_step(step, cell.clients, cell.settings, ledger)
        assert failure.value.step == step
        assert isinstance(failure.value.cause, PrerequisiteNotMet)
    assert cell.enabled_until() == LEASE_END


def test_backup_needs_the_version_label_and_config(cell: Cell):
    ledger = RolloutLedger(passed={HEALTH_GATE})
    with pytest.raises(RolloutStepError, match="needs gitpod_version, config_hash and installer_config_yaml"):
        run_step(BACKUP_CONFIG, cell.clients, replace(cell.settings, installer_config_yaml=None), ledger)


def test_step_names_are_the_contract():
    assert ALL_STEPS == ("preflight", "enter-maintenance", "record-restore-point", "health-gate", "backup-config",
                         "exit-maintenance")
    with pytest.raises(ValueError, match="unknown rollout step"):
        run_step("reboot", None, None)  # type: ignore[arg-type]


def test_the_lease_must_cover_snapshot_wait_installer_job_and_health_gate():
    assert MIN_ROLLOUT_LEASE_MINUTES == 60  # 15 + 25 + 15 + 5 with the defaults
    assert RolloutSettings(stack="prod", lease_minutes=60).effective_health_timeout_seconds == 900
    RolloutSettings(stack="prod")  # the defaults satisfy it
    with pytest.raises(ValueError, match="lease of 59 min") as error:
        RolloutSettings(stack="prod", lease_minutes=59)
    assert str(error.value) == (
        "maintenance lease of 59 min is shorter than the rollout it must cover: snapshot wait 15 min + installer "
        "Job deadline 25 min + health gate timeout 15 min + margin 5 min = 60 min; raise "
        "gitpod.maintenanceLeaseMinutes to at least 60 or shorten the health timeout / snapshot wait")
    with pytest.raises(ValueError, match=r"health gate timeout 60 min .* = 105 min"):
        RolloutSettings(stack="prod", lease_minutes=90, health_timeout_seconds=3600)
    with pytest.raises(ValueError, match=r"snapshot wait 30 min .* at least 75"):
        RolloutSettings(stack="prod", lease_minutes=60, snapshot_wait_seconds=1800)
    RolloutSettings(stack="prod", lease_minutes=45, health_timeout_seconds=300, snapshot_wait_seconds=600)


# -- where the lease goes, whose it is, which cell ------------------------------------------------------------


def test_the_rollouts_lease_is_in_default_labelled_and_the_record_names_the_cell(cell: Cell):
    before_rollout(cell.clients, cell.settings)

    assert cell.cluster.config_map_names(MAINTENANCE_CONFIG_MAP) == [("default", MAINTENANCE_CONFIG_MAP)]
    assert cell.cluster.ws_manager_maintenance() == {"enabledUntil": LEASE_END}
    data = cell.record_data()
    assert data is not None
    assert data["cell"] == "prod"
    assert data["rolloutMaintenanceUntil"] == LEASE_END

    cell.installer_ran()
    after_rollout(cell.clients, cell.settings)
    assert cell.cluster.ws_manager_maintenance() == {"enabledUntil": "2025-03-14T09:30:53Z"}


def test_the_maintenance_namespace_setting_moves_the_lease(cell: Cell):
    elsewhere = cell.cluster.create_namespace("ws")
    settings = replace(cell.settings, maintenance_namespace=elsewhere)
    before_rollout(cell.clients, settings)
    assert cell.cluster.config_map_names(MAINTENANCE_CONFIG_MAP) == [(elsewhere, MAINTENANCE_CONFIG_MAP)]
    assert cell.cluster.ws_manager_maintenance() is None


def test_an_operators_longer_lease_survives_the_rollout(cell: Cell):
    MaintenanceLease(cell.clients.kube).enter(180, cell.clock.now())  # the operator's, 3 hours
    operators = cell.enabled_until()

    before_rollout(cell.clients, cell.settings)
    assert cell.enabled_until() == operators  # not shortened to the rollout's 60 minutes
    assert cell.record_data()["rolloutMaintenanceUntil"] == "none"

    cell.installer_ran()
    after = after_rollout(cell.clients, cell.settings)
    assert after.maintenance.enabled  # not ended: it was never the rollout's
    assert cell.enabled_until() == operators
    record = read_installation_record(cell.clients.kube, cell.namespace)
    assert record is not None
    assert record.last_rollout_finished_at is not None


def test_a_lease_an_operator_took_over_during_the_rollout_is_left_alone(cell: Cell):
    before_rollout(cell.clients, cell.settings)
    cell.clock.advance(120)
    MaintenanceLease(cell.clients.kube).enter(30, cell.clock.now())  # shorter, but theirs now
    operators = cell.enabled_until()

    cell.installer_ran()
    after = after_rollout(cell.clients, cell.settings)

    assert after.maintenance.enabled
    assert cell.enabled_until() == operators


def test_the_hooks_refuse_a_cluster_of_another_cell(cell: Cell):
    cell.cluster.put_config_map(cell.namespace, INSTALLATION_CONFIG_MAP, {"cell": "staging", "version": "2024.10.0"})

    with pytest.raises(RolloutStepError) as failure:
        before_rollout(cell.clients, cell.settings)

    assert failure.value.step == ENTER_MAINTENANCE
    assert "belongs to cell 'staging', not 'prod'" in str(failure.value)
    assert cell.cluster.config_map_names(MAINTENANCE_CONFIG_MAP) == []
    for step in (RECORD_RESTORE_POINT, BACKUP_CONFIG, EXIT_MAINTENANCE):
        ledger = RolloutLedger(passed={"preflight", HEALTH_GATE, BACKUP_CONFIG})
        with pytest.raises(RolloutStepError, match="belongs to cell 'staging'"):
            run_step(step, cell.clients, cell.settings, ledger)
    assert cell.record_data() == {"cell": "staging", "version": "2024.10.0"}
