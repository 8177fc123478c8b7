"""AWS tags that identify a cell's resources; production-only rules read `Environment` from them."""

from __future__ import annotations

from typing import Any

from policies.core.context import AWS_ENVIRONMENT_TAG, aws_tags, identity_problems
from policies.core.rule import Report, resource_rule
from policies.rules.tokens import AWS_TAGGABLE_TYPES


@resource_rule(
    name="aws-required-tags",
    summary="Taggable AWS resources carry Environment (dev|staging|prod), Cell and ManagedBy=pulumi tags "
    "(provider default tags count).",
    types=AWS_TAGGABLE_TYPES,
)
def aws_required_tags(args: Any, report: Report) -> None:
    problems = identity_problems(aws_tags(args), AWS_ENVIRONMENT_TAG, "Cell", "ManagedBy")
    if problems:
        report("; ".join(problems) + ".")
