"""The config + version-label backup on GCS, against fake-gcs-server with a versioned bucket."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ops.backup.config_backup import ConfigBackup, ConfigBackupError, backup_key, latest_pointer_key
from tests.ops.support.stores import gcs_config_store
from tests.ops.support.values import START

CONFIG_V1 = "apiVersion: v1\ndomain: gitpod.example.com\n"
CONFIG_V2 = "apiVersion: v1\ndomain: gitpod.example.com\nblockNewUsers:\n  enabled: true\n"


def test_a_backup_is_the_s3_layout_with_generations_as_versions(gcs: Any, versioned_gcs_bucket: str):
    backup = gcs_config_store(gcs, versioned_gcs_bucket).write("prod-gcp", "2024.11.0", "abc123", CONFIG_V1,
                                                                    START)

    assert backup.key == backup_key("prod-gcp", "2024.11.0", "abc123") == \
        "gitpod-cell/prod-gcp/installer-config/2024.11.0/abc123.yaml"
    assert backup.version_id is not None
    assert backup.version_id.isdigit()
    blob = gcs.bucket(versioned_gcs_bucket).get_blob(backup.key)
    assert blob.metadata == {"gitpod-version": "2024.11.0", "config-hash": "abc123", "stack": "prod-gcp"}
    assert blob.content_type == "application/yaml"
    pointer = json.loads(gcs.bucket(versioned_gcs_bucket).blob(latest_pointer_key("prod-gcp")).download_as_bytes())
    assert ConfigBackup.from_dict(pointer) == backup  # the same pointer document as on S3
    restored = gcs_config_store(gcs, versioned_gcs_bucket).read_latest("prod-gcp")
    assert restored is not None
    assert restored.backup == backup
    assert restored.config_yaml == CONFIG_V1


def test_a_restore_reads_exactly_the_generation_the_pointer_names(gcs: Any, versioned_gcs_bucket: str):
    first = gcs_config_store(gcs, versioned_gcs_bucket).write("prod-gcp", "2024.11.0", "abc123", CONFIG_V1, START)
    # Someone overwrites the same key later without moving the pointer (a hand-made upload, a partial write).
    gcs.bucket(versioned_gcs_bucket).blob(first.key).upload_from_string(CONFIG_V2)

    restored = gcs_config_store(gcs, versioned_gcs_bucket).read_latest("prod-gcp")

    assert restored is not None
    assert restored.config_yaml == CONFIG_V1
    second = gcs_config_store(gcs, versioned_gcs_bucket).write("prod-gcp", "2024.11.0", "abc123", CONFIG_V2, START)
    assert int(str(second.version_id)) > int(str(first.version_id))
    latest = gcs_config_store(gcs, versioned_gcs_bucket).read_latest("prod-gcp")
    assert latest is not None
    assert latest.config_yaml == CONFIG_V2


def test_no_backup_yet_is_none(gcs: Any, versioned_gcs_bucket: str):
    assert gcs_config_store(gcs, versioned_gcs_bucket).read_latest("prod-gcp") is None


def test_a_missing_bucket_is_an_error_naming_it(gcs: Any):
    with pytest.raises(ConfigBackupError, match=r"cannot write gs://bucket-that-is-gone/gitpod-cell/prod-gcp/"):
        gcs_config_store(gcs, "bucket-that-is-gone").write("prod-gcp", "2024.11.0", "abc123", CONFIG_V1, START)
    with pytest.raises(ConfigBackupError, match=r"gs://bucket-that-is-gone/.*the bucket does not exist"):
        gcs_config_store(gcs, "bucket-that-is-gone").read_latest("prod-gcp")


def test_an_empty_config_and_a_broken_pointer_are_refused(gcs: Any, versioned_gcs_bucket: str):
    with pytest.raises(ConfigBackupError, match="empty installer config"):
        gcs_config_store(gcs, versioned_gcs_bucket).write("prod-gcp", "2024.11.0", "abc123", "  \n", START)
    gcs.bucket(versioned_gcs_bucket).blob(latest_pointer_key("prod-gcp")).upload_from_string("not json")
    with pytest.raises(ConfigBackupError, match="is not a config backup pointer"):
        gcs_config_store(gcs, versioned_gcs_bucket).read_latest("prod-gcp")
