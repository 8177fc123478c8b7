"""The hooks' context of a cell on an existing cluster (cloud `kubernetes`): what the program hands the adapter."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from contract.rollout import HookContext
from ops.backup.restore_point import RestorePoint
from ops.rollout.hooks import ClientSettings, hook_settings_from_args


def context(**changes: Any) -> HookContext:
    values: dict[str, Any] = {
        "stack": "local", "region": "us-east-1", "db_instance_id": "127.0.0.1:3306/gitpod", "bucket": "gitpod-local",
        "cloud": "kubernetes", "restore_target_kind": "mysql-binlog", "object_storage_kind": "s3",
        "database_host": "127.0.0.1", "database_port": 3306, "database_username": "gitpod",
        "database_password": "pw", "database_name": "gitpod", "database_ca_pem": "-----BEGIN CERTIFICATE-----",
        "object_storage_endpoint": "http://127.0.0.1:9000", "object_storage_access_key_id": "AKID",
        "object_storage_secret_access_key": "secret", "registry_docker_config": '{"auths": {}}',
        "registry_insecure_http": "true", "database_accept_mariadb": True,
    }
    return HookContext(**{**values, **changes})


def resolve(hook_context: HookContext) -> ClientSettings:
    return asyncio.run(hook_settings_from_args(hook_context, None))[1]


def test_the_adapter_gets_the_endpoints_and_secrets_it_asked_for():
    settings = resolve(context())

    target = settings.cell_target(asyncio.run(hook_settings_from_args(context(), None))[0])
    assert target.cloud == "kubernetes"
    assert target.settings["object_storage_endpoint"] == "http://127.0.0.1:9000"
    assert target.settings["object_storage_secret_access_key"] == "secret"
    assert target.settings["database_port"] == "3306"
    assert settings.database is not None
    assert settings.database.ca_pem == "-----BEGIN CERTIFICATE-----"


def test_mariadb_is_accepted_only_when_the_context_says_so():
    assert resolve(context()).database_version_requirement.accept_mariadb is True
    assert resolve(context(database_accept_mariadb=None)).database_version_requirement.accept_mariadb is False
    # Only the boolean True counts: a string from somewhere is not consent.
    assert resolve(context(database_accept_mariadb="true")).database_version_requirement.accept_mariadb is False


def test_a_context_without_the_stores_key_is_refused_naming_the_field():
    with pytest.raises(ValueError, match=r"object_storage_access_key_id resolved to nothing; a Kubernetes \(existing "
                                         r"cluster\) cell"):
        resolve(context(object_storage_access_key_id=None))


def test_a_binlog_restore_point_needs_its_position_and_only_it_has_one():
    from datetime import UTC, datetime

    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="needs a binary-log position"):
        RestorePoint(kind="binlog", db_instance_id="db", time=now, recorded_at=now)
    with pytest.raises(ValueError, match="only a binlog one has it"):
        RestorePoint(kind="pitr", db_instance_id="db", time=now, recorded_at=now, binlog_position="f:1")
    # Other kinds read and write exactly as before.
    assert "binlogPosition" not in RestorePoint(kind="pitr", db_instance_id="db", time=now,
                                                recorded_at=now).to_dict()
