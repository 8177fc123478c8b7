"""The installer config backup's record, its layout in the bucket, and the one rule that picks the backup a restore
to a point in time installs (ops.backup.config_backup.select_config_backup), on its own."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ops.backup.config_backup import (
    ConfigBackup,
    ConfigBackupError,
    NoConfigBackupAtTime,
    backup_key,
    describe_offset,
    parse_backup_override,
    select_config_backup,
)
from tests.ops.support.values import BACKUPS, START, T1, T2, T3

# -- the record and its keys -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("version", "config_hash"), [("../etc", "h"), ("a/b", "h"), ("v", ""), ("v", "x y")])
def test_values_that_would_escape_their_key_segment_are_refused(version: str, config_hash: str):
    with pytest.raises(ConfigBackupError, match="cannot be part of a backup key"):
        backup_key("prod", version, config_hash)


@given(version=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}", fullmatch=True).filter(lambda v: ".." not in v),
       config_hash=st.from_regex(r"[a-f0-9]{8,64}", fullmatch=True),
       version_id=st.one_of(st.none(), st.text(min_size=1, max_size=40)))
def test_backup_reference_json_round_trip(version: str, config_hash: str, version_id: str | None):
    backup = ConfigBackup("bucket", backup_key("prod", version, config_hash), version_id, version, config_hash,
                          "prod", START)
    assert ConfigBackup.from_json(backup.to_json()) == backup


# -- the selection rule ------------------------------------------------------------------------------------------------


def record(at: datetime, version: str = "2024.11.0", config_hash: str = "abc123",
           version_id: str | None = "v") -> ConfigBackup:
    return ConfigBackup("bucket", f"gitpod-cell/prod/installer-config/{version}/{config_hash}.yaml", version_id,
                        version, config_hash, "prod", at)


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
