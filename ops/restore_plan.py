"""Plan a restore of one cell into a new one: write the new stack file from the old cell's backups.

The new stack's config is the old one's, plus `gitpod-cell:restore`:

    sourceDbInstance   the old cell's RDS instance
    pointInTime        RFC3339, or "latest"; checked against the source's point-in-time window now, not at `up`
    sourceRegion       the old cell's region (where the source instance and its automated backups live)
    configBackup       {bucket, key, versionId} of the installer config backup to reinstall
    adoptBucket        the bucket the new cell adopts: the old primary, or with --region <replica region>, the replica

and the Gitpod version and installer image set to the backed-up version label. With --region the new cell lives
in that region (`aws:region`) and its replica region becomes the old primary region. Values encrypted in the old
stack file (`secure:`) are tied to the old stack's key and are not copied: the plan lists them to set again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from ops.cell_target import NAMESPACE, CellTarget, config_object
from ops.config_backup import ConfigBackup, read_latest_config_backup
from ops.pitr_window import PitrWindow, PitrWindowError, read_pitr_window
from ops.timestamps import format_rfc3339, parse_rfc3339

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


@dataclass(frozen=True)
class RestorePlan:
    to_stack: str
    config: dict[str, Any]
    restore: dict[str, Any]
    window: PitrWindow
    backup: ConfigBackup
    secrets_to_set: tuple[str, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    def stack_file_text(self, from_stack: str) -> str:
        header = (f"# Restore of cell {from_stack!r} into {self.to_stack!r}, written by "
                  f"`python -m ops restore plan`.\n# Review, then run the commands it printed.\n")
        return header + yaml.safe_dump({"config": self.config}, sort_keys=False, default_flow_style=False)

    def commands(self, stack_file: Path) -> list[str]:
        lines = [f"pulumi stack init {self.to_stack}   # once; skip if the stack exists"]
        lines += [f"pulumi config set --secret --stack {self.to_stack} {key} <value>" for key in self.secrets_to_set]
        lines += [f"python -m ops plan --stack-file {stack_file}", f"pulumi up --stack {self.to_stack}"]
        return lines


def plan_restore(
    request: RestoreRequest,
    old_config: dict[str, Any],
    secret_keys: frozenset[str],
    old_target: CellTarget,
    *,
    rds: Any,
    s3: Any,
    replica_rds: Any | None = None,
) -> RestorePlan:
    """`rds`/`s3` reach the old cell's region; `replica_rds` the --region one when it differs (for replicated
    automated backups). Raises RestorePlanError with the reason."""
    into_replica = request.region is not None and request.region != old_target.region
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
        if replica_rds is None or request.region is None:
            raise ValueError("a restore into another region needs an RDS client for that region")
        window, replicated_arn = _replicated_backups(replica_rds, old_target, request.region)
    else:
        window = _pitr_window(old_target, rds)
    point_in_time = _checked_point_in_time(request.point_in_time, window)
    backup = _config_backup(s3, adopt_bucket, request.from_stack)
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
                       tuple(notes))


def _pitr_window(target: CellTarget, rds: Any) -> PitrWindow:
    try:
        return read_pitr_window(rds, target.db_instance_id)
    except PitrWindowError as error:
        raise RestorePlanError(str(error)) from error


def _replicated_backups(replica_rds: Any, target: CellTarget, region: str) -> tuple[PitrWindow, str]:
    """The automated backups RDS replicated into `region`: their restore window and ARN. An RDS point-in-time
    restore never crosses regions, so without them there is nothing to restore from there."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        backups = replica_rds.describe_db_instance_automated_backups(DBInstanceIdentifier=target.db_instance_id)
    except (ClientError, BotoCoreError) as error:
        raise RestorePlanError(f"cannot list the automated backups of {target.db_instance_id} in {region}: "
                               f"{error}") from error
    for backup in backups.get("DBInstanceAutomatedBackups") or []:
        window = backup.get("RestoreWindow") or {}
        arn = backup.get("DBInstanceAutomatedBackupsArn")
        if arn and window.get("EarliestTime") and window.get("LatestTime"):
            return (PitrWindow(target.db_instance_id, int(backup.get("BackupRetentionPeriod") or 1),
                               window["EarliestTime"], window["LatestTime"]), arn)
    raise RestorePlanError(f"no automated backups of {target.db_instance_id} are replicated to {region}; a restore "
                           f"there needs gitpod-cell:database.crossRegionBackups (on in prod). Restore into "
                           f"{target.region} instead, or from a snapshot copied to {region}")


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


def _config_backup(s3: Any, bucket: str, stack: str) -> ConfigBackup:
    from ops.config_backup import ConfigBackupError

    try:
        restored = read_latest_config_backup(s3, bucket, stack)
    except ConfigBackupError as error:
        raise RestorePlanError(f"cannot read the config backup: {error}") from error
    if restored is None:
        raise RestorePlanError(f"no installer config backup of {stack!r} in s3://{bucket} (the rollout hooks write "
                               f"one after each healthy rollout; `python -m ops backup config --stack {stack}` "
                               "takes one now)")
    backup = restored.backup
    if backup.bucket != bucket:
        # A replica holds the same key and version id (S3 replication keeps both), under its own bucket name.
        backup = ConfigBackup(bucket, backup.key, backup.version_id, backup.gitpod_version, backup.config_hash,
                              backup.stack, backup.backed_up_at)
    return backup


def _installer_image(gitpod: dict[str, Any], version: str) -> str:
    current = str(gitpod.get("installerImage") or "")
    match = _TAGGED_IMAGE.match(current)
    if match is not None:
        return f"{match.group('repository')}:{version}"
    raise RestorePlanError(f"cannot derive the installer image for version {version} from {current!r} (pinned by "
                           "digest or absent); pass --installer-image")
