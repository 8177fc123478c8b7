"""Installer config backups in the cell's bucket (ops.backup.config_store) on every cloud's ObjectStore: moto's S3
and fake-gcs-server, both with versioning. The history a restore picks from is every version of the pointer."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from ops.backup.config_backup import (
    ConfigBackup,
    ConfigBackupError,
    NoConfigBackupAtTime,
    backup_key,
    choose_config_backup,
    latest_pointer_key,
)
from ops.backup.config_store import ConfigBackupStore
from tests.ops.support.stores import gcs_config_store, s3_config_store
from tests.ops.support.values import AWS_REGION, BACKUPS, START, T1, T2

# -- S3 ----------------------------------------------------------------------------------------------------------------


CONFIG_V1 = "apiVersion: v1\ndomain: gitpod.example.com\nblockNewUsers:\n  enabled: false\n"
CONFIG_V2 = "apiVersion: v1\ndomain: gitpod.example.com\nblockNewUsers:\n  enabled: true\n"
MINIMAL_CONFIG = "apiVersion: v1\ndomain: gitpod.example.com\n"


def test_two_backups_make_two_object_versions_and_latest_points_at_the_second(
    aws: Callable[[str], Any], versioned_bucket: str
):
    s3 = aws("s3")
    store = s3_config_store(s3, versioned_bucket)

    first = store.write("prod", "2024.11.0", "abc123", CONFIG_V1, START)
    second = store.write("prod", "2024.11.0", "abc123", CONFIG_V2, START + dt.timedelta(hours=1))

    assert first.key == second.key == "gitpod-cell/prod/installer-config/2024.11.0/abc123.yaml"
    assert first.version_id
    assert second.version_id
    assert first.version_id != second.version_id
    versions = s3.list_object_versions(Bucket=versioned_bucket, Prefix=first.key)["Versions"]
    assert {v["VersionId"] for v in versions} == {first.version_id, second.version_id}

    pointer = json.loads(s3.get_object(Bucket=versioned_bucket, Key=latest_pointer_key("prod"))["Body"].read())
    assert pointer["versionId"] == second.version_id
    assert pointer["version"] == "2024.11.0"
    assert pointer["backedUpAt"] == "2025-03-14T10:26:53Z"

    latest = s3_config_store(s3, versioned_bucket).read_latest("prod")
    assert latest is not None
    assert latest.backup == second
    assert latest.config_yaml == CONFIG_V2
    # The first backup is still there, by its version id.
    first_body = s3.get_object(Bucket=versioned_bucket, Key=first.key, VersionId=first.version_id)["Body"].read()
    assert first_body.decode() == CONFIG_V1


def test_backup_object_carries_the_version_label(aws: Callable[[str], Any], versioned_bucket: str):
    s3 = aws("s3")
    backup = s3_config_store(s3, versioned_bucket).write("dev", "2025.01.2", "f00d", CONFIG_V1, START)
    head = s3.head_object(Bucket=versioned_bucket, Key=backup.key, VersionId=backup.version_id)
    assert head["Metadata"] == {"gitpod-version": "2025.01.2", "config-hash": "f00d", "stack": "dev"}
    assert head["ContentType"] == "application/yaml"


def test_no_backup_yet_reads_as_none(aws: Callable[[str], Any], versioned_bucket: str):
    assert s3_config_store(aws("s3"), versioned_bucket).read_latest("prod") is None


def test_an_unversioned_bucket_gives_no_version_id_and_says_so(aws: Callable[[str], Any]):
    s3 = aws("s3")
    s3.create_bucket(Bucket="plain-bucket", CreateBucketConfiguration={"LocationConstraint": AWS_REGION})
    backup = s3_config_store(s3, "plain-bucket").write("dev", "2025.01.2", "f00d", CONFIG_V1, START)
    assert backup.version_id is None
    latest = s3_config_store(s3, "plain-bucket").read_latest("dev")
    assert latest is not None
    assert latest.config_yaml == CONFIG_V1


def test_a_missing_bucket_is_an_error_naming_it(aws: Callable[[str], Any]):
    with pytest.raises(ConfigBackupError, match=r"cannot write s3://no-such-bucket/gitpod-cell/dev/.*NoSuchBucket"):
        s3_config_store(aws("s3"), "no-such-bucket").write("dev", "2025.01.2", "f00d", CONFIG_V1, START)


def test_empty_config_is_refused(aws: Callable[[str], Any], versioned_bucket: str):
    with pytest.raises(ConfigBackupError, match="empty"):
        s3_config_store(aws("s3"), versioned_bucket).write("dev", "v1", "h", "  \n", START)


# -- GCS: the same layout, generations as versions ---------------------------------------------------------------------


def test_a_backup_is_the_s3_layout_with_generations_as_versions(gcs: Any, versioned_gcs_bucket: str):
    backup = gcs_config_store(gcs, versioned_gcs_bucket).write("prod-gcp", "2024.11.0", "abc123", MINIMAL_CONFIG,
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
    assert restored.config_yaml == MINIMAL_CONFIG


def test_a_restore_reads_exactly_the_generation_the_pointer_names(gcs: Any, versioned_gcs_bucket: str):
    first = gcs_config_store(gcs, versioned_gcs_bucket).write("prod-gcp", "2024.11.0", "abc123", MINIMAL_CONFIG, START)
    # Someone overwrites the same key later without moving the pointer (a hand-made upload, a partial write).
    gcs.bucket(versioned_gcs_bucket).blob(first.key).upload_from_string(CONFIG_V2)

    restored = gcs_config_store(gcs, versioned_gcs_bucket).read_latest("prod-gcp")

    assert restored is not None
    assert restored.config_yaml == MINIMAL_CONFIG
    second = gcs_config_store(gcs, versioned_gcs_bucket).write("prod-gcp", "2024.11.0", "abc123", CONFIG_V2, START)
    assert int(str(second.version_id)) > int(str(first.version_id))
    latest = gcs_config_store(gcs, versioned_gcs_bucket).read_latest("prod-gcp")
    assert latest is not None
    assert latest.config_yaml == CONFIG_V2


def test_no_backup_yet_is_none(gcs: Any, versioned_gcs_bucket: str):
    assert gcs_config_store(gcs, versioned_gcs_bucket).read_latest("prod-gcp") is None


def test_a_missing_gcs_bucket_is_an_error_naming_it(gcs: Any):
    with pytest.raises(ConfigBackupError, match=r"cannot write gs://bucket-that-is-gone/gitpod-cell/prod-gcp/"):
        gcs_config_store(gcs, "bucket-that-is-gone").write("prod-gcp", "2024.11.0", "abc123", MINIMAL_CONFIG, START)
    with pytest.raises(ConfigBackupError, match=r"gs://bucket-that-is-gone/.*the bucket does not exist"):
        gcs_config_store(gcs, "bucket-that-is-gone").read_latest("prod-gcp")


def test_an_empty_config_and_a_broken_pointer_are_refused(gcs: Any, versioned_gcs_bucket: str):
    with pytest.raises(ConfigBackupError, match="empty installer config"):
        gcs_config_store(gcs, versioned_gcs_bucket).write("prod-gcp", "2024.11.0", "abc123", "  \n", START)
    gcs.bucket(versioned_gcs_bucket).blob(latest_pointer_key("prod-gcp")).upload_from_string("not json")
    with pytest.raises(ConfigBackupError, match="is not a config backup pointer"):
        gcs_config_store(gcs, versioned_gcs_bucket).read_latest("prod-gcp")


# -- both stores: the history a restore picks from ---------------------------------------------------------------------


@pytest.fixture(params=["s3", "gcs"])
def store(request: pytest.FixtureRequest) -> ConfigBackupStore:
    if request.param == "s3":
        aws: Callable[[str], Any] = request.getfixturevalue("aws")
        return s3_config_store(aws("s3"), request.getfixturevalue("versioned_bucket"))
    return gcs_config_store(request.getfixturevalue("gcs"), request.getfixturevalue("versioned_gcs_bucket"))


@pytest.fixture
def written(store: ConfigBackupStore) -> list[ConfigBackup]:
    return [store.write("prod", version, config_hash, f"domain: gitpod.example.com\n# {version}\n", at)
            for at, version, config_hash in BACKUPS]


def test_the_history_is_every_version_of_the_pointer_oldest_first(store: ConfigBackupStore,
                                                                   written: list[ConfigBackup]):
    assert store.history("prod") == written
    assert store.history("other-stack") == []
    assert len({backup.version_id for backup in written}) == 3


def test_a_time_between_two_backups_picks_the_earlier(store: ConfigBackupStore, written: list[ConfigBackup]):
    choice = choose_config_backup(store, "prod", T2 + timedelta(hours=12))

    assert choice is not None
    assert choice.backup == written[1]
    assert choice.backup.gitpod_version == "2024.11.0"
    assert "12h before" in choice.reason


def test_latest_picks_the_last_backup(store: ConfigBackupStore, written: list[ConfigBackup]):
    choice = choose_config_backup(store, "prod", None)
    assert choice is not None
    assert choice.backup == written[2]


def test_a_time_before_the_first_backup_is_refused(store: ConfigBackupStore, written: list[ConfigBackup]):
    with pytest.raises(NoConfigBackupAtTime) as raised:
        choose_config_backup(store, "prod", T1 - timedelta(seconds=1))
    assert raised.value.oldest == written[0]


def test_an_override_is_used_exactly_once_found(store: ConfigBackupStore, written: list[ConfigBackup]):
    newest = written[2]

    choice = choose_config_backup(store, "prod", T1 - timedelta(days=1), f"{newest.key}@{newest.version_id}")

    assert choice is not None
    assert choice.backup == newest  # dated by the pointer version that recorded it
    assert choice.reason == ("given with --config-backup; backed up at 2025-03-13T09:26:53Z (3d after "
                             "2025-03-10T09:26:53Z)")
    current = choose_config_backup(store, "prod", None, written[0].key)  # no version: the current one
    assert current is not None
    assert current.backup.version_id == written[0].version_id
    assert current.backup.gitpod_version == "2024.10.0"


def test_an_override_that_is_not_stored_is_refused(store: ConfigBackupStore, written: list[ConfigBackup]):
    missing_version = "1" if store.scheme == "gs" else "3HL4kqtJlcpXroDTDmJ.nosuchversion"
    with pytest.raises(ConfigBackupError, match="does not exist"):
        choose_config_backup(store, "prod", None, f"{written[1].key}@{missing_version}")
    with pytest.raises(ConfigBackupError, match="does not exist"):
        choose_config_backup(store, "prod", None, "gitpod-cell/prod/installer-config/2030.1.0/nope.yaml")


def test_an_override_no_pointer_recorded_is_dated_by_the_object(store: ConfigBackupStore,
                                                                written: list[ConfigBackup]):
    key = "gitpod-cell/prod/installer-config/2024.9.0/hand0ff.yaml"
    store.objects.put(key, b"domain: x\n", "application/yaml")  # by hand: no metadata, no pointer

    choice = choose_config_backup(store, "prod", None, key)

    assert choice is not None
    assert (choice.backup.gitpod_version, choice.backup.config_hash) == ("2024.9.0", "hand0ff")  # from the key
    assert "no latest.json version records it; the object was written at" in choice.reason


def test_a_chosen_backup_whose_object_version_is_not_stored_is_an_error(store: ConfigBackupStore,
                                                                        written: list[ConfigBackup]):
    # A pointer version naming a config version that is not (or no longer) stored: a hand-made pointer, or a
    # lifecycle rule that expired the noncurrent config version. The restore must not write it into a stack.
    missing = ConfigBackup(store.bucket, written[1].key, "1" if store.scheme == "gs" else "nosuchversion",
                           "2024.11.0", "bbb222", "prod", T2 + timedelta(hours=1))
    pointer = missing.to_json().encode()
    store.objects.put(latest_pointer_key("prod"), pointer, "application/json")

    with pytest.raises(ConfigBackupError, match="does not exist"):
        choose_config_backup(store, "prod", T2 + timedelta(hours=2))
    # Before it, the stored one is chosen as usual.
    earlier = choose_config_backup(store, "prod", T2 + timedelta(minutes=30))
    assert earlier is not None
    assert earlier.backup == written[1]


def test_an_unreadable_pointer_version_is_an_error_not_skipped(store: ConfigBackupStore,
                                                               written: list[ConfigBackup]):
    store.objects.put(latest_pointer_key("prod"), b"not json", "application/json")

    with pytest.raises(ConfigBackupError, match="is not a config backup pointer"):
        choose_config_backup(store, "prod", T2)
    # The override still works: it needs no history.
    assert choose_config_backup(store, "prod", T2, f"{written[0].key}@{written[0].version_id}") is not None


def test_an_unversioned_s3_bucket_has_a_history_of_one(aws: Callable[[str], Any]):
    from tests.ops.support.values import AWS_REGION

    s3 = aws("s3")
    s3.create_bucket(Bucket="plain-bucket", CreateBucketConfiguration={"LocationConstraint": AWS_REGION})
    store = s3_config_store(s3, "plain-bucket")
    store.write("prod", "2024.11.0", "abc123", "domain: x\n", T1)
    last = store.write("prod", "2024.12.1", "def456", "domain: x\n", T2)

    assert store.history("prod") == [last]
    choice = choose_config_backup(store, "prod", None)
    assert choice is not None
    assert choice.backup == last
    with pytest.raises(NoConfigBackupAtTime):
        choose_config_backup(store, "prod", T1)
