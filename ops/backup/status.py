"""What of a cell is backed up, and where — and, in plain words, what is not.

    database         point-in-time window, cross-region copies of backups, last snapshot or backup
    object storage   versioning and replication (or the location's redundancy) of the bucket
    installer config the last config + version-label backup (ops.backup.config_store's pointer)
    registry         the Gitpod repositories (not backed up: losing them only slows workspace starts)

The cloud's half is a StatusSource from the cell's clients (ops.clouds.aws.backup_status: RDS, S3, ECR;
ops.clouds.gcp.backup_status: the Cloud SQL Admin API, GCS, Artifact Registry); the installer config is read the
same way on every cloud. Clients are injected, so tests use moto's server, fake-gcs-server and a local double of
Google's REST APIs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from ops.backup.config_backup import ConfigBackupError
from ops.backup.config_store import ConfigBackupStore
from ops.clouds.base import ObjectStore
from ops.common.cell_target import CellTarget
from ops.common.timestamps import format_rfc3339, require_aware

CONFIG_BACKUP_MAX_AGE_DAYS = 30
IMAGES_NOT_BACKED_UP = ("registry: images are not backed up; after a loss Gitpod rebuilds them, so workspace starts "
                        "are slower until the cache is warm")
CLUSTER_NOT_BACKED_UP = ("cluster: not backed up by design; it is recreated from this repository (`pulumi up`), and "
                         "Gitpod from the installer config backup")
# Listed under "Not protected" so nobody assumes otherwise, but by design: they do not make the exit code 1.
BY_DESIGN = (IMAGES_NOT_BACKED_UP, CLUSTER_NOT_BACKED_UP)


class StatusSource(Protocol):
    """A cloud's sections of the status. Each appends to `gaps` what it finds unprotected, in plain words."""

    def database(self, target: CellTarget, now: datetime, gaps: list[str]) -> dict[str, Any]: ...

    def object_storage(self, target: CellTarget, gaps: list[str]) -> dict[str, Any]: ...

    def registry(self, target: CellTarget) -> dict[str, Any]: ...


@dataclass
class BackupStatus:
    stack: str
    checked_at: datetime
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    not_protected: list[str] = field(default_factory=list)
    # Sections that could not be read, and why (not part of the document: the exceptions themselves).
    failures: dict[str, BaseException] = field(default_factory=dict)

    @property
    def gaps(self) -> list[str]:
        """What is not protected beyond what is so by design."""
        return [gap for gap in self.not_protected if gap not in BY_DESIGN]

    def to_dict(self) -> dict[str, Any]:
        return {"stack": self.stack, "checkedAt": format_rfc3339(self.checked_at), **self.sections,
                "notProtected": self.not_protected}

    def describe(self) -> str:
        lines = [f"Backups of cell {self.stack!r} (checked {format_rfc3339(self.checked_at)})"]
        for name, section in self.sections.items():
            lines.append(f"\n{name}:")
            lines += [f"  {key}: {_plain(value)}" for key, value in section.items()]
        lines.append("\nNot protected:")
        lines += [f"  - {gap}" for gap in self.not_protected] or ["  - nothing found"]
        return "\n".join(lines)


def collect_backup_status(source: StatusSource, store: ObjectStore, target: CellTarget, now: datetime,
                          progress: Callable[[str], None] | None = None) -> BackupStatus:
    """`store`: the cell's bucket, where the installer config backup is. `progress` hears each section as it
    starts (the CLI prints it on stderr, since a section may wait on its cloud)."""
    status = BackupStatus(target.stack, require_aware(now))
    gaps = status.not_protected

    def registry() -> dict[str, Any]:
        section = source.registry(target)
        gaps.append(IMAGES_NOT_BACKED_UP)
        return section

    for name, collect in (
        ("database", lambda: source.database(target, now, gaps)),
        ("objectStorage", lambda: source.object_storage(target, gaps)),
        ("installerConfig", lambda: _installer_config(store, target, now, gaps)),
        ("registry", registry),
    ):
        if progress is not None:
            progress(f"[backup status] reading {name}...")
        try:
            status.sections[name] = collect()
        except Exception as error:  # report what can be seen; an unreadable part is itself a gap
            status.sections[name] = {"error": f"{type(error).__name__}: {error}"}
            status.not_protected.append(f"{name}: could not be checked ({error})")
            status.failures[name] = error
    status.not_protected.append(CLUSTER_NOT_BACKED_UP)
    return status


def _installer_config(store: ObjectStore, target: CellTarget, now: datetime, gaps: list[str]) -> dict[str, Any]:
    try:
        restored = ConfigBackupStore(store).read_latest(target.stack)
    except ConfigBackupError as error:
        gaps.append(f"installer config: the backup cannot be read ({error})")
        return {"error": str(error)}
    if restored is None:
        gaps.append("installer config: no config + version-label backup yet; a restore could not reinstall the "
                    f"same Gitpod (`python -m ops backup config --stack {target.stack}`)")
        return {"lastBackup": None}
    backup = restored.backup
    age_days = (require_aware(now) - backup.backed_up_at).total_seconds() / 86400
    if age_days > CONFIG_BACKUP_MAX_AGE_DAYS:
        gaps.append(f"installer config: the last backup is {age_days:.0f} days old")
    return {"lastBackup": backup.to_dict(), "ageDays": round(age_days, 1)}


def _plain(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{key}={_plain(item)}" for key, item in value.items()) or "-"
    if isinstance(value, list):
        return "; ".join(_plain(item) for item in value) or "none"
    return "-" if value is None else str(value)

