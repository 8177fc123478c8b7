"""Back up the applied Gitpod installer config and its version label to the cell's bucket.

Layout (the bucket is versioned, so every write keeps the earlier object versions):

    gitpod-cell/<stack>/installer-config/<version>/<configHash>.yaml   the installer config as applied
    gitpod-cell/<stack>/installer-config/latest.json                   pointer: bucket, key, versionId, version, ...

A restore reads the pointer, then fetches exactly the object version it names, so a later overwrite of the same
key cannot change what a restore installs. The S3 client is injected (a boto3 `s3` client). GCS keeps the same
layout and pointer, with object generations as the versions (ops/gcs_config_store.py, which shares the format
functions here).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ops.timestamps import format_rfc3339, parse_rfc3339, require_aware

BACKUP_ROOT = "gitpod-cell"
_KEY_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class ConfigBackupError(Exception):
    """A backup could not be written or read; the message names the bucket and key."""


@dataclass(frozen=True)
class ConfigBackup:
    """Where one backup lives, and what it is a backup of."""

    bucket: str
    key: str
    version_id: str | None  # None only if the bucket's versioning is off
    gitpod_version: str
    config_hash: str
    stack: str
    backed_up_at: datetime

    def __post_init__(self) -> None:
        # Whole seconds in UTC, as stored, so a reference read back equals the one written.
        backed_up_at = require_aware(self.backed_up_at, "backed_up_at").replace(microsecond=0)
        object.__setattr__(self, "backed_up_at", backed_up_at)

    def to_dict(self) -> dict[str, str | None]:
        return {
            "bucket": self.bucket,
            "key": self.key,
            "versionId": self.version_id,
            "version": self.gitpod_version,
            "configHash": self.config_hash,
            "stack": self.stack,
            "backedUpAt": format_rfc3339(self.backed_up_at),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConfigBackup:
        try:
            return cls(
                bucket=str(data["bucket"]),
                key=str(data["key"]),
                version_id=data.get("versionId"),
                gitpod_version=str(data["version"]),
                config_hash=str(data["configHash"]),
                stack=str(data["stack"]),
                backed_up_at=parse_rfc3339(data["backedUpAt"]),
            )
        except KeyError as error:
            raise ValueError(f"config backup reference is missing {error.args[0]!r}") from error

    @classmethod
    def from_json(cls, text: str) -> ConfigBackup:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("config backup reference must be a JSON object")
        return cls.from_dict(data)


@dataclass(frozen=True)
class RestoredConfig:
    backup: ConfigBackup
    config_yaml: str


def backup_prefix(stack: str) -> str:
    return f"{BACKUP_ROOT}/{_segment('stack', stack)}/installer-config"


def backup_key(stack: str, gitpod_version: str, config_hash: str) -> str:
    return f"{backup_prefix(stack)}/{_segment('version', gitpod_version)}/{_segment('config hash', config_hash)}.yaml"


def latest_pointer_key(stack: str) -> str:
    return f"{backup_prefix(stack)}/latest.json"


def backup_metadata(stack: str, gitpod_version: str, config_hash: str) -> dict[str, str]:
    """The custom metadata every stored config carries, whichever the store."""
    return {"gitpod-version": gitpod_version, "config-hash": config_hash, "stack": stack}


def require_config_yaml(config_yaml: str) -> None:
    if not config_yaml.strip():
        raise ConfigBackupError("refusing to back up an empty installer config")


def parse_pointer(pointer: bytes, location: str) -> ConfigBackup:
    """The ConfigBackup a `latest.json` pointer read from `location` holds."""
    try:
        return ConfigBackup.from_json(pointer.decode())
    except (ValueError, UnicodeDecodeError) as error:
        raise ConfigBackupError(f"{location} is not a config backup pointer: {error}") from error


def write_config_backup(
    s3: Any,
    bucket: str,
    stack: str,
    gitpod_version: str,
    config_hash: str,
    config_yaml: str,
    now: datetime,
) -> ConfigBackup:
    """Write the config, then the pointer to exactly that object version; returns the reference."""
    from botocore.exceptions import BotoCoreError, ClientError

    require_config_yaml(config_yaml)
    key = backup_key(stack, gitpod_version, config_hash)
    try:
        written = s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=config_yaml.encode(),
            ContentType="application/yaml",
            Metadata=backup_metadata(stack, gitpod_version, config_hash),
        )
    except (ClientError, BotoCoreError) as error:
        raise ConfigBackupError(f"cannot write s3://{bucket}/{key}: {error}") from error
    backup = ConfigBackup(bucket, key, written.get("VersionId"), gitpod_version, config_hash, stack, now)
    pointer_key = latest_pointer_key(stack)
    try:
        s3.put_object(Bucket=bucket, Key=pointer_key, Body=backup.to_json().encode(), ContentType="application/json")
    except (ClientError, BotoCoreError) as error:
        raise ConfigBackupError(f"wrote s3://{bucket}/{key} but cannot update s3://{bucket}/{pointer_key}: "
                                f"{error}") from error
    return backup


def read_latest_config_backup(s3: Any, bucket: str, stack: str) -> RestoredConfig | None:
    """The backup `latest.json` points at, with the config text of exactly that version; None if none yet."""
    from botocore.exceptions import BotoCoreError, ClientError

    pointer_key = latest_pointer_key(stack)
    try:
        pointer = s3.get_object(Bucket=bucket, Key=pointer_key)["Body"].read()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return None
        raise ConfigBackupError(f"cannot read s3://{bucket}/{pointer_key}: {error}") from error
    except BotoCoreError as error:
        raise ConfigBackupError(f"cannot read s3://{bucket}/{pointer_key}: {error}") from error
    backup = parse_pointer(pointer, f"s3://{bucket}/{pointer_key}")
    request: dict[str, str] = {"Bucket": backup.bucket, "Key": backup.key}
    if backup.version_id:
        request["VersionId"] = backup.version_id
    try:
        config_yaml = s3.get_object(**request)["Body"].read().decode()
    except (ClientError, BotoCoreError) as error:
        raise ConfigBackupError(f"cannot read s3://{backup.bucket}/{backup.key} version {backup.version_id}: "
                                f"{error}") from error
    return RestoredConfig(backup, config_yaml)


@dataclass
class S3ConfigBackupStore:
    """The ConfigBackupStore the rollout hooks use on AWS."""

    s3: Any
    bucket: str
    scheme = "s3"

    def write(
        self, stack: str, gitpod_version: str, config_hash: str, config_yaml: str, now: datetime
    ) -> ConfigBackup:
        return write_config_backup(self.s3, self.bucket, stack, gitpod_version, config_hash, config_yaml, now)


def _segment(what: str, value: str) -> str:
    # Each value becomes one path segment: a slash or `..` would write somewhere a restore never looks.
    if not isinstance(value, str) or not _KEY_SEGMENT.match(value) or ".." in value:
        raise ConfigBackupError(f"{what} {value!r} cannot be part of a backup key (letters, digits, . _ - only)")
    return value
