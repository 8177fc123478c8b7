"""Stateful resources (databases, buckets, registries, DNS zones, keys) are protected in production."""

from __future__ import annotations

from typing import Any

from policies.core.context import PRODUCTION_SCHEMA, in_environments
from policies.core.rule import Report, configured, resource_rule
from policies.rules.tokens import STATEFUL_TYPES


@resource_rule(
    name="stateful-resources-protected-prod",
    summary="In production, databases, buckets, registries, DNS zones and KMS keys are `protect`ed, so no "
    "update can delete or replace them.",
    types=STATEFUL_TYPES,
    config=PRODUCTION_SCHEMA,
)
def stateful_resources_protected_prod(args: Any, report: Report) -> None:
    if in_environments(args, configured(args, PRODUCTION_SCHEMA)["environments"]) and not args.opts.protect:
        report("production stateful resource is not protected; set protect=True (and retain_on_delete=True).")
