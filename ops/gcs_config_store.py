"""The installer config + version-label backup in the cell's GCS bucket: ops/config_backup.py's layout on GCS.

Same keys, same `latest.json` pointer, same ConfigBackup record; the bucket is versioned, and an object's
*generation* is its version: the pointer's `versionId` is the generation of the config object it names, and a
restore reads exactly that generation. The client is injected (a `google.cloud.storage.Client`), so tests point it
at fake-gcs-server.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ops.config_backup import (
    ConfigBackup,
    ConfigBackupError,
    RestoredConfig,
    backup_key,
    backup_metadata,
    latest_pointer_key,
    parse_pointer,
    require_config_yaml,
)

REQUEST_TIMEOUT_SECONDS = 60.0


def gcs_errors() -> tuple[type[BaseException], ...]:
    """What a failed GCS call raises: API errors (HTTP status), auth errors, transport errors."""
    import requests
    from google.api_core.exceptions import GoogleAPIError
    from google.auth.exceptions import GoogleAuthError

    return GoogleAPIError, GoogleAuthError, requests.exceptions.RequestException


def write_gcs_config_backup(
    client: Any,
    bucket: str,
    stack: str,
    gitpod_version: str,
    config_hash: str,
    config_yaml: str,
    now: datetime,
) -> ConfigBackup:
    """Write the config, then the pointer to exactly that generation; returns the reference."""
    require_config_yaml(config_yaml)
    errors = gcs_errors()
    key = backup_key(stack, gitpod_version, config_hash)
    blob = client.bucket(bucket).blob(key)
    blob.metadata = backup_metadata(stack, gitpod_version, config_hash)
    try:
        blob.upload_from_string(config_yaml.encode(), content_type="application/yaml",
                                timeout=REQUEST_TIMEOUT_SECONDS)
    except errors as error:
        raise ConfigBackupError(f"cannot write gs://{bucket}/{key}: {error}") from error
    generation = str(blob.generation) if blob.generation is not None else None
    backup = ConfigBackup(bucket, key, generation, gitpod_version, config_hash, stack, now)
    pointer_key = latest_pointer_key(stack)
    try:
        client.bucket(bucket).blob(pointer_key).upload_from_string(
            backup.to_json().encode(), content_type="application/json", timeout=REQUEST_TIMEOUT_SECONDS)
    except errors as error:
        raise ConfigBackupError(f"wrote gs://{bucket}/{key} but cannot update gs://{bucket}/{pointer_key}: "
                                f"{error}") from error
    return backup


def read_latest_gcs_config_backup(client: Any, bucket: str, stack: str) -> RestoredConfig | None:
    """The backup `latest.json` points at, with the config text of exactly that generation; None if none yet."""
    from google.api_core.exceptions import NotFound

    errors = gcs_errors()
    pointer_key = latest_pointer_key(stack)
    try:
        pointer = client.bucket(bucket).blob(pointer_key).download_as_bytes(timeout=REQUEST_TIMEOUT_SECONDS)
    except NotFound as error:
        if _bucket_missing(client, bucket):
            raise ConfigBackupError(f"cannot read gs://{bucket}/{pointer_key}: the bucket does not exist") \
                from error
        return None
    except errors as error:
        raise ConfigBackupError(f"cannot read gs://{bucket}/{pointer_key}: {error}") from error
    backup = parse_pointer(pointer, f"gs://{bucket}/{pointer_key}")
    generation = int(backup.version_id) if backup.version_id else None
    try:
        config_yaml = client.bucket(backup.bucket).blob(backup.key, generation=generation).download_as_bytes(
            timeout=REQUEST_TIMEOUT_SECONDS).decode()
    except errors as error:
        raise ConfigBackupError(f"cannot read gs://{backup.bucket}/{backup.key} generation {backup.version_id}: "
                                f"{error}") from error
    return RestoredConfig(backup, config_yaml)


def _bucket_missing(client: Any, bucket: str) -> bool:
    try:
        return not client.bucket(bucket).exists(timeout=REQUEST_TIMEOUT_SECONDS)
    except gcs_errors():
        return False


@dataclass
class GcsConfigBackupStore:
    """The ConfigBackupStore the rollout hooks use on GCP."""

    client: Any
    bucket: str
    scheme = "gs"

    def write(
        self, stack: str, gitpod_version: str, config_hash: str, config_yaml: str, now: datetime
    ) -> ConfigBackup:
        return write_gcs_config_backup(self.client, self.bucket, stack, gitpod_version, config_hash, config_yaml,
                                       now)
