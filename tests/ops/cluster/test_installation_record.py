"""The gitpod-installation ConfigMap record."""

from __future__ import annotations

import datetime as dt

import pytest

from contract.cluster import INSTALLATION_CONFIG_MAP
from ops.backup.config_backup import ConfigBackup
from ops.backup.restore_point import RestorePoint
from ops.cluster.installation_record import read_installation_record, update_installation_record
from ops.cluster.kube import KubeClient
from tests.ops.support.kube_double import KubeDouble
from tests.ops.support.values import START

POINT = RestorePoint("pitr", "gitpod-db", START - dt.timedelta(minutes=5), START)
BACKUP = ConfigBackup("bucket", "gitpod-cell/prod/installer-config/v1/h.yaml", "ver-1", "v1", "h", "prod", START)


def test_no_record_reads_as_none(kube: KubeClient):
    assert read_installation_record(kube, "gitpod") is None


def test_first_update_creates_the_record(kube: KubeClient, kube_double: KubeDouble):
    record = update_installation_record(kube, "gitpod", rollout_started_at=START, restore_point=POINT)

    assert record.restore_point == POINT
    assert record.last_rollout_started_at == START
    assert kube_double.config_map_data("gitpod", INSTALLATION_CONFIG_MAP) == {
        "lastRolloutStartedAt": "2025-03-14T09:26:53Z",
        "restorePoint": POINT.to_json(),
    }


def test_updates_never_drop_keys_they_were_not_given(kube: KubeClient, kube_double: KubeDouble):
    # As the Pulumi program would have written it, plus a key nobody here knows about.
    kube_double.put_config_map("gitpod", INSTALLATION_CONFIG_MAP,
                               {"version": "2024.11.0", "configHash": "abc", "installedBy": "pulumi"})

    update_installation_record(kube, "gitpod", rollout_started_at=START, restore_point=POINT)
    update_installation_record(kube, "gitpod", config_backup=BACKUP)
    record = update_installation_record(kube, "gitpod", rollout_finished_at=START + dt.timedelta(minutes=12))

    assert record.version == "2024.11.0"
    assert record.config_hash == "abc"
    assert record.restore_point == POINT
    assert record.last_config_backup == BACKUP
    assert record.last_rollout_finished_at == START + dt.timedelta(minutes=12)
    assert record.other_data == {"installedBy": "pulumi"}
    assert read_installation_record(kube, "gitpod") == record


def test_version_and_config_hash_can_be_written_too(kube: KubeClient):
    record = update_installation_record(kube, "gitpod", version="2025.01.2", config_hash="f00d")
    assert (record.version, record.config_hash) == ("2025.01.2", "f00d")


def test_unreadable_values_are_reported(kube: KubeClient, kube_double: KubeDouble):
    kube_double.put_config_map("gitpod", INSTALLATION_CONFIG_MAP,
                               {"restorePoint": "{not json", "lastRolloutStartedAt": "yesterday"})
    record = read_installation_record(kube, "gitpod")
    assert record is not None
    assert record.restore_point is None
    assert set(record.problems) == {"restorePoint", "lastRolloutStartedAt"}


def test_an_empty_update_is_a_mistake(kube: KubeClient):
    with pytest.raises(ValueError, match="at least one key"):
        update_installation_record(kube, "gitpod")
