"""The cell's bucket and its config backups, as the ops/ code under test reaches them: an ObjectStore on moto's S3
or on fake-gcs-server, and the config backup store over it."""

from __future__ import annotations

from typing import Any

from ops.backup.config_store import ConfigBackupStore
from ops.clouds.aws.s3 import S3ObjectStore
from ops.clouds.gcp.gcs import GcsObjectStore


def s3_config_store(s3: Any, bucket: str) -> ConfigBackupStore:
    return ConfigBackupStore(S3ObjectStore(s3, bucket))


def gcs_config_store(gcs: Any, bucket: str) -> ConfigBackupStore:
    return ConfigBackupStore(GcsObjectStore(gcs, bucket))
