"""Rules only an AWS cell has: regions, EC2 instance types, RDS classes and windows, CloudWatch retention."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from components.config.section import NAMESPACE

if TYPE_CHECKING:
    from components.config.model import CellConfig, DatabaseConfig

AWS_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
# The retention periods CloudWatch Logs accepts (PutRetentionPolicy rejects any other value).
CLOUDWATCH_RETENTION_DAYS: tuple[int, ...] = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096,
                                             1827, 2192, 2557, 2922, 3288, 3653)
# RDS enhanced monitoring intervals, in seconds (0, off, is not offered: the cell always monitors).
RDS_MONITORING_INTERVALS: tuple[int, ...] = (1, 5, 10, 15, 30, 60)
# Prod keeps CloudWatch logs at least a year (CIS/NIST AU-11; checkov CKV_AWS_338).
PROD_MIN_LOG_RETENTION_DAYS = 365
# RDS instance classes without Performance Insights (the cell always enables it, so RDS would refuse them).
_RDS_CLASSES_WITHOUT_PI = re.compile(r"^db\.(t2\.[a-z0-9]+|t3\.(micro|small)|t4g\.(micro|small))$")
# RDS: the backup and maintenance windows each last at least this long.
MIN_RDS_WINDOW_MINUTES = 30


def instance_type_problem(instance_type: str) -> str | None:
    if not re.match(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$", instance_type):
        return f"{instance_type!r} is not an instance type such as m6i.2xlarge"
    if is_arm64_instance_type(instance_type):
        return (f"{instance_type!r} is an Arm64 (Graviton) instance type; node groups run the "
                "AL2023_x86_64_STANDARD AMI, so list x86_64 types such as m6i.2xlarge or m7a.2xlarge")
    return None


def is_arm64_instance_type(instance_type: str) -> bool:
    """EC2 names a family `<class><generation><attributes>`; `g` among the attributes is AWS Graviton (m7g, c6gn,
    r8g, t4g, m6gd, im4gn, is4gen, x8g, hpc7g), and a1 is the first Graviton. A GPU class `g` (g5, g4dn) is x86."""
    family = instance_type.split(".", 1)[0]
    match = re.match(r"^([a-z]+)(\d+)([a-z-]*)$", family)
    if match is None:
        return False
    kind, _, attributes = match.groups()
    return kind == "a" or "g" in attributes


def rds_instance_class_problem(value: str) -> str | None:
    if not re.match(r"^db\.[a-z0-9]+\.[a-z0-9]+$", value):
        return f"{value!r} is not an RDS instance class such as db.r6g.large"
    if _RDS_CLASSES_WITHOUT_PI.match(value):
        return (f"{value!r} has no Performance Insights, which the cell always enables; use "
                "db.t4g.medium or larger (or db.t3.medium or larger)")
    return None


def aws_consistency_issues(config: CellConfig) -> list[tuple[str, str]]:
    database = config.database
    issues: list[tuple[str, str]] = []
    # RDS storage autoscaling: the ceiling must be at least 10% above the allocated storage.
    minimum = (database.allocated_storage_gb * 11 + 9) // 10  # ceil(1.1 x) in integers (100 * 1.1 > 110)
    if database.max_allocated_storage_gb < minimum:
        issues.append((f"{NAMESPACE}:database.maxAllocatedStorageGb", f"got {database.max_allocated_storage_gb}; "
                       f"accepted: at least {minimum} (10% above database.allocatedStorageGb "
                       f"{database.allocated_storage_gb}, as RDS storage autoscaling requires)"))
    issues.extend(_rds_window_issues(database))
    issues.extend(_prod_exposure_and_retention_issues(config))
    return issues


def _prod_exposure_and_retention_issues(config: CellConfig) -> list[tuple[str, str]]:
    if not config.is_prod:
        return []
    issues: list[tuple[str, str]] = []
    network = config.network
    for key, days in (("logRetentionDays", network.log_retention_days), ("flowLogRetentionDays",
                                                                           network.flow_logs_days)):
        if days < PROD_MIN_LOG_RETENTION_DAYS:
            issues.append((f"{NAMESPACE}:network.{key}", f"got {days}; prod keeps logs at least "
                                                        f"{PROD_MIN_LOG_RETENTION_DAYS} days (365, 400, 545, ...)"))
    cluster = config.cluster
    if cluster.public_access_cidrs and not cluster.allow_public_endpoint:
        issues.append((f"{NAMESPACE}:cluster.publicAccessCidrs", "opens the EKS API endpoint to the internet in "
                       "prod; run Pulumi from inside the VPC and remove it, or set cluster.allowPublicEndpoint: true "
                       "to keep a public endpoint limited to these CIDRs"))
    if cluster.allow_public_endpoint and not cluster.public_access_cidrs:
        issues.append((f"{NAMESPACE}:cluster.allowPublicEndpoint", "is true but cluster.publicAccessCidrs is empty; "
                       "list the CIDRs that may reach the public endpoint, or drop allowPublicEndpoint"))
    return issues


_WEEK_MINUTES = 7 * 24 * 60
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _window_minutes(start: int, end: int, period: int) -> set[int]:
    """The minutes of a window from `start` to `end` (wrapping at `period`), as minutes of the week."""
    length = (end - start) % period
    return {(start + offset) % _WEEK_MINUTES for offset in range(length)}


def _rds_window_issues(database: DatabaseConfig) -> list[tuple[str, str]]:
    """RDS rejects a backup or maintenance window shorter than 30 minutes, and windows that overlap."""
    issues: list[tuple[str, str]] = []
    ns = NAMESPACE
    backup_start, backup_end = (_minutes(part) for part in database.backup_window.split("-"))
    backup_length = (backup_end - backup_start) % (24 * 60)
    if backup_length < MIN_RDS_WINDOW_MINUTES:
        issues.append((f"{ns}:database.backupWindow", f"{database.backup_window} lasts {backup_length} minutes; RDS "
                                                      f"needs at least {MIN_RDS_WINDOW_MINUTES}"))
    start, end = database.maintenance_window.split("-")
    maintenance_start = _DAYS.index(start[:3]) * 24 * 60 + _minutes(start[4:])
    maintenance_end = _DAYS.index(end[:3]) * 24 * 60 + _minutes(end[4:])
    maintenance_length = (maintenance_end - maintenance_start) % _WEEK_MINUTES
    if maintenance_length < MIN_RDS_WINDOW_MINUTES:
        issues.append((f"{ns}:database.maintenanceWindow", f"{database.maintenance_window} lasts "
                       f"{maintenance_length} minutes; RDS needs at least {MIN_RDS_WINDOW_MINUTES}"))
        return issues
    # The backup window recurs daily; the maintenance window weekly.
    backups = set().union(*(_window_minutes(day * 24 * 60 + backup_start, day * 24 * 60 + backup_start +
                                            backup_length, _WEEK_MINUTES) for day in range(7)))
    if backups & _window_minutes(maintenance_start, maintenance_end, _WEEK_MINUTES):
        issues.append((f"{ns}:database.maintenanceWindow", f"{database.maintenance_window} overlaps the daily "
                       f"backup window {database.backup_window}; RDS needs them apart"))
    return issues
