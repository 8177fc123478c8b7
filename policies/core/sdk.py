"""Wrapping rules in `pulumi_policy` objects for the Pulumi CLI. Imported only by `__main__.py` and tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi_policy as sdk

from policies.core.rule import Level, Report, Rule

PACK_NAME = "gitpod-cell"
PACK_DESCRIPTION = "Recovery, exposure, encryption, identity and hygiene rules for a Gitpod cell on AWS or GCP."


def _resource_validator(rule: Rule) -> Any:
    def validate(args: sdk.ResourceValidationArgs, report_violation: Report) -> None:
        if rule.applies_to(args.resource_type):
            rule.validate(args, report_violation)

    return validate


def to_policy(rule: Rule) -> sdk.Policy:
    schema = None
    if rule.config_schema:
        schema = sdk.PolicyConfigSchema(properties={key: dict(prop) for key, prop in rule.config_schema.items()})
    level = sdk.EnforcementLevel(rule.level.value)
    if rule.kind == "resource":
        return sdk.ResourceValidationPolicy(
            name=rule.name,
            description=rule.description,
            validate=_resource_validator(rule),
            enforcement_level=level,
            config_schema=schema,
        )
    return sdk.StackValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=rule.validate,
        enforcement_level=level,
        config_schema=schema,
    )


def policy_pack_arguments(rules: Sequence[Rule]) -> dict[str, Any]:
    """Keyword arguments for `pulumi_policy.PolicyPack` (whose constructor serves the pack and never returns)."""
    return {
        "name": PACK_NAME,
        "policies": [to_policy(rule) for rule in rules],
        "enforcement_level": sdk.EnforcementLevel(Level.MANDATORY.value),
        "description": PACK_DESCRIPTION,
    }
