"""CellConfig: the whole stack configuration of one cell, typed and validated before any resource exists.

Stack files hold `gitpod-cell:<key>` values (objects for the structured sections) and the cloud's own keys
(`aws:region`, or `gcp:region` and `gcp:project`). `CellConfig.from_stack_config` deep-merges the defaults of the
environment (per cloud) under what the stack sets, validates everything, and raises `CellConfigError` listing every
bad key with what it accepts.

    section.py     the pydantic base, CellConfigError, value parsers
    model.py       one model per section, and CellConfig
    aws.py gcp.py  what only one cloud checks (and GCP's own section)
    rules.py       rules across sections
    defaults.py    per-environment defaults, per cloud
    stack_keys.py  the flat stack-config map -> CellConfig, and load_from_pulumi
"""

from components.config.aws import CLOUDWATCH_RETENTION_DAYS, is_arm64_instance_type
from components.config.defaults import ENVIRONMENT_DEFAULTS, GCP_ENVIRONMENT_DEFAULTS
from components.config.gcp import (
    GCS_DUAL_REGIONS,
    GCS_MULTI_REGIONS,
    GcpConfig,
    GkeMaintenanceWindowConfig,
    default_storage_location,
    storage_location_kind,
)
from components.config.gitpod import (
    GitpodConfig,
    LetsEncryptConfig,
    StaticStorageKeyConfig,
    WorkspaceLifecycleConfig,
)
from components.config.model import (
    MAX_BACKUP_RETENTION_DAYS,
    MIN_BACKUP_RETENTION_DAYS,
    SUPPORTED_KUBERNETES_VERSIONS,
    CellConfig,
    ClusterConfig,
    ConfigBackupRef,
    DatabaseConfig,
    NodePoolConfig,
    RestoreConfig,
)
from components.config.section import NAMESPACE, CellConfigError, parse_duration
from components.config.stack_keys import config_from_stack, load_from_pulumi
from contract.naming import DERIVED_NAME_LIMITS, MAX_STACK_NAME_LENGTH, stack_name_problem

__all__ = [
    "CLOUDWATCH_RETENTION_DAYS",
    "DERIVED_NAME_LIMITS",
    "ENVIRONMENT_DEFAULTS",
    "GCP_ENVIRONMENT_DEFAULTS",
    "GCS_DUAL_REGIONS",
    "GCS_MULTI_REGIONS",
    "MAX_BACKUP_RETENTION_DAYS",
    "MAX_STACK_NAME_LENGTH",
    "MIN_BACKUP_RETENTION_DAYS",
    "NAMESPACE",
    "SUPPORTED_KUBERNETES_VERSIONS",
    "CellConfig",
    "CellConfigError",
    "ClusterConfig",
    "ConfigBackupRef",
    "DatabaseConfig",
    "GcpConfig",
    "GitpodConfig",
    "GkeMaintenanceWindowConfig",
    "LetsEncryptConfig",
    "NodePoolConfig",
    "RestoreConfig",
    "StaticStorageKeyConfig",
    "WorkspaceLifecycleConfig",
    "config_from_stack",
    "default_storage_location",
    "is_arm64_instance_type",
    "load_from_pulumi",
    "parse_duration",
    "stack_name_problem",
    "storage_location_kind",
]
