"""CloudWatch log groups: bounded, deliberate retention (a year in production), encrypted with a CMK."""

from __future__ import annotations

from typing import Any

from policies.core.context import PRODUCTION_SCHEMA, in_environments
from policies.core.props import as_int, get
from policies.core.rule import Level, Report, configured, resource_rule
from policies.rules.tokens import LOG_GROUP

RETENTION_SCHEMA = {
    "minimumDays": {
        "type": "integer",
        "minimum": 1,
        "default": 90,
        "description": "Fewest days log groups (e.g. EKS control-plane logs) keep events.",
    },
}


@resource_rule(
    name="aws-log-group-retention",
    summary="CloudWatch log groups set a retention of at least `minimumDays` days (default 90) instead of "
    "keeping logs forever.",
    types=[LOG_GROUP],
    control="CKV_AWS_66",
    level=Level.ADVISORY,
    why_advisory="Retention is a cost and audit trade-off each operator may tune; it does not expose data.",
    config=RETENTION_SCHEMA,
)
def log_group_retention(args: Any, report: Report) -> None:
    minimum = configured(args, RETENTION_SCHEMA)["minimumDays"]
    days = as_int(get(args.props, "retentionInDays"))
    if days is None or days == 0:
        report(f"retentionInDays is not set (logs never expire); set at least {minimum}.")
    elif days < minimum:
        report(f"retentionInDays is {days}; keep at least {minimum}.")


@resource_rule(
    name="aws-log-group-kms",
    summary="CloudWatch log groups are encrypted with a customer-managed KMS key (kmsKeyId).",
    types=[LOG_GROUP],
    control="CKV_AWS_158",
)
def log_group_kms(args: Any, report: Report) -> None:
    if not get(args.props, "kmsKeyId"):
        report("kmsKeyId is not set; encrypt the log group with the cell's logs key.")


PROD_RETENTION_SCHEMA = {
    **PRODUCTION_SCHEMA,
    "minimumDays": {
        "type": "integer",
        "minimum": 1,
        "default": 365,
        "description": "Fewest days production log groups keep events (one year: NIST AU-11).",
    },
}


@resource_rule(
    name="aws-log-group-retention-prod",
    summary="Production CloudWatch log groups keep events at least `minimumDays` days (default 365); "
    "never-expiring groups pass.",
    types=[LOG_GROUP],
    control="CKV_AWS_338",
    config=PROD_RETENTION_SCHEMA,
)
def log_group_retention_prod(args: Any, report: Report) -> None:
    settings = configured(args, PROD_RETENTION_SCHEMA)
    if not in_environments(args, settings["environments"]):
        return
    days = as_int(get(args.props, "retentionInDays"))
    if days is not None and 0 < days < settings["minimumDays"]:
        report(f"retentionInDays is {days}; production keeps logs at least {settings['minimumDays']} days.")
