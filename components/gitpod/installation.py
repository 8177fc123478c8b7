"""GitpodInstallation: Gitpod on any cell, from the `Platform` contract and `CellConfig` alone.

Everything is created on the Platform's Kubernetes provider: cert-manager, external-dns and (where the cloud
needs it) cluster-autoscaler, the Let's Encrypt issuer and certificate, the Gitpod namespace and secrets, and the
installer Job with its rollout hooks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components.config import CellConfig
from components.gitpod.cert_manager import cert_manager
from components.gitpod.certificates import certificates, existing_issuer_certificates
from components.gitpod.cluster_autoscaler import cluster_autoscaler
from components.gitpod.external_dns import external_dns
from components.gitpod.hooks import rollout_binding, rollout_hooks
from components.gitpod.identities import gitpod_identities, identity_annotations, identity_summary
from components.gitpod.installer import InstallerArgs, apply_settings, installer, storage_key_version
from components.gitpod.installer_config import (
    REGISTRY_SECRET,
    InstallerInputs,
    config_hash,
    garbage_collection_summary,
    render_installer_config,
    requires_experimental,
    static_storage_key_warning,
)
from components.gitpod.maintenance_keeper import MaintenanceKeeper, MaintenanceKeeperArgs
from components.gitpod.namespace_secrets import namespace_and_secrets
from components.gitpod.registry_credentials import RegistryCredentialRefresher, RegistryCredentialsArgs
from components.platform import Platform, WorkloadIdentity
from contract.cluster import (
    INSTALLATION_CONFIG_MAP,
    MK2_MAINTENANCE_CONFIG_MAP,
    MK2_MAINTENANCE_NAMESPACE,
    PART_OF_LABELS,
)
from contract.rollout import HookContext


@dataclass(frozen=True)
class GitpodInstallationArgs:
    platform: Platform
    config: CellConfig


class GitpodInstallation(pulumi.ComponentResource):
    url: str
    version: str
    config_hash: pulumi.Output[str]
    config_yaml: pulumi.Output[str]
    maintenance_config_map: str
    installation_record: str
    identities: pulumi.Output[dict[str, str]]

    def __init__(self, name: str, args: GitpodInstallationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        platform, config = args.platform, args.config
        # Children inherit the cluster's provider from here: nothing can land on an ambient kubeconfig's cluster.
        kubernetes = platform.cluster.kubernetes_provider
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(providers=[kubernetes]))
        super().__init__("gitpod-cell:gitpod:GitpodInstallation", name, None, opts)
        gitpod = config.gitpod
        namespace = gitpod.namespace
        labels = {**PART_OF_LABELS, "gitpod-cell/stack": config.stack}
        opts_here = pulumi.ResourceOptions(parent=self)
        # Anything that schedules pods waits for the nodes and add-ons the Platform names: a Helm release waits
        # for its pods and a Job for completion, and neither can happen on a cluster with no nodes yet.
        cluster_ready = list(platform.cluster.ready)
        on_nodes = pulumi.ResourceOptions(parent=self, depends_on=cluster_ready)

        # An existing cluster brings its own cert-manager and has no zone for external-dns to write to.
        existing_issuer = platform.cluster.existing_cluster_issuer
        tls_ready: list[pulumi.Resource] = []
        if existing_issuer is None:
            tls_ready.append(cert_manager(name, _identity(platform, "cert-manager"), on_nodes))
        dns_project = config.gcp_project if platform.dns.kind == "clouddns" else None
        if platform.dns.kind != "none":
            external_dns(name, _identity(platform, "external-dns"), platform.dns, config.stack, platform.region,
                         dns_project, on_nodes)
        if platform.cluster.needs_cluster_autoscaler:
            cluster_autoscaler(name, _identity(platform, "cluster-autoscaler"), platform.cluster,
                               config.cluster.kubernetes_version, platform.region, on_nodes)

        secrets = namespace_and_secrets(name, namespace, platform, labels, self, config.protect)
        services = platform.cluster.node_pool_labels.get("services", {})
        # The installer waits for the first refresh: Gitpod starts with a working registry token.
        registry_ready: list[pulumi.Resource] = []
        minter = platform.registry.credential_minter
        if minter is not None:
            refresher = RegistryCredentialRefresher(
                f"{name}-registry-credentials",
                RegistryCredentialsArgs(
                    namespace=namespace,
                    secret_name=REGISTRY_SECRET,
                    registry_server=platform.registry.server,
                    minter=minter,
                    node_selector=services,
                    labels=labels,
                    depends_on=[secrets.namespace, secrets.registry],
                    cluster_ready=cluster_ready,
                ),
                opts_here,
            )
            registry_ready.append(refresher.initial_job)
        tls_opts = pulumi.ResourceOptions(parent=self, depends_on=[*tls_ready, secrets.namespace])
        if existing_issuer is not None:
            tls = existing_issuer_certificates(name, existing_issuer, config.domain, namespace, tls_opts)
        elif gitpod.letsencrypt is None:
            raise ValueError("gitpod-cell:gitpod.letsencrypt is required where the cell creates its ACME issuer")
        else:
            tls = certificates(name, gitpod.letsencrypt, platform.dns, platform.region, dns_project, namespace,
                               tls_opts)

        build = gitpod.build
        identities = gitpod_identities(platform, build)
        self.config_yaml = _rendered_config(platform, config)
        self.config_hash = self.config_yaml.apply(config_hash)
        self.identities = identity_summary(platform, build, identities)
        key = platform.object_storage.static_key
        # The key's version is a digest of its id: it restarts the storage users on rotation and reveals nothing.
        key_version = (pulumi.Output.unsecret(key.access_key_id.apply(storage_key_version)) if key is not None
                       else pulumi.Output.from_input(""))
        settings = pulumi.Output.all(identity_annotations(identities), key_version).apply(
            lambda values: apply_settings(build, values[0], values[1]))
        keeper: list[pulumi.Resource] = []
        if build.maintenance == "scale-ws-manager":
            keeper.append(MaintenanceKeeper(
                f"{name}-maintenance-keeper",
                MaintenanceKeeperArgs(namespace, build.workspace_manager, gitpod.toolbox_image, services,
                                      [secrets.namespace]),
                opts_here,
            ).cron_job)
        database = platform.database
        hooks = rollout_hooks(HookContext(
            stack=config.stack,
            region=database.restore_target.region,
            db_instance_id=database.restore_target.instance_id,
            bucket=platform.object_storage.bucket,
            gitpod_version=gitpod.version,
            config_hash=self.config_hash,
            installer_config_yaml=self.config_yaml,
            namespace=namespace,
            # The lease lives where ws-manager-mk2 reads it, whatever Gitpod's namespace is; on builds without it
            # the maintenance keeper reads the same lease.
            maintenance_namespace=MK2_MAINTENANCE_NAMESPACE,
            maintenance_mechanism=build.maintenance,
            workspace_manager=build.workspace_manager,
            lease_minutes=gitpod.maintenance_lease_minutes,
            health_timeout_seconds=gitpod.health_gate_minutes * 60 if gitpod.health_gate_minutes else None,
            kubeconfig=platform.cluster.kubeconfig,
            cloud=platform.cloud,
            restore_target_kind=database.restore_target.kind,
            object_storage_kind=platform.object_storage.kind,
            gcp_project=platform.object_storage.project,
            # Preflight checks the database the way Gitpod's installer did: over TLS, as the Gitpod user.
            database_host=database.host,
            database_port=database.port,
            database_username=database.username,
            database_password=database.password,
            database_name=database.database_name,
            database_ca_pem=database.ca_bundle_pem,
            database_ca_url=database.ca_bundle_url,
            **_platform_hook_settings(platform, config),
        ))
        lifecycle = gitpod.workspace
        setup = installer(
            name,
            InstallerArgs(
                namespace=namespace,
                build=build,
                installer_image=gitpod.installer_image,
                toolbox_image=gitpod.toolbox_image,
                config_yaml=self.config_yaml,
                config_hash=self.config_hash,
                apply_settings=settings,
                use_experimental_config=requires_experimental(config),
                # With the bundle in hand (Cloud SQL) Pulumi writes the CA secret; otherwise the Job fetches it.
                database_ca_url="" if platform.database.ca_bundle_pem is not None else platform.database.ca_bundle_url,
                node_selector=services,
                record={
                    # Which cell this is: `ops` commands and the hooks refuse to act on a cluster of another stack.
                    "cell": config.stack,
                    "timeoutDefault": lifecycle.timeout_default,
                    "timeoutExtended": lifecycle.timeout_extended,
                    "timeoutAfterClose": lifecycle.timeout_after_close,
                    "maxLifetime": lifecycle.max_lifetime,
                    "maintenanceLeaseMinutes": str(gitpod.maintenance_lease_minutes),
                    "garbageCollection": garbage_collection_summary(config),
                },
                hooks=rollout_binding(hooks),
                depends_on=[secrets.namespace, secrets.database, secrets.registry, *secrets.database_ca,
                            *secrets.storage, tls.certificate, *registry_ready, *keeper],
                cluster_ready=cluster_ready,
            ),
            self,
        )

        self.url = f"https://{config.domain}"
        self.version = gitpod.version
        # ws-manager-mk2 (or the maintenance keeper) reads the lease from this fixed location.
        self.maintenance_config_map = f"{MK2_MAINTENANCE_NAMESPACE}/{MK2_MAINTENANCE_CONFIG_MAP}"
        self.installation_record = f"{namespace}/{INSTALLATION_CONFIG_MAP}"
        if not lifecycle.garbage_collection.enabled:
            pulumi.log.warn(f"workspace garbage collection is OFF for {config.stack}: "
                            f"{garbage_collection_summary(config)}", resource=self)
        if key is not None:
            pulumi.log.warn(f"{config.stack}: {static_storage_key_warning(config, platform.cloud)}", resource=self)
        self.register_outputs({
            "url": self.url,
            "version": self.version,
            "config_hash": self.config_hash,
            "maintenance_config_map": self.maintenance_config_map,
            "installation_record": self.installation_record,
            "identities": self.identities,
            "installer_job": setup.job.metadata.apply(lambda m: m.name if m else None),
        })


def _identity(platform: Platform, workload: str) -> WorkloadIdentity:
    try:
        return platform.identities[workload]
    except KeyError:
        raise ValueError(f"the Platform has no {workload!r} identity; identities: "
                         f"{', '.join(sorted(platform.identities))}") from None


def _platform_hook_settings(platform: Platform, config: CellConfig) -> dict[str, Any]:
    """What the rollout hooks of a cell on an existing cluster need beyond every cell's own: the S3-compatible
    store's endpoint and key (there is no cloud credential chain to ask), and whether MariaDB may stand in for
    MySQL (the local e2e stack only)."""
    section = config.kubernetes
    key = platform.object_storage.static_key
    if platform.cloud != "kubernetes" or section is None or key is None:
        return {}
    return {
        "object_storage_endpoint": section.object_storage.url,
        "object_storage_access_key_id": key.access_key_id,
        "object_storage_secret_access_key": key.secret_access_key,
        "registry_docker_config": platform.registry.docker_config,
        "registry_insecure_http": str(section.registry.insecure_loopback_http).lower(),
        "database_accept_mariadb": section.database.accept_maria_db,
    }


def _rendered_config(platform: Platform, config: CellConfig) -> pulumi.Output[str]:
    storage = platform.object_storage

    def render(values: list[Any]) -> str:
        bucket, registry_url = values
        inputs = InstallerInputs(
            build=config.gitpod.build,
            region=storage.region,
            bucket=bucket,
            s3_endpoint=storage.s3_endpoint,
            registry_url=registry_url,
            static_storage_key=storage.static_key is not None,
        )
        return render_installer_config(inputs, config)

    return pulumi.Output.all(storage.bucket, platform.registry.url).apply(render)
