"""`ops backup status` and `ops backup config` on a GCP cell: the Cloud SQL, GCS and Artifact Registry sections
(ops.clouds.gcp.backup_status) and the installer config backup in the cell's GCS bucket."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import requests

from ops.backup import cli as backup_cli
from ops.backup.status import BackupStatus, collect_backup_status
from ops.clouds.gcp.api import GoogleApi
from ops.clouds.gcp.backup_status import GcpStatusSource
from ops.clouds.gcp.gcs import GcsObjectStore
from ops.common.cell_target import CellTarget
from tests.ops.support.cli import run_command
from tests.ops.support.gcp import (
    GCP_INSTANCE,
    GCP_REGION,
    GCP_REPOSITORY,
    GCP_STACK,
    gcp_target,
    unique_bucket,
)
from tests.ops.support.google_double import GoogleApiDouble
from tests.ops.support.kube_cluster import KubeCluster
from tests.ops.support.stores import gcs_config_store
from tests.ops.support.values import GCP_PROJECT, START

# -- the status --------------------------------------------------------------------------------------------------------


def status_of(gcs: Any, double: GoogleApiDouble, target: CellTarget) -> BackupStatus:
    apis = GoogleApi(requests.Session(), double.url, timeout_seconds=5)
    source = GcpStatusSource(sqladmin=apis, gcs=gcs, artifact_registry=apis)
    return collect_backup_status(source, GcsObjectStore(gcs, target.bucket), target, START)


def test_backup_status_of_a_protected_gcp_cell(gcs: Any, google_api: GoogleApiDouble):
    bucket = gcs.bucket(unique_bucket())  # fake-gcs-server keeps buckets for the whole run
    bucket.versioning_enabled = True
    gcs.create_bucket(bucket, location="EU")
    google_api.put_instance(GCP_PROJECT, "gitpod-prod-gcp-db", backup_location="europe-west4")
    google_api.put_backup_run(GCP_PROJECT, "gitpod-prod-gcp-db", "1741921200000", started="2025-03-14T02:00:00Z")
    google_api.put_repository(GCP_PROJECT, GCP_REGION, "gitpod-prod-gcp")
    gcs_config_store(gcs, bucket.name).write("prod-gcp", "2024.11.0", "abc123", "domain: x\n", START)

    status = status_of(gcs, google_api, gcp_target(bucket=bucket.name)).to_dict()

    # The window's ends, which Cloud SQL does not report: from the oldest successful backup run to now.
    assert status["database"]["pointInTimeRecovery"] == {"enabled": True, "transactionLogRetentionDays": 7,
                                                         "earliestRestorableTime": "2025-03-14T02:00:00Z",
                                                         "latestRestorableTime": "2025-03-14T09:26:53Z"}
    assert status["database"]["backupLocation"] == "europe-west4"
    assert status["database"]["lastBackup"]["id"] == "1741921200000"
    assert status["objectStorage"] == {"bucket": bucket.name, "versioning": "Enabled", "location": "EU",
                                       "locationType": "multi-region"}
    assert status["installerConfig"]["lastBackup"]["version"] == "2024.11.0"
    assert status["registry"]["repositories"]["gitpod-prod-gcp"]["format"] == "DOCKER"
    assert [gap.split(":")[0] for gap in status["notProtected"]] == ["registry", "cluster"]


def test_backup_status_names_what_a_gcp_cell_does_not_protect(gcs: Any, google_api: GoogleApiDouble):
    name = gcs.create_bucket(unique_bucket()).name
    google_api.put_instance(GCP_PROJECT, "gitpod-prod-gcp-db", binary_log=False, backup_location=GCP_REGION)

    status = status_of(gcs, google_api, gcp_target(bucket=name))

    gaps = "\n".join(status.not_protected)
    assert "point-in-time recovery (binary log) is off" in gaps
    assert f"backups are kept in {GCP_REGION}, the instance's own region" in gaps
    assert "no successful backup yet" in gaps
    assert f"versioning of gs://{name} is off" in gaps
    assert "no config + version-label backup yet" in gaps
    assert "Not protected:" in status.describe()


def test_a_single_region_bucket_is_a_gap():
    # fake-gcs-server creates every bucket in one location (EU here), so a regional bucket is described directly.
    from types import SimpleNamespace

    regional = SimpleNamespace(location="europe-west1", location_type="region", versioning_enabled=True)
    source = GcpStatusSource(sqladmin=None, gcs=SimpleNamespace(get_bucket=lambda name, timeout, retry=None: regional),
                             artifact_registry=None)

    gaps: list[str] = []
    section = source.object_storage(gcp_target(), gaps)

    assert section["locationType"] == "region"
    assert gaps == ["object storage: gs://gitpod-prod-gcp-acme-gitpod-test lives in one region (EUROPE-WEST1); "
                    "workspace content is lost with it (a multi- or dual-region location keeps a copy elsewhere)"]


# -- the commands ------------------------------------------------------------------------------------------------------


def test_backup_status_of_a_gcp_stack(cell: GoogleApiDouble, gcs: Any, bucket: str, capsys):
    gcs_config_store(gcs, bucket).write(GCP_STACK, "2024.11.0", "abc123", "domain: x\n", datetime.now(UTC))

    assert run_command(backup_cli, ["backup", "status", "--stack", GCP_STACK, "--bucket", bucket, "--json"]) == 0

    status = json.loads(capsys.readouterr().out)
    window = status["database"]["pointInTimeRecovery"]
    assert window["enabled"] is True
    assert window["earliestRestorableTime"] < window["latestRestorableTime"]
    assert status["database"]["instance"] == GCP_INSTANCE
    assert status["objectStorage"] == {"bucket": bucket, "versioning": "Enabled", "location": "EU",
                                       "locationType": "multi-region"}
    assert status["installerConfig"]["lastBackup"]["version"] == "2024.11.0"
    assert status["registry"]["repositories"][GCP_REPOSITORY]["format"] == "DOCKER"
    assert [gap.split(":")[0] for gap in status["notProtected"]] == ["registry", "cluster"]


def test_backup_config_of_a_gcp_stack(cell: GoogleApiDouble, gcs: Any, bucket: str, cluster: KubeCluster, capsys):
    cluster.put_config_map(cluster.namespace, "gitpod-installation", {"version": "2024.11.0", "configHash": "abc123"})
    cluster.put_config_map(cluster.namespace, "gitpod-installer-config",
                           {"config.yaml": "domain: gitpod.example.com\n"})

    assert run_command(backup_cli, ["backup", "config", "--stack", GCP_STACK, "--bucket", bucket,
                                    "--namespace", cluster.namespace,
                                    "--kubeconfig", str(cluster.kubeconfig_path)]) == 0

    restored = gcs_config_store(gcs, bucket).read_latest(GCP_STACK)
    assert restored is not None
    assert restored.config_yaml == "domain: gitpod.example.com\n"
    assert restored.backup.key == "gitpod-cell/prod-gcp/installer-config/2024.11.0/abc123.yaml"
    assert (f"to gs://{bucket}/gitpod-cell/prod-gcp/installer-config/2024.11.0/abc123.yaml version "
            f"{restored.backup.version_id}") in capsys.readouterr().out
