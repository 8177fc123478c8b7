"""The `gitpod-installation` ConfigMap: what is installed and where the last rollout can be undone from.

Data keys (all strings, as ConfigMap data must be):

    version                 Gitpod version label installed
    configHash              hash of the installer config applied
    lastRolloutStartedAt    RFC3339, written with the restore point before anything changes
    lastRolloutFinishedAt   RFC3339, written when the rollout passed its health gate and left maintenance
    restorePoint            JSON, see ops.backup.restore_point.RestorePoint.to_dict
    lastConfigBackup        JSON, see ops.backup.config_backup.ConfigBackup.to_dict (bucket, key, versionId, ...)
    cell                    the stack (cell) this installation belongs to: commands given `--stack S` refuse to act
                            on a cluster whose record names another cell (written by the hooks' first write, and by
                            the Pulumi program)
    rolloutMaintenanceUntil RFC3339 `enabledUntil` the current rollout's enter-maintenance wrote, or `none` when it
                            kept a longer lease someone else had set: exit-maintenance ends only that lease

Updates are JSON merge patches of only the keys given, so keys written by others (the Pulumi program's own
`version`/`configHash`, or anything added later) are never dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from contract.cluster import (
    INSTALLATION_CONFIG_MAP,
    PART_OF_LABELS,
    RECORD_KEY_CELL,
    RECORD_KEY_CONFIG_HASH,
    RECORD_KEY_VERSION,
)
from ops.backup.config_backup import ConfigBackup
from ops.backup.restore_point import RestorePoint
from ops.cluster.kube import KubeApi, KubeConflict, KubeNotFound
from ops.common.timestamps import format_rfc3339, parse_rfc3339

KEY_VERSION = RECORD_KEY_VERSION
KEY_CONFIG_HASH = RECORD_KEY_CONFIG_HASH
KEY_ROLLOUT_STARTED_AT = "lastRolloutStartedAt"
KEY_ROLLOUT_FINISHED_AT = "lastRolloutFinishedAt"
KEY_RESTORE_POINT = "restorePoint"
KEY_CONFIG_BACKUP = "lastConfigBackup"
KEY_CELL = RECORD_KEY_CELL
KEY_ROLLOUT_MAINTENANCE_UNTIL = "rolloutMaintenanceUntil"
NO_LEASE_WRITTEN = "none"
OWNED_KEYS = (KEY_VERSION, KEY_CONFIG_HASH, KEY_ROLLOUT_STARTED_AT, KEY_ROLLOUT_FINISHED_AT, KEY_RESTORE_POINT,
              KEY_CONFIG_BACKUP, KEY_CELL, KEY_ROLLOUT_MAINTENANCE_UNTIL)
RECORD_LABELS = PART_OF_LABELS
ParsedT = TypeVar("ParsedT")


@dataclass(frozen=True)
class InstallationRecord:
    namespace: str
    version: str | None = None
    config_hash: str | None = None
    last_rollout_started_at: datetime | None = None
    last_rollout_finished_at: datetime | None = None
    restore_point: RestorePoint | None = None
    last_config_backup: ConfigBackup | None = None
    cell: str | None = None
    rollout_maintenance_until: datetime | None = None
    # Keys this module does not own, as found; shown so nothing in the ConfigMap is invisible to operators.
    other_data: Mapping[str, str] = field(default_factory=dict)
    # Values present but unreadable, by key: reported, not silently treated as absent.
    problems: Mapping[str, str] = field(default_factory=dict)

    @property
    def config_applied(self) -> bool:
        """The last rollout that started also finished (health gate passed, maintenance left): the cluster runs the
        config the record names. False when a rollout started after the last one finished, or never finished."""
        started, finished = self.last_rollout_started_at, self.last_rollout_finished_at
        if started is None:
            return True
        return finished is not None and finished >= started


class CellMismatch(Exception):
    """The cluster's installation record names another cell than the one the command was given."""


def check_cell(record: InstallationRecord | None, stack: str) -> None:
    """Refuse when the record names a cell other than `stack`. No record, or a record without `cell` (written before
    cells were recorded), cannot say: that passes."""
    if record is not None and record.cell and record.cell != stack:
        raise CellMismatch(
            f"the cluster's {record.namespace}/{INSTALLATION_CONFIG_MAP} belongs to cell {record.cell!r}, not "
            f"{stack!r}: the kubeconfig/context points at another cell's cluster"
        )


def read_installation_record(kube: KubeApi, namespace: str) -> InstallationRecord | None:
    try:
        config_map = kube.get_config_map(namespace, INSTALLATION_CONFIG_MAP)
    except KubeNotFound:
        return None
    return record_from_data(namespace, config_map.data)


def update_installation_record(
    kube: KubeApi,
    namespace: str,
    *,
    version: str | None = None,
    config_hash: str | None = None,
    rollout_started_at: datetime | None = None,
    rollout_finished_at: datetime | None = None,
    restore_point: RestorePoint | None = None,
    config_backup: ConfigBackup | None = None,
    cell: str | None = None,
    rollout_maintenance_until: str | None = None,
) -> InstallationRecord:
    """Set the given keys (None leaves a key as it is) and create the ConfigMap if it does not exist yet.
    `rollout_maintenance_until`: an RFC3339 time or NO_LEASE_WRITTEN."""
    candidates: dict[str, str | None] = {
        KEY_CELL: cell,
        KEY_ROLLOUT_MAINTENANCE_UNTIL: rollout_maintenance_until,
        KEY_VERSION: version,
        KEY_CONFIG_HASH: config_hash,
        KEY_ROLLOUT_STARTED_AT: format_rfc3339(rollout_started_at) if rollout_started_at else None,
        KEY_ROLLOUT_FINISHED_AT: format_rfc3339(rollout_finished_at) if rollout_finished_at else None,
        KEY_RESTORE_POINT: restore_point.to_json() if restore_point else None,
        KEY_CONFIG_BACKUP: config_backup.to_json() if config_backup else None,
    }
    changes = {key: value for key, value in candidates.items() if value is not None}
    if not changes:
        raise ValueError("update_installation_record needs at least one key to set")
    try:
        written = kube.patch_config_map_data(namespace, INSTALLATION_CONFIG_MAP, changes)
    except KubeNotFound:
        try:
            written = kube.create_config_map(namespace, INSTALLATION_CONFIG_MAP, changes, labels=RECORD_LABELS)
        except KubeConflict:
            written = kube.patch_config_map_data(namespace, INSTALLATION_CONFIG_MAP, changes)
    return record_from_data(namespace, written.data)


def record_from_data(namespace: str, data: Mapping[str, str]) -> InstallationRecord:
    problems: dict[str, str] = {}
    return InstallationRecord(
        namespace=namespace,
        version=data.get(KEY_VERSION) or None,
        config_hash=data.get(KEY_CONFIG_HASH) or None,
        last_rollout_started_at=_parse_value(data, KEY_ROLLOUT_STARTED_AT, parse_rfc3339, problems),
        last_rollout_finished_at=_parse_value(data, KEY_ROLLOUT_FINISHED_AT, parse_rfc3339, problems),
        restore_point=_parse_value(data, KEY_RESTORE_POINT, RestorePoint.from_json, problems),
        last_config_backup=_parse_value(data, KEY_CONFIG_BACKUP, ConfigBackup.from_json, problems),
        cell=data.get(KEY_CELL) or None,
        rollout_maintenance_until=_parse_value(data, KEY_ROLLOUT_MAINTENANCE_UNTIL, _lease_or_none, problems),
        other_data={key: value for key, value in data.items() if key not in OWNED_KEYS},
        problems=problems,
    )


def _lease_or_none(raw: str) -> datetime | None:
    return None if raw == NO_LEASE_WRITTEN else parse_rfc3339(raw)


def _parse_value(
    data: Mapping[str, str], key: str, parse: Callable[[str], ParsedT], problems: dict[str, str]
) -> ParsedT | None:
    raw = data.get(key)
    if not raw:
        return None
    try:
        return parse(raw)
    except (ValueError, TypeError) as error:
        problems[key] = str(error)
        return None
