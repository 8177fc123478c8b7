"""Cloud SQL instances: recovery, exposure and encryption."""

from __future__ import annotations

from typing import Any

from policies.core.context import EXEMPTION_SCHEMA, PRODUCTION_SCHEMA, in_environments, is_exempt
from policies.core.props import as_int, get, is_false, truthy
from policies.core.rule import Report, configured, resource_rule
from policies.rules.tokens import SQL_INSTANCE

GCP_DEFAULT_RETAINED_BACKUPS = 7
RETENTION_SCHEMA = {
    "minimumRetainedBackups": {
        "type": "integer",
        "minimum": 1,
        "maximum": 365,
        "default": 7,
        "description": "Fewest automated backups Cloud SQL keeps.",
    },
}
_SECURE_SSL_MODES = ("ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED")


def _is_mysql(props: Any) -> bool:
    return str(get(props, "databaseVersion") or "MYSQL").upper().startswith("MYSQL")


@resource_rule(
    name="gcp-sql-backups-binary-log",
    summary="Cloud SQL takes automated backups with binary logging (MySQL) or point-in-time recovery "
    "(PostgreSQL) enabled.",
    types=[SQL_INSTANCE],
    control="CKV_GCP_14",
)
def sql_backups_binary_log(args: Any, report: Report) -> None:
    backup = get(args.props, "settings.backupConfiguration")
    if not truthy(get(backup, "enabled")):
        report("settings.backupConfiguration.enabled must be true.")
    elif _is_mysql(args.props) and not truthy(get(backup, "binaryLogEnabled")):
        report("settings.backupConfiguration.binaryLogEnabled must be true for point-in-time recovery.")
    elif not _is_mysql(args.props) and not truthy(get(backup, "pointInTimeRecoveryEnabled")):
        report("settings.backupConfiguration.pointInTimeRecoveryEnabled must be true.")


@resource_rule(
    name="gcp-sql-backup-retention",
    summary="Cloud SQL retains at least `minimumRetainedBackups` automated backups (default 7).",
    types=[SQL_INSTANCE],
    config=RETENTION_SCHEMA,
)
def sql_backup_retention(args: Any, report: Report) -> None:
    minimum = configured(args, RETENTION_SCHEMA)["minimumRetainedBackups"]
    settings = get(args.props, "settings.backupConfiguration.backupRetentionSettings")
    if str(get(settings, "retentionUnit") or "COUNT") != "COUNT":
        report(f"backupRetentionSettings.retentionUnit is {get(settings, 'retentionUnit')!r}; use COUNT.")
        return
    retained = as_int(get(settings, "retainedBackups"))
    if retained is None and minimum > GCP_DEFAULT_RETAINED_BACKUPS:
        report(f"backupRetentionSettings.retainedBackups is not set (Cloud SQL keeps "
               f"{GCP_DEFAULT_RETAINED_BACKUPS}); keep at least {minimum}.")
    elif retained is not None and retained < minimum:
        report(f"backupRetentionSettings.retainedBackups is {retained}; keep at least {minimum}.")


@resource_rule(
    name="gcp-sql-retain-backups-on-delete",
    summary="Deleting a Cloud SQL instance keeps its backups (settings.retainBackupsOnDelete).",
    types=[SQL_INSTANCE],
)
def sql_retain_backups_on_delete(args: Any, report: Report) -> None:
    if not truthy(get(args.props, "settings.retainBackupsOnDelete")):
        report("settings.retainBackupsOnDelete must be true; otherwise deleting the instance deletes its backups.")


@resource_rule(
    name="gcp-sql-deletion-protection",
    summary="Cloud SQL instances are protected from deletion both by Pulumi (deletionProtection) and by the "
    "API (settings.deletionProtectionEnabled), except in `exemptEnvironments` (default: dev).",
    types=[SQL_INSTANCE],
    config=EXEMPTION_SCHEMA,
)
def sql_deletion_protection(args: Any, report: Report) -> None:
    if is_exempt(args, configured(args, EXEMPTION_SCHEMA)["exemptEnvironments"]):
        return
    if is_false(get(args.props, "deletionProtection")):
        report("deletionProtection is false.")
    if not truthy(get(args.props, "settings.deletionProtectionEnabled")):
        report("settings.deletionProtectionEnabled must be true.")


@resource_rule(
    name="gcp-sql-regional-prod",
    summary="Production Cloud SQL instances are highly available (availabilityType REGIONAL).",
    types=[SQL_INSTANCE],
    config=PRODUCTION_SCHEMA,
)
def sql_regional_prod(args: Any, report: Report) -> None:
    if not in_environments(args, configured(args, PRODUCTION_SCHEMA)["environments"]):
        return
    availability = get(args.props, "settings.availabilityType")
    if availability != "REGIONAL":
        shown = "not set (ZONAL)" if availability is None else repr(availability)
        report(f"settings.availabilityType is {shown}; production needs 'REGIONAL'.")


@resource_rule(
    name="gcp-sql-no-public-ip",
    summary="Cloud SQL has no public IPv4 address; it is reached over private IP only.",
    types=[SQL_INSTANCE],
    control="CKV_GCP_60, CKV_GCP_11",
)
def sql_no_public_ip(args: Any, report: Report) -> None:
    if not is_false(get(args.props, "settings.ipConfiguration.ipv4Enabled")):
        report("settings.ipConfiguration.ipv4Enabled must be false (it defaults to true).")
    if not get(args.props, "settings.ipConfiguration.privateNetwork"):
        report("settings.ipConfiguration.privateNetwork is not set; attach the instance to the cell's VPC.")


@resource_rule(
    name="gcp-sql-ssl-required",
    summary="Cloud SQL accepts only TLS connections (sslMode ENCRYPTED_ONLY or "
    "TRUSTED_CLIENT_CERTIFICATE_REQUIRED).",
    types=[SQL_INSTANCE],
    control="CKV_GCP_6",
)
def sql_ssl_required(args: Any, report: Report) -> None:
    mode = get(args.props, "settings.ipConfiguration.sslMode")
    if mode not in _SECURE_SSL_MODES:
        shown = "not set" if mode is None else repr(mode)
        report(f"settings.ipConfiguration.sslMode is {shown}; use 'ENCRYPTED_ONLY'.")


@resource_rule(
    name="gcp-sql-cmek",
    summary="Cloud SQL data is encrypted with a customer-managed KMS key (encryptionKeyName).",
    types=[SQL_INSTANCE],
)
def sql_cmek(args: Any, report: Report) -> None:
    if not get(args.props, "encryptionKeyName"):
        report("encryptionKeyName is not set; encrypt with the cell's Cloud KMS key.")
