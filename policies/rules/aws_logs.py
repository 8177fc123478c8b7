"""CloudWatch log groups: bounded, deliberate retention."""

from __future__ import annotations

from typing import Any

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
