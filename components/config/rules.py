"""Rules across sections, checked once the sections themselves are valid (each cloud adds its own)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.config.aws import aws_consistency_issues
from components.config.gcp import gcp_consistency_issues
from components.config.gitpod import gitpod_issues
from components.config.kubernetes import kubernetes_issues
from components.config.section import NAMESPACE

if TYPE_CHECKING:
    from components.config.model import CellConfig

# Gitpod's hard limits on workspace lifetimes, in seconds.
MAX_TIMEOUT_EXTENDED_S = 24 * 3600
MAX_LIFETIME_S = 36 * 3600


def region_key(config: CellConfig) -> str:
    """The stack-config key of the cell's region (`aws:region` or `gcp:region`)."""
    return "gcp:region" if config.cloud == "gcp" else "aws:region"


def consistency_issues(config: CellConfig) -> list[tuple[str, str]]:
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
        issues.append((f"{ns}:replicaRegion", f"is required ({why}); a region other than {region_key(config)}"))
    if config.replica_region == config.region:
        issues.append((f"{ns}:replicaRegion", f"must differ from {region_key(config)} ({config.region}): a replica "
                                             "in the same region does not survive a regional outage"))
    if config.gitpod.letsencrypt is None and config.cloud != "kubernetes":
        issues.append((f"{ns}:gitpod.letsencrypt", "is required: email (Let's Encrypt's expiry notices) and "
                                                   "staging (true: untrusted test certificates; not in prod)"))
    if config.is_prod and config.cloud != "kubernetes":
        if config.network.availability_zones < 3:
            issues.append((f"{ns}:network.availabilityZones", "must be 3 in prod"))
        if not config.database.multi_az:
            issues.append((f"{ns}:database.multiAz", "must be true in prod"))
        if not config.database.cross_region_backups:
            issues.append((f"{ns}:database.crossRegionBackups", "must be true in prod"))
        if not config.database.deletion_protection:
            issues.append((f"{ns}:database.deletionProtection", "must be true in prod"))
        if config.gitpod.letsencrypt is not None and config.gitpod.letsencrypt.staging:
            issues.append((f"{ns}:gitpod.letsencrypt.staging", "must be false in prod (staging certificates are "
                                                               "not trusted by browsers)"))
    if config.cloud == "aws":
        issues.extend(aws_consistency_issues(config))
    for name, pool in config.cluster.node_pools.by_name().items():
        key = f"{ns}:cluster.nodePools.{name}"
        if pool.min_size > pool.max_size:
            issues.append((f"{key}.minSize", f"{pool.min_size} is above maxSize {pool.max_size}"))
        if pool.desired_size is not None and not pool.min_size <= pool.desired_size <= pool.max_size:
            issues.append((f"{key}.desiredSize", f"must be between minSize and maxSize ({pool.min_size}-"
                                                 f"{pool.max_size})"))
    if config.is_prod and config.cloud != "kubernetes" and config.cluster.node_pools.services.min_size < 2:
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
    if config.cloud == "gcp":
        issues.extend(gcp_consistency_issues(config))
    if config.cloud == "kubernetes":
        issues.extend(kubernetes_issues(config))
    issues.extend(gitpod_issues(config))
    return issues
