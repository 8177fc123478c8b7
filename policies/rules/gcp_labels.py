"""GCP labels that identify a cell's resources; production-only rules read `environment` from them."""

from __future__ import annotations

from typing import Any

from policies.core.context import ENVIRONMENTS, GCP_ENVIRONMENT_LABEL, GCP_LABEL_PATHS, gcp_labels
from policies.core.rule import Report, resource_rule


@resource_rule(
    name="gcp-required-labels",
    summary="Labelled GCP resources carry environment (dev|staging|prod), cell and managed-by=pulumi labels "
    "(provider default labels count).",
    types=GCP_LABEL_PATHS,
)
def gcp_required_labels(args: Any, report: Report) -> None:
    labels = gcp_labels(args)
    problems = []
    environment = labels.get(GCP_ENVIRONMENT_LABEL)
    if environment not in ENVIRONMENTS:
        shown = "missing" if environment is None else repr(environment)
        problems.append(f"environment is {shown} (expected one of {', '.join(ENVIRONMENTS)})")
    if not labels.get("cell"):
        problems.append("cell is missing")
    managed_by = labels.get("managed-by")
    if managed_by != "pulumi":
        shown = "missing" if managed_by is None else repr(managed_by)
        problems.append(f"managed-by is {shown} (expected 'pulumi')")
    if problems:
        report(f"labels at {GCP_LABEL_PATHS[args.resource_type]}: " + "; ".join(problems) + ".")
