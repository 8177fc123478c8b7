"""The offline adapter: arguments built from plan records, enforcement levels, config, failures, ordering."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest

from policies import offline
from policies.core.rule import Level, resource_rule, stack_rule
from policies.offline import PolicyConfigError, build_resources, evaluate
from tests.policies.records import aws_tags, provider, resource

REPO_ROOT = Path(__file__).resolve().parents[2]
RDS = "aws:rds/instance:Instance"


def bad_db(name="db"):
    return resource(RDS, name, {"backupRetentionPeriod": 1, "tags": aws_tags("prod")})


def by_policy(result, policy):
    return [v for v in result["violations"] if v["policy"] == policy]


class TestResult:
    def test_shape_and_counts(self):
        db = bad_db()
        result = evaluate([db])
        assert set(result) == {"ran", "violations"}
        assert result["ran"] == len(offline.ALL_RULES)
        assert by_policy(result, "aws-rds-backup-retention") == [{
            "policy": "aws-rds-backup-retention", "urn": db["urn"],
            "message": "backupRetentionPeriod is 1; keep automated backups for at least 7 days.",
            "enforcement": "mandatory",
        }]

    def test_violations_are_sorted_by_policy_urn_message(self):
        result = evaluate([bad_db("b"), bad_db("a")])
        keys = [(v["policy"], v["urn"] or "", v["message"]) for v in result["violations"]]
        assert keys == sorted(keys)

    def test_advisory_rules_report_advisory(self):
        result = evaluate([bad_db()])
        assert {v["enforcement"] for v in by_policy(result, "aws-rds-iam-authentication")} == {"advisory"}

    def test_records_are_not_mutated(self):
        records = [bad_db()]
        before = copy.deepcopy(records)
        evaluate(records)
        assert records == before

    def test_empty_plan(self):
        assert evaluate([]) == {"ran": len(offline.ALL_RULES), "violations": []}


class TestEnforcementConfig:
    def test_disabled_rules_are_skipped_and_not_counted(self):
        result = evaluate([bad_db()], {"aws-rds-backup-retention": "disabled"})
        assert by_policy(result, "aws-rds-backup-retention") == []
        assert result["ran"] == len(offline.ALL_RULES) - 1

    def test_all_sets_every_level_and_a_policy_overrides_it(self):
        result = evaluate([bad_db()], {"all": "advisory", "aws-rds-backup-retention": {"enforcementLevel":
                                                                                        "mandatory"}})
        assert {v["enforcement"] for v in by_policy(result, "aws-rds-backup-retention")} == {"mandatory"}
        assert {v["enforcement"] for v in by_policy(result, "aws-rds-deletion-protection")} == {"advisory"}

    def test_all_disabled_runs_nothing(self):
        assert evaluate([bad_db()], {"all": {"enforcementLevel": "disabled"}}) == {"ran": 0, "violations": []}

    def test_remediate_is_reported_as_mandatory(self):
        result = evaluate([bad_db()], {"aws-rds-iam-authentication": "remediate"})
        assert {v["enforcement"] for v in by_policy(result, "aws-rds-iam-authentication")} == {"mandatory"}

    @pytest.mark.parametrize(("config", "message"), [
        ({"no-such-policy": "advisory"}, "unknown policy 'no-such-policy' in the policy pack config"),
        ({"aws-rds-backup-retention": "sometimes"},
         "aws-rds-backup-retention: enforcement level 'sometimes' is not one of advisory, mandatory, remediate, "
         "disabled"),
        ({"aws-rds-backup-retention": {"minimumDays": "7"}}, "aws-rds-backup-retention.minimumDays: expected "
                                                             "integer, got '7'"),
        ({"aws-rds-backup-retention": {"minimumDays": 0}}, "aws-rds-backup-retention.minimumDays: 0 is below the "
                                                           "minimum 1"),
        ({"aws-rds-backup-retention": {"minimumDays": True}}, "aws-rds-backup-retention.minimumDays: expected "
                                                              "integer, got True"),
        ({"aws-rds-backup-retention": {"minDays": 7}}, "aws-rds-backup-retention: unknown setting 'minDays' "
                                                       "(settings: minimumDays)"),
        ({"aws-sg-no-public-ingress": {"publicPorts": [443, "80"]}},
         "aws-sg-no-public-ingress.publicPorts[1]: expected integer, got '80'"),
        (["aws-rds-backup-retention"], "policy pack config must be a JSON object keyed by policy name"),
    ])
    def test_invalid_config_is_rejected(self, config, message):
        with pytest.raises(PolicyConfigError) as raised:
            evaluate([], config)
        assert str(raised.value) == message

    def test_example_config_is_valid(self):
        import json

        example = json.loads((REPO_ROOT / "policies" / "config.example.json").read_text())
        assert evaluate([], example)["ran"] == len(offline.ALL_RULES) - 1


class TestFailures:
    def test_a_raising_rule_is_a_violation_naming_it(self, monkeypatch):
        @resource_rule(name="explodes", summary="Always raises.", types=[RDS])
        def explodes(args, report):
            raise KeyError("boom")

        @stack_rule(name="explodes-stack", summary="Always raises.")
        def explodes_stack(args, report):
            raise RuntimeError("bang")

        monkeypatch.setattr(offline, "ALL_RULES", (explodes, explodes_stack))
        db = bad_db()
        assert evaluate([db]) == {"ran": 2, "violations": [
            {"policy": "explodes", "urn": db["urn"], "message": "policy explodes failed: KeyError: 'boom'",
             "enforcement": "mandatory"},
            {"policy": "explodes-stack", "urn": None, "message": "policy explodes-stack failed: RuntimeError: bang",
             "enforcement": "mandatory"},
        ]}

    def test_not_applicable_is_not_a_violation(self, monkeypatch):
        @resource_rule(name="skips", summary="Never applies.", types=[RDS])
        def skips(args, report):
            args.not_applicable("nothing to see")

        monkeypatch.setattr(offline, "ALL_RULES", (skips,))
        assert evaluate([bad_db()]) == {"ran": 1, "violations": []}

    def test_resource_rules_report_against_their_resource(self, monkeypatch):
        @resource_rule(name="points-elsewhere", summary="Reports another URN.", types=[RDS], level=Level.ADVISORY,
                       why_advisory="test")
        def points_elsewhere(args, report):
            report("message", "urn:somewhere-else")

        monkeypatch.setattr(offline, "ALL_RULES", (points_elsewhere,))
        db = bad_db()
        assert evaluate([db])["violations"] == [
            {"policy": "points-elsewhere", "urn": db["urn"], "message": "message", "enforcement": "advisory"}
        ]


class TestAdapter:
    def test_provider_is_resolved_from_its_reference(self):
        primary = provider("primary", region="eu-west-1")
        db = resource(RDS, "db", {}, provider=primary)
        linked = {r.urn: r for r in build_resources([primary, db])}[db["urn"]]
        assert linked.provider is not None
        assert (linked.provider.urn, linked.provider.resource_type, linked.provider.name) == (
            primary["urn"], "pulumi:providers:aws", "primary")
        assert linked.provider.props == {"region": "eu-west-1"}

    def test_provider_reference_may_be_a_bare_urn(self):
        primary = provider("primary", region="eu-west-1")
        db = dict(resource(RDS, "db", {}), provider=primary["urn"])
        assert build_resources([primary, db])[1].provider.name == "primary"

    def test_unknown_provider_reference_gives_no_provider(self):
        db = dict(resource(RDS, "db", {}), provider="urn:pulumi:test::gitpod-cell::pulumi:providers:aws::gone::id")
        assert build_resources([db])[0].provider is None

    def test_options_parent_and_dependencies(self):
        parent = resource("gitpod-cell:aws:AwsCell", "cell")
        group = resource("aws:rds/parameterGroup:ParameterGroup", "pg", {})
        db = resource(RDS, "db", {}, parent=parent, dependencies=[group], protect=True, retain_on_delete=True,
                      hooks={"beforeUpdate": ["enter-maintenance"]})
        db["options"]["customTimeouts"] = {"create": "40m", "update": "1h", "delete": None}
        db["options"]["dependsOn"] = [parent["urn"]]
        linked = {r.urn: r for r in build_resources([parent, group, db])}[db["urn"]]
        assert linked.parent is not None
        assert linked.parent.urn == parent["urn"]
        assert [d.urn for d in linked.dependencies] == [group["urn"], parent["urn"]]
        assert (linked.opts.protect, linked.opts.retain_on_delete, linked.opts.parent) == (True, True, parent["urn"])
        assert linked.opts.hooks == {"beforeUpdate": ["enter-maintenance"]}
        timeouts = linked.opts.custom_timeouts
        assert (timeouts.create_seconds, timeouts.update_seconds, timeouts.delete_seconds) == (2400.0, 3600.0, 0.0)

    def test_importing_offline_loads_no_pulumi_sdk(self):
        code = ("import sys, policies.offline; "
                "print(sorted(m for m in sys.modules if m.split('.')[0] in "
                "('pulumi', 'pulumi_aws', 'pulumi_gcp', 'pulumi_kubernetes', 'pulumi_policy', 'grpc')))")
        output = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True,
                                check=True).stdout
        assert output.strip() == "[]"
