"""RDS instances: recovery (backups, snapshots, multi-AZ), exposure and encryption."""

from __future__ import annotations

from typing import Any

from policies.core.context import EXEMPTION_SCHEMA, PRODUCTION_SCHEMA, in_environments, is_exempt
from policies.core.props import as_int, get, truthy
from policies.core.rule import Level, Report, configured, resource_rule
from policies.rules.tokens import RDS_INSTANCE

BACKUP_SCHEMA = {
    "minimumDays": {
        "type": "integer",
        "minimum": 1,
        "maximum": 35,
        "default": 7,
        "description": "Fewest days of automated backups (point-in-time recovery window).",
    },
}
ENCRYPTION_SCHEMA = {
    "requireCustomerManagedKey": {
        "type": "boolean",
        "default": True,
        "description": "Also require kmsKeyId (a customer-managed KMS key) instead of the AWS-managed key.",
    },
}


@resource_rule(
    name="aws-rds-backup-retention",
    summary="RDS instances keep automated backups (point-in-time recovery) for at least `minimumDays` days "
    "(default 7).",
    types=[RDS_INSTANCE],
    control="CKV_AWS_133, AWS FSBP RDS.11",
    config=BACKUP_SCHEMA,
)
def rds_backup_retention(args: Any, report: Report) -> None:
    minimum = configured(args, BACKUP_SCHEMA)["minimumDays"]
    raw = get(args.props, "backupRetentionPeriod")
    days = as_int(raw)
    if days is None:
        report(f"backupRetentionPeriod is not set; keep automated backups for at least {minimum} days.")
    elif days < minimum:
        report(f"backupRetentionPeriod is {days}; keep automated backups for at least {minimum} days.")


@resource_rule(
    name="aws-rds-deletion-protection",
    summary="RDS instances have deletion protection enabled, except in `exemptEnvironments` (default: dev).",
    types=[RDS_INSTANCE],
    control="CKV_AWS_293, AWS FSBP RDS.8",
    config=EXEMPTION_SCHEMA,
)
def rds_deletion_protection(args: Any, report: Report) -> None:
    if is_exempt(args, configured(args, EXEMPTION_SCHEMA)["exemptEnvironments"]):
        return
    if not truthy(get(args.props, "deletionProtection")):
        report("deletionProtection must be true.")


@resource_rule(
    name="aws-rds-final-snapshot",
    summary="Deleting an RDS instance takes a final snapshot: skipFinalSnapshot is not true and "
    "finalSnapshotIdentifier is set.",
    types=[RDS_INSTANCE],
)
def rds_final_snapshot(args: Any, report: Report) -> None:
    if truthy(get(args.props, "skipFinalSnapshot")):
        report("skipFinalSnapshot is true; a deleted database would leave no final snapshot.")
    elif not get(args.props, "finalSnapshotIdentifier"):
        report("finalSnapshotIdentifier is not set; AWS refuses to delete the instance without it, or a "
               "replacement loses the final snapshot.")


@resource_rule(
    name="aws-rds-copy-tags-to-snapshot",
    summary="RDS instances copy their tags to snapshots, so restore points stay attributable to their cell.",
    types=[RDS_INSTANCE],
    control="CKV2_AWS_60, AWS FSBP RDS.17",
)
def rds_copy_tags_to_snapshot(args: Any, report: Report) -> None:
    if not truthy(get(args.props, "copyTagsToSnapshot")):
        report("copyTagsToSnapshot must be true.")


@resource_rule(
    name="aws-rds-multi-az-prod",
    summary="Production RDS instances are Multi-AZ.",
    types=[RDS_INSTANCE],
    control="CKV_AWS_157, AWS FSBP RDS.5",
    config=PRODUCTION_SCHEMA,
)
def rds_multi_az_prod(args: Any, report: Report) -> None:
    if in_environments(args, configured(args, PRODUCTION_SCHEMA)["environments"]) and not truthy(
        get(args.props, "multiAz")
    ):
        report("multiAz must be true in production.")


@resource_rule(
    name="aws-rds-not-public",
    summary="RDS instances are not publicly accessible.",
    types=[RDS_INSTANCE],
    control="CKV_AWS_17, AWS FSBP RDS.2",
)
def rds_not_public(args: Any, report: Report) -> None:
    if truthy(get(args.props, "publiclyAccessible")):
        report("publiclyAccessible is true; the database must only be reachable from inside the VPC.")


@resource_rule(
    name="aws-rds-storage-encrypted",
    summary="RDS storage is encrypted at rest, with a customer-managed KMS key unless configured otherwise.",
    types=[RDS_INSTANCE],
    control="CKV_AWS_16, AWS FSBP RDS.3",
    config=ENCRYPTION_SCHEMA,
)
def rds_storage_encrypted(args: Any, report: Report) -> None:
    if not truthy(get(args.props, "storageEncrypted")):
        report("storageEncrypted must be true.")
    elif configured(args, ENCRYPTION_SCHEMA)["requireCustomerManagedKey"] and not get(args.props, "kmsKeyId"):
        report("kmsKeyId is not set; encrypt with the cell's customer-managed KMS key.")


@resource_rule(
    name="aws-rds-iam-authentication",
    summary="RDS instances accept IAM database authentication, so operators need no shared password.",
    types=[RDS_INSTANCE],
    control="CKV_AWS_161, AWS FSBP RDS.10",
    level=Level.ADVISORY,
    why_advisory="Gitpod itself authenticates with a generated password; IAM auth only hardens operator access.",
)
def rds_iam_authentication(args: Any, report: Report) -> None:
    if not truthy(get(args.props, "iamDatabaseAuthenticationEnabled")):
        report("iamDatabaseAuthenticationEnabled should be true.")
