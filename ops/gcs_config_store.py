"""The installer config + version-label backup in the cell's GCS bucket: ops/config_backup.py's layout on GCS.

Same keys, same `latest.json` pointer, same ConfigBackup record; the bucket is versioned, and an object's
*generation* is its version: the pointer's `versionId` is the generation of the config object it names, and a
restore reads exactly that generation. The pointer's generations are the backup history a restore to a point in
time picks from (ops.config_backup.select_config_backup). The client is injected (a `google.cloud.storage.Client`),
so tests point it at fake-gcs-server.
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
    record_from_object,
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


def gcs_config_backup_history(client: Any, bucket: str, stack: str) -> list[ConfigBackup]:
    """Every generation of the `latest.json` pointer (`list_blobs(versions=True)`), oldest first, each read as the
    record it holds. A generation that cannot be read is an error (when it was taken cannot be told), not skipped."""
    from google.api_core.exceptions import NotFound

    errors = gcs_errors()
    pointer_key = latest_pointer_key(stack)
    location = f"gs://{bucket}/{pointer_key}"
    try:
        # `versions` is sent as the JSON API documents it, `true`: the client would send Python's `True`, which
        # fake-gcs-server does not take for true (GCS itself takes both).
        generations = sorted(int(blob.generation) for blob in client.list_blobs(
            bucket, prefix=pointer_key, versions="true", timeout=REQUEST_TIMEOUT_SECONDS) if blob.name == pointer_key)
    except NotFound as error:
        raise ConfigBackupError(f"cannot list the generations of {location}: the bucket does not exist") from error
    except errors as error:
        raise ConfigBackupError(f"cannot list the generations of {location}: {error}") from error
    history: list[ConfigBackup] = []
    for generation in generations:
        try:
            pointer = client.bucket(bucket).blob(pointer_key, generation=generation).download_as_bytes(
                timeout=REQUEST_TIMEOUT_SECONDS)
        except errors as error:
            raise ConfigBackupError(f"cannot read {location} generation {generation}: {error}") from error
        history.append(parse_pointer(pointer, f"{location} generation {generation}"))
    return history


def describe_gcs_config_object(client: Any, bucket: str, stack: str, key: str,
                               version_id: str | None) -> ConfigBackup:
    location = f"gs://{bucket}/{key}" + (f" generation {version_id}" if version_id else "")
    if version_id is not None and not version_id.isdigit():
        raise ConfigBackupError(f"{location}: a GCS version is the object's generation, a number")
    try:
        blob = client.bucket(bucket).get_blob(key, generation=int(version_id) if version_id else None,
                                              timeout=REQUEST_TIMEOUT_SECONDS)
    except gcs_errors() as error:
        raise ConfigBackupError(f"cannot read {location}: {error}") from error
    if blob is None:
        raise ConfigBackupError(f"{location} does not exist")
    generation = str(blob.generation) if blob.generation is not None else version_id
    return record_from_object(bucket, stack, key, generation, blob.metadata, blob.time_created or blob.updated,
                              location)


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

    def history(self, stack: str) -> list[ConfigBackup]:
        return gcs_config_backup_history(self.client, self.bucket, stack)

    def describe_object(self, stack: str, key: str, version_id: str | None) -> ConfigBackup:
        return describe_gcs_config_object(self.client, self.bucket, stack, key, version_id)
