"""AWS tags that identify a cell's resources; production-only rules read `Environment` from them."""

from __future__ import annotations

from typing import Any

from policies.core.context import AWS_ENVIRONMENT_TAG, ENVIRONMENTS, aws_tags
from policies.core.rule import Report, resource_rule
from policies.rules.tokens import AWS_TAGGABLE_TYPES


@resource_rule(
    name="aws-required-tags",
    summary="Taggable AWS resources carry Environment (dev|staging|prod), Cell and ManagedBy=pulumi tags "
    "(provider default tags count).",
    types=AWS_TAGGABLE_TYPES,
)
def aws_required_tags(args: Any, report: Report) -> None:
    tags = aws_tags(args)
    problems = []
    environment = tags.get(AWS_ENVIRONMENT_TAG)
    if environment not in ENVIRONMENTS:
        shown = "missing" if environment is None else repr(environment)
        problems.append(f"Environment is {shown} (expected one of {', '.join(ENVIRONMENTS)})")
    if not tags.get("Cell"):
        problems.append("Cell is missing")
    managed_by = tags.get("ManagedBy")
    if managed_by != "pulumi":
        shown = "missing" if managed_by is None else repr(managed_by)
        problems.append(f"ManagedBy is {shown} (expected 'pulumi')")
    if problems:
        report("; ".join(problems) + ".")
