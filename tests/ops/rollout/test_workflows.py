"""The GitHub Actions workflows, file by file: actionlint, and the promises actionlint cannot check (pinned actions
with known inputs, minimal permissions, bash with pipefail, the Pulumi CLI version, the deploy secrets only where
they are needed, the shared setup action). The jobs' order and environments: test_workflow_jobs.py."""

from __future__ import annotations

import copy
import re
import subprocess
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from ops.common.stackfile import REPO_ROOT
from tests.ops.rollout.workflows import (
    DEPLOY_SECRETS,
    EXPRESSION,
    HIDDEN_FAILURE,
    LOCAL_ACTIONS,
    READONLY_RUNNER,
    READONLY_TOKEN,
    SETUP_CELL,
    WORKFLOWS,
    check_step_uses,
    find_tool,
    load_local_action,
    load_workflow,
    load_yaml,
    steps_using,
    uses_oidc,
)


def test_there_are_workflows_for_pull_requests_deploys_and_nightly_checks():
    assert {path.name for path in WORKFLOWS} >= {"pull-request.yml", "deploy.yml", "deploy-wave.yml", "nightly.yml"}
    assert (REPO_ROOT / SETUP_CELL / "action.yml") in LOCAL_ACTIONS


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_actionlint_passes(workflow):
    # actionlint also reads the reusable workflow and the local actions a workflow uses: it checks the inputs passed
    # to them, and that a calling job grants every permission (e.g. id-token: write) the called jobs ask for.
    actionlint = find_tool("actionlint")
    shellcheck = find_tool("shellcheck")

    completed = subprocess.run(
        [actionlint, "-no-color", "-oneline", "-shellcheck", shellcheck, "-pyflakes=", str(workflow)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO_ROOT,
        check=False,
    )

    assert completed.returncode == 0, completed.stdout + completed.stderr


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_actions_are_pinned_to_full_versions_and_use_known_inputs(workflow):
    for job_id, job in load_workflow(workflow.name)["jobs"].items():
        if "uses" in job:
            assert job["uses"].startswith("./.github/workflows/"), f"{job_id}: call only this repository's workflows"
            assert (REPO_ROOT / job["uses"]).is_file(), f"{job_id}: no workflow {job['uses']}"
            continue
        checked_out = False
        for step in job.get("steps", []):
            uses = step.get("uses")
            if uses is None:
                continue
            check_step_uses(f"{workflow.name}:{job_id}", step)
            if uses.startswith("./"):
                assert checked_out, f"{workflow.name}:{job_id}: {uses} exists only after actions/checkout"
            checked_out = checked_out or uses.startswith("actions/checkout@")


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_python_is_set_up_only_by_the_shared_action(workflow):
    for job_id, job in load_workflow(workflow.name)["jobs"].items():
        assert not steps_using(job, "actions/setup-python"), f"{job_id}: use {SETUP_CELL} instead of setup-python"
        for step in job.get("steps", []):
            assert "python -m venv" not in step.get("run", ""), f"{job_id}: {SETUP_CELL} creates .venv"


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_permissions_are_minimal(workflow):
    document = load_workflow(workflow.name)
    assert document["permissions"] == {"contents": "read"}, "the workflow default must be read-only"
    for job_id, job in document["jobs"].items():
        permissions = job.get("permissions", {})
        assert (permissions.get("id-token") == "write") == uses_oidc(job), f"{job_id}: id-token: write only with OIDC"
        assert "write-all" not in str(permissions)


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_pulumi_cli_version_matches_the_sdk_pin(workflow):
    sdk_pin = re.search(r"^pulumi==(\S+)$", (REPO_ROOT / "requirements.txt").read_text(), re.MULTILINE)
    assert sdk_pin is not None
    document = load_workflow(workflow.name)
    if any(steps_using(job, "pulumi/actions") for job in document["jobs"].values()):
        assert document["env"]["PULUMI_VERSION"] == sdk_pin.group(1)
        for job in document["jobs"].values():
            for step in steps_using(job, "pulumi/actions"):
                assert step["with"]["pulumi-version"] == "${{ env.PULUMI_VERSION }}"


def test_an_action_or_version_missing_from_known_inputs_fails():
    for uses in ("actions/checkout@v4.2.3", "actions/cache@v4.2.0"):
        with pytest.raises(AssertionError, match="not in KNOWN_INPUTS"):
            check_step_uses("test", {"uses": uses})
    with pytest.raises(AssertionError, match="has no input"):
        check_step_uses("test", {"uses": "actions/checkout@v4.2.2", "with": {"persist-credential": False}})


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_run_steps_use_bash_with_pipefail(workflow):
    """Only an explicit `shell: bash` makes GitHub run `bash -eo pipefail`; the default is `bash -e`, under which
    `a | b` fails only when b does."""
    document = load_workflow(workflow.name)
    assert document.get("defaults", {}).get("run", {}).get("shell") == "bash", "set defaults.run.shell: bash"
    for job_id, job in document["jobs"].items():
        assert job.get("defaults", {}).get("run", {}).get("shell", "bash") == "bash", job_id
        for step in job.get("steps", []):
            if "run" not in step:
                continue
            assert step.get("shell", "bash") == "bash", f"{job_id}: {step.get('name')}"
            for line in step["run"].splitlines():
                assert not HIDDEN_FAILURE.search(line), f"{job_id}: assign $(...) first, then echo: {line.strip()}"


def test_the_pipefail_check_catches_a_hidden_failure():
    assert HIDDEN_FAILURE.search('echo "stacks=$(python -m ops fleet show --json | jq -c .x)" >> "$GITHUB_OUTPUT"')
    assert not HIDDEN_FAILURE.search("stacks=$(jq -c .x fleet.json)")


def all_workflows() -> dict[str, dict[str, Any]]:
    return {path.name: load_workflow(path.name) for path in WORKFLOWS}


def check_pulumi_secrets(workflows: dict[str, dict[str, Any]]) -> None:
    """The write-capable Pulumi token and the passphrase reach only the deploy job (which runs in the `staging` or
    `production` environment, whose secrets they are); previews and nightly jobs get the read-only token."""
    users = set()
    for name, document in workflows.items():
        assert not DEPLOY_SECRETS.search(yaml.safe_dump(document.get("env", {}))), f"{name}: workflow-level env"
        for job_id, job in document["jobs"].items():
            if DEPLOY_SECRETS.search(yaml.safe_dump(job)):
                users.add(f"{name}:{job_id}")
    assert users == {"deploy-wave.yml:up"}, f"deploy secrets used by {sorted(users)}"
    for name, job_id in (("pull-request.yml", "preview"), ("nightly.yml", "drift"), ("nightly.yml", "update-age")):
        job_env = workflows[name]["jobs"][job_id]["env"]
        assert job_env.get("PULUMI_ACCESS_TOKEN") == READONLY_TOKEN, f"{name}:{job_id}: the read-only token"
        assert "PULUMI_CONFIG_PASSPHRASE" not in job_env, f"{name}:{job_id}: no passphrase"


def test_only_the_deploy_job_gets_the_write_token_and_the_passphrase():
    check_pulumi_secrets(all_workflows())


BROKEN_SECRETS: dict[str, Callable[[dict[str, dict[str, Any]]], None]] = {
    "preview gets the deploy token": lambda w: w["pull-request.yml"]["jobs"]["preview"]["env"].update(
        PULUMI_ACCESS_TOKEN="${{ secrets.PULUMI_ACCESS_TOKEN }}"
    ),
    "drift gets the passphrase": lambda w: w["nightly.yml"]["jobs"]["drift"]["env"].update(
        PULUMI_CONFIG_PASSPHRASE="${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"
    ),
    "token in workflow-level env": lambda w: w["nightly.yml"]["env"].update(
        PULUMI_ACCESS_TOKEN="${{ secrets.PULUMI_ACCESS_TOKEN }}"
    ),
    "update age without the read-only token": lambda w: w["nightly.yml"]["jobs"]["update-age"]["env"].pop(
        "PULUMI_ACCESS_TOKEN"
    ),
}


@pytest.mark.parametrize("break_it", BROKEN_SECRETS.values(), ids=BROKEN_SECRETS.keys())
def test_the_secrets_check_catches_a_leaked_deploy_secret(break_it):
    broken = copy.deepcopy(all_workflows())
    break_it(broken)
    with pytest.raises(AssertionError):
        check_pulumi_secrets(broken)


def test_previews_and_drift_run_on_the_configurable_read_only_runner():
    # Both read Kubernetes resources from the cluster API, which may be private (publicAccessCidrs empty).
    assert load_workflow("pull-request.yml")["jobs"]["preview"]["runs-on"] == READONLY_RUNNER
    assert load_workflow("nightly.yml")["jobs"]["drift"]["runs-on"] == READONLY_RUNNER


@pytest.mark.parametrize("action", LOCAL_ACTIONS, ids=lambda path: path.parent.name)
class TestLocalActions:
    """actionlint checks what the workflows pass to a local action, but not the action's own steps."""

    def test_is_a_composite_of_pinned_actions_with_known_inputs(self, action):
        document = load_yaml(action)
        assert document["runs"]["using"] == "composite"
        for index, step in enumerate(document["runs"]["steps"]):
            if "uses" in step:
                assert not step["uses"].startswith("./"), "keep local actions one level deep"
                check_step_uses(f"{action.parent.name}: step {index}", step)
            else:
                assert step.get("shell") == "bash", f"step {index}: a composite run step must name its shell"

    def test_uses_only_declared_inputs(self, action):
        document = load_yaml(action)
        referenced = set(re.findall(r"\binputs\.([\w-]+)", action.read_text()))
        undeclared = referenced - set(document.get("inputs", {}))
        assert not undeclared, f"undeclared input(s) {sorted(undeclared)}"

    def test_run_scripts_pass_shellcheck(self, action):
        shellcheck = find_tool("shellcheck")
        for step in load_yaml(action)["runs"]["steps"]:
            if "run" not in step:
                continue
            script = EXPRESSION.sub("placeholder", step["run"])  # as actionlint does for workflow scripts
            completed = subprocess.run(
                [shellcheck, "--shell=bash", "--norc", "-"], input=script, capture_output=True, text=True, check=False
            )
            assert completed.returncode == 0, completed.stdout + completed.stderr


def test_setup_cell_puts_the_venv_on_path_after_setting_up_python():
    document = load_local_action(SETUP_CELL)
    setup_python, venv = document["runs"]["steps"]
    assert setup_python["uses"].startswith("actions/setup-python@")
    assert setup_python["with"]["python-version"] == "${{ inputs.python-version }}"
    assert setup_python["with"]["cache"] == "pip"
    assert 'echo "${PWD}/.venv/bin" >> "$GITHUB_PATH"' in venv["run"]
    assert document["inputs"]["venv"]["default"] == "true"
