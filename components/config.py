"""CellConfig: the whole stack configuration of one cell, typed and validated before any resource exists.

Stack files hold `gitpod-cell:<key>` values (objects for the structured sections) and the cloud's own keys
(`aws:region`, or `gcp:region` and `gcp:project`). `CellConfig.from_stack_config` deep-merges the defaults of the
environment (per cloud) under what the stack sets, validates everything, and raises `CellConfigError` listing every
bad key with what it accepts.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic.alias_generators import to_camel

NAMESPACE = "gitpod-cell"
Environment = Literal["dev", "staging", "prod"]
Cloud = Literal["aws", "gcp"]
ReleaseChannel = Literal["RAPID", "REGULAR", "STABLE"]

SUPPORTED_KUBERNETES_VERSIONS: tuple[str, ...] = ("1.33", "1.34", "1.35")
NODE_POOL_NAMES: tuple[str, ...] = ("services", "regular-workspaces", "headless-workspaces")
MIN_BACKUP_RETENTION_DAYS = 7
MAX_BACKUP_RETENTION_DAYS = 35
# The retention periods CloudWatch Logs accepts (PutRetentionPolicy rejects any other value).
CLOUDWATCH_RETENTION_DAYS: tuple[int, ...] = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096,
                                             1827, 2192, 2557, 2922, 3288, 3653)
# RDS instance classes without Performance Insights (the cell always enables it, so RDS would refuse them).
_RDS_CLASSES_WITHOUT_PI = re.compile(r"^db\.(t2\.[a-z0-9]+|t3\.(micro|small)|t4g\.(micro|small))$")
# RDS: the backup and maintenance windows each last at least this long.
MIN_RDS_WINDOW_MINUTES = 30

# Stack names become S3 bucket names, RDS identifiers, IAM role names, GKE cluster names and Kubernetes Job names:
# lowercase letters, digits and single hyphens, starting with a letter and ending with a letter or digit.
_STACK_NAME = re.compile(r"^[a-z](?:[a-z0-9]|-(?=[a-z0-9]))*$")
# The longest names each cloud's cell derives from the stack name, as (name with `{stack}`, its limit, what it
# is). Random suffixes are counted: Pulumi auto-names AWS resources `<name>-<7 hex>` (IAM roles: at most 64
# characters) and Kubernetes objects `<name>-<8 hex>`; Kubernetes puts a Job's name in a label (at most 63).
# The tightest entry sets MAX_STACK_NAME_LENGTH; tests/components/test_aws_cell.py plans a stack of that length.
DERIVED_NAME_LIMITS: dict[str, tuple[tuple[str, int, str], ...]] = {
    "aws": (
        ("gitpod-{stack}-gitpod-registry-facade-registry-abcdef0", 64, "IAM role of registry-facade (auto-named)"),
        ("gitpod-{stack}-registry-credentials-initial-abcdef01", 63, "registry refresher's first Job (auto-named)"),
        ("gitpod-{stack}-123456789012-ap-southeast-1", 63, "S3 bucket gitpod-<stack>-<account>-<region>"),
        ("gitpod-{stack}-db", 63, "RDS instance identifier"),
        ("gitpod-{stack}", 100, "EKS cluster name"),
    ),
    "gcp": (
        ("gitpod-{stack}-registry-credentials-initial-abcdef01", 63, "registry refresher's first Job (auto-named)"),
        ("gitpod-{stack}", 40, "GKE cluster name"),
        ("gitpod-{stack}-private-services", 63, "Compute global address name"),
        # Longer service-account ids and bucket names are shortened with a digest (components/gcp/naming.py), so
        # they never collide; the 30-character project id is the longest a bucket name carries.
        ("gitpod-{stack}-abcdefghijklmnopqrstuvwxyz0123", 63, "GCS bucket gitpod-<stack>-<project>"),
    ),
}
MAX_STACK_NAME_LENGTH: dict[str, int] = {
    cloud: min(limit - len(template.format(stack="")) for template, limit, _ in names)
    for cloud, names in DERIVED_NAME_LIMITS.items()
}
_STACK_KEY = "pulumi:stack"

# Gitpod's hard limits on workspace lifetimes, in seconds.
MAX_TIMEOUT_EXTENDED_S = 24 * 3600
MAX_LIFETIME_S = 36 * 3600

_AWS_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
_GCP_REGION = re.compile(r"^(africa|asia|australia|europe|me|northamerica|southamerica|us)-[a-z]+\d{1,2}$")
# Project ids: 6-30 characters, lowercase letters, digits and hyphens, starting with a letter, not ending in '-'.
_GCP_PROJECT = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_GCP_MACHINE_TYPE = re.compile(r"^[a-z][a-z0-9]*-[a-z]+(-\d+){0,2}(-lssd|-ext)?$")
_CLOUD_SQL_TIER = re.compile(r"^db-(custom-\d{1,2}-\d{4,6}|n1-(standard|highmem)-\d{1,2}|perf-optimized-N-\d{1,3})$")
_GCP_LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_GCP_LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
# GCS: multi-regions, predefined dual-regions, and the multi-region a custom dual-region pair belongs to.
GCS_MULTI_REGIONS: tuple[str, ...] = ("EU", "US", "ASIA")
GCS_DUAL_REGIONS: tuple[str, ...] = ("ASIA1", "EUR4", "EUR5", "EUR7", "EUR8", "NAM4")
_GCS_CONTINENTS: dict[str, str] = {"europe": "EU", "us": "US", "northamerica": "US", "asia": "ASIA"}
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_DNS_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_IMAGE_REF = re.compile(r"^[a-z0-9.\-/:]+(?::[A-Za-z0-9_.\-]{1,128}|@sha256:[a-f0-9]{64})$")


def stack_name_problem(name: str, cloud: str = "aws") -> str | None:
    """Why `name` cannot name a cell on `cloud` (None when it can): it becomes part of bucket, database, IAM role
    and Kubernetes Job names, so `ops restore plan` checks a new stack's name with this too."""
    limit = MAX_STACK_NAME_LENGTH[cloud]
    if _STACK_NAME.match(name) and len(name) <= limit:
        return None
    return (f"{name!r} is not usable as a cell name: 1-{limit} lowercase letters, digits and single hyphens, "
            "starting with a letter and ending with a letter or digit (it becomes part of bucket, database, "
            "IAM role and Kubernetes Job names)")


class CellConfigError(ValueError):
    """One or more stack-config values are invalid. `issues` holds (stack-config key, message) pairs."""

    def __init__(self, issues: list[tuple[str, str]]) -> None:
        self.issues = issues
        lines = [f"  {key}: {message}" for key, message in issues]
        super().__init__("invalid stack configuration:\n" + "\n".join(lines))


class _Section(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True, str_strip_whitespace=True
    )


def parse_duration(text: str) -> int:
    """A Go-style duration such as `30m`, `1h30m`, `24h`, as seconds."""
    match = _DURATION.match(text)
    if not text or not match or not any(match.groups()):
        raise ValueError(f"{text!r} is not a duration; use hours/minutes/seconds such as 30m, 1h30m, 24h")
    hours, minutes, seconds = (int(group or 0) for group in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def _is_dns_name(name: str) -> bool:
    labels = name.split(".")
    return len(name) <= 253 and len(labels) >= 2 and all(_DNS_LABEL.match(label) for label in labels)


class NetworkConfig(_Section):
    vpc_cidr: str = "10.40.0.0/16"
    availability_zones: int = Field(default=2, ge=2, le=3)
    nat_gateway_per_az: bool = False
    flow_log_retention_days: int = 90

    @field_validator("vpc_cidr")
    @classmethod
    def _private_cidr(cls, value: str) -> str:
        network = ipaddress.ip_network(value, strict=True) if "/" in value else None
        if network is None or network.version != 4 or not network.is_private or not 16 <= network.prefixlen <= 20:
            raise ValueError("must be a private IPv4 network from /16 to /20, e.g. 10.40.0.0/16")
        return value

    @field_validator("flow_log_retention_days")
    @classmethod
    def _cloudwatch_retention(cls, value: int) -> int:
        if value not in CLOUDWATCH_RETENTION_DAYS:
            accepted = ", ".join(map(str, CLOUDWATCH_RETENTION_DAYS))
            raise ValueError(f"got {value}; CloudWatch Logs accepts only {accepted}")
        return value


class NodePoolConfig(_Section):
    instance_types: list[str] = Field(min_length=1)
    min_size: int = Field(ge=0, le=1000)
    max_size: int = Field(ge=1, le=1000)
    desired_size: int | None = Field(default=None, ge=0, le=1000)
    disk_size_gb: int = Field(default=100, ge=20, le=16384)

    @field_validator("instance_types")
    @classmethod
    def _instance_types(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if _cloud_of(info) == "gcp":
            for machine_type in value:
                if not _GCP_MACHINE_TYPE.match(machine_type):
                    raise ValueError(f"{machine_type!r} is not a GCE machine type such as n2-standard-16")
            if len(value) != 1:
                raise ValueError("a GKE node pool has exactly one machine type; list one, e.g. [n2-standard-16]")
            return value
        for instance_type in value:
            if not re.match(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$", instance_type):
                raise ValueError(f"{instance_type!r} is not an instance type such as m6i.2xlarge")
            if is_arm64_instance_type(instance_type):
                raise ValueError(f"{instance_type!r} is an Arm64 (Graviton) instance type; node groups run the "
                                 "AL2023_x86_64_STANDARD AMI, so list x86_64 types such as m6i.2xlarge or m7a.2xlarge")
        return value


def is_arm64_instance_type(instance_type: str) -> bool:
    """EC2 names a family `<class><generation><attributes>`; `g` among the attributes is AWS Graviton (m7g, c6gn,
    r8g, t4g, m6gd, im4gn, is4gen, x8g, hpc7g), and a1 is the first Graviton. A GPU class `g` (g5, g4dn) is x86."""
    family = instance_type.split(".", 1)[0]
    match = re.match(r"^([a-z]+)(\d+)([a-z-]*)$", family)
    if match is None:
        return False
    kind, _, attributes = match.groups()
    return kind == "a" or "g" in attributes


class NodePoolsConfig(_Section):
    services: NodePoolConfig
    regular_workspaces: NodePoolConfig = Field(alias="regular-workspaces")
    headless_workspaces: NodePoolConfig = Field(alias="headless-workspaces")

    def by_name(self) -> dict[str, NodePoolConfig]:
        return {
            "services": self.services,
            "regular-workspaces": self.regular_workspaces,
            "headless-workspaces": self.headless_workspaces,
        }


class ClusterConfig(_Section):
    kubernetes_version: str = "1.34"
    public_access_cidrs: list[str] = Field(default_factory=list)
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


class DatabaseConfig(_Section):
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

    @field_validator("engine_version")
    @classmethod
    def _mysql8(cls, value: str) -> str:
        if not re.match(r"^8\.0(\.\d+)?$", value):
            raise ValueError(f"{value!r} is not MySQL 8.0; accepted: 8.0 or 8.0.<minor>")
        return value

    @field_validator("instance_class")
    @classmethod
    def _instance_class(cls, value: str, info: ValidationInfo) -> str:
        if _cloud_of(info) == "gcp":
            if not _CLOUD_SQL_TIER.match(value):
                raise ValueError(f"{value!r} is not a Cloud SQL (Enterprise edition) tier such as db-custom-4-16384")
            return value
        if not re.match(r"^db\.[a-z0-9]+\.[a-z0-9]+$", value):
            raise ValueError(f"{value!r} is not an RDS instance class such as db.r6g.large")
        if _RDS_CLASSES_WITHOUT_PI.match(value):
            raise ValueError(f"{value!r} has no Performance Insights, which the cell always enables; use "
                             "db.t4g.medium or larger (or db.t3.medium or larger)")
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


class StorageConfig(_Section):
    noncurrent_version_retention_days: int = Field(default=30, ge=1, le=3650)


class DnsConfig(_Section):
    zone_id: str | None = None

    @field_validator("zone_id")
    @classmethod
    def _zone_id(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^Z[A-Z0-9]{1,31}$", value):
            raise ValueError(f"{value!r} is not a Route53 hosted zone id such as Z0123456789ABCDEFGHIJ")
        return value


class GkeMaintenanceWindowConfig(_Section):
    """When GKE may upgrade the control plane and nodes: weekly on `days`, from `startTime` (UTC) for `hours`."""

    days: list[str] = Field(default_factory=lambda: ["SA", "SU"], min_length=1)
    start_time: str = "03:00"
    hours: int = Field(default=6, ge=4, le=24)

    @field_validator("days")
    @classmethod
    def _days(cls, value: list[str]) -> list[str]:
        days = [day.upper() for day in value]
        for day in days:
            if day not in _WEEKDAYS:
                raise ValueError(f"{day!r} is not a weekday; accepted: {', '.join(_WEEKDAYS)}")
        return list(dict.fromkeys(days))

    @field_validator("start_time")
    @classmethod
    def _start(cls, value: str) -> str:
        if not re.match(r"^([01]\d|2[0-3]):[0-5]\d$", value):
            raise ValueError(f"{value!r} is not a UTC time such as 03:00")
        return value


class GcpConfig(_Section):
    """Settings only a GCP cell reads (`gitpod-cell:gcp`)."""

    # EU/US/ASIA, a predefined dual-region (EUR4, NAM4, ...), a custom pair `europe-west1+europe-west4`, or (outside
    # prod) a single region. Defaults to the multi-region of gcp:region's continent.
    storage_location: str | None = None
    release_channel: ReleaseChannel = "REGULAR"
    # A zonal cluster (cheaper, no control-plane HA): only outside prod. None is a regional cluster.
    cluster_zone: str | None = None
    transaction_log_retention_days: int = Field(default=7, ge=1, le=7)
    maintenance_window: GkeMaintenanceWindowConfig = GkeMaintenanceWindowConfig()
    # Adopt an existing Cloud DNS managed zone by its name instead of creating one.
    existing_zone_name: str | None = None

    @field_validator("storage_location")
    @classmethod
    def _storage_location(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value.upper() in GCS_MULTI_REGIONS + GCS_DUAL_REGIONS:
            return value.upper()
        if "+" in value:
            pair = [region.strip().lower() for region in value.split("+")]
            continents = {_GCS_CONTINENTS.get(region.split("-")[0]) for region in pair}
            if len(pair) != 2 or pair[0] == pair[1] or not all(_GCP_REGION.match(r) for r in pair):
                raise ValueError(f"{value!r} is not a custom dual-region; use two regions such as "
                                 "europe-west1+europe-west4")
            if len(continents) != 1 or None in continents:
                raise ValueError(f"{value!r}: a custom dual-region pairs two regions of one continent "
                                 f"(Europe, North America or Asia)")
            return "+".join(pair)
        if _GCP_REGION.match(value.lower()):
            return value.lower()
        accepted = ", ".join(GCS_MULTI_REGIONS + GCS_DUAL_REGIONS)
        raise ValueError(f"{value!r} is not a GCS location; accepted: {accepted}, a pair such as "
                         "europe-west1+europe-west4, or (outside prod) a region")

    @field_validator("cluster_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[a-z]+-[a-z]+\d{1,2}-[a-z]$", value):
            raise ValueError(f"{value!r} is not a GCP zone such as europe-west1-b")
        return value

    @field_validator("existing_zone_name")
    @classmethod
    def _zone_name(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[a-z][a-z0-9-]{0,62}$", value):
            raise ValueError(f"{value!r} is not a Cloud DNS managed zone name such as gitpod-example-com")
        return value


def storage_location_kind(location: str) -> Literal["multi-region", "dual-region", "region"]:
    if location in GCS_MULTI_REGIONS:
        return "multi-region"
    if location in GCS_DUAL_REGIONS or "+" in location:
        return "dual-region"
    return "region"


def default_storage_location(region: str) -> str | None:
    """The multi-region covering a GCP region's continent (None where GCS has no multi-region there)."""
    return _GCS_CONTINENTS.get(region.split("-")[0])


class GarbageCollectionConfig(_Section):
    enabled: bool = True
    # Stopped workspaces are deleted this many days after their last start; pinned workspaces never are.
    min_age_days: int = Field(default=14, ge=1, le=3650)


class WorkspaceLifecycleConfig(_Section):
    timeout_default: str = "30m"
    timeout_extended: str = "180m"
    timeout_after_close: str = "5m"
    max_lifetime: str = "36h"
    garbage_collection: GarbageCollectionConfig = GarbageCollectionConfig()

    @field_validator("timeout_default", "timeout_extended", "timeout_after_close", "max_lifetime")
    @classmethod
    def _duration(cls, value: str) -> str:
        if parse_duration(value) <= 0:
            raise ValueError("must be longer than zero")
        return value

    def seconds(self) -> dict[str, int]:
        return {
            "timeoutDefault": parse_duration(self.timeout_default),
            "timeoutExtended": parse_duration(self.timeout_extended),
            "timeoutAfterClose": parse_duration(self.timeout_after_close),
            "maxLifetime": parse_duration(self.max_lifetime),
        }


class LetsEncryptConfig(_Section):
    email: str
    staging: bool = False

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not re.match(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", value):
            raise ValueError(f"{value!r} is not an e-mail address (Let's Encrypt sends expiry notices to it)")
        return value


class GitpodConfig(_Section):
    version: str
    installer_image: str
    namespace: str = "gitpod"
    block_new_users: bool = False
    # At least a whole rollout: snapshot wait (15) + installer Job deadline (25) + health gate (15) + margin (5),
    # as ops.rollout_hooks.minimum_lease_seconds checks again when the hooks run.
    maintenance_lease_minutes: int = Field(default=60, ge=60, le=240)
    letsencrypt: LetsEncryptConfig
    workspace: WorkspaceLifecycleConfig = WorkspaceLifecycleConfig()

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$", value) or value == "latest":
            raise ValueError(f"{value!r} is not a pinned Gitpod version label (e.g. 2024.11.0); 'latest' is not")
        return value

    @field_validator("installer_image")
    @classmethod
    def _pinned_image(cls, value: str) -> str:
        if not _IMAGE_REF.match(value) or value.endswith(":latest"):
            raise ValueError(f"{value!r} must be an image pinned to a version tag or @sha256 digest, never latest")
        return value

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        if value in ("default", "kube-system") or not _DNS_LABEL.match(value):
            raise ValueError(f"{value!r} is not usable; a DNS label other than default/kube-system")
        return value


class ConfigBackupRef(_Section):
    """An installer-config + version-label backup written by the rollout hooks or `ops backup config`."""

    bucket: str
    key: str
    version_id: str | None = None


class RestoreConfig(_Section):
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


class CellConfig(_Section):
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
    gitpod: GitpodConfig
    restore: RestoreConfig | None = None

    @field_validator("stack")
    @classmethod
    def _stack_name(cls, value: str, info: ValidationInfo) -> str:
        problem = stack_name_problem(value, _cloud_of(info))
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("region", "replica_region")
    @classmethod
    def _cloud_region(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if info.data.get("cloud") == "gcp":
            if not _GCP_REGION.match(value):
                raise ValueError(f"{value!r} is not a GCP region such as europe-west1")
        elif not _AWS_REGION.match(value):
            raise ValueError(f"{value!r} is not an AWS region such as eu-west-1")
        return value

    @field_validator("project")
    @classmethod
    def _project(cls, value: str | None) -> str | None:
        if value is not None and not _GCP_PROJECT.match(value):
            raise ValueError(f"{value!r} is not a GCP project id: 6-30 characters, lowercase letters, digits and "
                             "hyphens, starting with a letter and not ending with a hyphen (e.g. acme-gitpod-prod)")
        return value

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        lowered = value.lower().rstrip(".")
        if not _is_dns_name(lowered):
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
        # Never shortened: two stacks must never map to the same names (the stack validator bounds the length).
        return f"gitpod-{self.stack}"

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
        """Validate the flat stack-config map (`gitpod-cell:<key>`, and `aws:region` or `gcp:region`/`gcp:project`)."""
        sections, issues = _sections_from_raw(raw)
        cloud = "gcp" if sections.get("cloud") == "gcp" else "aws"
        cloud_keys = sections.pop("_cloud_keys")
        for name, value in cloud_keys.get(cloud, {}).items():
            sections[name] = value
        if cloud == "aws" and "gcp" in sections:
            issues.append((f"{NAMESPACE}:gcp", "is only read when gitpod-cell:cloud is gcp; remove it"))
            sections.pop("gcp")
        environment = sections.get("environment")
        defaults = GCP_ENVIRONMENT_DEFAULTS if cloud == "gcp" else ENVIRONMENT_DEFAULTS
        merged = _deep_merge(defaults.get(environment, {}) if isinstance(environment, str) else {}, sections)
        try:
            config = cls.model_validate({"stack": stack, **merged}, context={"cloud": cloud})
        except ValidationError as error:
            issues.extend(_issues_from_validation(error, cloud))
            raise CellConfigError(issues) from None
        issues.extend(_consistency_issues(config))
        if config.cloud == "gcp":
            issues.extend(_gcp_consistency_issues(config))
        if issues:
            raise CellConfigError(issues)
        return config

    def redacted(self) -> dict[str, Any]:
        """The validated config as stack-config keys; nothing here is secret, but keep one place to redact."""
        return self.model_dump(by_alias=True, mode="json")


# Keys accepted under the `gitpod-cell:` namespace, and other namespaces read.
_TOP_LEVEL_KEYS = {
    "cloud", "environment", "replicaRegion", "domain", "tags", "network", "cluster", "database", "storage", "dns",
    "gcp", "gitpod", "restore",
}
_REGION_KEY = "aws:region"
# The keys each cloud's provider reads, and the CellConfig field each one fills.
_CLOUD_KEYS: dict[str, dict[str, str]] = {
    # The cell's providers are explicit (one per region), so they take the profile from here, not from `aws:`.
    "aws": {"aws:region": "region", "aws:profile": "aws_profile"},
    "gcp": {"gcp:region": "region", "gcp:project": "project"},
}
_IGNORED_NAMESPACES = ("aws:", "gcp:", "kubernetes:", "random:", "pulumi:")


def _stack_key(top: str, cloud: str = "aws") -> str:
    for key, field in _CLOUD_KEYS[cloud].items():
        if top == field:
            return key
    return f"{NAMESPACE}:{top}"


def _region_key(config: CellConfig) -> str:
    return _stack_key("region", config.cloud)


def _sections_from_raw(raw: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    sections: dict[str, Any] = {}
    cloud_keys: dict[str, dict[str, Any]] = {}
    issues: list[tuple[str, str]] = []
    for key, value in raw.items():
        cloud = next((c for c, keys in _CLOUD_KEYS.items() if key in keys), None)
        if cloud is not None:
            cloud_keys.setdefault(cloud, {})[_CLOUD_KEYS[cloud][key]] = value
        elif key.startswith(f"{NAMESPACE}:"):
            name = key.split(":", 1)[1]
            if name not in _TOP_LEVEL_KEYS:
                accepted = ", ".join(f"{NAMESPACE}:{k}" for k in sorted(_TOP_LEVEL_KEYS))
                issues.append((key, f"unknown key; accepted: {accepted}"))
                continue
            # Under `pulumi up` structured values arrive as JSON strings.
            if isinstance(value, str) and value[:1] in "{[":
                try:
                    value = json.loads(value)
                except json.JSONDecodeError:
                    issues.append((key, "is not valid JSON/YAML object"))
                    continue
            sections[name] = value
        elif not key.startswith(_IGNORED_NAMESPACES):
            issues.append((key, f"unknown namespace; this program reads {NAMESPACE}:*, {_REGION_KEY} (AWS), "
                                "gcp:region and gcp:project (GCP)"))
    return {**{_python_name(k): v for k, v in sections.items()}, "_cloud_keys": cloud_keys}, issues


def _python_name(camel: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", camel).lower()


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _issues_from_validation(error: ValidationError, cloud: str = "aws") -> list[tuple[str, str]]:
    issues = []
    for detail in error.errors():
        location = [str(part) for part in detail["loc"]]
        if not location:
            issues.append((NAMESPACE, detail["msg"]))
            continue
        top = location[0]
        key = _STACK_KEY if top == "stack" else _stack_key(to_camel(top) if "_" in top else top, cloud)
        if len(location) > 1:
            key += "." + ".".join(location[1:])
        message = detail["msg"].removeprefix("Value error, ")
        if detail["type"] == "extra_forbidden":
            message = "unknown key (check the spelling against the README's configuration reference)"
        elif detail["type"] == "literal_error":
            message = f"got {detail.get('input')!r}; {message[:1].lower()}{message[1:]}"
        elif detail["type"] == "missing":
            message = "is required"
        elif detail["type"] in _BOUND_ERRORS:
            bound = next(iter(detail.get("ctx", {}).values()), "?")
            message = f"got {detail.get('input')!r}; {_BOUND_ERRORS[detail['type']]} {bound}"
        issues.append((key, message))
    return issues


_BOUND_ERRORS = {
    "greater_than_equal": "accepted: at least",
    "greater_than": "accepted: more than",
    "less_than_equal": "accepted: at most",
    "less_than": "accepted: less than",
    "too_short": "accepted: at least this many entries:",
}


def _consistency_issues(config: CellConfig) -> list[tuple[str, str]]:
    issues: list[tuple[str, str]] = []
    ns = NAMESPACE
    if config.storage.noncurrent_version_retention_days < config.database.backup_retention_days:
        # Installer-config backups are found through old object versions: a restore to any point the database can
        # reach must still find the config that was running then.
        issues.append((f"{ns}:storage.noncurrentVersionRetentionDays",
                       f"must be at least database.backupRetentionDays ({config.database.backup_retention_days}): "
                       "a point-in-time restore needs the installer config backed up at that time"))
    if config.replica_region is None and (config.cloud == "aws" or config.database.cross_region_backups):
        why = "objects and backups are copied there" if config.cloud == "aws" else \
            "database.crossRegionBackups keeps Cloud SQL backups there"
        issues.append((f"{ns}:replicaRegion", f"is required ({why}); a region other than {_region_key(config)}"))
    if config.replica_region == config.region:
        issues.append((f"{ns}:replicaRegion", f"must differ from {_region_key(config)} ({config.region}): a replica "
                                             "in the same region does not survive a regional outage"))
    if config.is_prod:
        if config.network.availability_zones < 3:
            issues.append((f"{ns}:network.availabilityZones", "must be 3 in prod"))
        if not config.database.multi_az:
            issues.append((f"{ns}:database.multiAz", "must be true in prod"))
        if not config.database.cross_region_backups:
            issues.append((f"{ns}:database.crossRegionBackups", "must be true in prod"))
        if not config.database.deletion_protection:
            issues.append((f"{ns}:database.deletionProtection", "must be true in prod"))
        if config.gitpod.letsencrypt.staging:
            issues.append((f"{ns}:gitpod.letsencrypt.staging", "must be false in prod (staging certificates are "
                                                               "not trusted by browsers)"))
    database = config.database
    if config.cloud == "aws":
        # RDS storage autoscaling: the ceiling must be at least 10% above the allocated storage.
        minimum = (database.allocated_storage_gb * 11 + 9) // 10  # ceil(1.1 x) in integers (100 * 1.1 > 110)
        if database.max_allocated_storage_gb < minimum:
            issues.append((f"{ns}:database.maxAllocatedStorageGb", f"got {database.max_allocated_storage_gb}; "
                           f"accepted: at least {minimum} (10% above database.allocatedStorageGb "
                           f"{database.allocated_storage_gb}, as RDS storage autoscaling requires)"))
        issues.extend(_rds_window_issues(database))
    elif database.max_allocated_storage_gb < database.allocated_storage_gb:
        issues.append((f"{ns}:database.maxAllocatedStorageGb", "must be at least database.allocatedStorageGb"))
    for name, pool in config.cluster.node_pools.by_name().items():
        key = f"{ns}:cluster.nodePools.{name}"
        if pool.min_size > pool.max_size:
            issues.append((f"{key}.minSize", f"{pool.min_size} is above maxSize {pool.max_size}"))
        if pool.desired_size is not None and not pool.min_size <= pool.desired_size <= pool.max_size:
            issues.append((f"{key}.desiredSize", f"must be between minSize and maxSize ({pool.min_size}-"
                                                 f"{pool.max_size})"))
    if config.is_prod and config.cluster.node_pools.services.min_size < 2:
        issues.append((f"{ns}:cluster.nodePools.services.minSize", "must be at least 2 in prod"))
    lifecycle = config.gitpod.workspace
    seconds = lifecycle.seconds()
    wkey = f"{ns}:gitpod.workspace"
    if seconds["timeoutExtended"] > MAX_TIMEOUT_EXTENDED_S:
        issues.append((f"{wkey}.timeoutExtended", f"{lifecycle.timeout_extended} is above the 24h maximum"))
    if seconds["timeoutDefault"] > seconds["timeoutExtended"]:
        issues.append((f"{wkey}.timeoutDefault", "must not exceed timeoutExtended"))
    if seconds["timeoutAfterClose"] > seconds["timeoutDefault"]:
        issues.append((f"{wkey}.timeoutAfterClose", "must not exceed timeoutDefault (closing the IDE shortens "
                                                    "the timeout)"))
    if seconds["maxLifetime"] > MAX_LIFETIME_S:
        issues.append((f"{wkey}.maxLifetime", f"{lifecycle.max_lifetime} is above the 36h maximum"))
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


_POOL_DEFAULTS: dict[str, dict[str, Any]] = {
    "dev": {
        "services": {"instanceTypes": ["m6i.xlarge"], "minSize": 1, "maxSize": 3},
        "regular-workspaces": {"instanceTypes": ["m6i.2xlarge"], "minSize": 1, "maxSize": 4},
        "headless-workspaces": {"instanceTypes": ["m6i.2xlarge"], "minSize": 0, "maxSize": 2},
    },
    "staging": {
        "services": {"instanceTypes": ["m6i.2xlarge"], "minSize": 2, "maxSize": 4},
        "regular-workspaces": {"instanceTypes": ["m6i.4xlarge"], "minSize": 1, "maxSize": 10},
        "headless-workspaces": {"instanceTypes": ["m6i.4xlarge"], "minSize": 0, "maxSize": 5},
    },
    "prod": {
        "services": {"instanceTypes": ["m6i.2xlarge"], "minSize": 3, "maxSize": 6},
        "regular-workspaces": {"instanceTypes": ["m6i.4xlarge"], "minSize": 2, "maxSize": 50},
        "headless-workspaces": {"instanceTypes": ["m6i.4xlarge"], "minSize": 1, "maxSize": 20},
    },
}

ENVIRONMENT_DEFAULTS: dict[str, dict[str, Any]] = {
    "dev": {
        "network": {"availabilityZones": 2, "natGatewayPerAz": False},
        "cluster": {"nodePools": _POOL_DEFAULTS["dev"]},
        "database": {"instanceClass": "db.t4g.medium", "multiAz": False, "crossRegionBackups": False,
                     "backupRetentionDays": 7},
    },
    "staging": {
        "network": {"availabilityZones": 2, "natGatewayPerAz": False},
        "cluster": {"nodePools": _POOL_DEFAULTS["staging"]},
        "database": {"instanceClass": "db.r6g.large", "multiAz": True, "crossRegionBackups": False,
                     "backupRetentionDays": 7},
    },
    "prod": {
        "network": {"availabilityZones": 3, "natGatewayPerAz": True},
        "cluster": {"nodePools": _POOL_DEFAULTS["prod"]},
        "database": {"instanceClass": "db.r6g.xlarge", "multiAz": True, "crossRegionBackups": True,
                     "backupRetentionDays": 14, "allocatedStorageGb": 100, "maxAllocatedStorageGb": 1000},
    },
}


def _gcp_consistency_issues(config: CellConfig) -> list[tuple[str, str]]:
    # Imported here: it is pure, but its module builds resources with pulumi_gcp, which AWS cells never load.
    from components.gcp.network import pod_capacity_issues

    issues: list[tuple[str, str]] = pod_capacity_issues(
        config.network.vpc_cidr,
        {name: pool.max_size for name, pool in config.cluster.node_pools.by_name().items()},
        1 if config.gcp_settings.cluster_zone else 3,
    )
    ns, gcp = NAMESPACE, config.gcp_settings
    if config.project is None:
        issues.append(("gcp:project", "is required for a GCP cell; set it with `pulumi config set gcp:project <id>`"))
    location = config.storage_location
    if storage_location_kind(location) == "region":
        if config.is_prod:
            issues.append((f"{ns}:gcp.storageLocation", f"{location!r} is a single region; prod needs a "
                           f"multi-region ({', '.join(GCS_MULTI_REGIONS)}) or a dual-region ("
                           f"{', '.join(GCS_DUAL_REGIONS)}, or a pair such as europe-west1+europe-west4) so "
                           "workspace content survives a regional outage"))
        elif gcp.storage_location is None:
            issues.append((f"{ns}:gcp.storageLocation", f"has no default for {config.region}; set a location"))
    if gcp.cluster_zone is not None:
        if config.is_prod:
            issues.append((f"{ns}:gcp.clusterZone", "must not be set in prod: prod runs a regional cluster (a "
                                                    "zonal control plane is down during upgrades and zone outages)"))
        elif not gcp.cluster_zone.startswith(f"{config.region}-"):
            issues.append((f"{ns}:gcp.clusterZone", f"{gcp.cluster_zone!r} is not a zone of gcp:region "
                                                    f"{config.region}"))
    window = gcp.maintenance_window
    # GKE requires at least 48 hours of maintenance availability in any 32-day period.
    if len(window.days) * window.hours * 4 < 48:
        issues.append((f"{ns}:gcp.maintenanceWindow", f"{len(window.days)} day(s) x {window.hours}h a week is under "
                                                      "the 48 hours per 32 days GKE requires; add days or hours"))
    if gcp.transaction_log_retention_days > config.database.backup_retention_days:
        issues.append((f"{ns}:gcp.transactionLogRetentionDays", "must not exceed database.backupRetentionDays"))
    if config.cluster.admin_role_arns:
        issues.append((f"{ns}:cluster.adminRoleArns", "is AWS only; on GCP grant roles/container.admin in IAM"))
    if config.dns.zone_id is not None:
        issues.append((f"{ns}:dns.zoneId", "is a Route53 id; on GCP adopt a zone with gcp.existingZoneName"))
    for key, value in config.tags.items():
        if not _GCP_LABEL_KEY.match(key) or not _GCP_LABEL_VALUE.match(value):
            issues.append((f"{ns}:tags", f"{key}: {value} is not a GCP label (lowercase letters, digits, '_' and "
                                         "'-', keys starting with a letter, at most 63 characters)"))
        elif key in ("environment", "cell", "managed-by"):
            issues.append((f"{ns}:tags", f"label {key!r} is set by the cell itself"))
    return issues


_GCP_POOL_DEFAULTS: dict[str, dict[str, Any]] = {
    "dev": {
        "services": {"instanceTypes": ["e2-standard-4"], "minSize": 1, "maxSize": 3},
        "regular-workspaces": {"instanceTypes": ["n2-standard-8"], "minSize": 1, "maxSize": 4},
        "headless-workspaces": {"instanceTypes": ["n2-standard-8"], "minSize": 0, "maxSize": 2},
    },
    "staging": {
        "services": {"instanceTypes": ["n2-standard-8"], "minSize": 2, "maxSize": 4},
        "regular-workspaces": {"instanceTypes": ["n2-standard-16"], "minSize": 1, "maxSize": 10},
        "headless-workspaces": {"instanceTypes": ["n2-standard-16"], "minSize": 0, "maxSize": 5},
    },
    "prod": {
        "services": {"instanceTypes": ["n2-standard-8"], "minSize": 3, "maxSize": 6},
        "regular-workspaces": {"instanceTypes": ["n2-standard-16"], "minSize": 3, "maxSize": 50},
        "headless-workspaces": {"instanceTypes": ["n2-standard-16"], "minSize": 1, "maxSize": 20},
    },
}

GCP_ENVIRONMENT_DEFAULTS: dict[str, dict[str, Any]] = {
    "dev": {
        "network": {"availabilityZones": 2},
        "cluster": {"nodePools": _GCP_POOL_DEFAULTS["dev"]},
        "database": {"instanceClass": "db-custom-2-7680", "multiAz": False, "crossRegionBackups": False,
                     "backupRetentionDays": 7},
        "gcp": {"releaseChannel": "REGULAR", "transactionLogRetentionDays": 3},
    },
    "staging": {
        "network": {"availabilityZones": 3},
        "cluster": {"nodePools": _GCP_POOL_DEFAULTS["staging"]},
        "database": {"instanceClass": "db-custom-4-16384", "multiAz": True, "crossRegionBackups": False,
                     "backupRetentionDays": 7},
        "gcp": {"releaseChannel": "REGULAR", "transactionLogRetentionDays": 7},
    },
    "prod": {
        "network": {"availabilityZones": 3},
        "cluster": {"nodePools": _GCP_POOL_DEFAULTS["prod"]},
        "database": {"instanceClass": "db-custom-8-32768", "multiAz": True, "crossRegionBackups": True,
                     "backupRetentionDays": 14, "allocatedStorageGb": 100, "maxAllocatedStorageGb": 1000},
        "gcp": {"releaseChannel": "REGULAR", "transactionLogRetentionDays": 7},
    },
}


def _cloud_of(info: ValidationInfo) -> str:
    context = info.context if isinstance(info.context, Mapping) else {}
    return str(context.get("cloud", "aws"))


def load_from_pulumi() -> CellConfig:
    """Read and validate the running stack's configuration (under `pulumi up` or the offline plan)."""
    import pulumi
    from pulumi.runtime.config import CONFIG, get_config, get_config_env

    # Every key the engine passed in, so a misspelled `gitpod-cell:` key is an error rather than ignored.
    cloud_keys = {key for keys in _CLOUD_KEYS.values() for key in keys}
    keys = {key for key in (*CONFIG.get(), *get_config_env()) if key.startswith(f"{NAMESPACE}:")} | cloud_keys
    from_engine = {key: value for key in sorted(keys) if (value := get_config(key)) is not None}
    return CellConfig.from_stack_config(pulumi.get_stack(), from_engine)
