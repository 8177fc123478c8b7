"""A cell on an existing cluster as ops/ finds it: everything from the stack's `gitpod-cell:kubernetes` section.

The section's secrets are encrypted in the stack file, so commands run by hand take them from the environment:
the store's key from boto3's standard chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or a profile), the database
password from MYSQL_PWD (the MySQL client's own variable), the CA from the stack file or MYSQL_CA_PEM, and the
registry's credentials from the operator's docker config ($DOCKER_CONFIG/config.json or ~/.docker/config.json). The
rollout hooks hand all of them over directly (HOOK_CONTEXT_FIELDS).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ops.common.cell_target import NAMESPACE, CellTarget, cell_settings, config_object
from ops.errors import EXIT_BAD_INPUT, OpsError

# What the offline reader (ops.common.stackfile) leaves of a value encrypted in the stack file.
_ENCRYPTED = "[secret: encrypted in the stack file]"


def _plain(value: Any) -> str | None:
    if value is None or isinstance(value, dict) or value == _ENCRYPTED:
        return None
    return str(value)


def resolve_target(stack: str, config: Mapping[str, Any], *, account_id: Callable[[], str] | None = None,
                   profile: str | None = None, db_instance: str | None = None, bucket: str | None = None,
                   region: str | None = None) -> CellTarget:
    section = config_object(config, f"{NAMESPACE}:kubernetes")
    database = section.get("database") if isinstance(section.get("database"), dict) else {}
    storage = section.get("objectStorage") if isinstance(section.get("objectStorage"), dict) else {}
    if not database or not storage:
        raise OpsError(f"stack {stack!r}: {NAMESPACE}:kubernetes needs database and objectStorage (the endpoints "
                       "of the cell's MySQL and S3-compatible store)", EXIT_BAD_INPUT)
    host, port, name = str(database.get("host")), str(database.get("port") or 3306), str(database.get("name")
                                                                                          or "gitpod")
    plain_http = bool(storage.get("insecureLoopbackHttp"))
    settings = {
        "object_storage_endpoint": f"{'http' if plain_http else 'https'}://{storage.get('endpoint')}",
        "database_host": host,
        "database_port": port,
        "database_username": str(database.get("username") or "gitpod"),
        "database_name": name,
    }
    ca_pem = _plain(database.get("caPem")) or os.environ.get("MYSQL_CA_PEM")
    if ca_pem:
        settings["database_ca_pem"] = ca_pem
    if os.environ.get("MYSQL_PWD"):
        settings["database_password"] = os.environ["MYSQL_PWD"]
    registry = section.get("registry") if isinstance(section.get("registry"), dict) else {}
    if registry.get("server"):
        settings["registry_server"] = str(registry["server"])
        settings["registry_insecure_http"] = str(bool(registry.get("insecureLoopbackHttp"))).lower()
        docker_config = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker") / "config.json"
        if docker_config.is_file():
            settings["registry_docker_config"] = docker_config.read_text()
    common = cell_settings(config)
    return CellTarget(
        stack=stack, cloud="kubernetes", region=region or str(storage.get("region") or "us-east-1"),
        replica_region=None, db_instance_id=db_instance or f"{host}:{port}/{name}",
        bucket=bucket or str(storage.get("bucket")), replica_bucket=None,
        gitpod_namespace=common.gitpod_namespace, gitpod_version=common.gitpod_version,
        installer_image=common.installer_image, cross_region_backups=False, settings=settings,
    )
