"""Installer config backups in a versioned bucket on moto's server."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ops.backup.config_backup import ConfigBackup, ConfigBackupError, backup_key, latest_pointer_key
from tests.ops.support.stores import s3_config_store
from tests.ops.support.values import AWS_REGION, START

CONFIG_V1 = "apiVersion: v1\ndomain: gitpod.example.com\nblockNewUsers:\n  enabled: false\n"
CONFIG_V2 = "apiVersion: v1\ndomain: gitpod.example.com\nblockNewUsers:\n  enabled: true\n"


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


@pytest.mark.parametrize(("version", "config_hash"), [("../etc", "h"), ("a/b", "h"), ("v", ""), ("v", "x y")])
def test_values_that_would_escape_their_key_segment_are_refused(version: str, config_hash: str):
    with pytest.raises(ConfigBackupError, match="cannot be part of a backup key"):
        backup_key("prod", version, config_hash)


def test_empty_config_is_refused(aws: Callable[[str], Any], versioned_bucket: str):
    with pytest.raises(ConfigBackupError, match="empty"):
        s3_config_store(aws("s3"), versioned_bucket).write("dev", "v1", "h", "  \n", START)


@given(version=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}", fullmatch=True).filter(lambda v: ".." not in v),
       config_hash=st.from_regex(r"[a-f0-9]{8,64}", fullmatch=True),
       version_id=st.one_of(st.none(), st.text(min_size=1, max_size=40)))
def test_backup_reference_json_round_trip(version: str, config_hash: str, version_id: str | None):
    backup = ConfigBackup("bucket", backup_key("prod", version, config_hash), version_id, version, config_hash,
                          "prod", START)
    assert ConfigBackup.from_json(backup.to_json()) == backup
