"""Which installer config backup a restore to a point in time installs: the one selection rule
(ops.backup.config_backup.select_config_backup) on its own, then through both stores' histories — moto's S3 with
versioning and fake-gcs-server with versioning — and the --config-backup override."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ops.backup.config_backup import (
    ConfigBackup,
    ConfigBackupError,
    NoConfigBackupAtTime,
    choose_config_backup,
    describe_offset,
    latest_pointer_key,
    parse_backup_override,
    select_config_backup,
)
from ops.backup.config_store import ConfigBackupStore
from tests.ops.support.stores import gcs_config_store, s3_config_store
from tests.ops.support.values import START

T1 = START - timedelta(days=3)
T2 = START - timedelta(days=2)
T3 = START - timedelta(days=1)
# Three rollouts, each a Gitpod upgrade: a restore before the last one must not install its version.
BACKUPS = ((T1, "2024.10.0", "aaa111"), (T2, "2024.11.0", "bbb222"), (T3, "2024.12.1", "ccc333"))


def record(at: datetime, version: str = "2024.11.0", config_hash: str = "abc123",
           version_id: str | None = "v") -> ConfigBackup:
    return ConfigBackup("bucket", f"gitpod-cell/prod/installer-config/{version}/{config_hash}.yaml", version_id,
                        version, config_hash, "prod", at)


# -- the selection rule ---------------------------------------------------------------------------------------------


def test_the_newest_backup_at_or_before_the_time_is_chosen():
    history = [record(at, version, config_hash) for at, version, config_hash in BACKUPS]

    choice = select_config_backup(history, T2 + timedelta(hours=5))

    assert choice is not None
    assert choice.backup == history[1]
    assert choice.reason == ("the newest of 3 backup(s) taken at or before the restore time: 5h before "
                             "2025-03-12T14:26:53Z; 1 later backup(s) skipped")


def test_a_backup_taken_exactly_at_the_time_counts_and_latest_takes_the_newest():
    history = [record(at, version, config_hash) for at, version, config_hash in BACKUPS]

    exact = select_config_backup(history, T3)
    latest = select_config_backup(history, None)

    assert exact is not None
    assert exact.backup == history[2]
    assert "exactly at 2025-03-13T09:26:53Z" in exact.reason
    assert latest is not None
    assert latest.backup == history[2]
    assert latest.reason == "the newest of 3 backup(s), for the latest restorable time"


def test_the_order_written_does_not_matter_but_breaks_ties():
    # A backup written later may carry an earlier backedUpAt (another machine's clock); the time decides.
    old, new = record(T1, "2024.10.0"), record(T3, "2024.12.1")
    choice = select_config_backup([new, old], T2)
    assert choice is not None
    assert choice.backup == old
    # Same second: the one written last is what latest.json pointed at afterwards.
    first, second = record(T2, version_id="first"), record(T2, version_id="second")
    tied = select_config_backup([first, second], T2)
    assert tied is not None
    assert tied.backup == second


def test_a_time_before_every_backup_is_refused_naming_the_oldest():
    history = [record(at, version, config_hash) for at, version, config_hash in reversed(BACKUPS)]

    with pytest.raises(NoConfigBackupAtTime) as raised:
        select_config_backup(history, T1 - timedelta(minutes=90))

    assert raised.value.oldest == history[2]
    assert raised.value.count == 3
    assert str(raised.value) == (
        "no installer config backup was taken at or before 2025-03-11T07:56:53Z: the oldest of 3 is Gitpod "
        "2024.10.0, config aaa111 (version v), backed up at 2025-03-11T09:26:53Z, 1h 30m after 2025-03-11T07:56:53Z")


def test_no_backup_at_all_is_none():
    assert select_config_backup([], None) is None
    assert select_config_backup([], START) is None


@given(st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=12),
       st.integers(min_value=-100, max_value=10_100))
def test_the_choice_is_never_after_the_time_and_nothing_newer_qualifies(offsets: list[int], at_offset: int):
    history = [record(START + timedelta(seconds=offset), version_id=str(index)) for index, offset in
               enumerate(offsets)]
    at = START + timedelta(seconds=at_offset)
    if min(offsets) > at_offset:
        with pytest.raises(NoConfigBackupAtTime):
            select_config_backup(history, at)
        return
    choice = select_config_backup(history, at)
    assert choice is not None
    assert choice.backup.backed_up_at <= at
    assert not [b for b in history if choice.backup.backed_up_at < b.backed_up_at <= at]


def test_offsets_read_as_durations():
    assert describe_offset(START - timedelta(days=2, hours=3, minutes=4), START) == \
        "2d 3h before 2025-03-14T09:26:53Z"
    assert describe_offset(START + timedelta(seconds=42), START) == "42s after 2025-03-14T09:26:53Z"


def test_an_override_is_a_key_and_an_optional_version():
    key = "gitpod-cell/prod/installer-config/2024.11.0/bbb222.yaml"
    assert parse_backup_override(key, "s3", "b") == (key, None)
    assert parse_backup_override(f"{key}@3HL4kqtJlcpXroDTDmJ", "s3", "b") == (key, "3HL4kqtJlcpXroDTDmJ")
    assert parse_backup_override(f"gs://b/{key}@1741944413000000", "gs", "b") == (key, "1741944413000000")
    with pytest.raises(ConfigBackupError, match="names bucket 'other'"):
        parse_backup_override(f"s3://other/{key}", "s3", "b")
    with pytest.raises(ConfigBackupError, match="is not KEY"):
        parse_backup_override("gitpod-cell/prod/installer-config/latest.json", "s3", "b")


# -- both stores, on the local servers ------------------------------------------------------------------------------


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
