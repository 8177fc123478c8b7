"""What each environment (`dev | staging | prod`) sets when the stack does not, per cloud."""

from __future__ import annotations

from typing import Any

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
        "network": {"availabilityZones": 3, "natGatewayPerAz": True, "logRetentionDays": 365},
        "cluster": {"nodePools": _POOL_DEFAULTS["prod"]},
        "database": {"instanceClass": "db.r6g.xlarge", "multiAz": True, "crossRegionBackups": True,
                     "backupRetentionDays": 14, "allocatedStorageGb": 100, "maxAllocatedStorageGb": 1000},
        "storage": {"accessLogRetentionDays": 365},
    },
}

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
        "storage": {"accessLogRetentionDays": 365},
        "gcp": {"releaseChannel": "REGULAR", "transactionLogRetentionDays": 7},
    },
}


# A cell on an existing cluster creates no nodes and no database: the model's cluster and database sections hold
# nominal values nothing reads (the stack may not set them; components/config/kubernetes.py refuses them).
_EXISTING = ["existing-nodes"]
_KUBERNETES_DEFAULTS: dict[str, Any] = {
    "cluster": {"nodePools": {pool: {"instanceTypes": _EXISTING, "minSize": 0, "maxSize": 1}
                              for pool in ("services", "regular-workspaces", "headless-workspaces")}},
    "database": {"instanceClass": "existing", "multiAz": False, "crossRegionBackups": False},
}
KUBERNETES_ENVIRONMENT_DEFAULTS: dict[str, dict[str, Any]] = {
    environment: _KUBERNETES_DEFAULTS for environment in ("dev", "staging", "prod")
}


def environment_defaults(cloud: str, environment: object) -> dict[str, Any]:
    """The defaults of `environment` on `cloud`; nothing for an unknown environment (validation reports it)."""
    table = {"gcp": GCP_ENVIRONMENT_DEFAULTS, "kubernetes": KUBERNETES_ENVIRONMENT_DEFAULTS}.get(
        cloud, ENVIRONMENT_DEFAULTS)
    return table.get(environment, {}) if isinstance(environment, str) else {}
