"""Rules and settings only a GCP cell has: regions, projects, machine types and tiers, GCS locations, GKE
maintenance windows, labels, and the pod-range capacity of the node pools."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator

from components.config.section import NAMESPACE, Section
from components.gcp.ranges import REGIONAL_ZONES, pod_capacity_issues

if TYPE_CHECKING:
    from components.config.model import CellConfig

ReleaseChannel = Literal["RAPID", "REGULAR", "STABLE"]
# Binary Authorization: `audit` logs what the policy would block (dry run); `enforce` blocks it.
BinaryAuthorizationMode = Literal["audit", "enforce"]
# GKE's Google Groups for RBAC reads members of groups nested in exactly this group of the domain.
GKE_SECURITY_GROUP_LOCAL_PART = "gke-security-groups"
GCP_REGION = re.compile(r"^(africa|asia|australia|europe|me|northamerica|southamerica|us)-[a-z]+\d{1,2}$")
# Project ids: 6-30 characters, lowercase letters, digits and hyphens, starting with a letter, not ending in '-'.
GCP_PROJECT = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_GCP_MACHINE_TYPE = re.compile(r"^[a-z][a-z0-9]*-[a-z]+(-\d+){0,2}(-lssd|-ext)?$")
_CLOUD_SQL_TIER = re.compile(r"^db-(custom-\d{1,2}-\d{4,6}|n1-(standard|highmem)-\d{1,2}|perf-optimized-N-\d{1,3})$")
_GCP_LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_GCP_LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
# GCS: multi-regions, predefined dual-regions, and the multi-region a custom dual-region pair belongs to.
GCS_MULTI_REGIONS: tuple[str, ...] = ("EU", "US", "ASIA")
GCS_DUAL_REGIONS: tuple[str, ...] = ("ASIA1", "EUR4", "EUR5", "EUR7", "EUR8", "NAM4")
_GCS_CONTINENTS: dict[str, str] = {"europe": "EU", "us": "US", "northamerica": "US", "asia": "ASIA"}
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def machine_types_problem(machine_types: list[str]) -> str | None:
    for machine_type in machine_types:
        if not _GCP_MACHINE_TYPE.match(machine_type):
            return f"{machine_type!r} is not a GCE machine type such as n2-standard-16"
    if len(machine_types) != 1:
        return "a GKE node pool has exactly one machine type; list one, e.g. [n2-standard-16]"
    return None


def cloud_sql_tier_problem(value: str) -> str | None:
    if not _CLOUD_SQL_TIER.match(value):
        return f"{value!r} is not a Cloud SQL (Enterprise edition) tier such as db-custom-4-16384"
    return None


class GkeMaintenanceWindowConfig(Section):
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


class GcpConfig(Section):
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
    # Google Groups for RBAC: a Google Workspace / Cloud Identity domain (or `gke-security-groups@<domain>`).
    security_group: str | None = None
    binary_authorization: BinaryAuthorizationMode = "audit"
    # Extra image name patterns the Binary Authorization policy admits (besides the cell's own, see docs/gcp.md).
    allowed_image_patterns: list[str] = Field(default_factory=list)

    @field_validator("security_group")
    @classmethod
    def _security_group(cls, value: str | None) -> str | None:
        if value is None:
            return None
        local, _, domain = value.lower().rpartition("@")
        if local not in ("", GKE_SECURITY_GROUP_LOCAL_PART) or not _is_domain(domain):
            raise ValueError(f"{value!r} is neither a domain such as example.com nor "
                             f"{GKE_SECURITY_GROUP_LOCAL_PART}@<domain> (GKE reads only that group)")
        return f"{GKE_SECURITY_GROUP_LOCAL_PART}@{domain}"

    @field_validator("allowed_image_patterns")
    @classmethod
    def _image_patterns(cls, value: list[str]) -> list[str]:
        for pattern in value:
            if not re.match(r"^[a-z0-9.-]+(:\d+)?/[A-Za-z0-9._/*-]*$", pattern) or pattern.startswith("*"):
                raise ValueError(f"{pattern!r} is not an image name pattern such as "
                                 "europe-docker.pkg.dev/my-project/my-repo/** (a registry host first)")
        return value

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
            if len(pair) != 2 or pair[0] == pair[1] or not all(GCP_REGION.match(r) for r in pair):
                raise ValueError(f"{value!r} is not a custom dual-region; use two regions such as "
                                 "europe-west1+europe-west4")
            if len(continents) != 1 or None in continents:
                raise ValueError(f"{value!r}: a custom dual-region pairs two regions of one continent "
                                 f"(Europe, North America or Asia)")
            return "+".join(pair)
        if GCP_REGION.match(value.lower()):
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


def _is_domain(name: str) -> bool:
    labels = name.split(".")
    return len(labels) >= 2 and all(re.match(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$", label) for label in labels)


def storage_location_kind(location: str) -> Literal["multi-region", "dual-region", "region"]:
    if location in GCS_MULTI_REGIONS:
        return "multi-region"
    if location in GCS_DUAL_REGIONS or "+" in location:
        return "dual-region"
    return "region"


def default_storage_location(region: str) -> str | None:
    """The multi-region covering a GCP region's continent (None where GCS has no multi-region there)."""
    return _GCS_CONTINENTS.get(region.split("-")[0])


def gcp_consistency_issues(config: CellConfig) -> list[tuple[str, str]]:
    issues: list[tuple[str, str]] = pod_capacity_issues(
        config.network.vpc_cidr,
        {name: pool.max_size for name, pool in config.cluster.node_pools.by_name().items()},
        1 if config.gcp_settings.cluster_zone else REGIONAL_ZONES,
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
    if config.database.max_allocated_storage_gb < config.database.allocated_storage_gb:
        issues.append((f"{ns}:database.maxAllocatedStorageGb", "must be at least database.allocatedStorageGb"))
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
