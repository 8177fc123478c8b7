"""GCP labels that identify a cell's resources; production-only rules read `environment` from them."""

from __future__ import annotations

from typing import Any

from policies.core.context import GCP_ENVIRONMENT_LABEL, GCP_LABEL_PATHS, gcp_labels, identity_problems
from policies.core.rule import Report, resource_rule


@resource_rule(
    name="gcp-required-labels",
    summary="Labelled GCP resources carry environment (dev|staging|prod), cell and managed-by=pulumi labels "
    "(provider default labels count).",
    types=GCP_LABEL_PATHS,
)
def gcp_required_labels(args: Any, report: Report) -> None:
    problems = identity_problems(gcp_labels(args), GCP_ENVIRONMENT_LABEL, "cell", "managed-by")
    if problems:
        report(f"labels at {GCP_LABEL_PATHS[args.resource_type]}: " + "; ".join(problems) + ".")
