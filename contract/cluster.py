"""Kubernetes objects and labels that the program writes and `ops` reads (or the other way round)."""

from __future__ import annotations

DEFAULT_GITPOD_NAMESPACE = "gitpod"
PART_OF_LABELS = {"app.kubernetes.io/part-of": "gitpod-cell"}

# The `gitpod-installation` ConfigMap in Gitpod's namespace: what is installed and where the last rollout can be
# undone from. The program writes `version`, `configHash`, `cell` and the lifecycle settings; the rollout hooks
# merge-patch the rest under their own field manager (ops.cluster.installation_record documents each key).
INSTALLATION_CONFIG_MAP = "gitpod-installation"
RECORD_KEY_VERSION = "version"
RECORD_KEY_CONFIG_HASH = "configHash"
RECORD_KEY_CELL = "cell"

# ws-manager-mk2 reads its maintenance ConfigMap from a hard-coded location, not from Gitpod's namespace
# (components/ws-manager-mk2/controllers/maintenance_controller.go: `configMapKey`, namespace "default"), and newer
# builds only watch ConfigMaps that carry MK2_MAINTENANCE_LABEL.
MK2_MAINTENANCE_NAMESPACE = "default"
MK2_MAINTENANCE_CONFIG_MAP = "ws-manager-mk2-maintenance-mode"
MK2_MAINTENANCE_KEY = "config.json"
MK2_MAINTENANCE_LABEL = "gitpod.io/maintenanceConfig"

# On builds whose workspace manager knows no maintenance mode, it is held at zero replicas during a lease; this
# annotation on its Deployment keeps the replicas it gets back (the installer Job's apply step, the maintenance
# keeper CronJob and `ops` all read and write it).
REPLICAS_AFTER_MAINTENANCE = "gitpod-cell/replicas-after-maintenance"

# The node labels Gitpod's components schedule on, per node pool (docs/architecture.md).
WORKLOAD_LABELS: dict[str, dict[str, str]] = {
    "services": {
        "gitpod.io/workload_meta": "true",
        "gitpod.io/workload_ide": "true",
        "gitpod.io/workload_workspace_services": "true",
        "gitpod.io/workload_services": "true",
    },
    "regular-workspaces": {"gitpod.io/workload_workspace_regular": "true"},
    "headless-workspaces": {"gitpod.io/workload_workspace_headless": "true"},
}
NODE_POOL_NAMES: tuple[str, ...] = tuple(WORKLOAD_LABELS)
ALL_WORKLOAD_LABEL_KEYS: tuple[str, ...] = tuple(key for labels in WORKLOAD_LABELS.values() for key in labels)
