"""The rollout: its steps, their order, the deadlines a maintenance lease must outlast, and the hooks' context.

    before the installer Job is created or updated:  preflight -> enter-maintenance -> record-restore-point
    after it completed:                               health-gate -> backup-config -> exit-maintenance

The Pulumi program binds one resource hook per step (components/gitpod/hooks.py) and builds a `HookContext`;
`ops.rollout` holds the step bodies and resolves the context when a hook runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

PREFLIGHT = "preflight"
ENTER_MAINTENANCE = "enter-maintenance"
RECORD_RESTORE_POINT = "record-restore-point"
HEALTH_GATE = "health-gate"
BACKUP_CONFIG = "backup-config"
EXIT_MAINTENANCE = "exit-maintenance"
BEFORE_ROLLOUT_STEPS: tuple[str, ...] = (PREFLIGHT, ENTER_MAINTENANCE, RECORD_RESTORE_POINT)
AFTER_ROLLOUT_STEPS: tuple[str, ...] = (HEALTH_GATE, BACKUP_CONFIG, EXIT_MAINTENANCE)
ALL_STEPS: tuple[str, ...] = BEFORE_ROLLOUT_STEPS + AFTER_ROLLOUT_STEPS
# A step runs only after these passed for the same resource in the same rollout.
PREREQUISITES: Mapping[str, tuple[str, ...]] = {
    ENTER_MAINTENANCE: (PREFLIGHT,),
    RECORD_RESTORE_POINT: (PREFLIGHT,),
    BACKUP_CONFIG: (HEALTH_GATE,),
    EXIT_MAINTENANCE: (HEALTH_GATE, BACKUP_CONFIG),
}

# The installer Job gives up after this (its activeDeadlineSeconds); Pulumi waits a little longer for it, so the
# failure Pulumi reports is the Job's own.
INSTALLER_JOB_DEADLINE_SECONDS = 25 * 60
INSTALLER_JOB_PULUMI_TIMEOUT = "30m"

# What the maintenance lease must outlast, from entering maintenance to the health gate's verdict:
#   record-restore-point's wait for a snapshot/backup (PITR off, or a new instance) ....... snapshot wait
#   the installer Job ..................................................................... its deadline
#   the health gate ....................................................................... health timeout
#   backup-config and exit-maintenance, API latency, Pulumi between the hooks .............. margin
DEFAULT_SNAPSHOT_WAIT_SECONDS = 15 * 60
DEFAULT_HEALTH_TIMEOUT_SECONDS = 15 * 60
LEASE_MARGIN_SECONDS = 5 * 60
# With the defaults: 15 + 25 + 15 + 5 = 60 minutes, the shortest lease a rollout accepts.
MIN_ROLLOUT_LEASE_MINUTES = (DEFAULT_SNAPSHOT_WAIT_SECONDS + INSTALLER_JOB_DEADLINE_SECONDS
                             + DEFAULT_HEALTH_TIMEOUT_SECONDS + LEASE_MARGIN_SECONDS) // 60
# A lease is a promise that maintenance ends soon: four hours is the longest a rollout takes, and the longest an
# operator's `ops maintenance enter` grants unless told --force-long-lease; a day is the hard ceiling.
MAX_LEASE_MINUTES = 240
MAX_FORCED_LEASE_MINUTES = 24 * 60
MIN_OPERATOR_LEASE_MINUTES = 1
DEFAULT_LEASE_MINUTES = MIN_ROLLOUT_LEASE_MINUTES


def minimum_lease_seconds(snapshot_wait_seconds: float, health_timeout_seconds: float) -> float:
    return snapshot_wait_seconds + INSTALLER_JOB_DEADLINE_SECONDS + health_timeout_seconds + LEASE_MARGIN_SECONDS


# A hook context value: a plain value, a `pulumi.Output` (awaited when the hook runs; it must come from resources
# the hooked resource depends on, never from that resource itself), or a callable taking the
# `pulumi.ResourceHookArgs` (e.g. to read the Job's `new_inputs`).
Deferred: TypeAlias = Any


@dataclass(frozen=True)
class HookContext:
    """What the Pulumi program hands the rollout hooks, built when the program runs: a misspelt field is a
    TypeError at plan time, not a failure half-way through a rollout.

    `region` is the restore target's region (`RestoreTarget.region`). The `database_*` fields are what preflight
    checks (from `Platform.database`); without `database_host` the preflight step fails instead of being skipped.
    """

    stack: Deferred
    region: Deferred
    db_instance_id: Deferred
    bucket: Deferred
    gitpod_version: Deferred = None
    config_hash: Deferred = None
    installer_config_yaml: Deferred = None
    # kubeconfig text (a secret Output is fine); None: $KUBECONFIG, ~/.kube/config, in-cluster.
    kubeconfig: Deferred = None
    kube_context: Deferred = None
    namespace: Deferred = None  # None: contract.cluster.DEFAULT_GITPOD_NAMESPACE
    lease_minutes: Deferred = DEFAULT_LEASE_MINUTES
    maintenance_namespace: Deferred = None  # None: contract.cluster.MK2_MAINTENANCE_NAMESPACE
    # How maintenance pauses workspaces on the pinned build (contract.gitpod_builds.MaintenanceMechanism) and
    # which Deployment starts and stops them; None: the ws-manager-mk2 lease alone.
    maintenance_mechanism: Deferred = None
    workspace_manager: Deferred = None
    snapshot_wait_seconds: Deferred = None  # None: DEFAULT_SNAPSHOT_WAIT_SECONDS
    health_timeout_seconds: Deferred = None
    health_label_selector: Deferred = None
    aws_profile: Deferred = None
    # Which cloud and which kinds of restore target and object storage (Platform.cloud, RestoreTarget.kind,
    # ObjectStorage.kind); None: the cloud's own (aws: rds + s3, gcp: cloudsql + gcs).
    cloud: Deferred = None
    restore_target_kind: Deferred = None
    object_storage_kind: Deferred = None
    gcp_project: Deferred = None  # ObjectStorage.project; required on GCP
    database_host: Deferred = None
    database_port: Deferred = None
    database_username: Deferred = None
    database_password: Deferred = None  # a secret Output is fine
    database_name: Deferred = None
    database_ca_pem: Deferred = None  # Database.ca_bundle_pem (Cloud SQL); else database_ca_url is fetched
    database_ca_url: Deferred = None
    # The registry repositories preflight checks; None: contract.naming.registry_repositories.
    registry_repositories: Deferred = None
    # A cell on an existing cluster (cloud "kubernetes"): no cloud API to ask, so the hooks are handed the
    # S3-compatible store's URL and key (secret Outputs), the registry's docker config (a secret) and whether it
    # is plain HTTP on loopback.
    object_storage_endpoint: Deferred = None
    object_storage_access_key_id: Deferred = None
    object_storage_secret_access_key: Deferred = None
    registry_docker_config: Deferred = None
    registry_insecure_http: Deferred = None
    # True only where MariaDB stands in for MySQL 8.0 (the local e2e stack): preflight's version check accepts it.
    database_accept_mariadb: Deferred = None
