"""Preflight on a GCP cell: the probe in a GCS bucket leaves nothing behind, the Artifact Registry check, and
`python -m ops preflight` reading the database's address, CA and identity from the Admin API."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
import requests

from ops.checks import cli as checks_cli
from ops.checks.mysql import ServerVersionRequirement
from ops.checks.preflight import GITPOD_WORKLOAD_LABELS, probe_object_storage
from ops.clouds.gcp.api import GoogleApi
from ops.clouds.gcp.artifact_registry import ArtifactRegistry
from ops.clouds.gcp.gcs import GcsObjectStore
from tests.ops.support.cli import run_command
from tests.ops.support.gcp import (
    GCP_INSTANCE,
    GCP_REGION,
    GCP_REPOSITORY,
    GCP_STACK,
)
from tests.ops.support.google_double import CloudSqlLikeServer, GoogleApiDouble
from tests.ops.support.kube_cluster import KubeCluster
from tests.ops.support.mariadb import ROOT_PASSWORD
from tests.ops.support.values import GCP_PROJECT, START

# -- the GCS probe and the Artifact Registry check ---------------------------------------------------------------------


def test_gcs_probe_leaves_nothing_behind(gcs: Any, versioned_gcs_bucket: str):
    result = probe_object_storage(GcsObjectStore(gcs, versioned_gcs_bucket), "prod-gcp", START)

    assert result.passed, result.reason
    assert result.reason == f"wrote, read back and deleted a probe object in gs://{versioned_gcs_bucket}"
    assert list(gcs.list_blobs(versioned_gcs_bucket, versions=True)) == []


def test_gcs_probe_names_the_bucket_it_cannot_write(gcs: Any):
    result = probe_object_storage(GcsObjectStore(gcs, "no-such-bucket"), "prod-gcp", START)
    assert not result.passed
    assert "cannot write gs://no-such-bucket/gitpod-cell/prod-gcp/preflight/probe-20250314T092653Z-" in result.reason


def artifact_registry(double: GoogleApiDouble, token: str = "ya29.test-token") -> ArtifactRegistry:
    return ArtifactRegistry(GoogleApi(requests.Session(), double.url, timeout_seconds=5), GCP_PROJECT, GCP_REGION,
                            lambda: token)


def test_artifact_registry_credentials_and_repository(google_api: GoogleApiDouble):
    google_api.put_repository(GCP_PROJECT, GCP_REGION, "gitpod-prod-gcp")

    credentials, repositories = artifact_registry(google_api).check(["gitpod-prod-gcp"])

    assert credentials.passed
    assert repositories.passed
    assert repositories.reason == f"reachable: gitpod-prod-gcp in {GCP_REGION}-docker.pkg.dev/{GCP_PROJECT}"


def test_a_missing_repository_and_missing_credentials_are_named(google_api: GoogleApiDouble):
    def no_credentials() -> str:
        raise RuntimeError("Your default credentials were not found")

    registry = replace(artifact_registry(google_api), access_token=no_credentials)
    credentials, repositories = registry.check(["gitpod-prod-gcp"])

    assert not credentials.passed
    assert "Your default credentials were not found" in credentials.reason
    assert repositories.reason == "missing: gitpod-prod-gcp"


# -- the command -------------------------------------------------------------------------------------------------------


@pytest.fixture
def preflight_argv(cell: GoogleApiDouble, bucket: str, cloudsql_db: CloudSqlLikeServer, cluster: KubeCluster,
                   monkeypatch: pytest.MonkeyPatch) -> list[str]:
    # The instance's private IP (loopback here) and server CA come from the Admin API; only the port is the test's.
    # Its certificate names the instance, not the IP: preflight must check the name (hostname checks cannot pass).
    cell.put_instance(GCP_PROJECT, GCP_INSTANCE, private_ip="127.0.0.1", server_ca_pem=cloudsql_db.ca_pem)
    cluster.put_node("services-1", labels=dict.fromkeys(GITPOD_WORKLOAD_LABELS, "true"),
                     kubelet_version="v1.33.5-gke.1080000")
    monkeypatch.setenv("GITPOD_DB_PASSWORD", ROOT_PASSWORD)
    return ["preflight", "--stack", GCP_STACK, "--bucket", bucket, "--db-port", str(cloudsql_db.port),
            "--db-user", "root", "--kubeconfig", str(cluster.kubeconfig_path)]


def test_preflight_of_a_gcp_stack_reads_the_address_and_ca_from_the_admin_api(preflight_argv, capsys):
    code = run_command(checks_cli, preflight_argv, version_requirement=ServerVersionRequirement(accept_mariadb=True))

    out = capsys.readouterr().out
    assert code == 0, out
    assert "[PASS] database reachable" in out  # its CA from the API, its certificate naming project:instance
    assert "[PASS] database TLS" in out
    assert "[PASS] object storage: wrote, read back and deleted a probe object in gs://" in out
    assert (f"[PASS] registry repositories: reachable: {GCP_REPOSITORY} in "
            f"{GCP_REGION}-docker.pkg.dev/{GCP_PROJECT}") in out
    assert "[PASS] workload labels" in out
    assert f"preflight of '{GCP_STACK}' passed" in out


def test_preflight_of_a_gcp_stack_exits_non_zero_on_a_failed_check(preflight_argv, capsys):
    assert run_command(checks_cli, [*preflight_argv, "--json"], version_requirement=ServerVersionRequirement()) == 1
    document = json.loads(capsys.readouterr().out)
    assert [check["name"] for check in document["checks"] if not check["passed"]] == ["database version"]


def test_preflight_of_a_gcp_stack_refuses_a_certificate_naming_another_instance(preflight_argv, cell, capsys):
    # Another instance with the same CA and address: the certificate served names the cell's instance, not it.
    cell.instances[(GCP_PROJECT, "gitpod-other-db")] = dict(cell.instances[(GCP_PROJECT, GCP_INSTANCE)],
                                                            name="gitpod-other-db")
    argv = [*preflight_argv, "--db-instance", "gitpod-other-db", "--json"]

    assert run_command(checks_cli, argv, version_requirement=ServerVersionRequirement(accept_mariadb=True)) == 1

    (failure,) = [check for check in json.loads(capsys.readouterr().out)["checks"] if not check["passed"]]
    assert failure["name"] == "database reachable"
    assert f"names CN '{GCP_PROJECT}:{GCP_INSTANCE}', not CN '{GCP_PROJECT}:gitpod-other-db'" in failure["reason"]


def test_preflight_without_the_instance_says_what_to_pass(preflight_argv, cell: GoogleApiDouble, capsys):
    cell.instances.clear()
    assert run_command(checks_cli, preflight_argv) == 1
    assert (f"error: Cloud SQL instance '{GCP_INSTANCE}' in project '{GCP_PROJECT}' is not found; pass --db-host "
            "(and on "
            "GCP --ca-file)") in capsys.readouterr().out
