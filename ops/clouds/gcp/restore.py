"""Where `ops restore plan` reads a GCP cell's backups: the Cloud SQL instance's point-in-time window (a restore is
a clone of it, in its own region) and the config backups in the cell's GCS bucket, adopted as it is."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ops.backup.pitr_window import PitrWindow, PitrWindowError
from ops.backup.restore_plan import RestorePlanError
from ops.clouds.base import ObjectStore
from ops.clouds.gcp.cloudsql import read_cloudsql_pitr_window
from ops.clouds.gcp.gcs import GcsObjectStore
from ops.common.cell_target import CellTarget
from ops.common.timestamps import utc_now


def other_region_refusal(target: CellTarget, region: str) -> str:
    backups = target.replica_region or "Cloud SQL's default multi-region"
    return (f"--region {region}: Cloud SQL creates a clone (its point-in-time recovery) only in the source "
            f"instance's region, {target.region}, so a GCP cell cannot be restored into {region} this way. Restore "
            f"into {target.region} (leave out --region); the bucket gs://{target.bucket} is multi- or dual-region "
            f"and stays readable. If {target.region} itself is unavailable, create the new cell in {region} and "
            f"restore the last backup of {target.db_instance_id} (kept in {backups}) onto its instance with "
            "`gcloud sql backups restore BACKUP_ID --backup-instance="
            f"{target.db_instance_id} --restore-instance=<new instance>` before Gitpod serves users: that is a "
            "backup, not a point in time, and this plan does not write it")


@dataclass
class CloudSqlRestoreSources:
    """The Cloud SQL Admin API (ops.clouds.gcp.api.GoogleApi) and GCS (a google.cloud.storage.Client)."""

    sqladmin: Any
    gcs: Any
    project: str
    clock: Callable[[], datetime] = utc_now

    def region_refusal(self, target: CellTarget, region: str) -> str | None:
        return other_region_refusal(target, region)

    def pitr_window(self, target: CellTarget) -> PitrWindow:
        try:
            return read_cloudsql_pitr_window(self.sqladmin, self.project, target.db_instance_id, self.clock())
        except PitrWindowError as error:
            raise RestorePlanError(str(error)) from error

    def replicated_backups(self, target: CellTarget, region: str) -> tuple[PitrWindow, str]:
        raise RestorePlanError(other_region_refusal(target, region))

    def object_store(self, bucket: str) -> ObjectStore:
        return GcsObjectStore(self.gcs, bucket)

    def notes(self, target: CellTarget, adopt_bucket: str) -> list[str]:
        return [f"the database is a Cloud SQL clone of {target.db_instance_id} in {target.region}; "
                f"gs://{adopt_bucket} is adopted as it is (its multi- or dual-region location is its own replica)"]
