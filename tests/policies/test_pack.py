"""The pack as a whole: rule metadata, test coverage, the PolicyPack the CLI builds, and CLI/offline parity."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pulumi_policy
import pytest

from policies.core.config import parse_pack_config
from policies.core.props import get
from policies.core.rule import Level
from policies.core.sdk import PACK_NAME, policy_pack_arguments, to_policy
from policies.offline import evaluate
from policies.rules import ALL_RULES
from tests.policies.cell import aws_prod_cell, gcp_prod_cell
from tests.policies.cli_harness import analyze
from tests.policies.records import aws_tags, resource

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
CLI_BLIND = {"gitpod-installer-hooks"}  # hooks are not part of the analyzer protocol


def test_at_least_45_rules_with_unique_stable_names():
    names = [rule.name for rule in ALL_RULES]
    assert len(names) >= 45
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda rule: rule.name)
def test_rule_metadata(rule):
    assert rule.summary.endswith((".", ")")), rule.summary
    if rule.control:
        assert rule.control in rule.description
    if rule.level is not Level.MANDATORY:
        assert rule.why_advisory
    parse_pack_config(ALL_RULES, {rule.name: rule.defaults()})


def test_every_rule_has_tests():
    sources = "\n".join(path.read_text() for path in HERE.glob("test_*.py") if path.name != "test_pack.py")
    untested = [rule.name for rule in ALL_RULES if f'"{rule.name}"' not in sources]
    assert untested == []


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda rule: rule.name)
def test_sdk_policy_mirrors_the_rule(rule):
    policy = to_policy(rule)
    expected_class = (pulumi_policy.ResourceValidationPolicy if rule.kind == "resource"
                      else pulumi_policy.StackValidationPolicy)
    assert isinstance(policy, expected_class)
    assert (policy.name, policy.description) == (rule.name, rule.description)
    assert policy.enforcement_level == pulumi_policy.EnforcementLevel(rule.level.value)
    if rule.config_schema:
        assert policy.config_schema is not None
        assert policy.config_schema.properties == dict(rule.config_schema)


def test_policy_pack_arguments():
    arguments = policy_pack_arguments(ALL_RULES)
    assert arguments["name"] == PACK_NAME
    assert len(arguments["policies"]) == len(ALL_RULES)
    assert arguments["enforcement_level"] == pulumi_policy.EnforcementLevel.MANDATORY


def test_main_builds_the_pack_when_run_by_path_like_the_cli(tmp_path):
    """`pulumi.policy` runs `runpy.run_path(<pack dir>)` from elsewhere, without the repo on sys.path."""
    script = tmp_path / "run_pack.py"
    script.write_text(
        "import runpy, sys, pulumi_policy\n"
        "class Fake:\n"
        "    def __init__(self, **kwargs):\n"
        "        print(kwargs['name'], len(kwargs['policies']))\n"
        "pulumi_policy.PolicyPack = Fake\n"
        f"sys.path = [p for p in sys.path if p not in ('', {str(REPO_ROOT)!r})]\n"
        f"runpy.run_path({str(REPO_ROOT / 'policies')!r}, run_name='__main__')\n"
    )
    output = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert output.stdout.split() == [PACK_NAME, str(len(ALL_RULES))]


def pins(path: Path) -> dict[str, str]:
    lines = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
    return dict(line.split("==", 1) for line in lines if "==" in line)


def test_pulumi_policy_yaml_and_pinned_requirements():
    project = (REPO_ROOT / "policies" / "PulumiPolicy.yaml").read_text()
    assert "name: python" in project
    pack, program = pins(REPO_ROOT / "policies" / "requirements.txt"), pins(REPO_ROOT / "requirements.txt")
    assert set(pack) == {"pulumi", "pulumi-policy", "PyYAML"}
    assert {name: program[name] for name in pack} == pack


def offline_view(records, config=None):
    result = evaluate(records, config)
    return sorted((v["policy"], v["urn"], v["message"]) for v in result["violations"]
                  if v["policy"] not in CLI_BLIND)


def broken(cell):
    """Every setting wrong or missing: each record keeps only what identifies it."""
    records = copy.deepcopy(cell)
    for record in records:
        if not record["type"].startswith("pulumi:providers:"):
            keep = {k: v for k, v in record["inputs"].items() if k in ("bucket", "name", "metadata", "labels")}
            record["inputs"] = keep
            record["options"]["protect"] = False
    return records


@pytest.mark.parametrize("records", [aws_prod_cell(), broken(aws_prod_cell()), gcp_prod_cell(),
                                     broken(gcp_prod_cell())],
                         ids=["aws-clean", "aws-broken", "gcp-clean", "gcp-broken"])
def test_cli_and_offline_report_the_same_violations(records):
    cli = [v for v in analyze(records, ALL_RULES) if v[0] not in CLI_BLIND]
    assert cli == offline_view(records)


def test_cli_config_numbers_arrive_as_floats_and_still_read_as_integers():
    db = resource("aws:rds/instance:Instance", "db", {"backupRetentionPeriod": 7, "tags": aws_tags()})
    rule = next(rule for rule in ALL_RULES if rule.name == "aws-rds-backup-retention")
    assert analyze([db], [rule], {rule.name: {"minimumDays": 14}}) == [
        (rule.name, db["urn"], "backupRetentionPeriod is 7; keep automated backups for at least 14 days.")
    ]


def test_cli_description_prefixes_the_message():
    from pulumi.runtime import proto

    from tests.policies.cli_harness import servicer

    rule = next(rule for rule in ALL_RULES if rule.name == "aws-rds-deletion-protection")
    request = proto.AnalyzeRequest(type="aws:rds/instance:Instance", urn="urn:x", name="db")
    response = servicer([rule]).Analyze(request, None)
    assert [d.message for d in response.diagnostics] == [f"{rule.description}\ndeletionProtection must be true."]


def test_unknown_join_key_falls_back_to_dependencies_under_the_cli():
    bucket = resource("aws:s3/bucket:Bucket", "ws", {"bucket": "cell-ws"})
    versioning = resource("aws:s3/bucketVersioning:BucketVersioning", "v", {
        "bucket": UNKNOWN_STRING, "versioningConfiguration": {"status": "Enabled"}}, dependencies=[bucket])
    rule = next(rule for rule in ALL_RULES if rule.name == "aws-s3-versioning")
    assert analyze([bucket, versioning], [rule]) == []


def test_unknown_value_makes_the_cli_skip_the_rule_during_preview():
    from pulumi.runtime import proto

    from tests.policies.cli_harness import servicer

    rule = next(rule for rule in ALL_RULES if rule.name == "aws-rds-deletion-protection")
    request = proto.AnalyzeRequest(type="aws:rds/instance:Instance", urn="urn:x", name="db")
    request.properties.update({"deletionProtection": "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7"})
    [diagnostic] = servicer([rule]).Analyze(request, None).diagnostics
    assert diagnostic.enforcementLevel == proto.ADVISORY
    assert diagnostic.message.endswith("boolean value at .deletionProtection can't be known during preview")


def test_table_documents_configuration_keys():
    for rule in ALL_RULES:
        for key in rule.config_schema:
            assert get(rule.config_schema, key)["description"], (rule.name, key)
    json.dumps({rule.name: rule.defaults() for rule in ALL_RULES})
