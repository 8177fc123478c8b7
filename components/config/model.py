"""The typed configuration of one cell: one pydantic model per `gitpod-cell:` section, and `CellConfig` over them.

Every section refuses unknown keys, so a typo is an error naming the key. Cloud-specific rules live in aws.py and
gcp.py; rules across sections in rules.py; how stack keys map to these models in stack_keys.py.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from components.config.aws import (
    AWS_REGION,
    CLOUDWATCH_RETENTION_DAYS,
    RDS_MONITORING_INTERVALS,
    instance_type_problem,
    rds_instance_class_problem,
)
from components.config.gcp import (
    GCP_PROJECT,
    GCP_REGION,
    GcpConfig,
    cloud_sql_tier_problem,
    default_storage_location,
    machine_types_problem,
)
from components.config.gitpod import GitpodConfig
from components.config.kubernetes import KubernetesConfig
from components.config.section import Section, cloud_of, is_dns_name
from contract.naming import name_prefix, stack_name_problem

Environment = Literal["dev", "staging", "prod"]
Cloud = Literal["aws", "gcp", "kubernetes"]

SUPPORTED_KUBERNETES_VERSIONS: tuple[str, ...] = ("1.33", "1.34", "1.35")
MIN_BACKUP_RETENTION_DAYS = 7
MAX_BACKUP_RETENTION_DAYS = 35


class NetworkConfig(Section):
    vpc_cidr: str = "10.40.0.0/16"
    availability_zones: int = Field(default=2, ge=2, le=3)
    nat_gateway_per_az: bool = False
    # Every CloudWatch log group of the cell (flow logs, EKS control plane, RDS exports, Route53 query logs).
    log_retention_days: int = 90
    # Flow logs only; unset: `log_retention_days`.
    flow_log_retention_days: int | None = None

    @field_validator("vpc_cidr")
    @classmethod
    def _private_cidr(cls, value: str) -> str:
        network = ipaddress.ip_network(value, strict=True) if "/" in value else None
        if network is None or network.version != 4 or not network.is_private or not 16 <= network.prefixlen <= 20:
            raise ValueError("must be a private IPv4 network from /16 to /20, e.g. 10.40.0.0/16")
        return value

    @field_validator("log_retention_days", "flow_log_retention_days")
    @classmethod
    def _cloudwatch_retention(cls, value: int | None) -> int | None:
        if value is not None and value not in CLOUDWATCH_RETENTION_DAYS:
            accepted = ", ".join(map(str, CLOUDWATCH_RETENTION_DAYS))
            raise ValueError(f"got {value}; CloudWatch Logs accepts only {accepted}")
        return value

    @property
    def flow_logs_days(self) -> int:
        return self.flow_log_retention_days if self.flow_log_retention_days is not None else self.log_retention_days


class NodePoolConfig(Section):
    instance_types: list[str] = Field(min_length=1)
    min_size: int = Field(ge=0, le=1000)
    max_size: int = Field(ge=1, le=1000)
    desired_size: int | None = Field(default=None, ge=0, le=1000)
    disk_size_gb: int = Field(default=100, ge=20, le=16384)

    @field_validator("instance_types")
    @classmethod
    def _instance_types(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if cloud_of(info) == "kubernetes":
            problem = None  # the nodes exist; preflight checks their labels
        elif cloud_of(info) == "gcp":
            problem = machine_types_problem(value)
        else:
            problem = next(filter(None, map(instance_type_problem, value)), None)
        if problem:
            raise ValueError(problem)
        return value


class NodePoolsConfig(Section):
    services: NodePoolConfig
    regular_workspaces: NodePoolConfig = Field(alias="regular-workspaces")
    headless_workspaces: NodePoolConfig = Field(alias="headless-workspaces")

    def by_name(self) -> dict[str, NodePoolConfig]:
        return {
            "services": self.services,
            "regular-workspaces": self.regular_workspaces,
            "headless-workspaces": self.headless_workspaces,
        }


class ClusterConfig(Section):
    kubernetes_version: str = "1.34"
    public_access_cidrs: list[str] = Field(default_factory=list)
    # AWS prod: the EKS endpoint is private unless this states the intent to open it to `public_access_cidrs`.
    allow_public_endpoint: bool = False
    admin_role_arns: list[str] = Field(default_factory=list)
    node_pools: NodePoolsConfig

    @field_validator("kubernetes_version")
    @classmethod
    def _supported_version(cls, value: str) -> str:
        if value not in SUPPORTED_KUBERNETES_VERSIONS:
            raise ValueError(f"{value!r} is not supported; accepted: {', '.join(SUPPORTED_KUBERNETES_VERSIONS)}")
        return value

    @field_validator("public_access_cidrs")
    @classmethod
    def _restricted_cidrs(cls, value: list[str]) -> list[str]:
        for cidr in value:
            try:
                network = ipaddress.ip_network(cidr, strict=True)
            except ValueError as error:
                raise ValueError(f"{cidr!r} is not a CIDR block such as 203.0.113.0/24") from error
            if network.version != 4:
                raise ValueError(f"{cidr!r} is IPv6; EKS and GKE restrict their API endpoints to IPv4 CIDR blocks "
                                 "such as 203.0.113.0/24")
            if network.prefixlen < 8:
                raise ValueError(f"{cidr!r} opens the API endpoint to too much of the internet; use /8 or narrower")
        return value

    @field_validator("admin_role_arns")
    @classmethod
    def _role_arns(cls, value: list[str]) -> list[str]:
        for arn in value:
            if not re.match(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$", arn):
                raise ValueError(f"{arn!r} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)")
        # One EKS access entry per principal: a role listed twice would collide with itself. (IAM role names are
        # unique regardless of case.) The deploying identity already has its entry (cluster creator admin).
        seen: set[str] = set()
        for arn in value:
            if arn.lower() in seen:
                raise ValueError(f"{arn!r} is listed twice; each role gets exactly one EKS access entry")
            seen.add(arn.lower())
        return value


class DatabaseConfig(Section):
    engine_version: str = "8.0"
    instance_class: str = "db.t4g.medium"
    allocated_storage_gb: int = Field(default=20, ge=20, le=65536)
    max_allocated_storage_gb: int = Field(default=100, ge=20, le=65536)
    backup_retention_days: int = Field(default=7, ge=MIN_BACKUP_RETENTION_DAYS, le=MAX_BACKUP_RETENTION_DAYS)
    multi_az: bool = False
    cross_region_backups: bool = False
    deletion_protection: bool = True
    backup_window: str = "02:00-03:00"
    maintenance_window: str = "sun:04:00-sun:05:00"
    # RDS enhanced monitoring: seconds between OS metric samples (AWS only).
    monitoring_interval: int = 60

    @field_validator("engine_version")
    @classmethod
    def _mysql8(cls, value: str) -> str:
        if not re.match(r"^8\.0(\.\d+)?$", value):
            raise ValueError(f"{value!r} is not MySQL 8.0; accepted: 8.0 or 8.0.<minor>")
        return value

    @field_validator("instance_class")
    @classmethod
    def _instance_class(cls, value: str, info: ValidationInfo) -> str:
        if cloud_of(info) == "kubernetes":
            return value  # the database exists (kubernetes.database)
        problem = cloud_sql_tier_problem(value) if cloud_of(info) == "gcp" else rds_instance_class_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("monitoring_interval")
    @classmethod
    def _monitoring_interval(cls, value: int) -> int:
        if value not in RDS_MONITORING_INTERVALS:
            accepted = ", ".join(map(str, RDS_MONITORING_INTERVALS))
            raise ValueError(f"got {value}; RDS enhanced monitoring accepts {accepted} (seconds)")
        return value

    @property
    def maintenance_day_hour(self) -> tuple[int, int]:
        """The window's start as (ISO weekday 1=Monday..7=Sunday, UTC hour), as Cloud SQL takes it."""
        day, hour = self.maintenance_window.split("-")[0].split(":")[:2]
        return ("mon", "tue", "wed", "thu", "fri", "sat", "sun").index(day) + 1, int(hour)

    @field_validator("backup_window")
    @classmethod
    def _backup_window(cls, value: str) -> str:
        if not re.match(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$", value):
            raise ValueError(f"{value!r} is not a UTC window such as 02:00-03:00")
        return value

    @field_validator("maintenance_window")
    @classmethod
    def _maintenance_window(cls, value: str) -> str:
        day_time = r"(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d"
        if not re.match(rf"^{day_time}-{day_time}$", value):
            raise ValueError(f"{value!r} is not a UTC window such as sun:04:00-sun:05:00")
        return value


class StorageConfig(Section):
    noncurrent_version_retention_days: int = Field(default=30, ge=1, le=3650)
    # Server access logs (S3) and usage logs (GCS) in the cell's log buckets expire after this many days.
    access_log_retention_days: int = Field(default=90, ge=1, le=3650)


class DnsConfig(Section):
    zone_id: str | None = None

    @field_validator("zone_id")
    @classmethod
    def _zone_id(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^Z[A-Z0-9]{1,31}$", value):
            raise ValueError(f"{value!r} is not a Route53 hosted zone id such as Z0123456789ABCDEFGHIJ")
        return value


class ConfigBackupRef(Section):
    """An installer-config + version-label backup written by the rollout hooks or `ops backup config`."""

    bucket: str
    key: str
    version_id: str | None = None


class RestoreConfig(Section):
    """Build this cell from another cell's backups (`ops restore plan` writes this section).

    The database is created by the provider's point-in-time restore of `sourceDbInstance`; the bucket named in
    `adoptBucket` is used as it is (read, never created or changed) instead of a new empty one.
    """

    source_db_instance: str
    point_in_time: str = "latest"
    # Where the source cell ran (informational: the restore itself reads the backups named here).
    source_region: str | None = None
    # Restoring in another region: the ARN of the automated-backups replica there (RDS), from `ops restore plan`.
    source_automated_backups_arn: str | None = None
    adopt_bucket: str
    config_backup: ConfigBackupRef | None = None

    @field_validator("point_in_time")
    @classmethod
    def _point_in_time(cls, value: str) -> str:
        if value == "latest":
            return value
        if not re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$", value):
            raise ValueError(f"{value!r} is neither 'latest' nor a UTC time such as 2026-11-21T08:30:00Z")
        return value

    @field_validator("source_automated_backups_arn")
    @classmethod
    def _backups_arn(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:auto-backup:ab-[a-z0-9]+$",
                                              value):
            raise ValueError(f"{value!r} is not an RDS automated-backups ARN (arn:aws:rds:<region>:<account>:"
                             "auto-backup:ab-...)")
        return value

    @property
    def latest(self) -> bool:
        return self.point_in_time == "latest"


class CellConfig(Section):
    stack: str
    cloud: Cloud = "aws"
    environment: Environment
    region: str
    # AWS: objects and (with crossRegionBackups) database backups are copied here; required.
    # GCP: object storage is multi-/dual-region, so this is only where Cloud SQL keeps its backups when
    # database.crossRegionBackups is true; required then (always in prod).
    replica_region: str | None = None
    project: str | None = None
    # A named AWS CLI profile for the cell's providers (`aws:profile`); none: the standard credential chain.
    aws_profile: str | None = None
    domain: str
    tags: dict[str, str] = Field(default_factory=dict)
    network: NetworkConfig = NetworkConfig()
    cluster: ClusterConfig
    database: DatabaseConfig = DatabaseConfig()
    storage: StorageConfig = StorageConfig()
    dns: DnsConfig = DnsConfig()
    gcp: GcpConfig | None = None
    kubernetes: KubernetesConfig | None = None
    gitpod: GitpodConfig
    restore: RestoreConfig | None = None

    @field_validator("stack")
    @classmethod
    def _stack_name(cls, value: str, info: ValidationInfo) -> str:
        problem = stack_name_problem(value, cloud_of(info))
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("region", "replica_region")
    @classmethod
    def _cloud_region(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if info.data.get("cloud") == "kubernetes":
            if not re.match(r"^[a-z0-9][a-z0-9-]{0,62}$", value):
                raise ValueError(f"{value!r} is not an S3 region name such as us-east-1")
        elif info.data.get("cloud") == "gcp":
            if not GCP_REGION.match(value):
                raise ValueError(f"{value!r} is not a GCP region such as europe-west1")
        elif not AWS_REGION.match(value):
            raise ValueError(f"{value!r} is not an AWS region such as eu-west-1")
        return value

    @field_validator("project")
    @classmethod
    def _project(cls, value: str | None) -> str | None:
        if value is not None and not GCP_PROJECT.match(value):
            raise ValueError(f"{value!r} is not a GCP project id: 6-30 characters, lowercase letters, digits and "
                             "hyphens, starting with a letter and not ending with a hyphen (e.g. acme-gitpod-prod)")
        return value

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        lowered = value.lower().rstrip(".")
        if not is_dns_name(lowered):
            raise ValueError(f"{value!r} is not a DNS name such as gitpod.example.com")
        return lowered

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if key.lower().startswith("aws:") or not 1 <= len(key) <= 128:
                raise ValueError(f"tag key {key!r} is not allowed (1-128 characters, not starting with 'aws:')")
            if key in ("Environment", "Cell", "ManagedBy"):
                raise ValueError(f"tag key {key!r} is set by the cell itself")
        return value

    @property
    def is_prod(self) -> bool:
        return self.environment == "prod"

    @property
    def protect(self) -> bool:
        """Stateful resources are protected from `pulumi destroy` and replacement in prod."""
        return self.is_prod

    @property
    def resource_tags(self) -> dict[str, str]:
        """Tags every taggable resource carries (policies read `Environment` from them)."""
        return {**self.tags, "Environment": self.environment, "Cell": self.stack, "ManagedBy": "pulumi"}

    @property
    def labels(self) -> dict[str, str]:
        """GCP labels every labelled resource carries (lowercase keys and values, per GCP's label rules)."""
        cell = re.sub(r"[^a-z0-9_-]", "-", self.stack.lower())[:63]
        return {**self.tags, "environment": self.environment, "cell": cell, "managed-by": "pulumi"}

    @property
    def name_prefix(self) -> str:
        return name_prefix(self.stack)

    @property
    def gcp_settings(self) -> GcpConfig:
        return self.gcp or GcpConfig()

    @property
    def gcp_project(self) -> str:
        if self.project is None:
            raise ValueError("gcp:project is not set")
        return self.project

    @property
    def storage_location(self) -> str:
        """The GCS bucket's location, validated to exist for GCP cells."""
        return self.gcp_settings.storage_location or default_storage_location(self.region) or self.region

    @classmethod
    def from_stack_config(cls, stack: str, raw: Mapping[str, Any]) -> CellConfig:
        """Validate the flat stack-config map (components/config/stack_keys.py)."""
        from components.config.stack_keys import config_from_stack

        return config_from_stack(stack, raw)

    def redacted(self) -> dict[str, Any]:
        """The validated config as stack-config keys; nothing here is secret, but keep one place to redact."""
        return self.model_dump(by_alias=True, mode="json")
