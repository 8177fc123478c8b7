"""A GCP cell in ops/: identifiers from the stack, the preflight probes, backup status, and a whole rollout through
the hooks with the real GCP clients — fake-gcs-server for GCS, the local double for the Cloud SQL Admin and Artifact
Registry APIs, MariaDB for the database, the Kubernetes double for the cluster."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

import pulumi
import pytest
import requests

from contract.rollout import ALL_STEPS, HookContext
from ops.backup.status import BackupStatus, collect_backup_status
from ops.checks.mysql import ServerVersionRequirement
from ops.checks.preflight import GITPOD_WORKLOAD_LABELS, probe_object_storage
from ops.clouds.gcp.api import GoogleApi
from ops.clouds.gcp.artifact_registry import ArtifactRegistry
from ops.clouds.gcp.backup_status import GcpStatusSource
from ops.clouds.gcp.gcs import GcsObjectStore
from ops.cluster.installation_record import read_installation_record
from ops.cluster.kube import KubeClient
from ops.cluster.maintenance import MAINTENANCE_CONFIG_MAP
from ops.common import stackfile
from ops.common.cell_target import CellTarget, resolve_cell_target
from ops.errors import OpsError
from ops.rollout.hooks import ClientSettings, build_rollout_clients, hook_callback
from ops.rollout.steps import RolloutClients, RolloutLedger, RolloutSettings, RolloutStepError
from tests.ops.support.google_double import GoogleApiDouble, cloudsql_like_server
from tests.ops.support.kube_double import KubeDouble
from tests.ops.support.mariadb import ROOT_PASSWORD, PitrScenario, scenario  # noqa: F401
from tests.ops.support.stores import gcs_config_store
from tests.ops.support.values import GCP_PROJECT, START

REGION = "europe-west1"
GCP_CONFIG = {"gcp:project": GCP_PROJECT, "gcp:region": REGION, "gitpod-cell:cloud": "gcp",
              "gitpod-cell:environment": "prod", "gitpod-cell:replicaRegion": "europe-west4"}


def gcp_target(stack: str = "prod-gcp", **overrides: Any) -> CellTarget:
    return resolve_cell_target(stack, GCP_CONFIG, account_id=lambda: pytest.fail("no AWS account on GCP"),
                               clouds=("aws", "gcp"), **overrides)


# -- which live resources a GCP stack is --------------------------------------------------------------------------


def test_the_shipped_prod_gcp_stack_resolves_to_the_names_components_gcp_gives():
    config = stackfile.load_stack("prod-gcp", stackfile.STACKS_DIR).config
    target = resolve_cell_target("prod-gcp", config, account_id=lambda: pytest.fail("no AWS account on GCP"),
                                 clouds=("aws", "gcp"))

    project = str(config["gcp:project"])
    assert target.cloud == "gcp"
    assert (target.project, target.region) == (project, config["gcp:region"])
    assert target.bucket == f"gitpod-prod-gcp-{project}"
    assert target.db_instance_id == "gitpod-prod-gcp-db"  # CloudSqlDatabase(prefix): instance `<prefix>-db`
    assert target.repositories == ("gitpod-prod-gcp",)  # ArtifactRegistry(repository_id=prefix)
    assert target.replica_bucket is None  # a multi-region bucket is its own replica
    assert target.replica_region == "europe-west4"  # where Cloud SQL keeps the backups (crossRegionBackups)
    assert target.gitpod_version == "release-2022.06.0.10"


def test_overrides_and_missing_settings():
    target = gcp_target(bucket="adopted-bucket", db_instance="restored-db", region="europe-west4")
    assert (target.bucket, target.db_instance_id, target.region) == ("adopted-bucket", "restored-db",
                                                                     "europe-west4")
    with pytest.raises(OpsError, match="sets no gcp:project"):
        resolve_cell_target("x", {"gitpod-cell:cloud": "gcp"}, account_id=str, clouds=("gcp",))


def test_aws_only_commands_still_refuse_a_gcp_stack():
    with pytest.raises(OpsError, match="is a gcp cell; this command supports aws cells so far"):
        resolve_cell_target("prod-gcp", GCP_CONFIG, account_id=str)


# -- preflight's GCS probe and registry check ---------------------------------------------------------------------


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
    return ArtifactRegistry(GoogleApi(requests.Session(), double.url, timeout_seconds=5), GCP_PROJECT, REGION,
                            lambda: token)


def test_artifact_registry_credentials_and_repository(google_api: GoogleApiDouble):
    google_api.put_repository(GCP_PROJECT, REGION, "gitpod-prod-gcp")

    credentials, repositories = artifact_registry(google_api).check(["gitpod-prod-gcp"])

    assert credentials.passed
    assert repositories.passed
    assert repositories.reason == f"reachable: gitpod-prod-gcp in {REGION}-docker.pkg.dev/{GCP_PROJECT}"


def test_a_missing_repository_and_missing_credentials_are_named(google_api: GoogleApiDouble):
    def no_credentials() -> str:
        raise RuntimeError("Your default credentials were not found")

    registry = replace(artifact_registry(google_api), access_token=no_credentials)
    credentials, repositories = registry.check(["gitpod-prod-gcp"])

    assert not credentials.passed
    assert "Your default credentials were not found" in credentials.reason
    assert repositories.reason == "missing: gitpod-prod-gcp"


# -- backup status ------------------------------------------------------------------------------------------------


def unique_bucket() -> str:
    import uuid

    return f"gitpod-status-{uuid.uuid4().hex[:12]}"


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
    google_api.put_repository(GCP_PROJECT, REGION, "gitpod-prod-gcp")
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
    google_api.put_instance(GCP_PROJECT, "gitpod-prod-gcp-db", binary_log=False, backup_location=REGION)

    status = status_of(gcs, google_api, gcp_target(bucket=name))

    gaps = "\n".join(status.not_protected)
    assert "point-in-time recovery (binary log) is off" in gaps
    assert f"backups are kept in {REGION}, the instance's own region" in gaps
    assert "no successful backup yet" in gaps
    assert f"versioning of gs://{name} is off" in gaps
    assert "no config + version-label backup yet" in gaps
    assert "Not protected:" in status.describe()


def test_a_single_region_bucket_is_a_gap():
    # fake-gcs-server creates every bucket in one location (EU here), so a regional bucket is described directly.
    from types import SimpleNamespace

    regional = SimpleNamespace(location="europe-west1", location_type="region", versioning_enabled=True)
    source = GcpStatusSource(sqladmin=None, gcs=SimpleNamespace(get_bucket=lambda name, timeout: regional),
                             artifact_registry=None)

    gaps: list[str] = []
    section = source.object_storage(gcp_target(), gaps)

    assert section["locationType"] == "region"
    assert gaps == ["object storage: gs://gitpod-prod-gcp-acme-gitpod-test lives in one region (EUROPE-WEST1); "
                    "workspace content is lost with it (a multi- or dual-region location keeps a copy elsewhere)"]


# -- a whole rollout on GCP through the hooks ---------------------------------------------------------------------


def test_a_whole_rollout_of_a_gcp_cell(gcp_apis: GoogleApiDouble, fake_gcs_url: str, gcs: Any,
                                       versioned_gcs_bucket: str, kube_double: KubeDouble,
                                       tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest):
    # The database as Cloud SQL serves it: its certificate names the instance, not the IP preflight connects to.
    database = cloudsql_like_server(tmp_path_factory.mktemp("cloudsql-prod-gcp"),
                                    f"{GCP_PROJECT}:gitpod-prod-gcp-db", request.config.add_cleanup)
    # PITR on, as the cell configures it (the backup-run path, which polls, is in test_cloudsql_restore_point.py).
    gcp_apis.put_instance(GCP_PROJECT, "gitpod-prod-gcp-db", binary_log=True)
    gcp_apis.put_repository(GCP_PROJECT, REGION, "gitpod-prod-gcp")
    kube_double.put_node("services-1", labels=dict.fromkeys(GITPOD_WORKLOAD_LABELS, "true"),
                         kubelet_version="v1.33.5-gke.1080000")
    kube_double.put_deployment("gitpod", "server", replicas=1)
    seen: list[ClientSettings] = []

    def factory(settings: RolloutSettings, client_settings: ClientSettings) -> RolloutClients:
        seen.append(client_settings)
        clients = build_rollout_clients(settings, replace(
            client_settings, database_version_requirement=ServerVersionRequirement(accept_mariadb=True)))
        return clients

    async def rollout() -> list[BaseException | None]:
        # The context installation.py builds from the GCP Platform.
        context = HookContext(
            stack="prod-gcp", region=REGION, db_instance_id=pulumi.Output.from_input("gitpod-prod-gcp-db"),
            bucket=pulumi.Output.from_input(versioned_gcs_bucket), gitpod_version="2024.11.0", config_hash="abc123",
            installer_config_yaml="domain: gitpod.example.com\n",
            kubeconfig=pulumi.Output.secret(json.dumps(kube_double.kubeconfig())), lease_minutes=60,
            health_timeout_seconds=60, cloud="gcp", restore_target_kind="cloudsql", object_storage_kind="gcs",
            gcp_project=GCP_PROJECT, database_host="127.0.0.1",
            database_port=pulumi.Output.from_input(database.port), database_username="root",
            database_password=pulumi.Output.secret(ROOT_PASSWORD),
            database_ca_pem=pulumi.Output.secret(database.ca_pem),
        )
        ledgers: dict[str, RolloutLedger] = {}
        outcomes: list[BaseException | None] = []
        args = pulumi.ResourceHookArgs(urn="urn:pulumi:prod-gcp::gitpod-cell::job::installer", id="gitpod/installer",
                                       name="installer", type="kubernetes:batch/v1:Job", new_inputs={},
                                       old_inputs={})
        for step in ALL_STEPS:
            try:
                await hook_callback(step, context, clients_factory=factory, ledgers=ledgers)(args)
                outcomes.append(None)
            except RolloutStepError as error:
                outcomes.append(error)
        return outcomes

    outcomes = asyncio.run(rollout())

    assert outcomes == [None] * len(ALL_STEPS), [str(outcome) for outcome in outcomes if outcome]
    assert seen[0].cloud == "gcp"
    assert seen[0].registry_repositories == ("gitpod-prod-gcp",)
    record = read_installation_record(KubeClient.from_kubeconfig_text(json.dumps(kube_double.kubeconfig())),
                                      "gitpod")
    assert record is not None
    assert record.restore_point is not None
    assert record.restore_point.kind == "pitr"
    assert record.restore_point.db_instance_id == "gitpod-prod-gcp-db"
    assert gcp_apis.backup_runs() == []
    restored = gcs_config_store(gcs, versioned_gcs_bucket).read_latest("prod-gcp")
    assert restored is not None
    assert restored.backup == record.last_config_backup
    assert restored.config_yaml == "domain: gitpod.example.com\n"
    assert kube_double.config_map_data("default", MAINTENANCE_CONFIG_MAP) is not None


def test_a_gcp_context_without_a_project_is_refused():
    async def resolve() -> None:
        from ops.rollout.hooks import hook_settings_from_args

        await hook_settings_from_args(HookContext(stack="prod-gcp", region=REGION, db_instance_id="db",
                                                  bucket="b", cloud="gcp"), None)

    with pytest.raises(ValueError, match="gcp_project resolved to nothing"):
        asyncio.run(resolve())
