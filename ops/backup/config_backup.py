"""Back up the applied Gitpod installer config and its version label to the cell's bucket.

Layout (the bucket is versioned, so every write keeps the earlier object versions):

    gitpod-cell/<stack>/installer-config/<version>/<configHash>.yaml   the installer config as applied
    gitpod-cell/<stack>/installer-config/latest.json                   pointer: bucket, key, versionId, version, ...

A restore reads the pointer, then fetches exactly the object version it names, so a later overwrite of the same
key cannot change what a restore installs. This module is the record, the layout and the rules; reading and
writing them on any cloud's bucket (an S3 version id or a GCS generation as the version) is
ops.backup.config_store, over an ops.clouds.base.ObjectStore.

Every write of the pointer is a new version of `latest.json`, holding the whole ConfigBackup record (including
`backedUpAt`), so the pointer's version history is the list of every backup ever taken. A restore to a point in
time picks from that history (`select_config_backup`, the one rule for both stores): the newest backup taken at or
before the restore time, so the database and the Gitpod version and config it is installed with belong together.
The config objects' own metadata has no backup time, which is why the history is read from the pointer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from ops.common.timestamps import format_rfc3339, parse_rfc3339, require_aware

BACKUP_ROOT = "gitpod-cell"
_KEY_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class ConfigBackupError(Exception):
    """A backup could not be written or read; the message names the bucket and key."""


class NoConfigBackupAtTime(ConfigBackupError):
    """Backups exist, but none was taken at or before the restore time."""

    def __init__(self, at: datetime, oldest: ConfigBackup, count: int) -> None:
        self.at = at
        self.oldest = oldest
        self.count = count
        super().__init__(
            f"no installer config backup was taken at or before {format_rfc3339(at)}: the oldest of {count} is "
            f"{describe_backup(oldest)}, {describe_offset(oldest.backed_up_at, at)}")


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


@dataclass(frozen=True)
class ConfigBackupChoice:
    """The backup a restore installs, and why that one (for the operator to check)."""

    backup: ConfigBackup
    reason: str


class ConfigBackupHistory(Protocol):
    """What a restore needs of a store: every backup taken, and one stored object looked up
    (ops.backup.config_store.ConfigBackupStore, on every cloud); errors are ConfigBackupError."""

    scheme: str
    bucket: str

    def history(self, stack: str) -> list[ConfigBackup]:
        """Every backup the `latest.json` pointer ever recorded, in the order written (oldest first)."""
        ...

    def describe_object(self, stack: str, key: str, version_id: str | None) -> ConfigBackup:
        """The stored config object `key` at `version_id` (None: its current version), from its metadata; its
        `backed_up_at` is the object's write time. ConfigBackupError when it does not exist."""
        ...


def describe_backup(backup: ConfigBackup) -> str:
    return (f"Gitpod {backup.gitpod_version}, config {backup.config_hash} (version "
            f"{backup.version_id or 'none: unversioned bucket'}), backed up at {format_rfc3339(backup.backed_up_at)}")


def describe_offset(moment: datetime, reference: datetime) -> str:
    """`moment` relative to `reference`, e.g. `1h 5m before 2025-03-14T09:00:00Z`."""
    seconds = int((require_aware(reference) - require_aware(moment)).total_seconds())
    when = format_rfc3339(reference)
    if seconds == 0:
        return f"exactly at {when}"
    return f"{_duration(abs(seconds))} {'before' if seconds > 0 else 'after'} {when}"


def select_config_backup(history: Sequence[ConfigBackup], at: datetime | None) -> ConfigBackupChoice | None:
    """The one rule both stores share: the newest backup taken at or before `at` (None: the newest of all). A
    restored database and the Gitpod version and config it runs with must come from the same moment: a config
    taken after `at` may belong to a later Gitpod upgrade, whose version the old schema has never seen.

    `history` is in the order written; of two backups with the same `backedUpAt` the later written wins. None
    when there is no backup at all; NoConfigBackupAtTime when none is at or before `at`."""
    if not history:
        return None
    ordered = [backup for _, backup in sorted(enumerate(history), key=lambda item: (item[1].backed_up_at, item[0]))]
    count = len(ordered)
    if at is None:
        chosen = ordered[-1]
        return ConfigBackupChoice(chosen, f"the newest of {count} backup(s), for the latest restorable time")
    at = require_aware(at, "restore time")
    eligible = [backup for backup in ordered if backup.backed_up_at <= at]
    if not eligible:
        raise NoConfigBackupAtTime(at, ordered[0], count)
    chosen = eligible[-1]
    later = count - len(eligible)
    skipped = f"; {later} later backup(s) skipped" if later else ""
    return ConfigBackupChoice(chosen, f"the newest of {count} backup(s) taken at or before the restore time: "
                                      f"{describe_offset(chosen.backed_up_at, at)}{skipped}")


def parse_backup_override(text: str, scheme: str, bucket: str) -> tuple[str, str | None]:
    """`KEY[@VERSION]` (or `<scheme>://<bucket>/KEY[@VERSION]`, as the plan prints it) -> (key, version or None)."""
    value = text.strip()
    url_prefix = f"{scheme}://"
    if value.startswith(url_prefix):
        named_bucket, _, value = value[len(url_prefix):].partition("/")
        if named_bucket != bucket:
            raise ConfigBackupError(f"--config-backup {text!r} names bucket {named_bucket!r}, but the restore "
                                    f"adopts {scheme}://{bucket}; give a key in that bucket")
    key, at_sign, version = value.rpartition("@")
    if not at_sign:
        key, version = value, ""
    key = key.strip().lstrip("/")
    if not key or not key.endswith(".yaml"):
        raise ConfigBackupError(f"--config-backup {text!r} is not KEY[@VERSION] of a config backup (KEY like "
                                "gitpod-cell/<stack>/installer-config/<version>/<configHash>.yaml)")
    return key, version.strip() or None


def choose_config_backup(
    store: ConfigBackupHistory, stack: str, at: datetime | None, override: str | None = None
) -> ConfigBackupChoice | None:
    """The backup a restore to `at` (None: latest) installs: `override` (KEY[@VERSION]) exactly, once it is found
    stored; otherwise the one `select_config_backup` picks from the store's history, once its object version is
    found stored. None when there is no backup at all; ConfigBackupError (NoConfigBackupAtTime) otherwise."""
    if override is not None:
        key, version_id = parse_backup_override(override, store.scheme, store.bucket)
        found = store.describe_object(stack, key, version_id)
        try:
            history = store.history(stack)
        except ConfigBackupError:
            history = []  # the override needs no history; it only dates the backup when it can
        recorded = next((backup for backup in reversed(history)
                         if backup.key == found.key and backup.version_id == found.version_id), None)
        backup = recorded or found
        dated = ("backed up at" if recorded else
                 "no latest.json version records it; the object was written at")
        relative = f" ({describe_offset(backup.backed_up_at, at)})" if at is not None else ""
        return ConfigBackupChoice(backup, f"given with --config-backup; {dated} "
                                          f"{format_rfc3339(backup.backed_up_at)}{relative}")
    choice = select_config_backup(store.history(stack), at)
    if choice is not None:
        store.describe_object(stack, choice.backup.key, choice.backup.version_id)  # still stored, or a clear error
    return choice


def record_from_object(
    bucket: str, stack: str, key: str, version_id: str | None, metadata: dict[str, str] | None,
    written_at: datetime, location: str,
) -> ConfigBackup:
    """A ConfigBackup for a stored config object: version and hash from its metadata (`backup_metadata`), else from
    its key (`.../<version>/<configHash>.yaml`)."""
    metadata = metadata or {}
    parts = key.split("/")
    from_key = (parts[-2], parts[-1].removesuffix(".yaml")) if len(parts) >= 2 else ("", "")
    gitpod_version = metadata.get("gitpod-version") or from_key[0]
    config_hash = metadata.get("config-hash") or from_key[1]
    if not gitpod_version or not config_hash:
        raise ConfigBackupError(f"{location} is not an installer config backup: no gitpod-version/config-hash")
    return ConfigBackup(bucket, key, version_id, gitpod_version, config_hash, metadata.get("stack") or stack,
                        written_at)


def _duration(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{value}{unit}" for value, unit in ((days, "d"), (hours, "h"), (minutes, "m"), (seconds, "s")) if value]
    return " ".join(parts[:2])


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


def _segment(what: str, value: str) -> str:
    # Each value becomes one path segment: a slash or `..` would write somewhere a restore never looks.
    if not isinstance(value, str) or not _KEY_SEGMENT.match(value) or ".." in value:
        raise ConfigBackupError(f"{what} {value!r} cannot be part of a backup key (letters, digits, . _ - only)")
    return value
