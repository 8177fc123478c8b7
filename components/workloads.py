"""What Gitpod's workloads expect of any cloud's nodes, independent of the cloud that provides them."""

from __future__ import annotations

# DESIGN.md: the node labels Gitpod's components schedule on, per node pool.
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
