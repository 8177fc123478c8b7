"""Node pools cover every workload class Gitpod schedules (EKS node groups or GKE node pools)."""

from __future__ import annotations

from typing import Any

from policies.core.props import as_mapping, get
from policies.core.rule import Report, configured, stack_rule
from policies.core.stack import StackView
from policies.rules.tokens import EKS_NODE_GROUP, GKE_NODE_POOL

WORKLOAD_LABELS = (
    "gitpod.io/workload_meta",
    "gitpod.io/workload_ide",
    "gitpod.io/workload_workspace_services",
    "gitpod.io/workload_services",
    "gitpod.io/workload_workspace_regular",
    "gitpod.io/workload_workspace_headless",
)
COVERAGE_SCHEMA = {
    "requiredLabels": {
        "type": "array",
        "items": {"type": "string"},
        "minItems": 1,
        "default": list(WORKLOAD_LABELS),
        "description": "Node labels (set to \"true\") that some node pool must carry.",
    },
}


def node_labels(pool: Any) -> dict[str, Any]:
    path = "labels" if pool.resource_type == EKS_NODE_GROUP else "nodeConfig.labels"
    return dict(as_mapping(get(pool.props, path)))


@stack_rule(
    name="node-pools-cover-gitpod-workloads",
    summary="Together, the node pools carry every Gitpod workload label (meta, ide, workspace_services, "
    "services, workspace_regular, workspace_headless) set to \"true\".",
    config=COVERAGE_SCHEMA,
)
def node_pools_cover_gitpod_workloads(args: Any, report: Report) -> None:
    pools = StackView(args.resources).of_type(EKS_NODE_GROUP, GKE_NODE_POOL)
    if not pools:
        return
    carried = {key for pool in pools for key, value in node_labels(pool).items() if str(value).lower() == "true"}
    missing = [label for label in configured(args, COVERAGE_SCHEMA)["requiredLabels"] if label not in carried]
    if missing:
        labels = ", ".join(f"{label}=true" for label in missing)
        report(f"no node pool carries {labels}; Gitpod could not schedule those workloads.")
