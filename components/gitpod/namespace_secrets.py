"""The Gitpod namespace and the secrets its installer config references.

Every secret value is a Pulumi secret (`pulumi.Output.secret`), written through `string_data`, so neither the
state file nor the plan shows it. What is deliberately *not* here:

- Object storage credentials on builds that reach S3 with their workloads' own identities (IRSA): the installer
  config leaves `objectStorage.s3.credentials` unset, so there is no key to store. Builds that need a static key
  get exactly one secret, `gitpod-object-storage` (`accessKeyId`, `secretAccessKey`), from the Platform's
  bucket-scoped key.
- The database CA bundle (`ca.crt`) when the Platform only hands over a URL (RDS publishes a rotating bundle too
  large to pin here): the installer Job downloads it over HTTPS and writes `gitpod-database-ca` before rendering.
  When the Platform has the bundle itself (Cloud SQL's per-instance CAs), it is written here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_random as random
from pulumi_kubernetes.core import v1 as core
from pulumi_kubernetes.meta import v1 as meta

from components.gitpod.installer_config import DATABASE_CA_SECRET, DATABASE_SECRET, REGISTRY_SECRET, STORAGE_SECRET
from components.platform import Platform

# Workspaces need privileged pods (ws-daemon mounts the host, workspaces use FUSE and user namespaces), so the
# namespace cannot enforce a stricter Pod Security level; warn and audit at `baseline` to make every
# privileged pod visible.
POD_SECURITY_LABELS = {
    "pod-security.kubernetes.io/enforce": "privileged",
    "pod-security.kubernetes.io/warn": "baseline",
    "pod-security.kubernetes.io/audit": "baseline",
}
# Gitpod's database encryption keys: AES-256 material, one primary key named `general` (installer format).
ENCRYPTION_KEY_BYTES = 32


@dataclass(frozen=True)
class NamespaceAndSecrets:
    namespace: core.Namespace
    database: core.Secret
    registry: core.Secret
    # Empty when the installer Job fetches the bundle from the Platform's URL.
    database_ca: tuple[core.Secret, ...]
    # The static storage key's secret, when the pinned build needs one.
    storage: tuple[core.Secret, ...] = ()


def encryption_keys_json(material_base64: str) -> str:
    return json.dumps([{"name": "general", "version": 1, "primary": True, "material": material_base64}])


# What `gitpod-registry` holds until the registry credential refresher (registry_credentials.py) first writes it.
EMPTY_DOCKER_CONFIG = json.dumps({"auths": {}})


def namespace_and_secrets(
    name: str, namespace: str, platform: Platform, labels: dict[str, str], parent: pulumi.Resource,
    protect: bool,
) -> NamespaceAndSecrets:
    on_cluster = pulumi.ResourceOptions(parent=parent)
    gitpod_namespace = core.Namespace(
        f"{name}-namespace",
        metadata=meta.ObjectMetaArgs(name=namespace, labels={**labels, **POD_SECURITY_LABELS}),
        opts=on_cluster,
    )
    in_namespace = pulumi.ResourceOptions(parent=parent, depends_on=[gitpod_namespace])

    # Losing the key makes every encrypted column (tokens, secrets) unreadable: never replaced, kept in prod.
    encryption_material = random.RandomBytes(
        f"{name}-db-encryption-key", length=ENCRYPTION_KEY_BYTES,
        opts=pulumi.ResourceOptions(parent=parent, protect=protect, retain_on_delete=True),
    )
    database = platform.database
    database_secret = core.Secret(
        f"{name}-database",
        metadata=meta.ObjectMetaArgs(name=DATABASE_SECRET, namespace=namespace, labels=labels),
        type="Opaque",
        string_data={
            "host": pulumi.Output.secret(database.host),
            "port": pulumi.Output.secret(pulumi.Output.from_input(database.port).apply(str)),
            "username": pulumi.Output.secret(database.username),
            "password": pulumi.Output.secret(database.password),
            "encryptionKeys": pulumi.Output.secret(encryption_material.base64.apply(encryption_keys_json)),
        },
        opts=in_namespace,
    )
    # Pulumi creates the registry secret once, with an empty docker config; from then on its data belongs to the
    # registry credential refresher, which PATCHes a fresh token in (under its own field manager) every few hours.
    # `ignore_changes` keeps the data out of every later diff and update, so a `pulumi up` never puts the empty
    # config back over a live token (pulumi-kubernetes' server-side apply also drops ignored fields another
    # manager owns). A replaced secret (new name, namespace or type) stays empty until the CronJob's next run.
    given = platform.registry.docker_config
    registry_secret = core.Secret(
        f"{name}-registry",
        metadata=meta.ObjectMetaArgs(name=REGISTRY_SECRET, namespace=namespace, labels=labels),
        type="kubernetes.io/dockerconfigjson",
        string_data={".dockerconfigjson": pulumi.Output.secret(given if given is not None else EMPTY_DOCKER_CONFIG)},
        # Credentials given in config (an existing cluster's registry) are the cell's to keep in sync.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[gitpod_namespace],
                                    ignore_changes=[] if given is not None else ["stringData", "data"]),
    )
    database_ca: tuple[core.Secret, ...] = ()
    if database.ca_bundle_pem is not None:
        database_ca = (core.Secret(
            f"{name}-database-ca",
            metadata=meta.ObjectMetaArgs(name=DATABASE_CA_SECRET, namespace=namespace, labels=labels),
            type="Opaque",
            string_data={"ca.crt": pulumi.Output.secret(database.ca_bundle_pem)},
            opts=in_namespace,
        ),)
    storage: tuple[core.Secret, ...] = ()
    key = platform.object_storage.static_key
    if key is not None:
        # The files content-service, ws-daemon and ws-manager read (installer common/storage.go: accessKeyId,
        # secretAccessKey under the mounted secret); the installer's cluster validation checks both keys.
        storage = (core.Secret(
            f"{name}-object-storage",
            metadata=meta.ObjectMetaArgs(name=STORAGE_SECRET, namespace=namespace, labels=labels),
            type="Opaque",
            string_data={"accessKeyId": pulumi.Output.secret(key.access_key_id),
                         "secretAccessKey": pulumi.Output.secret(key.secret_access_key)},
            opts=in_namespace,
        ),)
    return NamespaceAndSecrets(gitpod_namespace, database_secret, registry_secret, database_ca, storage)
