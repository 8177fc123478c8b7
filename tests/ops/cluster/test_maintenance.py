"""The maintenance lease on ws-manager-mk2's ConfigMap."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from ops.cluster.kube import KubeClient
from ops.cluster.maintenance import (
    MAINTENANCE_CONFIG_KEY,
    MAINTENANCE_CONFIG_MAP,
    MAINTENANCE_NAMESPACE,
    MaintenanceError,
    MaintenanceLease,
)
from tests.ops.support.kube_double import KubeDouble
from tests.ops.support.values import FakeClock


def _enabled_until(double: KubeDouble) -> str:
    data = double.config_map_data("default", MAINTENANCE_CONFIG_MAP)
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
    kube_double.put_config_map("default", MAINTENANCE_CONFIG_MAP, {"owner": "someone-else"})

    MaintenanceLease(kube).enter(5, clock.now())

    data = kube_double.config_map_data("default", MAINTENANCE_CONFIG_MAP)
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
    assert kube_double.config_map_data("default", MAINTENANCE_CONFIG_MAP) is None


def test_an_unreadable_config_is_reported_not_guessed(kube: KubeClient, kube_double: KubeDouble, clock: FakeClock):
    kube_double.put_config_map("default", MAINTENANCE_CONFIG_MAP, {MAINTENANCE_CONFIG_KEY: '{"enabledUntil": "soon"}'})

    status = MaintenanceLease(kube).status(clock.now())

    assert not status.enabled
    assert status.problem is not None
    assert "config.json is unreadable" in status.problem


def test_enabled_until_with_an_offset_is_understood(kube: KubeClient, kube_double: KubeDouble, clock: FakeClock):
    kube_double.put_config_map("default", MAINTENANCE_CONFIG_MAP,
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


# -- where ws-manager-mk2 reads it ------------------------------------------------------------------------------


def test_the_lease_is_where_ws_manager_mk2_reads_it_and_nowhere_else(kube: KubeClient, kube_double: KubeDouble,
                                                                     clock: FakeClock):
    MaintenanceLease(kube).enter(45, clock.now())

    assert kube_double.config_map_names(MAINTENANCE_CONFIG_MAP) == [("default", MAINTENANCE_CONFIG_MAP)]
    assert kube_double.config_map_labels("default", MAINTENANCE_CONFIG_MAP) == {
        "gitpod.io/maintenanceConfig": "true", "app.kubernetes.io/managed-by": "gitpod-cell-ops"}
    assert kube_double.ws_manager_maintenance() == {"enabledUntil": "2025-03-14T10:11:53Z"}
    assert MAINTENANCE_NAMESPACE == "default"


def test_a_config_map_without_the_watch_label_gets_it(kube: KubeClient, kube_double: KubeDouble, clock: FakeClock):
    kube_double.put_config_map("default", MAINTENANCE_CONFIG_MAP, {}, labels={"team": "platform"})
    assert kube_double.ws_manager_maintenance() is None

    MaintenanceLease(kube).enter(5, clock.now())

    assert kube_double.config_map_labels("default", MAINTENANCE_CONFIG_MAP) == {
        "team": "platform", "gitpod.io/maintenanceConfig": "true"}
    assert kube_double.ws_manager_maintenance() == {"enabledUntil": "2025-03-14T09:31:53Z"}


def test_another_namespace_is_only_used_when_asked(kube: KubeClient, kube_double: KubeDouble, clock: FakeClock):
    MaintenanceLease(kube, "gitpod").enter(5, clock.now())
    assert kube_double.config_map_names(MAINTENANCE_CONFIG_MAP) == [("gitpod", MAINTENANCE_CONFIG_MAP)]
    assert kube_double.ws_manager_maintenance() is None


# -- the hooks' semantics: never shorten, end only what was written -----------------------------------------------


def test_extend_keeps_a_longer_lease_and_writes_nothing(kube: KubeClient, kube_double: KubeDouble, clock: FakeClock):
    MaintenanceLease(kube).enter(180, clock.now())  # the operator's
    before = kube_double.request_count

    change = MaintenanceLease(kube).extend(60, clock.now())

    assert change.written is None
    assert change.note is not None
    assert "kept the longer lease" in change.note
    assert change.status.until == dt.datetime(2025, 3, 14, 12, 26, 53, tzinfo=dt.UTC)
    assert _enabled_until(kube_double) == "2025-03-14T12:26:53Z"
    assert [r.method for r in kube_double.requests[before:]] == ["GET"]


def test_extend_replaces_a_shorter_lease_and_creates_an_absent_one(kube: KubeClient, kube_double: KubeDouble,
                                                                    clock: FakeClock):
    first = MaintenanceLease(kube).extend(60, clock.now())
    assert first.written == dt.datetime(2025, 3, 14, 10, 26, 53, tzinfo=dt.UTC)
    assert kube_double.ws_manager_maintenance() == {"enabledUntil": "2025-03-14T10:26:53Z"}

    clock.advance(600)
    second = MaintenanceLease(kube).extend(60, clock.now())
    assert second.written == dt.datetime(2025, 3, 14, 10, 36, 53, tzinfo=dt.UTC)
    assert _enabled_until(kube_double) == "2025-03-14T10:36:53Z"


def test_extend_retries_when_someone_writes_in_between(kube: KubeClient, kube_double: KubeDouble, clock: FakeClock):
    MaintenanceLease(kube).enter(5, clock.now())
    # Someone else's write lands between our read and our patch: the precondition fails, we read again.
    kube_double.fail_when("PATCH", MAINTENANCE_CONFIG_MAP, status=409)

    change = MaintenanceLease(kube).extend(60, clock.now())

    assert change.written is not None
    patches = [r for r in kube_double.requests if r.method == "PATCH"]
    assert len(patches) == 3  # enter's, the rejected one, the retry
    assert all(p.body["metadata"].get("resourceVersion") for p in patches[1:])
    assert _enabled_until(kube_double) == "2025-03-14T10:26:53Z"


def test_end_if_unchanged_ends_the_lease_it_wrote(kube: KubeClient, kube_double: KubeDouble, clock: FakeClock):
    written = MaintenanceLease(kube).extend(60, clock.now()).written
    clock.advance(1200)

    change = MaintenanceLease(kube).end_if_unchanged(written, clock.now())

    assert change.note is None
    assert not change.status.enabled
    assert _enabled_until(kube_double) == "2025-03-14T09:46:53Z"


def test_end_if_unchanged_leaves_an_operators_lease(kube: KubeClient, kube_double: KubeDouble, clock: FakeClock):
    written = MaintenanceLease(kube).extend(60, clock.now()).written
    clock.advance(600)
    MaintenanceLease(kube).enter(120, clock.now())  # an operator takes over during the rollout

    change = MaintenanceLease(kube).end_if_unchanged(written, clock.now())

    assert change.written is None
    assert change.note is not None
    assert "left maintenance as it is" in change.note
    assert change.status.enabled
    assert _enabled_until(kube_double) == "2025-03-14T11:36:53Z"


def test_end_if_unchanged_with_nothing_written_leaves_the_lease(kube: KubeClient, kube_double: KubeDouble,
                                                                 clock: FakeClock):
    MaintenanceLease(kube).enter(180, clock.now())

    change = MaintenanceLease(kube).end_if_unchanged(None, clock.now())

    assert change.status.enabled
    assert change.written is None
    assert _enabled_until(kube_double) == "2025-03-14T12:26:53Z"
