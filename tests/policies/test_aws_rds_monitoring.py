"""RDS: enhanced monitoring, Performance Insights, log exports."""

from __future__ import annotations

import pytest

from tests.policies.records import resource

RDS = "aws:rds/instance:Instance"
GOOD = {"engine": "mysql", "monitoringInterval": 60, "monitoringRoleArn": "arn:aws:iam::1:role/m",
        "performanceInsightsEnabled": True, "performanceInsightsKmsKeyId": "arn:aws:kms:eu-west-1:1:key/k",
        "enabledCloudwatchLogsExports": ["error", "slowquery"]}


def db(**changes):
    inputs = {**GOOD, **changes}
    return resource(RDS, "db", {k: v for k, v in inputs.items() if v is not None})


@pytest.mark.parametrize("rule", ["aws-rds-enhanced-monitoring", "aws-rds-performance-insights",
                                  "aws-rds-log-exports"])
def test_good_instance_passes(check, rule):
    assert check(rule, db()) == []


class TestEnhancedMonitoring:
    rule = "aws-rds-enhanced-monitoring"

    def test_fails_when_absent(self, check):
        d = db(monitoringInterval=None)
        assert check(self.rule, d) == [(d["urn"], "monitoringInterval is not set (off); set one of 1, 5, 10, 15, "
                                                  "30, 60 seconds.")]

    def test_fails_when_off(self, check):
        assert len(check(self.rule, db(monitoringInterval=0))) == 1

    def test_fails_without_role(self, check):
        d = db(monitoringRoleArn=None)
        assert check(self.rule, d) == [(d["urn"], "monitoringRoleArn is not set; RDS needs a role "
                                                  "(AmazonRDSEnhancedMonitoringRole) to publish.")]


class TestPerformanceInsights:
    rule = "aws-rds-performance-insights"

    def test_fails_when_absent(self, check):
        d = db(performanceInsightsEnabled=None)
        assert check(self.rule, d) == [(d["urn"], "performanceInsightsEnabled must be true.")]

    def test_fails_without_cmk(self, check):
        assert len(check(self.rule, db(performanceInsightsKmsKeyId=None))) == 1


class TestLogExports:
    rule = "aws-rds-log-exports"

    def test_fails_when_absent(self, check):
        d = db(enabledCloudwatchLogsExports=None)
        assert check(self.rule, d) == [(d["urn"], "enabledCloudwatchLogsExports is empty; export the engine's logs "
                                                  "to CloudWatch Logs.")]

    def test_fails_without_the_error_log(self, check):
        d = db(enabledCloudwatchLogsExports=["slowquery"])
        assert check(self.rule, d) == [(d["urn"], "enabledCloudwatchLogsExports is missing error.")]
