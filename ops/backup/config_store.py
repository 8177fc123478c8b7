"""Installer config backups in the cell's bucket, on any cloud: ops.backup.config_backup's layout, written and read
through an ops.clouds.base.ObjectStore (S3 version ids or GCS generations are the versions).

A write stores the config, then the `latest.json` pointer to exactly that object version; a read follows the
pointer to exactly the version it names. Every pointer version is one backup, so the pointer's versions are the
history a restore to a point in time picks from (ops.backup.config_backup.select_config_backup).
"""

from __future__ import annotations

from datetime import datetime

from ops.backup.config_backup import (
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
from ops.clouds.base import BadVersion, ObjectNotFound, ObjectStore, ObjectStoreError


class ConfigBackupStore:
    """The ConfigBackupHistory a restore reads, and the store the rollout's backup-config step writes."""

    def __init__(self, objects: ObjectStore) -> None:
        self.objects = objects

    @property
    def scheme(self) -> str:
        return self.objects.scheme

    @property
    def bucket(self) -> str:
        return self.objects.bucket

    def write(self, stack: str, gitpod_version: str, config_hash: str, config_yaml: str, now: datetime
              ) -> ConfigBackup:
        """Write the config, then the pointer to exactly that object version; returns the reference."""
        require_config_yaml(config_yaml)
        objects = self.objects
        key = backup_key(stack, gitpod_version, config_hash)
        try:
            version_id = objects.put(key, config_yaml.encode(), "application/yaml",
                                     backup_metadata(stack, gitpod_version, config_hash))
        except ObjectStoreError as error:
            raise ConfigBackupError(f"cannot write {objects.url(key)}: {error}") from error
        backup = ConfigBackup(objects.bucket, key, version_id, gitpod_version, config_hash, stack, now)
        pointer_key = latest_pointer_key(stack)
        try:
            objects.put(pointer_key, backup.to_json().encode(), "application/json")
        except ObjectStoreError as error:
            raise ConfigBackupError(f"wrote {objects.url(key)} but cannot update {objects.url(pointer_key)}: "
                                    f"{error}") from error
        return backup

    def read_latest(self, stack: str) -> RestoredConfig | None:
        """The backup `latest.json` points at, with the config text of exactly that version; None if none yet."""
        objects = self.objects
        pointer_key = latest_pointer_key(stack)
        try:
            pointer = objects.get(pointer_key)
        except ObjectNotFound:
            return None
        except ObjectStoreError as error:
            raise ConfigBackupError(f"cannot read {objects.url(pointer_key)}: {error}") from error
        backup = parse_pointer(pointer, objects.url(pointer_key))
        try:
            config_yaml = objects.get(backup.key, backup.version_id).decode()
        except ObjectStoreError as error:
            where = f"{objects.scheme}://{backup.bucket}/{backup.key} {objects.version_word} {backup.version_id}"
            raise ConfigBackupError(f"cannot read {where}: {error}") from error
        return RestoredConfig(backup, config_yaml)

    def history(self, stack: str) -> list[ConfigBackup]:
        """Every version of the `latest.json` pointer, oldest first, each read as the record it holds. A version
        that cannot be read is an error (when it was taken cannot be told), not skipped. On S3 this needs
        s3:ListBucketVersions and s3:GetObjectVersion."""
        objects = self.objects
        pointer_key = latest_pointer_key(stack)
        try:
            versions = objects.versions(pointer_key)
        except ObjectStoreError as error:
            raise ConfigBackupError(f"cannot list the {objects.version_word}s of {objects.url(pointer_key)}: "
                                    f"{error}") from error
        history: list[ConfigBackup] = []
        for version_id in versions:
            location = objects.location(pointer_key, version_id)
            try:
                body = objects.get(pointer_key, version_id)
            except ObjectStoreError as error:
                raise ConfigBackupError(f"cannot read {location}: {error}") from error
            history.append(parse_pointer(body, location))
        return history

    def describe_object(self, stack: str, key: str, version_id: str | None) -> ConfigBackup:
        """The stored config object `key` at `version_id` (None: its current version), from its metadata; its
        `backed_up_at` is the object's write time."""
        location = self.objects.location(key, version_id)
        try:
            stored = self.objects.head(key, version_id)
        except BadVersion as error:
            raise ConfigBackupError(f"{location}: {error}") from error
        except ObjectNotFound as error:
            raise ConfigBackupError(f"{location} {error}") from error
        except ObjectStoreError as error:
            raise ConfigBackupError(f"cannot read {location}: {error}") from error
        return record_from_object(self.objects.bucket, stack, key, stored.version_id, dict(stored.metadata),
                                  stored.written_at, location)
