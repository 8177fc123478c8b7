"""RDS MySQL 8.0 for Gitpod: private, encrypted, TLS-only, point-in-time recovery, backups copied cross-region."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_random as random
from pulumi_aws import ec2, iam, rds, vpc

from components.aws.key_policies import service_key_policy
from components.aws.kms import encryption_key
from components.aws.logs import RDS_LOG_EXPORTS, encrypted_log_group, rds_export_group
from components.aws.policy_documents import service_trust
from components.component import child, stateful
from components.config import DatabaseConfig, RestoreConfig

MYSQL_PORT = 3306
# Gitpod's schema relies on MySQL 5.7 timestamp semantics; TLS is enforced server-side, not only by clients.
GITPOD_PARAMETERS: dict[str, str] = {
    "explicit_defaults_for_timestamp": "0",
    "require_secure_transport": "1",
    "character_set_server": "utf8mb4",
    "collation_server": "utf8mb4_general_ci",
}
LOG_EXPORTS: tuple[str, ...] = RDS_LOG_EXPORTS
ENHANCED_MONITORING_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
RDS_CA_BUNDLE_URL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"
DATABASE_NAME = "gitpod"
MASTER_USERNAME = "gitpod"
# Inputs that only matter when the instance is created; a later difference must never replace (and so empty) it.
# - snapshotIdentifier, restoreToPointInTime: where the data came from; dropping `gitpod-cell:restore` later must
#   not replace the restored database.
# - kmsKeyId (replaces on change) and performanceInsightsKmsKeyId: RestoreDBInstanceToPointInTime takes no KMS key,
#   so a restored instance keeps the source's key and would differ from this cell's key on every run. Ignored
#   always, not only while restoring: the restore section is dropped after the restore, and RDS cannot re-key an
#   instance in place anyway, so the key an instance was created with is the one it keeps (a new instance still
#   gets this cell's key, and storage stays encrypted).
CREATION_ONLY_INPUTS: tuple[str, ...] = ("snapshotIdentifier", "restoreToPointInTime", "kmsKeyId",
                                         "performanceInsightsKmsKeyId")


@dataclass(frozen=True)
class DatabaseArgs:
    name: str
    settings: DatabaseConfig
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    client_security_group_id: pulumi.Input[str]
    replica_provider: pulumi.ProviderResource
    protect: bool
    tags: Mapping[str, str]
    account_id: pulumi.Input[str]
    region: str
    replica_region: str
    # The primary region's CloudWatch Logs key and retention, for the log groups RDS exports to.
    log_key_arn: pulumi.Input[str]
    log_retention_days: int
    restore: RestoreConfig | None = None


def point_in_time_restore(restore: RestoreConfig) -> rds.InstanceRestoreToPointInTimeArgs:
    """RDS creates the instance from the source's automated backups (its own region's, or their replica)."""
    return rds.InstanceRestoreToPointInTimeArgs(
        source_db_instance_identifier=None if restore.source_automated_backups_arn else restore.source_db_instance,
        source_db_instance_automated_backups_arn=restore.source_automated_backups_arn,
        use_latest_restorable_time=True if restore.latest else None,
        restore_time=None if restore.latest else restore.point_in_time,
    )


class MysqlDatabase(pulumi.ComponentResource):
    instance: rds.Instance
    password: pulumi.Output[str]

    def __init__(self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gitpod-cell:aws:MysqlDatabase", name, None, opts)
        settings, tags = args.settings, dict(args.tags)
        account = pulumi.Output.from_input(args.account_id)
        key = encryption_key(f"{name}-db", f"RDS storage and Performance Insights for {name}", self, tags,
                             args.protect, policy=account.apply(lambda a: service_key_policy(a, "rds", args.region)))
        subnet_group = rds.SubnetGroup(
            f"{name}-db", subnet_ids=list(args.subnet_ids), tags=tags, opts=child(self)
        )
        security_group = ec2.SecurityGroup(
            f"{name}-db",
            vpc_id=args.vpc_id,
            description=f"MySQL for {name}: reachable only from the cluster",
            tags={**tags, "Name": f"{name}-db"},
            opts=child(self),
        )
        vpc.SecurityGroupIngressRule(
            f"{name}-db-from-cluster",
            security_group_id=security_group.id,
            referenced_security_group_id=args.client_security_group_id,
            ip_protocol="tcp",
            from_port=MYSQL_PORT,
            to_port=MYSQL_PORT,
            description="MySQL from EKS nodes and pods",
            tags=tags,
            opts=child(self),
        )
        parameters = rds.ParameterGroup(
            f"{name}-mysql80",
            family="mysql8.0",
            description="Gitpod: MySQL 5.7 timestamp defaults, TLS required, utf8mb4",
            parameters=[rds.ParameterGroupParameterArgs(name=k, value=v) for k, v in GITPOD_PARAMETERS.items()],
            tags=tags,
            opts=child(self),
        )
        # RDS rejects '/', '@', '"' and spaces in master passwords.
        password = random.RandomPassword(
            f"{name}-db-password", length=40, special=True, override_special="!#$%&*()-_=+[]{}<>:?",
            opts=stateful(self, args.protect),
        )
        self.password = pulumi.Output.secret(password.result)
        identifier = f"{name}-db"
        # Created before the instance, so RDS exports into encrypted groups with a retention (it would otherwise
        # create them itself: unencrypted, kept forever).
        export_groups = [
            encrypted_log_group(f"{identifier}-{log}-logs", rds_export_group(identifier, log),
                                args.log_retention_days, args.log_key_arn, tags, self)
            for log in LOG_EXPORTS
        ]
        # Enhanced monitoring: OS metrics every `monitoring_interval` seconds, sent by RDS as this role.
        monitoring_role = iam.Role(
            f"{identifier}-monitoring",
            assume_role_policy=account.apply(lambda a: service_trust("monitoring.rds.amazonaws.com", a)),
            tags=tags,
            opts=child(self),
        )
        monitoring_policy = iam.RolePolicyAttachment(
            f"{identifier}-monitoring", role=monitoring_role.name, policy_arn=ENHANCED_MONITORING_POLICY,
            opts=child(self),
        )
        self.instance = rds.Instance(
            identifier,
            identifier=identifier,
            engine="mysql",
            engine_version=settings.engine_version,
            instance_class=settings.instance_class,
            allocated_storage=settings.allocated_storage_gb,
            max_allocated_storage=settings.max_allocated_storage_gb,
            storage_type="gp3",
            storage_encrypted=True,
            kms_key_id=key.arn,
            # A restored instance brings its schema and users; the password below is then reset to ours.
            db_name=None if args.restore else DATABASE_NAME,
            restore_to_point_in_time=point_in_time_restore(args.restore) if args.restore else None,
            username=MASTER_USERNAME,
            password=self.password,
            port=MYSQL_PORT,
            multi_az=settings.multi_az,
            db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[security_group.id],
            publicly_accessible=False,
            parameter_group_name=parameters.name,
            backup_retention_period=settings.backup_retention_days,
            backup_window=settings.backup_window,
            maintenance_window=settings.maintenance_window,
            delete_automated_backups=False,
            deletion_protection=settings.deletion_protection,
            skip_final_snapshot=False,
            final_snapshot_identifier=f"{identifier}-final",
            copy_tags_to_snapshot=True,
            iam_database_authentication_enabled=True,
            performance_insights_enabled=True,
            performance_insights_kms_key_id=key.arn,
            performance_insights_retention_period=7,
            enabled_cloudwatch_logs_exports=list(LOG_EXPORTS),
            monitoring_interval=settings.monitoring_interval,
            monitoring_role_arn=monitoring_role.arn,
            auto_minor_version_upgrade=True,
            allow_major_version_upgrade=False,
            ca_cert_identifier="rds-ca-rsa2048-g1",
            apply_immediately=False,
            tags={**tags, "Name": identifier},
            opts=stateful(self, args.protect, depends_on=[*export_groups, monitoring_policy],
                          ignore_changes=list(CREATION_ONLY_INPUTS)),
        )
        if settings.cross_region_backups:
            replica_key = encryption_key(
                f"{name}-db-backups", f"Cross-region RDS backup copies for {name}", self, tags, args.protect,
                provider=args.replica_provider,
                policy=account.apply(lambda a: service_key_policy(a, "rds", args.replica_region)),
            )
            rds.InstanceAutomatedBackupsReplication(
                f"{name}-db-backups",
                source_db_instance_arn=self.instance.arn,
                retention_period=settings.backup_retention_days,
                kms_key_id=replica_key.arn,
                opts=stateful(self, args.protect, provider=args.replica_provider),
            )
        self.register_outputs(
            {"address": self.instance.address, "port": self.instance.port, "identifier": self.instance.identifier}
        )
