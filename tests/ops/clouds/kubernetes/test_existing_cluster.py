"""ops/ on a cell on an existing cluster (ops.clouds.kubernetes), against real servers: MariaDB with TLS and binary
logging (standing in for MySQL 8.0), moto's S3 server through an endpoint, a registry API root."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ops.backup.restore_point import RestorePoint, RestorePointError
from ops.clouds import cell_clients, cloud_adapter
from ops.clouds.kubernetes.binlog import BinlogRestorePoints
from ops.common.cell_target import CellTarget
from ops.common.stackfile import load_stack
from ops.errors import OpsError
from tests.ops.support.values import AWS_REGION
from tools.e2e.servers import Database, RegistryRoot, Tls

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory, tls: Any) -> Any:
    server = Database.start(tmp_path_factory.mktemp("existing-db"),
                            Tls(tls.ca_pem, tls.server_cert, tls.server_key))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def registry() -> Any:
    server = RegistryRoot().start()
    yield server
    server.stop()


def target(database: Any, tls: Any, bucket: str = "cell-bucket", endpoint: str = "", **settings: str) -> CellTarget:
    docker_config = settings.pop("docker_config", '{"auths": {}}')
    return CellTarget(
        stack="local", cloud="kubernetes", region="us-east-1", replica_region=None,
        db_instance_id=f"127.0.0.1:{database.port}/gitpod", bucket=bucket, replica_bucket=None,
        gitpod_namespace="gitpod", gitpod_version="release-2022.11.3", installer_image=None,
        cross_region_backups=False,
        settings={"object_storage_endpoint": endpoint, "object_storage_access_key_id": "testing",
                  "object_storage_secret_access_key": "testing", "registry_docker_config": docker_config,
                  "registry_insecure_http": "true", "database_host": "127.0.0.1", "database_port": str(database.port),
                  "database_username": "gitpod", "database_password": database.password, "database_name": "gitpod",
                  "database_ca_pem": tls.ca_pem.decode(), **settings},
    )


def master_status(database: Any) -> tuple[str, int]:
    with database.server.connect() as connection, connection.cursor() as cursor:
        cursor.execute("SHOW MASTER STATUS")
        row = cursor.fetchone()
    return str(row[0]), int(row[1])


def test_the_adapter_is_registered_with_what_the_hooks_must_hand_it():
    adapter = cloud_adapter("kubernetes")

    assert (adapter.restore_target_kind, adapter.object_storage_kind) == ("mysql-binlog", "s3")
    assert {"object_storage_endpoint", "database_password", "registry_docker_config"} <= set(
        adapter.hook_context_fields)


def test_the_restore_point_is_the_servers_binary_log_position(database, tls):
    clients = cell_clients(target(database, tls))

    first = clients.restore_points("gitpod-cell-local", 60).capture(NOW)
    with database.server.connect(database="gitpod") as connection, connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS marks (id INT PRIMARY KEY AUTO_INCREMENT)")
        cursor.execute("INSERT INTO marks VALUES ()")
    second = clients.restore_points("gitpod-cell-local", 60).capture(NOW)

    file, position = master_status(database)
    assert first.kind == "binlog"
    assert first.db_instance_id == f"127.0.0.1:{database.port}/gitpod"
    assert second.binlog_position is not None
    assert second.binlog_position.startswith(f"{file}:{position} gtid ")
    assert first.binlog_position != second.binlog_position
    # It survives the record's JSON round trip.
    assert RestorePoint.from_json(second.to_json()) == second


def test_no_binary_log_is_no_restore_point(tmp_path, tls):
    from ops.checks.mysql import DatabaseEndpoint, tls_connector
    from tests.ops.support.mariadb import ROOT_PASSWORD, MariaDbServer

    server = MariaDbServer(tmp_path / "no-binlog", tls.server_cert, tls.server_key, tls.ca_pem, binlog=False).start()
    try:
        endpoint = DatabaseEndpoint("127.0.0.1", server.port, "root", ROOT_PASSWORD, "mysql",
                                    ca_pem=tls.ca_pem.decode())
        with pytest.raises(RestorePointError, match="binary logging is off"):
            BinlogRestorePoints(tls_connector(endpoint), f"127.0.0.1:{server.port}/mysql").capture(NOW)
    finally:
        server.stop()


def test_a_wrong_password_is_an_error_naming_the_database(database, tls):
    clients = cell_clients(target(database, tls, database_password="wrong"))

    with pytest.raises(RestorePointError, match=f"cannot connect to 127.0.0.1:{database.port}/gitpod"):
        clients.restore_points("p", 60).capture(NOW)


def test_the_object_store_is_the_bucket_at_the_configured_endpoint(database, tls, aws, moto_url, versioned_bucket):
    clients = cell_clients(target(database, tls, bucket=versioned_bucket, endpoint=moto_url))

    store = clients.object_store()
    version = store.put("gitpod-cell/local/probe", b"hello", "text/plain")

    assert store.get("gitpod-cell/local/probe", version) == b"hello"
    assert aws("s3").get_object(Bucket=versioned_bucket, Key="gitpod-cell/local/probe")["Body"].read() == b"hello"


def test_backup_status_says_what_it_sees_and_what_it_cannot(database, tls, moto_url, versioned_bucket):
    clients = cell_clients(target(database, tls, bucket=versioned_bucket, endpoint=moto_url))
    status, gaps = clients.backup_status(), []

    db = status.database(clients.target, NOW, gaps)
    storage = status.object_storage(clients.target, gaps)

    assert db["binaryLog"] is True
    assert db["currentPosition"].startswith("mariadb-bin.")
    assert storage["versioning"] == "Enabled"
    assert any("base backups are the operator's" in gap for gap in gaps)
    assert not any("versioning" in gap for gap in gaps)


def test_backup_status_names_an_unversioned_bucket(database, tls, aws, moto_url):
    aws("s3").create_bucket(Bucket="plain-bucket", CreateBucketConfiguration={"LocationConstraint": AWS_REGION})
    clients = cell_clients(target(database, tls, bucket="plain-bucket", endpoint=moto_url))
    gaps: list[str] = []

    clients.backup_status().object_storage(clients.target, gaps)

    assert gaps == ["object storage: versioning is Off on plain-bucket: an overwritten config backup is lost"]


def docker_config(server: str, username: str, password: str) -> str:
    from components.kubernetes.cell import docker_config as render

    return render(server, username, password)


def test_the_registry_probe_passes_with_the_configured_credentials(database, tls, registry):
    config = docker_config(registry.server_address, registry.username, registry.password)

    [result] = cell_clients(target(database, tls, docker_config=config)).registry_probe().check(())

    assert result.passed, result.reason


def test_the_registry_probe_fails_when_the_registry_refuses_them(database, tls, registry):
    config = docker_config(registry.server_address, registry.username, "not-the-password")

    [result] = cell_clients(target(database, tls, docker_config=config)).registry_probe().check(())

    assert not result.passed
    assert "the credentials were refused" in result.reason


def test_what_has_no_meaning_here_says_so(database, tls):
    clients = cell_clients(target(database, tls))

    with pytest.raises(OpsError, match="no managed backup to build a new cell from"):
        clients.restore_sources(None)
    with pytest.raises(ValueError, match="no such API"):
        clients.check_drill_settings(None)


def test_the_shipped_local_stack_resolves_to_its_endpoints(monkeypatch):
    monkeypatch.setenv("MYSQL_PWD", "from-the-environment")

    resolved = cloud_adapter("kubernetes").resolve_target(
        "local", load_stack("local").config, account_id=None, profile=None, db_instance=None, bucket=None,
        region=None)

    assert resolved.bucket == "gitpod-local"
    assert resolved.db_instance_id == "127.0.0.1:3306/gitpod"
    assert resolved.settings["object_storage_endpoint"] == "http://127.0.0.1:9000"
    assert resolved.settings["database_password"] == "from-the-environment"
    # The CA is encrypted in the stack file: not guessed.
    assert "database_ca_pem" not in resolved.settings
    assert resolved.settings["registry_server"] == "127.0.0.1:5000"


def test_by_hand_the_registry_credentials_are_the_operators_docker_config(monkeypatch, tmp_path, database, tls,
                                                                         registry):
    (tmp_path / "config.json").write_text(docker_config(registry.server_address, registry.username,
                                                        registry.password))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    config = load_stack("local").config
    section = {**config["gitpod-cell:kubernetes"], "registry": {"server": registry.server_address,
                                                                "insecureLoopbackHttp": True}}
    resolved = cloud_adapter("kubernetes").resolve_target(
        "local", {**config, "gitpod-cell:kubernetes": section}, account_id=None, profile=None, db_instance=None,
        bucket=None, region=None)

    [result] = cell_clients(resolved).registry_probe().check(())

    assert result.passed, result.reason


def test_restore_points_without_a_password_name_the_variable(database, tls):
    clients = cell_clients(target(database, tls, database_password=""))

    with pytest.raises(Exception, match="MYSQL_PWD"):
        clients.restore_points("p", 60)

