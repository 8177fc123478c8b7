"""What of a cell is backed up, and where — and, in plain words, what is not.

    database         point-in-time window, cross-region copies of automated backups, last snapshot
    object storage   versioning and replication of the bucket (and the replica's versioning)
    installer config the last config + version-label backup (ops.config_backup's pointer)
    registry         the Gitpod repositories (not backed up: losing them only slows workspace starts)

Clients are injected (boto3 rds, s3, ecr; a second rds/s3 for the replica region), so tests use moto's server.
GCP cells (target.cloud == "gcp") are read through the Cloud SQL Admin API (instance, backup runs), a
google-cloud-storage client (bucket versioning and location) and the Artifact Registry API, all injected: tests use
fake-gcs-server and a local double of the two REST APIs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ops.cell_target import CellTarget
from ops.config_backup import ConfigBackupError, read_latest_config_backup
from ops.pitr_window import PitrWindowError, describe_instance, read_pitr_window
from ops.timestamps import format_rfc3339, require_aware

CONFIG_BACKUP_MAX_AGE_DAYS = 30


@dataclass(frozen=True)
class StatusClients:
    """AWS: rds, s3, ecr (+ the replica region's rds and s3). GCP: sqladmin and artifact_registry (ops.gcp_api
    GoogleApi for each REST API) and gcs (a google.cloud.storage.Client), with rds, s3 and ecr None."""

    rds: Any
    s3: Any
    ecr: Any
    replica_rds: Any | None = None
    replica_s3: Any | None = None
    gcs: Any | None = None
    sqladmin: Any | None = None
    artifact_registry: Any | None = None


@dataclass
class BackupStatus:
    stack: str
    checked_at: datetime
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    not_protected: list[str] = field(default_factory=list)

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


def collect_backup_status(clients: StatusClients, target: CellTarget, now: datetime) -> BackupStatus:
    status = BackupStatus(target.stack, require_aware(now))
    gaps = status.not_protected
    gcp = target.cloud == "gcp"
    for name, collect in (
        ("database", lambda: _cloudsql_database(clients, target, now, gaps) if gcp
            else _database(clients, target, gaps)),
        ("objectStorage", lambda: _gcs_object_storage(clients, target, gaps) if gcp
            else _object_storage(clients, target, gaps)),
        ("installerConfig", lambda: _installer_config(clients, target, now, gaps)),
        ("registry", lambda: _artifact_registry(clients, target, gaps) if gcp else _registry(clients, target, gaps)),
    ):
        try:
            status.sections[name] = collect()
        except Exception as error:  # report what can be seen; an unreadable part is itself a gap
            status.sections[name] = {"error": f"{type(error).__name__}: {error}"}
            status.not_protected.append(f"{name}: could not be checked ({error})")
    status.not_protected.append("cluster: not backed up by design; it is recreated from this repository "
                                "(`pulumi up`), and Gitpod from the installer config backup")
    return status


def _database(clients: StatusClients, target: CellTarget, gaps: list[str]) -> dict[str, Any]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        instance = describe_instance(clients.rds, target.db_instance_id)
        window = read_pitr_window(clients.rds, target.db_instance_id, instance)
    except PitrWindowError as error:
        gaps.append(f"database: {error}")
        return {"instance": target.db_instance_id, "error": str(error)}
    section: dict[str, Any] = {"instance": target.db_instance_id, "pointInTimeRecovery": window.to_dict()}
    if not window.enabled:
        gaps.append("database: point-in-time recovery is off; only manual snapshots can restore it")
    replications = [entry.get("DBInstanceAutomatedBackupsArn") for entry in
                    instance.get("DBInstanceAutomatedBackupsReplications") or []]
    section["crossRegionBackups"] = _replicated_backups(clients, target, replications)
    if not section["crossRegionBackups"]["replicated"]:
        gaps.append(f"database: automated backups are not copied to another region; losing {target.region} "
                    "loses the database backups with it")
    try:
        snapshots = clients.rds.describe_db_snapshots(DBInstanceIdentifier=target.db_instance_id)["DBSnapshots"]
    except (ClientError, BotoCoreError) as error:
        snapshots = []
        section["lastSnapshotError"] = str(error)
    if snapshots:
        last = max(snapshots, key=lambda snapshot: snapshot.get("SnapshotCreateTime") or datetime.min)
        section["lastSnapshot"] = {
            "id": last["DBSnapshotIdentifier"],
            "type": last.get("SnapshotType"),
            "status": last.get("Status"),
            "createdAt": format_rfc3339(last["SnapshotCreateTime"]) if last.get("SnapshotCreateTime") else None,
        }
    else:
        section["lastSnapshot"] = None
    return section


def _replicated_backups(clients: StatusClients, target: CellTarget, arns: list[Any]) -> dict[str, Any]:
    from botocore.exceptions import BotoCoreError, ClientError

    result: dict[str, Any] = {"replicated": bool(arns), "region": target.replica_region, "arns": arns}
    if clients.replica_rds is None or not target.replica_region:
        return result
    try:
        backups = clients.replica_rds.describe_db_instance_automated_backups(
            DBInstanceIdentifier=target.db_instance_id).get("DBInstanceAutomatedBackups") or []
    except (ClientError, BotoCoreError) as error:
        result["replicaError"] = str(error)
        return result
    windows = [backup.get("RestoreWindow") or {} for backup in backups]
    if backups:
        result["replicated"] = True
        result["replicaRestoreWindows"] = [
            {key: format_rfc3339(value) for key, value in window.items() if isinstance(value, datetime)}
            for window in windows
        ]
    return result


def _object_storage(clients: StatusClients, target: CellTarget, gaps: list[str]) -> dict[str, Any]:
    from botocore.exceptions import ClientError

    versioning = clients.s3.get_bucket_versioning(Bucket=target.bucket).get("Status") or "Disabled"
    section: dict[str, Any] = {"bucket": target.bucket, "versioning": versioning}
    if versioning != "Enabled":
        gaps.append(f"object storage: versioning of {target.bucket} is {versioning}; an overwrite or delete "
                    "cannot be undone")
    try:
        rules = clients.s3.get_bucket_replication(Bucket=target.bucket)["ReplicationConfiguration"]["Rules"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ReplicationConfigurationNotFoundError":
            raise
        rules = []
    enabled = [rule for rule in rules if rule.get("Status") == "Enabled"]
    section["replication"] = [{"id": rule.get("ID"), "status": rule.get("Status"),
                               "destination": (rule.get("Destination") or {}).get("Bucket")} for rule in rules]
    if not enabled:
        gaps.append(f"object storage: {target.bucket} is not replicated; workspace content is lost with "
                    f"{target.region}")
    if target.replica_bucket and clients.replica_s3 is not None:
        try:
            replica = clients.replica_s3.get_bucket_versioning(Bucket=target.replica_bucket).get("Status")
            section["replicaBucket"] = {"bucket": target.replica_bucket, "versioning": replica or "Disabled"}
        except ClientError as error:
            section["replicaBucket"] = {"bucket": target.replica_bucket, "error": str(error)}
            gaps.append(f"object storage: replica bucket {target.replica_bucket} cannot be read ({error})")
    return section


def _installer_config(clients: StatusClients, target: CellTarget, now: datetime, gaps: list[str]) -> dict[str, Any]:
    try:
        if target.cloud == "gcp":
            from ops.gcs_config_store import read_latest_gcs_config_backup

            restored = read_latest_gcs_config_backup(clients.gcs, target.bucket, target.stack)
        else:
            restored = read_latest_config_backup(clients.s3, target.bucket, target.stack)
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


def _registry(clients: StatusClients, target: CellTarget, gaps: list[str]) -> dict[str, Any]:
    from botocore.exceptions import ClientError

    found: dict[str, Any] = {}
    for name in target.repositories:
        try:
            (repository,) = clients.ecr.describe_repositories(repositoryNames=[name])["repositories"]
            found[name] = {"uri": repository.get("repositoryUri"),
                           "scanOnPush": (repository.get("imageScanningConfiguration") or {}).get("scanOnPush")}
        except ClientError as error:
            found[name] = {"error": error.response.get("Error", {}).get("Code", str(error))}
    gaps.append("registry: images are not backed up; after a loss Gitpod rebuilds them, so workspace starts are "
                "slower until the cache is warm")
    return {"repositories": found}


# -- GCP ----------------------------------------------------------------------------------------------------------


def _cloudsql_database(clients: StatusClients, target: CellTarget, now: datetime, gaps: list[str]) -> dict[str, Any]:
    from ops.cloudsql_restore_point import pitr_enabled
    from ops.gcp_api import GoogleApiError
    from ops.pitr_window import cloudsql_pitr_window, list_backup_runs

    instance_path = f"projects/{target.project}/instances/{target.db_instance_id}"
    try:
        instance = clients.sqladmin.call("GET", instance_path)
    except GoogleApiError as error:
        gaps.append(f"database: Cloud SQL instance {target.db_instance_id} cannot be read ({error})")
        return {"instance": target.db_instance_id, "error": str(error)}
    backup = ((instance.get("settings") or {}).get("backupConfiguration")) or {}
    log_days = backup.get("transactionLogRetentionDays")
    pitr = pitr_enabled(instance)
    section: dict[str, Any] = {
        "instance": target.db_instance_id,
        "automatedBackups": bool(backup.get("enabled")),
        "retainedBackups": (backup.get("backupRetentionSettings") or {}).get("retainedBackups"),
        # Cloud SQL restores (clones) to any moment in the binary-log window; the API reports its length, not its
        # ends: they are derived from the backup runs below (ops.pitr_window.cloudsql_pitr_window).
        "pointInTimeRecovery": {"enabled": pitr, "transactionLogRetentionDays": log_days},
        "backupLocation": backup.get("location") or "Cloud SQL's default: the multi-region containing "
                                                    f"{instance.get('region') or target.region}",
    }
    if not backup.get("enabled"):
        gaps.append("database: automated backups are off; nothing restores the database")
    if not pitr:
        gaps.append("database: point-in-time recovery (binary log) is off; only backups can restore it")
    location = backup.get("location")
    if location and location == (instance.get("region") or target.region):
        gaps.append(f"database: backups are kept in {location}, the instance's own region; losing {location} "
                    "loses them with it")
    try:
        runs = list_backup_runs(clients.sqladmin, str(target.project), target.db_instance_id)
    except GoogleApiError as error:
        runs = []
        section["lastBackupError"] = str(error)
    if pitr and "lastBackupError" not in section:
        window = cloudsql_pitr_window(target.db_instance_id, instance, runs, now)
        section["pointInTimeRecovery"].update(
            {key: value for key, value in window.to_dict().items()
             if key in ("earliestRestorableTime", "latestRestorableTime")})
    finished = [run for run in runs if run.get("status") == "SUCCESSFUL"]
    if finished:
        last = max(finished, key=lambda run: str(run.get("windowStartTime") or run.get("startTime") or ""))
        section["lastBackup"] = {"id": str(last.get("id")), "type": last.get("type"), "status": last.get("status"),
                                 "createdAt": last.get("windowStartTime") or last.get("startTime")}
    else:
        section["lastBackup"] = None
        if backup.get("enabled"):
            gaps.append("database: no successful backup yet")
    return section


def _gcs_object_storage(clients: StatusClients, target: CellTarget, gaps: list[str]) -> dict[str, Any]:
    from components.config import storage_location_kind
    from ops.gcs_config_store import REQUEST_TIMEOUT_SECONDS

    bucket = clients.gcs.get_bucket(target.bucket, timeout=REQUEST_TIMEOUT_SECONDS)
    location = str(bucket.location or "").upper()
    # From the location's name (EU, EUR4, EUROPE-WEST1 ...), which says it whatever an API or emulator reports as
    # locationType; a custom dual-region carries its multi-region's name, and is redundant just the same.
    kind = storage_location_kind(location)
    section: dict[str, Any] = {"bucket": target.bucket, "versioning": "Enabled" if bucket.versioning_enabled
                               else "Disabled", "location": location, "locationType": kind}
    if not bucket.versioning_enabled:
        gaps.append(f"object storage: versioning of gs://{target.bucket} is off; an overwrite or delete cannot be "
                    "undone")
    if kind == "region":
        gaps.append(f"object storage: gs://{target.bucket} lives in one region ({location}); workspace content is "
                    "lost with it (a multi- or dual-region location keeps a copy elsewhere)")
    return section


def _artifact_registry(clients: StatusClients, target: CellTarget, gaps: list[str]) -> dict[str, Any]:
    from ops.gcp_api import GoogleApiError

    found: dict[str, Any] = {}
    for name in target.repositories:
        path = f"projects/{target.project}/locations/{target.region}/repositories/{name}"
        try:
            repository = clients.artifact_registry.call("GET", path)
            found[name] = {"url": f"{target.region}-docker.pkg.dev/{target.project}/{name}",
                           "format": repository.get("format")}
        except GoogleApiError as error:
            found[name] = {"error": str(error)}
    gaps.append("registry: images are not backed up; after a loss Gitpod rebuilds them, so workspace starts are "
                "slower until the cache is warm")
    return {"repositories": found}


def _plain(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{key}={_plain(item)}" for key, item in value.items()) or "-"
    if isinstance(value, list):
        return "; ".join(_plain(item) for item in value) or "none"
    return "-" if value is None else str(value)

