"""The maintenance lease on ws-manager-mk2's ConfigMap."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from ops.kube import KubeClient
from ops.maintenance import (
    MAINTENANCE_CONFIG_KEY,
    MAINTENANCE_CONFIG_MAP,
    MaintenanceError,
    MaintenanceLease,
)
from tests.ops.conftest import FakeClock
from tests.ops.k8s_double import KubeDouble


def _enabled_until(double: KubeDouble) -> str:
    data = double.config_map_data("gitpod", MAINTENANCE_CONFIG_MAP)
    assert data is not None
    return json.loads(data[MAINTENANCE_CONFIG_KEY])["enabledUntil"]


def test_enter_creates_the_config_map_with_a_lease(kube: KubeClient, kube_double: KubeDouble, clock: FakeClock):
    status = MaintenanceLease(kube).enter(45, clock.now())

    assert _enabled_until(kube_double) == "2025-03-14T10:11:53Z"
    assert status.enabled
    assert status.until == dt.datetime(2025, 3, 14, 10, 11, 53, tzinfo=dt.UTC)
    assert status.remaining == dt.timedelta(minutes=45)
    assert "maintenance ON until 2025-03-14T10:11:53Z (45 min left)" in status.describe()


def test_exit_sets_enabled_until_to_now(kube: KubeClient, kube_double: KubeDouble, clock: FakeClock):
    lease = MaintenanceLease(kube)
    lease.enter(60, clock.now())
    clock.advance(600)

    status = lease.exit(clock.now())

    assert _enabled_until(kube_double) == "2025-03-14T09:36:53Z"
    assert not status.enabled
    assert status.remaining == dt.timedelta(0)
    assert not lease.status(clock.now()).enabled


def test_the_lease_ends_by_itself(kube: KubeClient, clock: FakeClock):
    lease = MaintenanceLease(kube)
    lease.enter(30, clock.now())

    clock.advance(29 * 60)
    assert lease.status(clock.now()).enabled
    assert lease.status(clock.now()).remaining == dt.timedelta(minutes=1)
    clock.advance(60)
    assert not lease.status(clock.now()).enabled


def test_enter_patches_an_existing_config_map_and_keeps_its_other_keys(
    kube: KubeClient, kube_double: KubeDouble, clock: FakeClock
):
    kube_double.put_config_map("gitpod", MAINTENANCE_CONFIG_MAP, {"owner": "someone-else"})

    MaintenanceLease(kube).enter(5, clock.now())

    data = kube_double.config_map_data("gitpod", MAINTENANCE_CONFIG_MAP)
    assert data is not None
    assert data["owner"] == "someone-else"
    assert json.loads(data[MAINTENANCE_CONFIG_KEY]) == {"enabledUntil": "2025-03-14T09:31:53Z"}


def test_enter_replaces_a_longer_lease(kube: KubeClient, clock: FakeClock):
    lease = MaintenanceLease(kube)
    lease.enter(600, clock.now())
    assert lease.enter(10, clock.now()).remaining == dt.timedelta(minutes=10)


def test_status_without_config_map_and_exit_does_not_create_it(kube: KubeClient, kube_double: KubeDouble,
                                                               clock: FakeClock):
    lease = MaintenanceLease(kube)

    status = lease.status(clock.now())
    assert not status.enabled
    assert status.problem == "maintenance ConfigMap does not exist"

    assert not lease.exit(clock.now()).enabled
    assert kube_double.config_map_data("gitpod", MAINTENANCE_CONFIG_MAP) is None


def test_an_unreadable_config_is_reported_not_guessed(kube: KubeClient, kube_double: KubeDouble, clock: FakeClock):
    kube_double.put_config_map("gitpod", MAINTENANCE_CONFIG_MAP, {MAINTENANCE_CONFIG_KEY: '{"enabledUntil": "soon"}'})

    status = MaintenanceLease(kube).status(clock.now())

    assert not status.enabled
    assert status.problem is not None
    assert "config.json is unreadable" in status.problem


def test_enabled_until_with_an_offset_is_understood(kube: KubeClient, kube_double: KubeDouble, clock: FakeClock):
    kube_double.put_config_map("gitpod", MAINTENANCE_CONFIG_MAP,
                               {MAINTENANCE_CONFIG_KEY: '{"enabledUntil": "2025-03-14T11:00:00+01:00"}'})
    status = MaintenanceLease(kube).status(clock.now())
    assert status.enabled
    assert status.until == dt.datetime(2025, 3, 14, 10, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("minutes", [0, -5, 24 * 60 + 1, 1.5, True])
def test_lease_length_is_bounded(kube: KubeClient, clock: FakeClock, minutes: object):
    with pytest.raises(MaintenanceError):
        MaintenanceLease(kube).enter(minutes, clock.now())  # type: ignore[arg-type]


def test_naive_time_is_refused(kube: KubeClient):
    with pytest.raises(ValueError, match="timezone-aware"):
        MaintenanceLease(kube).enter(5, dt.datetime(2025, 1, 1))  # naive on purpose
