"""RDS instances: what they tell operators (enhanced monitoring, Performance Insights, log exports)."""

from __future__ import annotations

from typing import Any

from policies.core.props import as_int, as_list, get, truthy
from policies.core.rule import Report, resource_rule
from policies.rules.tokens import RDS_INSTANCE

MONITORING_INTERVALS = (1, 5, 10, 15, 30, 60)
# What each engine exports at the least: its error log.
REQUIRED_EXPORTS = {"mysql": ("error",), "mariadb": ("error",), "postgres": ("postgresql",)}


@resource_rule(
    name="aws-rds-enhanced-monitoring",
    summary="RDS instances send enhanced monitoring (OS metrics) every 1-60 seconds, with a monitoring role.",
    types=[RDS_INSTANCE],
    control="CKV_AWS_118",
)
def rds_enhanced_monitoring(args: Any, report: Report) -> None:
    interval = as_int(get(args.props, "monitoringInterval"))
    if interval not in MONITORING_INTERVALS:
        shown = "not set (off)" if interval is None else interval
        report(f"monitoringInterval is {shown}; set one of {', '.join(map(str, MONITORING_INTERVALS))} seconds.")
    elif not get(args.props, "monitoringRoleArn"):
        report("monitoringRoleArn is not set; RDS needs a role (AmazonRDSEnhancedMonitoringRole) to publish.")


@resource_rule(
    name="aws-rds-performance-insights",
    summary="RDS instances keep Performance Insights on, encrypted with a customer-managed key.",
    types=[RDS_INSTANCE],
    control="CKV_AWS_353, CKV_AWS_354",
)
def rds_performance_insights(args: Any, report: Report) -> None:
    if not truthy(get(args.props, "performanceInsightsEnabled")):
        report("performanceInsightsEnabled must be true.")
    elif not get(args.props, "performanceInsightsKmsKeyId"):
        report("performanceInsightsKmsKeyId is not set; encrypt Performance Insights with the database's key.")


@resource_rule(
    name="aws-rds-log-exports",
    summary="RDS instances export their logs to CloudWatch Logs (at least the error log).",
    types=[RDS_INSTANCE],
    control="CKV_AWS_129",
)
def rds_log_exports(args: Any, report: Report) -> None:
    engine = str(get(args.props, "engine") or "mysql")
    exported = {str(log) for log in as_list(get(args.props, "enabledCloudwatchLogsExports"))}
    missing = [log for log in REQUIRED_EXPORTS.get(engine, ()) if log not in exported]
    if not exported:
        report("enabledCloudwatchLogsExports is empty; export the engine's logs to CloudWatch Logs.")
    elif missing:
        report(f"enabledCloudwatchLogsExports is missing {', '.join(missing)}.")
