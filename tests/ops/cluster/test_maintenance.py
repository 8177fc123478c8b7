"""The maintenance lease on ws-manager-mk2's ConfigMap, on the real local API server: in `default`, where
ws-manager-mk2 reads it (the `cluster` fixture removes it before and after each test); compare-and-swap against
the server's own resourceVersion checks."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from ops.cluster.kube import KubeClient, KubeNotFound
from ops.cluster.maintenance import (
    MAINTENANCE_CONFIG_KEY,
    MAINTENANCE_CONFIG_MAP,
    MAINTENANCE_NAMESPACE,
    MaintenanceError,
    MaintenanceLease,
)
from tests.ops.support.kube_cluster import KubeCluster
from tests.ops.support.kube_races import KubeRecorder
from tests.ops.support.values import START, FakeClock


def _enabled_until(cluster: KubeCluster) -> str:
    data = cluster.config_map_data("default", MAINTENANCE_CONFIG_MAP)
    assert data is not None
    return json.loads(data[MAINTENANCE_CONFIG_KEY])["enabledUntil"]


def test_enter_creates_the_config_map_with_a_lease(kube: KubeClient, cluster: KubeCluster, clock: FakeClock):
    status = MaintenanceLease(kube).enter(45, clock.now())

    assert _enabled_until(cluster) == "2025-03-14T10:11:53Z"
    assert status.enabled
    assert status.until == dt.datetime(2025, 3, 14, 10, 11, 53, tzinfo=dt.UTC)
    assert status.remaining == dt.timedelta(minutes=45)
    assert "maintenance ON until 2025-03-14T10:11:53Z (45 min left)" in status.describe()


def test_exit_sets_enabled_until_to_now(kube: KubeClient, cluster: KubeCluster, clock: FakeClock):
    lease = MaintenanceLease(kube)
    lease.enter(60, clock.now())
    clock.advance(600)

    status = lease.exit(clock.now())

    assert _enabled_until(cluster) == "2025-03-14T09:36:53Z"
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
    kube: KubeClient, cluster: KubeCluster, clock: FakeClock
):
    cluster.put_config_map("default", MAINTENANCE_CONFIG_MAP, {"owner": "someone-else"})

    MaintenanceLease(kube).enter(5, clock.now())

    data = cluster.config_map_data("default", MAINTENANCE_CONFIG_MAP)
    assert data is not None
    assert data["owner"] == "someone-else"
    assert json.loads(data[MAINTENANCE_CONFIG_KEY]) == {"enabledUntil": "2025-03-14T09:31:53Z"}


def test_enter_replaces_a_longer_lease(kube: KubeClient, clock: FakeClock):
    lease = MaintenanceLease(kube)
    lease.enter(600, clock.now())
    assert lease.enter(10, clock.now()).remaining == dt.timedelta(minutes=10)


def test_status_without_config_map_and_exit_does_not_create_it(kube: KubeClient, cluster: KubeCluster,
                                                               clock: FakeClock):
    lease = MaintenanceLease(kube)

    status = lease.status(clock.now())
    assert not status.enabled
    assert status.problem == "maintenance ConfigMap does not exist"

    assert not lease.exit(clock.now()).enabled
    assert cluster.config_map_data("default", MAINTENANCE_CONFIG_MAP) is None


def test_an_unreadable_config_is_reported_not_guessed(kube: KubeClient, cluster: KubeCluster, clock: FakeClock):
    cluster.put_config_map("default", MAINTENANCE_CONFIG_MAP, {MAINTENANCE_CONFIG_KEY: '{"enabledUntil": "soon"}'})

    status = MaintenanceLease(kube).status(clock.now())

    assert not status.enabled
    assert status.problem is not None
    assert "config.json is unreadable" in status.problem


def test_enabled_until_with_an_offset_is_understood(kube: KubeClient, cluster: KubeCluster, clock: FakeClock):
    cluster.put_config_map("default", MAINTENANCE_CONFIG_MAP,
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


def test_the_lease_is_where_ws_manager_mk2_reads_it_and_nowhere_else(kube: KubeClient, cluster: KubeCluster,
                                                                     clock: FakeClock):
    MaintenanceLease(kube).enter(45, clock.now())

    assert cluster.config_map_names(MAINTENANCE_CONFIG_MAP) == [("default", MAINTENANCE_CONFIG_MAP)]
    assert cluster.config_map_labels("default", MAINTENANCE_CONFIG_MAP) == {
        "gitpod.io/maintenanceConfig": "true", "app.kubernetes.io/managed-by": "gitpod-cell-ops"}
    assert cluster.ws_manager_maintenance() == {"enabledUntil": "2025-03-14T10:11:53Z"}
    assert MAINTENANCE_NAMESPACE == "default"


def test_a_config_map_without_the_watch_label_gets_it(kube: KubeClient, cluster: KubeCluster, clock: FakeClock):
    cluster.put_config_map("default", MAINTENANCE_CONFIG_MAP, {}, labels={"team": "platform"})
    assert cluster.ws_manager_maintenance() is None

    MaintenanceLease(kube).enter(5, clock.now())

    assert cluster.config_map_labels("default", MAINTENANCE_CONFIG_MAP) == {
        "team": "platform", "gitpod.io/maintenanceConfig": "true"}
    assert cluster.ws_manager_maintenance() == {"enabledUntil": "2025-03-14T09:31:53Z"}


def test_another_namespace_is_only_used_when_asked(kube: KubeClient, cluster: KubeCluster, clock: FakeClock):
    MaintenanceLease(kube, cluster.namespace).enter(5, clock.now())
    assert cluster.config_map_names(MAINTENANCE_CONFIG_MAP) == [(cluster.namespace, MAINTENANCE_CONFIG_MAP)]
    assert cluster.ws_manager_maintenance() is None


def test_a_namespace_that_does_not_exist_is_an_error_not_a_lease(kube: KubeClient, clock: FakeClock):
    with pytest.raises(KubeNotFound, match='namespaces "no-such-namespace" not found'):
        MaintenanceLease(kube, "no-such-namespace").enter(5, clock.now())


# -- the hooks' semantics: never shorten, end only what was written -----------------------------------------------


def test_extend_keeps_a_longer_lease_and_writes_nothing(kube: KubeClient, cluster: KubeCluster, clock: FakeClock):
    MaintenanceLease(kube).enter(180, clock.now())  # the operator's
    version = cluster.resource_version("default", MAINTENANCE_CONFIG_MAP)
    recorder = KubeRecorder(kube)

    change = MaintenanceLease(recorder).extend(60, clock.now())

    assert change.written is None
    assert change.note is not None
    assert "kept the longer lease" in change.note
    assert change.status.until == dt.datetime(2025, 3, 14, 12, 26, 53, tzinfo=dt.UTC)
    assert _enabled_until(cluster) == "2025-03-14T12:26:53Z"
    assert recorder.calls == ["get_config_map"]
    assert cluster.resource_version("default", MAINTENANCE_CONFIG_MAP) == version  # not even a no-op write


def test_extend_never_shortens_an_operators_longer_lease_written_during_the_read(
    kube: KubeClient, cluster: KubeCluster, clock: FakeClock
):
    """The operator enters a 3-hour lease between the hook's read and its patch: the server refuses the stale
    patch, the hook reads again and keeps the operator's lease."""
    MaintenanceLease(kube).enter(5, clock.now())
    recorder = KubeRecorder(kube).interleave(
        "patch_config_map_data", lambda: MaintenanceLease(kube).enter(180, clock.now()))

    change = MaintenanceLease(recorder).extend(60, clock.now())

    assert recorder.refused == [("patch_config_map_data", 409)]
    assert recorder.calls == ["get_config_map", "patch_config_map_data", "get_config_map"]
    assert change.written is None
    assert change.status.until == dt.datetime(2025, 3, 14, 12, 26, 53, tzinfo=dt.UTC)
    assert _enabled_until(cluster) == "2025-03-14T12:26:53Z"


def test_extend_replaces_a_shorter_lease_and_creates_an_absent_one(kube: KubeClient, cluster: KubeCluster,
                                                                    clock: FakeClock):
    first = MaintenanceLease(kube).extend(60, clock.now())
    assert first.written == dt.datetime(2025, 3, 14, 10, 26, 53, tzinfo=dt.UTC)
    assert cluster.ws_manager_maintenance() == {"enabledUntil": "2025-03-14T10:26:53Z"}

    clock.advance(600)
    second = MaintenanceLease(kube).extend(60, clock.now())
    assert second.written == dt.datetime(2025, 3, 14, 10, 36, 53, tzinfo=dt.UTC)
    assert _enabled_until(cluster) == "2025-03-14T10:36:53Z"


def test_extend_retries_when_someone_writes_in_between(kube: KubeClient, cluster: KubeCluster, clock: FakeClock):
    MaintenanceLease(kube).enter(5, clock.now())
    # Someone else's write lands between our read and our patch: the server refuses our stale resourceVersion, we
    # read again and patch over their write, keeping what they added.
    recorder = KubeRecorder(kube).interleave(
        "patch_config_map_data",
        lambda: kube.patch_config_map_data("default", MAINTENANCE_CONFIG_MAP, {"owner": "someone-else"}))

    change = MaintenanceLease(recorder).extend(60, clock.now())

    assert change.written == dt.datetime(2025, 3, 14, 10, 26, 53, tzinfo=dt.UTC)
    assert recorder.refused == [("patch_config_map_data", 409)]
    assert recorder.calls == ["get_config_map", "patch_config_map_data", "get_config_map", "patch_config_map_data"]
    assert _enabled_until(cluster) == "2025-03-14T10:26:53Z"
    assert cluster.config_map_data("default", MAINTENANCE_CONFIG_MAP)["owner"] == "someone-else"


def test_extend_adopts_a_config_map_created_between_its_read_and_its_create(
    kube: KubeClient, cluster: KubeCluster, clock: FakeClock
):
    recorder = KubeRecorder(kube).interleave(
        "create_config_map", lambda: cluster.put_config_map("default", MAINTENANCE_CONFIG_MAP, {"owner": "them"}))

    change = MaintenanceLease(recorder).extend(60, clock.now())

    assert recorder.refused == [("get_config_map", 404), ("create_config_map", 409)]
    assert change.written == dt.datetime(2025, 3, 14, 10, 26, 53, tzinfo=dt.UTC)
    assert cluster.ws_manager_maintenance() == {"enabledUntil": "2025-03-14T10:26:53Z"}
    assert cluster.config_map_data("default", MAINTENANCE_CONFIG_MAP)["owner"] == "them"


def test_enter_patches_a_config_map_created_between_its_patch_and_its_create(
    kube: KubeClient, cluster: KubeCluster, clock: FakeClock
):
    recorder = KubeRecorder(kube).interleave(
        "create_config_map", lambda: cluster.put_config_map("default", MAINTENANCE_CONFIG_MAP, {"owner": "them"}))

    MaintenanceLease(recorder).enter(30, clock.now())

    assert recorder.refused == [("patch_config_map_data", 404), ("create_config_map", 409)]
    assert cluster.ws_manager_maintenance() == {"enabledUntil": "2025-03-14T09:56:53Z"}


def test_end_if_unchanged_ends_the_lease_it_wrote(kube: KubeClient, cluster: KubeCluster, clock: FakeClock):
    written = MaintenanceLease(kube).extend(60, clock.now()).written
    clock.advance(1200)

    change = MaintenanceLease(kube).end_if_unchanged(written, clock.now())

    assert change.note is None
    assert not change.status.enabled
    assert _enabled_until(cluster) == "2025-03-14T09:46:53Z"


def test_end_if_unchanged_leaves_an_operators_lease(kube: KubeClient, cluster: KubeCluster, clock: FakeClock):
    written = MaintenanceLease(kube).extend(60, clock.now()).written
    clock.advance(600)
    MaintenanceLease(kube).enter(120, clock.now())  # an operator takes over during the rollout

    change = MaintenanceLease(kube).end_if_unchanged(written, clock.now())

    assert change.written is None
    assert change.note is not None
    assert "left maintenance as it is" in change.note
    assert change.status.enabled
    assert _enabled_until(cluster) == "2025-03-14T11:36:53Z"


def test_end_if_unchanged_leaves_a_lease_an_operator_writes_during_its_read(
    kube: KubeClient, cluster: KubeCluster, clock: FakeClock
):
    """The operator's enter lands between exit-maintenance's read and its patch: the server refuses the stale
    patch; read again, the lease is not the rollout's any more and stays."""
    written = MaintenanceLease(kube).extend(60, clock.now()).written
    clock.advance(600)
    recorder = KubeRecorder(kube).interleave(
        "patch_config_map_data", lambda: MaintenanceLease(kube).enter(120, clock.now()))

    change = MaintenanceLease(recorder).end_if_unchanged(written, clock.now())

    assert recorder.refused == [("patch_config_map_data", 409)]
    assert change.written is None
    assert change.status.enabled
    assert _enabled_until(cluster) == "2025-03-14T11:36:53Z"


def test_end_if_unchanged_without_a_config_map_creates_none(kube: KubeClient, cluster: KubeCluster,
                                                             clock: FakeClock):
    change = MaintenanceLease(kube).end_if_unchanged(START, clock.now())
    assert change.written is None
    assert change.status.problem == "maintenance ConfigMap does not exist"
    assert cluster.config_map_names(MAINTENANCE_CONFIG_MAP) == []


def test_end_if_unchanged_with_nothing_written_leaves_the_lease(kube: KubeClient, cluster: KubeCluster,
                                                                 clock: FakeClock):
    MaintenanceLease(kube).enter(180, clock.now())

    change = MaintenanceLease(kube).end_if_unchanged(None, clock.now())

    assert change.status.enabled
    assert change.written is None
    assert _enabled_until(cluster) == "2025-03-14T12:26:53Z"


def test_extend_labels_a_longer_lease_it_keeps(kube: KubeClient, cluster: KubeCluster, clock: FakeClock):
    """An operator's 3-hour lease written by hand (kubectl), without the label newer ws-manager-mk2 versions watch:
    the hook keeps the lease and adds the label, so ws-manager-mk2 sees it."""
    cluster.put_config_map("default", MAINTENANCE_CONFIG_MAP,
                           {MAINTENANCE_CONFIG_KEY: '{"enabledUntil": "2025-03-14T12:26:53Z"}'})
    assert cluster.ws_manager_maintenance() is None

    change = MaintenanceLease(kube).extend(60, clock.now())

    assert change.written is None
    assert cluster.ws_manager_maintenance() == {"enabledUntil": "2025-03-14T12:26:53Z"}


def test_extend_labelling_a_longer_lease_retries_when_someone_writes_in_between(
    kube: KubeClient, cluster: KubeCluster, clock: FakeClock
):
    """Someone writes between the hook's read and its label patch: the server refuses the stale patch (409); the
    hook must read again, as it does for the lease itself."""
    cluster.put_config_map("default", MAINTENANCE_CONFIG_MAP,
                           {MAINTENANCE_CONFIG_KEY: '{"enabledUntil": "2025-03-14T12:26:53Z"}'})
    recorder = KubeRecorder(kube).interleave(
        "patch_config_map_data",
        lambda: kube.patch_config_map_data("default", MAINTENANCE_CONFIG_MAP, {"owner": "someone-else"}))

    change = MaintenanceLease(recorder).extend(60, clock.now())

    assert recorder.refused == [("patch_config_map_data", 409)]
    assert change.written is None
    assert cluster.ws_manager_maintenance() == {"enabledUntil": "2025-03-14T12:26:53Z"}
