"""Cloud SQL for MySQL 8.0 for Gitpod: private IP only, TLS only, CMEK, point-in-time recovery, regional HA."""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_random as random
from pulumi_gcp import compute, servicenetworking, sql

from components.component import child, stateful
from components.config import DatabaseConfig, RestoreConfig

MYSQL_PORT = 3306
DATABASE_NAME = "gitpod"
USERNAME = "gitpod"
# Gitpod's schema relies on MySQL 5.7 timestamp semantics.
GITPOD_FLAGS: dict[str, str] = {
    "explicit_defaults_for_timestamp": "off",
}
FINAL_BACKUP_RETENTION_DAYS = 30
# Cloud SQL grows the disk itself (disk_autoresize): the provider would otherwise try to shrink it back to
# `disk_size` on the next `pulumi up`, which Cloud SQL cannot do and the provider answers by replacing the instance.
IGNORED_ALWAYS = ("clone", "settings.diskSize")
# A clone keeps its source's CMEK key (the clone request has no key field) and lands on its source's private network
# (the request names no network): differences there are facts about the source, never something to "fix" by
# replacing the restored database.
IGNORED_WHEN_RESTORED = ("encryptionKeyName", "settings.ipConfiguration.privateNetwork")


@dataclass(frozen=True)
class DatabaseArgs:
    name: str
    project: str
    region: str
    settings: DatabaseConfig
    # Where automated backups are kept when settings.cross_region_backups (None: Cloud SQL's default multi-region).
    backup_location: str | None
    transaction_log_retention_days: int
    network: pulumi.Input[str]
    # Private services access range, from network.plan_ranges (never auto-allocated: see RangePlan).
    private_services_cidr: str
    encryption_key: pulumi.Input[str]
    # The Cloud SQL service agent's grant on the key: the instance cannot be created before it.
    encryption_key_grants: Sequence[pulumi.Resource]
    protect: bool
    labels: Mapping[str, str]
    provider: pulumi.ProviderResource
    restore: RestoreConfig | None = None


def restored_username(instance_name: str) -> str:
    """The application user a restored cell creates on its clone. The clone already holds the source's `gitpod`
    user with the source's password, and Cloud SQL's users.insert (which the provider's create calls, with no
    existence check) is not documented as idempotent for an existing user, so the restored cell creates its own user
    (unique per instance, 15 characters, inside MySQL's 32) with its own random password. Cloud SQL users created
    through the API get the cloudsqlsuperuser role, so it reaches the cloned `gitpod` database."""
    return f"{USERNAME}-{hashlib.sha256(instance_name.encode()).hexdigest()[:8]}"


def point_in_time_clone(restore: RestoreConfig) -> sql.DatabaseInstanceCloneArgs:
    """Cloud SQL's point-in-time recovery is a clone of the source from its backups and binary log; without a
    time it clones the source's current state."""
    return sql.DatabaseInstanceCloneArgs(
        source_instance_name=restore.source_db_instance,
        point_in_time=None if restore.latest else restore.point_in_time,
    )


class CloudSqlDatabase(pulumi.ComponentResource):
    instance: sql.DatabaseInstance
    user: sql.User
    password: pulumi.Output[str]

    def __init__(self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gitpod-cell:gcp:CloudSqlDatabase", name, None, opts)
        settings, labels = args.settings, dict(args.labels)
        on = child(self, provider=args.provider)
        # Private services access: Cloud SQL gets addresses from a range reserved in the cell's VPC and is
        # reached over VPC peering, never over a public IP.
        private_services = ipaddress.ip_network(args.private_services_cidr)
        private_range = compute.GlobalAddress(
            f"{name}-private-services",
            name=f"{name}-private-services",
            purpose="VPC_PEERING",
            address_type="INTERNAL",
            # Explicit, from the unused quarter of network.vpcCidr: an auto-allocated block may collide with the
            # GKE control plane's /28 or the subnet's ranges.
            address=str(private_services.network_address),
            prefix_length=private_services.prefixlen,
            network=args.network,
            labels=labels,
            opts=on,
        )
        peering = servicenetworking.Connection(
            f"{name}-private-services",
            network=args.network,
            service="servicenetworking.googleapis.com",
            reserved_peering_ranges=[private_range.name],
            # Deleting the peering while other producers use it fails; leave it with the network.
            deletion_policy="ABANDON",
            opts=on,
        )
        password = random.RandomPassword(
            f"{name}-db-password", length=40, special=True, override_special="!#$%&*()-_=+[]{}<>:?",
            opts=stateful(self, args.protect),
        )
        self.password = pulumi.Output.secret(password.result)
        day, hour = settings.maintenance_day_hour
        identifier = f"{name}-db"
        restored = args.restore is not None
        self.instance = sql.DatabaseInstance(
            identifier,
            name=identifier,
            region=args.region,
            database_version="MYSQL_8_0",
            encryption_key_name=args.encryption_key,
            deletion_protection=settings.deletion_protection,
            clone=point_in_time_clone(args.restore) if args.restore else None,
            settings=sql.DatabaseInstanceSettingsArgs(
                tier=settings.instance_class,
                edition="ENTERPRISE",
                availability_type="REGIONAL" if settings.multi_az else "ZONAL",
                disk_type="PD_SSD",
                # A clone starts at its source's (possibly grown) size and cannot shrink: leave it unset there.
                disk_size=None if restored else settings.allocated_storage_gb,
                disk_autoresize=True,
                disk_autoresize_limit=settings.max_allocated_storage_gb,
                deletion_protection_enabled=settings.deletion_protection,
                retain_backups_on_delete=True,
                # Like RDS's final snapshot: deleting the instance takes one last backup first.
                final_backup_config=sql.DatabaseInstanceSettingsFinalBackupConfigArgs(
                    enabled=True, retention_days=FINAL_BACKUP_RETENTION_DAYS
                ),
                backup_configuration=sql.DatabaseInstanceSettingsBackupConfigurationArgs(
                    enabled=True,
                    binary_log_enabled=True,
                    start_time=settings.backup_window.split("-")[0],
                    location=args.backup_location,
                    transaction_log_retention_days=args.transaction_log_retention_days,
                    backup_retention_settings=(
                        sql.DatabaseInstanceSettingsBackupConfigurationBackupRetentionSettingsArgs(
                            retained_backups=settings.backup_retention_days, retention_unit="COUNT"
                        )
                    ),
                ),
                # A restored (cloned) instance stays on its source's private network: restore into a cell that
                # shares the source's VPC, or re-point the instance (docs/gcp.md, "Known limits").
                ip_configuration=sql.DatabaseInstanceSettingsIpConfigurationArgs(
                    ipv4_enabled=False,
                    private_network=args.network,
                    ssl_mode="ENCRYPTED_ONLY",
                ),
                database_flags=[sql.DatabaseInstanceSettingsDatabaseFlagArgs(name=k, value=v)
                                for k, v in GITPOD_FLAGS.items()],
                maintenance_window=sql.DatabaseInstanceSettingsMaintenanceWindowArgs(
                    day=day, hour=hour, update_track="stable"
                ),
                insights_config=sql.DatabaseInstanceSettingsInsightsConfigArgs(
                    query_insights_enabled=True, record_application_tags=False, record_client_address=False
                ),
                user_labels=labels,
            ),
            # The clone source only matters at creation: dropping `gitpod-cell:restore` must never replace it.
            opts=stateful(self, args.protect, provider=args.provider,
                          depends_on=[peering, *args.encryption_key_grants],
                          ignore_changes=[*IGNORED_ALWAYS, *(IGNORED_WHEN_RESTORED if restored else ())]),
        )
        self.user = sql.User(
            f"{name}-db-user",
            name=restored_username(identifier) if restored else USERNAME,
            instance=self.instance.name,
            host="%",
            password=self.password,
            opts=on,
        )
        # A clone already holds the `gitpod` database (and the source's `gitpod` user, left as it is: docs/gcp.md).
        if not restored:
            sql.Database(
                f"{name}-db-gitpod",
                name=DATABASE_NAME,
                instance=self.instance.name,
                charset="utf8mb4",
                collation="utf8mb4_general_ci",
                # Dropping the schema is never something a stack change should do.
                deletion_policy="ABANDON",
                opts=stateful(self, args.protect, provider=args.provider),
            )
        self.register_outputs(
            {"private_ip_address": self.instance.private_ip_address, "connection_name": self.instance.connection_name}
        )
