"""`python -m ops plan`: the plan document (docs/architecture.md), the exit codes, every shipped stack passing the pack.

The command runs in-process (tests/ops/plan/conftest.py runs the program once per stack); the entry point itself,
`python -m ops` in a new interpreter, is run where a plan fails before the program runs (bad input)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ops.common.stackfile import REPO_ROOT, STACKS_DIR, shipped_stacks
from tests.ops.support.cli import run_ops


def python_m_ops(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ops", *args], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.fixture(scope="module")
def prod_plan() -> dict:
    result = run_ops("plan", "--stack", "prod", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_json_document_follows_the_design_schema(prod_plan: dict) -> None:
    assert prod_plan["stack"] == "prod"
    assert prod_plan["offline"] is True
    assert prod_plan["config"]["environment"] == "prod"
    assert prod_plan["outputs"]["bucket"] == "gitpod-prod-123456789012-eu-west-1"
    assert set(prod_plan["policies"]) >= {"ran", "violations"}
    assert prod_plan["policies"]["ran"] >= 45
    urns = {r["urn"] for r in prod_plan["resources"]}
    for resource in prod_plan["resources"]:
        assert set(resource) == {"urn", "type", "name", "parent", "provider", "custom", "inputs", "options",
                                 "dependencies"}
        assert set(resource["options"]) == {"protect", "retainOnDelete", "dependsOn", "ignoreChanges",
                                            "customTimeouts", "hooks"}
        assert resource["parent"] is None or resource["parent"] in urns
        assert set(resource["dependencies"]) <= urns, resource["urn"]


def test_secrets_never_appear_in_the_plan(prod_plan: dict) -> None:
    text = json.dumps(prod_plan)
    assert "offline-" not in text  # the mock password
    db = next(r for r in prod_plan["resources"] if r["type"] == "aws:rds/instance:Instance")
    assert db["inputs"]["password"] == "[secret]"


def test_text_output_says_it_is_offline_and_shows_the_tree() -> None:
    result = run_ops("plan", "--stack", "dev")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OFFLINE PLAN")
    assert "aws:rds/instance:Instance  gitpod-dev-db  [retained]" in result.stdout
    assert "policies:" in result.stdout


@pytest.mark.parametrize("stack", shipped_stacks())
def test_every_shipped_stack_plans_and_passes_every_mandatory_policy(stack: str) -> None:
    result = run_ops("plan", "--stack", stack, "--json")
    plan = json.loads(result.stdout)
    mandatory = [v for v in plan["policies"]["violations"] if v["enforcement"] == "mandatory"]
    assert mandatory == []
    assert result.returncode == 0


def write_variant(tmp_path: Path, base: str, path: str, value: object) -> Path:
    document = yaml.safe_load((STACKS_DIR / f"Pulumi.{base}.yaml").read_text())
    top, *rest = path.split(".")
    target = document["config"]
    for key in [top, *rest][:-1]:
        target = target.setdefault(key, {})
    target[[top, *rest][-1]] = value
    variant = tmp_path / f"Pulumi.{base}-broken.yaml"
    variant.write_text(yaml.safe_dump(document))
    return variant


def test_invalid_config_exits_2_naming_the_key_without_a_traceback(tmp_path: Path) -> None:
    variant = write_variant(tmp_path, "prod", "gitpod-cell:database.backupRetentionDays", 1)
    result = python_m_ops("plan", "--stack-file", str(variant))
    assert result.returncode == 2
    assert "gitpod-cell:database.backupRetentionDays" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("gitpod-cell:database.backupRetentionDays", 1, "gitpod-cell:database.backupRetentionDays"),
        ("gitpod-cell:replicaRegion", "eu-west-1", "gitpod-cell:replicaRegion"),
        ("gitpod-cell:database.multiAz", False, "gitpod-cell:database.multiAz"),
        ("gitpod-cell:cluster.publicAccessCidrs", ["0.0.0.0/0"], "gitpod-cell:cluster.publicAccessCidrs"),
    ],
)
def test_weakening_prod_recovery_or_exposure_fails_the_plan(tmp_path: Path, path: str, value: object,
                                                            expected: str) -> None:
    result = run_ops("plan", "--stack-file", str(write_variant(tmp_path, "prod", path, value)))
    assert result.returncode != 0
    assert expected in result.stderr


def test_unknown_stack_is_a_clear_error() -> None:
    result = python_m_ops("plan", "--stack", "does-not-exist")
    assert result.returncode == 2
    assert "no stack named 'does-not-exist'" in result.stderr


def test_policy_pack_config_tunes_thresholds_offline(tmp_path: Path) -> None:
    stricter = tmp_path / "policy-config.json"
    stricter.write_text(json.dumps({"aws-rds-backup-retention": {"minimumDays": 30}}))
    result = run_ops("plan", "--stack", "prod", "--policy-pack-config", str(stricter))
    assert result.returncode == 1
    assert "aws-rds-backup-retention" in result.stdout
    assert "mandatory policy violation" in result.stderr


def test_bad_policy_pack_config_exits_2(tmp_path: Path) -> None:
    broken = tmp_path / "policy-config.json"
    broken.write_text(json.dumps({"no-such-policy": {"x": 1}}))
    result = run_ops("plan", "--stack", "dev", "--policy-pack-config", str(broken))
    assert result.returncode == 2
    assert "no-such-policy" in result.stderr
    assert "Traceback" not in result.stderr


def test_secret_outputs_stay_secret(prod_plan: dict) -> None:
    assert prod_plan["outputs"]["databasePassword"] == "[secret]"
    assert prod_plan["outputs"]["kubeconfig"] == "[secret]"


def test_switching_garbage_collection_off_is_said_in_the_plan(tmp_path: Path) -> None:
    variant = write_variant(tmp_path, "dev", "gitpod-cell:gitpod.workspace.garbageCollection", {"enabled": False})
    result = run_ops("plan", "--stack-file", str(variant))
    assert result.returncode == 0, result.stderr
    warnings = result.stdout.split("\nwarnings:\n", 1)[1].split("\n\n", 1)[0]
    assert "workspace garbage collection is OFF" in warnings
    as_json = json.loads(run_ops("plan", "--stack-file", str(variant), "--json").stdout)
    assert any("garbage collection is OFF" in warning for warning in as_json["warnings"])


def test_shipped_prod_plan_warns_only_why_it_holds_a_storage_key(prod_plan: dict) -> None:
    # The shipped stacks pin release-2022.11.3, which reads object storage only with a static key: the plan says
    # why the cell holds one; nothing may warn that the install or maintenance would fail.
    (warning,) = [w for w in prod_plan["warnings"] if not w.startswith("placeholder: ")]
    assert "release-2022.11.3 reads object storage only with a static key" in warning
    assert "ops storage-key rotate" in warning
