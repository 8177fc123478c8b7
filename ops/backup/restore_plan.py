"""Plan a restore of one cell into a new one: write the new stack file from the old cell's backups.

The new stack's config is the old one's, plus `gitpod-cell:restore`:

    sourceDbInstance   the old cell's RDS or Cloud SQL instance
    pointInTime        RFC3339, or "latest"; checked against the source's point-in-time window now, not at `up`
    sourceRegion       the old cell's region (where the source instance and its automated backups live)
    configBackup       {bucket, key, versionId} of the installer config backup to reinstall (on GCS the version is
                       the object's generation): the newest backup taken at or before pointInTime, so the database
                       is installed with the Gitpod version and config it last ran with (ops.backup.config_backup.
                       select_config_backup, over the history of the `latest.json` pointer); none that old is an
                       error unless --config-backup KEY[@VERSION] names the backup to use
    adoptBucket        the bucket the new cell adopts: the old primary, or with --region <replica region>, the replica

and the Gitpod version and installer image set to the backed-up version label. With --region the new cell lives
in that region (`aws:region`) and its replica region becomes the old primary region.

On GCP the database is a Cloud SQL clone of sourceDbInstance at pointInTime (components/gcp/database.py), and the
bucket — multi- or dual-region, so it has no replica — is adopted as it is. The window is read from the Admin API
(ops.clouds.gcp.cloudsql.read_cloudsql_pitr_window). A clone is always created in its source's region (the clone request
takes zones, never a region), so a GCP restore cannot move the cell to another region: --region is refused there,
naming what to do instead. Values encrypted in the old stack file (`secure:`) are tied to the old stack's key and
are not copied: the plan lists them to set again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import yaml

from ops.backup.config_backup import (
    ConfigBackup,
    ConfigBackupChoice,
    ConfigBackupError,
    NoConfigBackupAtTime,
    choose_config_backup,
)
from ops.backup.config_store import ConfigBackupStore
from ops.backup.pitr_window import PitrWindow, PitrWindowError
from ops.clouds.base import ObjectStore
from ops.common.cell_target import NAMESPACE, CellTarget, config_object
from ops.common.timestamps import format_rfc3339, parse_rfc3339

RESTORE_KEY = f"{NAMESPACE}:restore"
GITPOD_KEY = f"{NAMESPACE}:gitpod"
LATEST = "latest"
_TAGGED_IMAGE = re.compile(r"^(?P<repository>[^@]+?):(?P<tag>[A-Za-z0-9_.\-]{1,128})$")


class RestorePlanError(Exception):
    """The restore cannot be planned as asked; the message says why and what to do instead."""


@dataclass(frozen=True)
class RestoreRequest:
    from_stack: str
    to_stack: str
    point_in_time: str = LATEST  # "latest" or RFC3339
    region: str | None = None  # None: the old cell's region
    installer_image: str | None = None  # None: the old image repository, tagged with the backed-up version
    config_backup: str | None = None  # KEY[@VERSION] to install exactly; None: chosen by the restore time


@dataclass(frozen=True)
class RestorePlan:
    to_stack: str
    config: dict[str, Any]
    restore: dict[str, Any]
    window: PitrWindow
    backup: ConfigBackup
    secrets_to_set: tuple[str, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)
    backup_reason: str = ""  # why this config backup: ConfigBackupChoice.reason

    def stack_file_text(self, from_stack: str) -> str:
        header = (f"# Restore of cell {from_stack!r} into {self.to_stack!r}, written by "
                  f"`python -m ops restore plan`.\n# Review, then run the commands it printed.\n")
        return header + yaml.safe_dump({"config": self.config}, sort_keys=False, default_flow_style=False)

    def commands(self, stack_file: Path) -> list[str]:
        lines = [f"pulumi stack init {self.to_stack}   # once; skip if the stack exists"]
        lines += [f"pulumi config set --secret --stack {self.to_stack} {key} <value>" for key in self.secrets_to_set]
        lines += [f"python -m ops plan --stack-file {stack_file}",
                  f"pulumi up --stack {self.to_stack} --policy-pack policies"]
        return lines


class RestoreSources(Protocol):
    """Where a restore plan reads the old cell's backups, on its cloud (ops.clouds.aws.restore,
    ops.clouds.gcp.restore). Errors are RestorePlanError, saying what to do."""

    def region_refusal(self, target: CellTarget, region: str) -> str | None:
        """Why a restore of `target` into another `region` cannot be planned on this cloud; None if it may be."""
        ...

    def pitr_window(self, target: CellTarget) -> PitrWindow:
        """The source instance's point-in-time window, in its own region."""
        ...

    def replicated_backups(self, target: CellTarget, region: str) -> tuple[PitrWindow, str]:
        """The window and ARN of the source's automated backups replicated into `region` (RDS)."""
        ...

    def object_store(self, bucket: str) -> ObjectStore:
        """`bucket` (the adopted one), where the config backups are read."""
        ...

    def notes(self, target: CellTarget, adopt_bucket: str) -> list[str]:
        """What the operator should know about how this cloud restores (printed with the plan)."""
        ...


def plan_restore(
    request: RestoreRequest,
    old_config: dict[str, Any],
    secret_keys: frozenset[str],
    old_target: CellTarget,
    sources: RestoreSources,
) -> RestorePlan:
    """`sources` reach the old cell's backups (for --region on AWS: the copies in that region). Raises
    RestorePlanError with the reason."""
    into_replica = request.region is not None and request.region != old_target.region
    refusal = sources.region_refusal(old_target, str(request.region)) if into_replica else None
    if refusal is not None:
        raise RestorePlanError(refusal)
    if into_replica and request.region != old_target.replica_region:
        raise RestorePlanError(f"--region {request.region}: the old cell's objects are replicated to "
                               f"{old_target.replica_region or 'no other region'}, so a restore can only go to "
                               f"{old_target.region} or {old_target.replica_region}")
    adopt_bucket = old_target.replica_bucket if into_replica else old_target.bucket
    if adopt_bucket is None:
        raise RestorePlanError("the old cell has no replica bucket to adopt in the replica region")
    notes: list[str] = []
    replicated_arn: str | None = None
    if into_replica:
        assert request.region is not None
        window, replicated_arn = sources.replicated_backups(old_target, request.region)
    else:
        window = sources.pitr_window(old_target)
    point_in_time = _checked_point_in_time(request.point_in_time, window)
    at = None if point_in_time == LATEST else parse_rfc3339(point_in_time)
    choice = _config_backup(sources, adopt_bucket, request.from_stack, at, request.config_backup)
    backup = choice.backup
    new_config = {key: value for key, value in old_config.items() if key not in secret_keys and key != RESTORE_KEY}
    gitpod = config_object(old_config, GITPOD_KEY)
    gitpod["version"] = backup.gitpod_version
    gitpod["installerImage"] = request.installer_image or _installer_image(gitpod, backup.gitpod_version)
    new_config[GITPOD_KEY] = gitpod
    if into_replica:
        assert request.region is not None
        new_config["aws:region"] = request.region
        new_config[f"{NAMESPACE}:replicaRegion"] = old_target.region
        notes.append(f"the new cell runs in {request.region}; its replica region is now {old_target.region}. "
                     f"While {old_target.region} is down, set gitpod-cell:replicaRegion to a third region "
                     "before `pulumi up` (cross-region backup copies go there)")
    notes += sources.notes(old_target, adopt_bucket)
    restore = {
        "sourceDbInstance": old_target.db_instance_id,
        "pointInTime": point_in_time,
        "sourceRegion": old_target.region,
        **({"sourceAutomatedBackupsArn": replicated_arn} if replicated_arn else {}),
        "configBackup": {"bucket": backup.bucket, "key": backup.key, "versionId": backup.version_id},
        "adoptBucket": adopt_bucket,
    }
    new_config[RESTORE_KEY] = restore
    return RestorePlan(request.to_stack, new_config, restore, window, backup, tuple(sorted(secret_keys)),
                       tuple(notes), choice.reason)


def _checked_point_in_time(requested: str, window: PitrWindow) -> str:
    try:
        if requested == LATEST:
            window.restore_time(None)
            return LATEST
        try:
            moment: datetime = parse_rfc3339(requested)
        except ValueError as error:
            raise RestorePlanError(f"--time: {error}, or 'latest'") from error
        return format_rfc3339(window.restore_time(moment))
    except PitrWindowError as error:
        raise RestorePlanError(str(error)) from error


def _config_backup(sources: RestoreSources, bucket: str, stack: str, at: datetime | None,
                   override: str | None) -> ConfigBackupChoice:
    """The backup to install for a restore to `at` (None: latest), or exactly `override` (KEY[@VERSION])."""
    store = ConfigBackupStore(sources.object_store(bucket))
    try:
        choice = choose_config_backup(store, stack, at, override)
    except NoConfigBackupAtTime as error:
        oldest = error.oldest
        example = oldest.key + (f"@{oldest.version_id}" if oldest.version_id else "")
        raise RestorePlanError(
            f"{error} ({store.scheme}://{bucket}/{oldest.key}). Installing a config taken after the restore time "
            "could pair the restored database with a later Gitpod version than the one it ran with. Restore to "
            f"{format_rfc3339(oldest.backed_up_at)} or later, or name the backup to install with --config-backup "
            f"KEY[@VERSION] (e.g. --config-backup {example})") from error
    except ConfigBackupError as error:
        hint = "" if override is not None else "; --config-backup KEY[@VERSION] names a backup to use instead"
        raise RestorePlanError(f"cannot read the config backup: {error}{hint}") from error
    if choice is None:
        raise RestorePlanError(f"no installer config backup of {stack!r} in {store.scheme}://{bucket} (the "
                               "rollout hooks write "
                               f"one after each healthy rollout; `python -m ops backup config --stack {stack}` "
                               "takes one now)")
    backup = choice.backup
    if backup.bucket != bucket:
        # A replica holds the same key and version id (S3 replication keeps both), under its own bucket name.
        backup = ConfigBackup(bucket, backup.key, backup.version_id, backup.gitpod_version, backup.config_hash,
                              backup.stack, backup.backed_up_at)
    return ConfigBackupChoice(backup, choice.reason)


def _installer_image(gitpod: dict[str, Any], version: str) -> str:
    current = str(gitpod.get("installerImage") or "")
    match = _TAGGED_IMAGE.match(current)
    if match is not None:
        return f"{match.group('repository')}:{version}"
    raise RestorePlanError(f"cannot derive the installer image for version {version} from {current!r} (pinned by "
                           "digest or absent); pass --installer-image")
