"""The gitpod-installation ConfigMap record, on the real local API server."""

from __future__ import annotations

import datetime as dt

import pytest

from contract.cluster import INSTALLATION_CONFIG_MAP, PART_OF_LABELS
from ops.backup.config_backup import ConfigBackup
from ops.backup.restore_point import RestorePoint
from ops.cluster.installation_record import read_installation_record, update_installation_record
from ops.cluster.kube import KubeClient, KubeNotFound
from tests.ops.support.kube_cluster import KubeCluster
from tests.ops.support.kube_races import KubeRecorder
from tests.ops.support.values import START

POINT = RestorePoint("pitr", "gitpod-db", START - dt.timedelta(minutes=5), START)
BACKUP = ConfigBackup("bucket", "gitpod-cell/prod/installer-config/v1/h.yaml", "ver-1", "v1", "h", "prod", START)


def test_no_record_reads_as_none(kube: KubeClient, cluster: KubeCluster):
    assert read_installation_record(kube, cluster.namespace) is None


def test_first_update_creates_the_record(kube: KubeClient, cluster: KubeCluster):
    record = update_installation_record(kube, cluster.namespace, rollout_started_at=START, restore_point=POINT)

    assert record.restore_point == POINT
    assert record.last_rollout_started_at == START
    assert cluster.config_map_data(cluster.namespace, INSTALLATION_CONFIG_MAP) == {
        "lastRolloutStartedAt": "2025-03-14T09:26:53Z",
        "restorePoint": POINT.to_json(),
    }
    assert cluster.config_map_labels(cluster.namespace, INSTALLATION_CONFIG_MAP) == PART_OF_LABELS


def test_updates_never_drop_keys_they_were_not_given(kube: KubeClient, cluster: KubeCluster):
    # As the Pulumi program would have written it, plus a key nobody here knows about.
    cluster.put_config_map(cluster.namespace, INSTALLATION_CONFIG_MAP,
                           {"version": "2024.11.0", "configHash": "abc", "installedBy": "pulumi"})

    update_installation_record(kube, cluster.namespace, rollout_started_at=START, restore_point=POINT)
    update_installation_record(kube, cluster.namespace, config_backup=BACKUP)
    record = update_installation_record(kube, cluster.namespace,
                                        rollout_finished_at=START + dt.timedelta(minutes=12))

    assert record.version == "2024.11.0"
    assert record.config_hash == "abc"
    assert record.restore_point == POINT
    assert record.last_config_backup == BACKUP
    assert record.last_rollout_finished_at == START + dt.timedelta(minutes=12)
    assert record.other_data == {"installedBy": "pulumi"}
    assert read_installation_record(kube, cluster.namespace) == record


def test_a_record_created_by_someone_else_in_between_is_patched(kube: KubeClient, cluster: KubeCluster):
    """The Pulumi program creates the record between the hook's patch (404) and its create (409): the hook
    patches the program's record instead, keeping its keys."""
    recorder = KubeRecorder(kube).interleave("create_config_map", lambda: cluster.put_config_map(
        cluster.namespace, INSTALLATION_CONFIG_MAP, {"version": "2024.11.0", "configHash": "abc"}))

    record = update_installation_record(recorder, cluster.namespace, cell="prod")

    assert recorder.refused == [("patch_config_map_data", 404), ("create_config_map", 409)]
    assert (record.cell, record.version, record.config_hash) == ("prod", "2024.11.0", "abc")
    assert read_installation_record(kube, cluster.namespace) == record


def test_version_and_config_hash_can_be_written_too(kube: KubeClient, cluster: KubeCluster):
    record = update_installation_record(kube, cluster.namespace, version="2025.01.2", config_hash="f00d")
    assert (record.version, record.config_hash) == ("2025.01.2", "f00d")


def test_unreadable_values_are_reported(kube: KubeClient, cluster: KubeCluster):
    cluster.put_config_map(cluster.namespace, INSTALLATION_CONFIG_MAP,
                           {"restorePoint": "{not json", "lastRolloutStartedAt": "yesterday"})
    record = read_installation_record(kube, cluster.namespace)
    assert record is not None
    assert record.restore_point is None
    assert set(record.problems) == {"restorePoint", "lastRolloutStartedAt"}


def test_a_record_in_a_namespace_that_does_not_exist_is_an_error(kube: KubeClient):
    assert read_installation_record(kube, "no-such-namespace") is None  # a GET cannot tell: nothing installed
    with pytest.raises(KubeNotFound, match='namespaces "no-such-namespace" not found'):
        update_installation_record(kube, "no-such-namespace", cell="prod")


def test_an_empty_update_is_a_mistake(kube: KubeClient, cluster: KubeCluster):
    with pytest.raises(ValueError, match="at least one key"):
        update_installation_record(kube, cluster.namespace)
