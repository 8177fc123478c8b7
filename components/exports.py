"""Stack outputs: what operators, `ops` commands and other stacks read from a cell."""

from __future__ import annotations

import pulumi

from components.config import CellConfig
from components.gitpod.installation import GitpodInstallation
from components.platform import Platform


def export_platform(config: CellConfig, platform: Platform) -> None:
    pulumi.export("cloud", platform.cloud)
    pulumi.export("environment", config.environment)
    pulumi.export("region", platform.region)
    pulumi.export("clusterName", platform.cluster.name)
    pulumi.export("databaseHost", platform.database.host)
    # For `ops preflight` / `ops drill` (`pulumi stack output --show-secrets databasePassword`); stays a secret.
    pulumi.export("databasePassword", pulumi.Output.secret(platform.database.password))
    pulumi.export("kubeconfig", platform.cluster.kubeconfig)
    pulumi.export("databaseRestoreTarget", {
        "kind": platform.database.restore_target.kind,
        "instanceId": platform.database.restore_target.instance_id,
        "region": platform.database.restore_target.region,
        "backupReplicaRegion": platform.database.restore_target.backup_replica_region,
    })
    pulumi.export("bucket", platform.object_storage.bucket)
    pulumi.export("replicaBucket", platform.object_storage.replica_bucket)
    pulumi.export("replicaRegion", platform.object_storage.replica_region)
    pulumi.export("registryUrl", platform.registry.url)
    pulumi.export("dnsZoneId", platform.dns.zone_id)
    pulumi.export("dnsNameServers", platform.dns.name_servers)


def export_dnssec(ds_record: pulumi.Input[str] | None) -> None:
    """The DS record the parent zone must publish for the cell's DNSSEC-signed zone (None when the cell adopted a
    zone it does not sign). Called by the cloud cell that signs the zone."""
    pulumi.export("dnsDsRecord", ds_record)


def export_gitpod(gitpod: GitpodInstallation) -> None:
    pulumi.export("gitpodUrl", gitpod.url)
    pulumi.export("gitpodVersion", gitpod.version)
    pulumi.export("gitpodConfigHash", gitpod.config_hash)
    # <namespace>/<name> of ws-manager-mk2's maintenance ConfigMap, which `ops maintenance` leases:
    # default/ws-manager-mk2-maintenance-mode, the location ws-manager-mk2 reads (not Gitpod's namespace).
    pulumi.export("maintenanceConfigMap", gitpod.maintenance_config_map)
    pulumi.export("installationRecord", gitpod.installation_record)
    # How each Gitpod workload that touches the cloud gets there on this build (identity, or the key it reads).
    pulumi.export("gitpodIdentities", gitpod.identities)
