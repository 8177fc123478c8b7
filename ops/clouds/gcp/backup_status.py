"""The GCP half of `ops backup status` (ops.backup.status): Cloud SQL (automated backups, binary log, where backups
are kept, the last successful backup run), the GCS bucket (versioning, location) and Artifact Registry. The Admin
APIs (ops.clouds.gcp.api.GoogleApi) and the google-cloud-storage client are injected."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ops.clouds.gcp.api import GoogleApiError
from ops.clouds.gcp.cloudsql import cloudsql_pitr_window, list_backup_runs, pitr_enabled
from ops.clouds.gcp.gcs import REQUEST_TIMEOUT_SECONDS, bounded_retry
from ops.common.cell_target import CellTarget


@dataclass(frozen=True)
class GcpStatusSource:
    sqladmin: Any
    gcs: Any
    artifact_registry: Any

    def database(self, target: CellTarget, now: datetime, gaps: list[str]) -> dict[str, Any]:
        instance_path = f"projects/{target.project}/instances/{target.db_instance_id}"
        try:
            instance = self.sqladmin.call("GET", instance_path)
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
            # ends: they are derived from the backup runs below (cloudsql_pitr_window).
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
            runs = list_backup_runs(self.sqladmin, str(target.project), target.db_instance_id)
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

    def object_storage(self, target: CellTarget, gaps: list[str]) -> dict[str, Any]:
        from components.config import storage_location_kind

        bucket = self.gcs.get_bucket(target.bucket, timeout=REQUEST_TIMEOUT_SECONDS, retry=bounded_retry())
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

    def registry(self, target: CellTarget) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name in target.repositories:
            path = f"projects/{target.project}/locations/{target.region}/repositories/{name}"
            try:
                repository = self.artifact_registry.call("GET", path)
                found[name] = {"url": f"{target.region}-docker.pkg.dev/{target.project}/{name}",
                               "format": repository.get("format")}
            except GoogleApiError as error:
                found[name] = {"error": str(error)}
        return {"repositories": found}
