"""What the workflow tests share: the workflow files, the actions they may use and the inputs those take, and
loaders that follow local actions and reusable workflows."""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from ops.common.stackfile import REPO_ROOT
from ops.rollout.fleet import DEFAULT_FLEET_PATH, Fleet, parse_fleet

WORKFLOWS_DIR = REPO_ROOT / ".github" / "workflows"
WORKFLOWS = sorted(WORKFLOWS_DIR.glob("*.yml")) + sorted(WORKFLOWS_DIR.glob("*.yaml"))
ACTIONS_DIR = REPO_ROOT / ".github" / "actions"
LOCAL_ACTIONS = sorted(ACTIONS_DIR.glob("*/action.yml"))
SETUP_CELL = "./.github/actions/setup-cell"
DEPLOY_WAVE = "./.github/workflows/deploy-wave.yml"
PINNED_ACTION = re.compile(r"^[\w.-]+/[\w./-]+@v\d+\.\d+\.\d+$")
OIDC_ACTIONS = ("aws-actions/configure-aws-credentials@", "google-github-actions/auth@")
EXPRESSION = re.compile(r"\$\{\{.*?\}\}")
# `echo "x=$(a | b)"`: the step's exit status is echo's, so a failure inside the substitution goes unnoticed even
# with pipefail. Assign first (`x=$(a | b)` fails the step under -e), then echo.
HIDDEN_FAILURE = re.compile(r"^\s*(echo|printf)\b.*\$\([^)]*\|")
# The runner of a deploy: the repository variable RUNNER_LABELS maps each environment to runner labels (one that
# reaches the cell's VPC); environment-level variables are not available in `runs-on`, hence one map.
DEPLOY_RUNNER = "${{ fromJSON(vars.RUNNER_LABELS || '{}')[inputs.environment] || 'ubuntu-24.04' }}"
READONLY_RUNNER = "${{ fromJSON(vars.RUNNER_LABELS || '{}').readonly || 'ubuntu-24.04' }}"
# Secrets that may update a stack or decrypt every stack's secrets: environment secrets, for the deploy job only.
DEPLOY_SECRETS = re.compile(r"\bsecrets\.(PULUMI_ACCESS_TOKEN|PULUMI_CONFIG_PASSPHRASE)\b")
READONLY_TOKEN = "${{ secrets.PULUMI_READONLY_ACCESS_TOKEN }}"

# The actions the workflows and local actions may use, each at exactly one pinned tag, with the inputs it may be
# given. Every set is a subset of the `inputs:` of that action's action.yml AT THAT TAG
# (https://github.com/<owner>/<name>/blob/<tag>/action.yml, e.g. .../actions/checkout/blob/v4.2.2/action.yml);
# only inputs the workflows use, or are likely to, are listed. actionlint knows the inputs of popular actions only
# when they are referenced by major tag, so with full version pins a misspelt input would otherwise pass silently.
# A workflow that uses another action, or another version of one of these, fails the suite until its entry is
# added here from that tag's action.yml: bumping a pin means re-reading the action's inputs.
KNOWN_INPUTS = {
    "actions/checkout@v4.2.2": {"persist-credentials", "fetch-depth", "ref"},
    "actions/setup-python@v5.6.0": {"python-version", "cache", "cache-dependency-path"},
    "aws-actions/configure-aws-credentials@v4.1.0": {
        "role-to-assume", "aws-region", "role-session-name", "role-duration-seconds",
    },
    "google-github-actions/auth@v2.1.10": {"workload_identity_provider", "service_account", "project_id"},
    "pulumi/actions@v6.6.1": {
        "command", "stack-name", "work-dir", "cloud-url", "pulumi-version", "policyPacks", "policyPackConfigs",
        "comment-on-pr", "comment-on-summary", "edit-pr-comment", "github-token", "message", "diff", "color",
        "refresh", "expect-no-changes", "parallel", "suppress-progress", "suppress-outputs",
    },
}  # fmt: skip


def load_yaml(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as True.
    if True in document:
        document["on"] = document.pop(True)
    return document


def load_workflow(name: str) -> dict[str, Any]:
    return load_yaml(WORKFLOWS_DIR / name)


def load_local_action(uses: str) -> dict[str, Any]:
    return load_yaml(REPO_ROOT / uses / "action.yml")


def load_called_workflow(uses: str) -> dict[str, Any]:
    return load_yaml(REPO_ROOT / uses)


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [step for step in job.get("steps", []) if str(step.get("uses", "")).startswith(f"{action}@")]


def needs_of(job: dict[str, Any]) -> list[str]:
    needs = job.get("needs", [])
    return [needs] if isinstance(needs, str) else list(needs)


def uses_oidc(job: dict[str, Any]) -> bool:
    """Whether the job asks for an OIDC token: in its steps, in the composite actions it runs, or in the jobs of
    the reusable workflow it calls."""
    called = job.get("uses")
    if called is not None:
        return any(uses_oidc(called_job) for called_job in load_called_workflow(called)["jobs"].values())
    for step in job.get("steps", []):
        uses = str(step.get("uses", ""))
        if uses.startswith(OIDC_ACTIONS):
            return True
        if uses.startswith("./") and uses_oidc({"steps": load_local_action(uses)["runs"]["steps"]}):
            return True
    return False


def fleet_without_stack_files() -> Fleet:
    return parse_fleet(
        yaml.safe_load(DEFAULT_FLEET_PATH.read_text()), source="fleet.yaml", stack_has_file=lambda _: True
    )


def find_tool(name: str) -> str:
    search_path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    found = shutil.which(name, path=search_path)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -r requirements-ci-tools.txt")
    return found


def check_step_uses(where: str, step: dict[str, Any]) -> None:
    """A step's action is pinned to vX.Y.Z and given only inputs it documents; a local action exists."""
    uses = step["uses"]
    if uses.startswith("./"):
        assert (REPO_ROOT / uses / "action.yml").is_file(), f"{where}: no local action {uses}/action.yml"
        declared = set(load_local_action(uses).get("inputs", {}))
        unknown = set(step.get("with", {})) - declared
        assert not unknown, f"{where}: {uses} has no input(s) {sorted(unknown)}"
        return
    assert PINNED_ACTION.match(uses), f"{where}: {uses} is not pinned to vX.Y.Z"
    assert uses in KNOWN_INPUTS, (
        f"{where}: {uses} is not in KNOWN_INPUTS: add it with the inputs of its action.yml at that tag"
    )
    unknown = set(step.get("with", {})) - KNOWN_INPUTS[uses]
    assert not unknown, f"{where}: {uses} has no input(s) {sorted(unknown)}"
