"""Take the installer config + version-label backup on demand, exactly as the rollout hook `backup-config` does.

The applied config is read from the cluster (ConfigMap `gitpod-installer-config`, key `config.yaml`, written by
the Pulumi program) and the version label and config hash from the `gitpod-installation` record; the backup is
written to the cell's bucket by ops.backup.config_store (the rollout step's layout and pointer, on any cloud) and
recorded as `lastConfigBackup`.
"""

from __future__ import annotations

from datetime import datetime

from ops.backup.config_backup import ConfigBackup
from ops.backup.config_store import ConfigBackupStore
from ops.cluster.installation_record import (
    CellMismatch,
    check_cell,
    read_installation_record,
    update_installation_record,
)
from ops.cluster.kube import KubeApi, KubeNotFound
from ops.common.timestamps import format_rfc3339

# components/gitpod/installer.py (ops/ does not import Pulumi components).
INSTALLER_CONFIG_MAP = "gitpod-installer-config"
INSTALLER_CONFIG_FILE = "config.yaml"


class BackupConfigError(Exception):
    pass


def backup_config_now(kube: KubeApi, store: ConfigBackupStore, stack: str, namespace: str, now: datetime
                      ) -> ConfigBackup:
    record = read_installation_record(kube, namespace)
    if record is None or not record.version or not record.config_hash:
        raise BackupConfigError(f"no gitpod-installation record with version and configHash in namespace "
                                f"{namespace!r}: is Gitpod installed by this cell?")
    try:
        check_cell(record, stack)
    except CellMismatch as error:
        raise BackupConfigError(str(error)) from error
    if not record.config_applied:
        started = record.last_rollout_started_at
        finished = record.last_rollout_finished_at
        raise BackupConfigError(
            f"the rollout started {format_rfc3339(started) if started else '?'} never finished (last finished: "
            f"{format_rfc3339(finished) if finished else 'never'}): the config in the cluster may never have been "
            "applied, and a backup of it could not be restored from. Finish or redo the rollout first")
    try:
        config_map = kube.get_config_map(namespace, INSTALLER_CONFIG_MAP)
    except KubeNotFound as error:
        raise BackupConfigError(f"ConfigMap {namespace}/{INSTALLER_CONFIG_MAP} not found") from error
    config_yaml = config_map.data.get(INSTALLER_CONFIG_FILE, "")
    if not config_yaml.strip():
        raise BackupConfigError(f"ConfigMap {namespace}/{INSTALLER_CONFIG_MAP} has no {INSTALLER_CONFIG_FILE}")
    backup = store.write(stack, record.version, record.config_hash, config_yaml, now)
    update_installation_record(kube, namespace, config_backup=backup)
    return backup
