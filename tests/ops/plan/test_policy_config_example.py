"""policies/config.example.json is the file docs/policies.md tells people to pass with
`--policy-pack-config`. It must be an example that works: every shipped stack passes the policy pack with it, and
the settings it tightens are really read (a stricter copy makes a stack fail)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ops.common.stackfile import REPO_ROOT, shipped_stacks
from tests.ops.support.cli import Completed, run_ops

EXAMPLE = REPO_ROOT / "policies" / "config.example.json"


def plan(stack: str, config: Path) -> Completed:
    return run_ops("plan", "--stack", stack, "--policy-pack-config", str(config))


def test_the_readme_command_passes():
    # docs/policies.md: `--policy-pack-config policies/config.example.json`
    result = plan("prod", EXAMPLE)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr


@pytest.mark.parametrize("stack", [stack for stack in shipped_stacks() if stack != "prod"])
def test_every_shipped_stack_passes_with_the_example(stack):
    result = plan(stack, EXAMPLE)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr


def test_the_example_is_read(tmp_path):
    """A copy that is one step stricter than a shipped prod value fails: the example's settings take effect."""
    stricter = json.loads(EXAMPLE.read_text())
    stricter["gitpod-workspace-timeouts"] = {**stricter.get("gitpod-workspace-timeouts", {}), "maxLifetime": "24h"}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(stricter))

    result = plan("prod", path)

    assert result.returncode == 1, result.stdout[-3000:] + result.stderr
    assert "gitpod-workspace-timeouts" in result.stdout
