"""KubernetesCell: a `Platform` from a cluster, a database, an object store and a registry that already exist.

Nothing is created in a cloud. The cell holds one explicit kubernetes provider built from the configured
kubeconfig (a Pulumi secret, or a file), never the ambient ~/.kube/config, and hands the Gitpod layer:

- the database as configured (host, port, user, database name, the CA PEM; the password a Pulumi secret), whose
  restore point is the server's binary-log position (ops.clouds.kubernetes);
- the S3-compatible store's bucket, endpoint and its key (both Pulumi secrets), for builds that read object
  storage with a static key (release-2022.11.x; CellConfig refuses the others);
- the registry with a docker config the cell writes itself from the configured credentials (no minter);
- no DNS zone and no cloud identities: external-dns and the cluster-autoscaler are not installed, cert-manager is
  the cluster's own, and the certificate comes from its ClusterIssuer `kubernetes.clusterIssuer`.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from components.config import CellConfig
from components.config.kubernetes import KEY, KubernetesConfig
from components.platform import (
    Cluster,
    Database,
    DnsZone,
    ObjectStorage,
    Platform,
    Registry,
    RestoreTarget,
    StaticStorageKey,
    WorkloadIdentity,
)
from contract.cluster import WORKLOAD_LABELS
from contract.identities import gitpod_accounts

NO_CLOUD_IDENTITY = "no cloud identity (an existing cluster): the Secrets the cell writes"


def docker_config(server: str, username: str, password: str) -> str:
    """The `.dockerconfigjson` Gitpod's image-builder and registry-facade read for `server`."""
    auth = base64.b64encode(f"{username}:{password}".encode()).decode()
    return json.dumps({"auths": {server: {"username": username, "password": password, "auth": auth}}},
                      sort_keys=True)


def read_kubeconfig(path: str, project_dir: Path | None = None) -> str:
    """A kubeconfig file, relative to the project directory; a one-line error naming the key when unreadable."""
    where = Path(path) if Path(path).is_absolute() else (project_dir or Path.cwd()) / path
    try:
        return where.read_text()
    except OSError as error:
        raise ValueError(f"{KEY}.kubeconfigPath: cannot read {where}: {error.strerror}; give the path of the "
                         "cluster's kubeconfig, or set kubernetes.kubeconfig as a Pulumi secret") from None


def database_instance_id(section: KubernetesConfig) -> str:
    """How ops/ names the database of an existing cluster: `<host>:<port>/<database>`."""
    database = section.database
    return f"{database.host}:{database.port}/{database.name}"


def _secret(value: str) -> pulumi.Output[str]:
    return pulumi.Output.secret(value)


class KubernetesCell(pulumi.ComponentResource):
    platform: Platform

    def __init__(self, config: CellConfig, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gitpod-cell:kubernetes:KubernetesCell", config.name_prefix, None, opts)
        section = config.kubernetes
        if section is None:
            raise ValueError(f"{KEY} is required when gitpod-cell:cloud is kubernetes")
        prefix = config.name_prefix
        kubeconfig = (_secret(section.kubeconfig.get_secret_value()) if section.kubeconfig is not None
                      else _secret(read_kubeconfig(str(section.kubeconfig_path))))
        provider = k8s.Provider(
            f"{prefix}-cluster",
            kubeconfig=kubeconfig,
            context=section.context,
            # Never fall back to whatever cluster the environment points at, and never forget objects on a cluster
            # that cannot be reached.
            delete_unreachable=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        database, storage, registry = section.database, section.object_storage, section.registry
        password = _secret(database.password.get_secret_value())
        build = config.gitpod.build
        identities = {
            workload: WorkloadIdentity(account.namespace or config.gitpod.namespace, account.service_account,
                                       pulumi.Output.from_input({}), NO_CLOUD_IDENTITY)
            for workload, account in gitpod_accounts(build).items()
        }
        self.platform = Platform(
            cloud="kubernetes",
            region=storage.region,
            cluster=Cluster(
                name=pulumi.Output.from_input(section.context or config.stack),
                kubernetes_provider=provider,
                kubeconfig=kubeconfig,
                # The nodes are the cluster operator's; Gitpod schedules by these labels, which preflight checks.
                node_pool_labels=WORKLOAD_LABELS,
                needs_cluster_autoscaler=False,
                existing_cluster_issuer=section.cluster_issuer,
            ),
            database=Database(
                host=pulumi.Output.from_input(database.host),
                port=pulumi.Output.from_input(database.port),
                username=pulumi.Output.from_input(database.username),
                password=password,
                database_name=database.name,
                ca_bundle_url="",
                ca_bundle_pem=_secret(database.ca_pem.get_secret_value()),
                restore_target=RestoreTarget(
                    kind="mysql-binlog",
                    instance_id=pulumi.Output.from_input(database_instance_id(section)),
                    region=storage.region,
                    backup_replica_region=None,
                ),
            ),
            object_storage=ObjectStorage(
                kind="s3",
                bucket=pulumi.Output.from_input(storage.bucket),
                region=storage.region,
                replica_bucket=None,
                replica_region=None,
                s3_endpoint=storage.endpoint,
                static_key=StaticStorageKey(
                    access_key_id=_secret(storage.access_key_id.get_secret_value()),
                    secret_access_key=_secret(storage.secret_access_key.get_secret_value()),
                    holder=pulumi.Output.from_input(f"the key of {storage.url}/{storage.bucket} (given in config)"),
                ),
            ),
            registry=Registry(
                kind="docker-registry",
                url=pulumi.Output.from_input(registry.push_url),
                server=pulumi.Output.from_input(registry.server),
                docker_config=_secret(docker_config(registry.server, registry.username,
                                                    registry.password.get_secret_value())),
            ),
            dns=DnsZone(kind="none", zone_id=pulumi.Output.from_input(""), domain=config.domain,
                        name_servers=pulumi.Output.from_input([])),
            identities=identities,
        )
        self.register_outputs({"region": storage.region, "bucket": storage.bucket, "registry": registry.push_url})
