"""ops.clouds: the one place a cloud is chosen, and every cloud's adapter serving the whole CellClients interface,
without reaching the cloud when it is built."""

from __future__ import annotations

import inspect

import pytest

from ops.clouds import SUPPORTED_CLOUDS, UnknownCloud, cell_clients, cloud_adapter
from ops.clouds.base import CellClients, ObjectStore
from ops.common.cell_target import CellTarget


def target(cloud: str) -> CellTarget:
    return CellTarget(stack="prod", cloud=cloud, region="europe-west1", replica_region=None,
                      db_instance_id="gitpod-prod-db", bucket="gitpod-prod-bucket", replica_bucket=None,
                      gitpod_namespace="gitpod", gitpod_version=None, installer_image=None,
                      cross_region_backups=False, project="acme-gitpod" if cloud == "gcp" else None)


def test_the_adapter_a_stack_names_is_the_one_used():
    assert SUPPORTED_CLOUDS == ("aws", "gcp", "kubernetes")
    for cloud in SUPPORTED_CLOUDS:
        adapter = cloud_adapter(cloud)
        assert adapter.name == cloud
        assert cloud_adapter(cloud) is adapter
    assert (cloud_adapter("aws").restore_target_kind, cloud_adapter("aws").object_storage_kind) == ("rds", "s3")
    assert (cloud_adapter("gcp").restore_target_kind, cloud_adapter("gcp").object_storage_kind) == ("cloudsql", "gcs")
    assert (cloud_adapter("kubernetes").restore_target_kind, cloud_adapter("kubernetes").object_storage_kind) == (
        "mysql-binlog", "s3")


def test_an_unknown_cloud_is_refused_naming_the_known_ones():
    with pytest.raises(UnknownCloud, match="unknown cloud 'azure'; expected one of aws, gcp, kubernetes"):
        cloud_adapter("azure")
    with pytest.raises(UnknownCloud):
        cell_clients(target("azure"))


@pytest.mark.parametrize("cloud", SUPPORTED_CLOUDS)
def test_every_cloud_serves_every_cell_client_without_calling_it(cloud: str, monkeypatch: pytest.MonkeyPatch):
    # Building the clients and the bucket's store must not authenticate: commands build them before any call, and a
    # rollout step only authenticates for what it touches.
    monkeypatch.setattr("ops.clouds.gcp.api.google_credentials", lambda: pytest.fail("authenticated too early"))
    clients = cell_clients(target(cloud))

    wanted = [name for name, member in inspect.getmembers(CellClients, inspect.isfunction)
              if not name.startswith("_")]
    assert sorted(wanted) == ["backup_status", "check_drill_settings", "database_address", "drill_backend",
                              "object_store", "registry_probe", "restore_points", "restore_sources"]
    for name in wanted:
        assert callable(getattr(clients, name)), f"{cloud} cell clients lack {name}"
    assert clients.target.cloud == cloud


def test_the_cells_bucket_is_an_object_store_named_as_its_urls_are(moto_url: str):
    store = cell_clients(target("aws")).object_store()
    assert isinstance(store, ObjectStore)
    assert store.url("gitpod-cell/prod/x.yaml") == "s3://gitpod-prod-bucket/gitpod-cell/prod/x.yaml"
    assert store.location("k", "3HL4kqtJ") == "s3://gitpod-prod-bucket/k version 3HL4kqtJ"
    assert cell_clients(target("aws")).object_store("replica", "eu-central-1").bucket == "replica"
