"""The GitHub Actions workflows: actionlint on every file, and the promises actionlint cannot check —
staging before prod, the `production` environment, one concurrency group per stack, minimal permissions,
pinned actions, and the deploy wave jobs kept in step with stacks/fleet.yaml.

deploy.yml holds one short `deploy-<wave>` job per fleet wave; each calls the reusable workflow deploy-wave.yml,
which holds the per-stack job. Every job that needs Python uses the composite action .github/actions/setup-cell.
The deploy checks are functions run on the real files and, in `test_the_deploy_checks_catch_*`, on broken copies,
so a check that stops failing when the order or the environment is broken fails the suite itself."""

from __future__ import annotations

import copy
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from ops.common.stackfile import REPO_ROOT, STACKS_DIR, shipped_stacks
from ops.rollout.fleet import DEFAULT_FLEET_PATH, Fleet, load_fleet, parse_fleet

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


class TestPullRequestWorkflow:
    workflow = load_workflow("pull-request.yml")

    def test_runs_on_pull_requests_with_tests(self):
        assert "pull_request" in self.workflow["on"]
        test_commands = [step.get("run", "") for step in self.workflow["jobs"]["tests"]["steps"]]
        assert "make test" in test_commands

    def test_plans_every_stack_offline_as_json(self):
        job = self.workflow["jobs"]["offline-plan"]
        assert job["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.stacks.outputs.all) }}"
        assert any('python -m ops plan --stack "$STACK" --json' in step.get("run", "") for step in job["steps"])

    def test_previews_the_fleet_and_the_dev_stacks(self):
        job = self.workflow["jobs"]["preview"]
        assert job["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.preview-stacks.outputs.stacks) }}"
        [listing] = [step["run"] for step in self.workflow["jobs"]["preview-stacks"]["steps"] if "run" in step]
        assert "python -m ops fleet show --json" in listing
        assert ".fleetStacks" in listing
        assert "$PREVIEW_EXTRA_STACKS" in listing
        extras = json.loads(self.workflow["env"]["PREVIEW_EXTRA_STACKS"])
        fleet = load_fleet(DEFAULT_FLEET_PATH, STACKS_DIR)
        assert set(extras) <= set(shipped_stacks()), "extra stacks need a stack file"
        assert not set(extras) & set(fleet.stacks), "the fleet's stacks are previewed anyway"

    def test_the_preview_list_is_the_fleet_plus_the_extras(self, tmp_path):
        if shutil.which("jq") is None:
            pytest.skip("jq is not installed")
        [listing] = [step["run"] for step in self.workflow["jobs"]["preview-stacks"]["steps"] if "run" in step]
        output = tmp_path / "output"
        env = {
            **os.environ,
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
            "PYTHONPATH": str(REPO_ROOT),
            "PREVIEW_EXTRA_STACKS": self.workflow["env"]["PREVIEW_EXTRA_STACKS"],
            "GITHUB_OUTPUT": str(output),
        }
        completed = subprocess.run(  # in tmp_path: the script writes fleet.json to the working directory
            ["bash", "-eo", "pipefail", "-c", listing], cwd=tmp_path, env=env, capture_output=True, text=True,
            check=False,
        )  # fmt: skip
        assert completed.returncode == 0, completed.stderr
        fleet = load_fleet(DEFAULT_FLEET_PATH, STACKS_DIR)
        expected = sorted(set(fleet.stacks) | set(json.loads(env["PREVIEW_EXTRA_STACKS"])) & set(shipped_stacks()))
        assert output.read_text() == f"stacks={json.dumps(expected, separators=(',', ':'))}\n"

    @pytest.mark.parametrize(
        ("stack", "aws", "gcp", "previewed"),
        [("dev", "arn:aws:iam::1:role/ro", "", True), ("dev-gcp", "arn:aws:iam::1:role/ro", "", False),
         ("dev-gcp", "", "projects/1/locations/global/workloadIdentityPools/github/providers/gh", True),
         ("dev", "", "projects/1/locations/global/workloadIdentityPools/github/providers/gh", False)],
    )  # fmt: skip
    def test_a_stack_whose_cloud_has_no_credentials_is_skipped_with_a_notice(
        self, tmp_path, stack, aws, gcp, previewed
    ):
        job = self.workflow["jobs"]["preview"]
        [cloud] = [step for step in job["steps"] if step.get("id") == "cloud"]
        output, summary = tmp_path / "output", tmp_path / "summary"
        env = {
            **os.environ,
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
            "STACK": stack, "AWS_READONLY_ROLE_ARN": aws, "GCP_WORKLOAD_IDENTITY_PROVIDER": gcp,
            "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary),
        }  # fmt: skip
        completed = subprocess.run(
            ["bash", "-eo", "pipefail", "-c", cloud["run"]], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
            check=False,
        )  # fmt: skip
        assert completed.returncode == 0, completed.stderr
        assert output.read_text() == f"preview={'true' if previewed else 'false'}\n"
        assert ("::notice title=Preview skipped" in completed.stdout) is not previewed
        gated = [step for step in job["steps"] if step.get("uses", "").startswith((*OIDC_ACTIONS, "pulumi/actions@"))]
        assert len(gated) == 3
        assert all(step["if"].startswith("steps.cloud.outputs.preview == 'true'") for step in gated)

    def test_previews_with_the_policy_pack_and_comments(self):
        job = self.workflow["jobs"]["preview"]
        [preview] = steps_using(job, "pulumi/actions")
        assert preview["with"]["command"] == "preview"
        assert preview["with"]["policyPacks"] == "policies"
        assert preview["with"]["comment-on-pr"] is True
        assert job["permissions"] == {"contents": "read", "id-token": "write", "pull-requests": "write"}
        assert "head.repo.full_name == github.repository" in job["if"], "forks get no credentials"

    def test_cloud_credentials_come_from_oidc_roles(self):
        job = self.workflow["jobs"]["preview"]
        [aws] = steps_using(job, "aws-actions/configure-aws-credentials")
        [gcp] = steps_using(job, "google-github-actions/auth")
        assert "role-to-assume" in aws["with"]
        assert "aws-access-key-id" not in aws["with"]
        assert "workload_identity_provider" in gcp["with"]
        assert "credentials_json" not in gcp["with"]


def check_wave_jobs(deploy: dict[str, Any], fleet: Fleet) -> None:
    """deploy.yml: one `deploy-<wave>` job per fleet wave, in fleet order, each needing the one before (so every
    staging wave is deployed and health-checked before any production wave), each calling deploy-wave.yml with its
    wave's stacks, parallelism and environment."""
    jobs = deploy["jobs"]
    wave_job_ids = [f"deploy-{wave.name}" for wave in fleet.waves]
    assert [job_id for job_id in jobs if job_id.startswith("deploy-")] == wave_job_ids, "one job per wave, in order"
    previous: str | None = None
    for wave, job_id in zip(fleet.waves, wave_job_ids, strict=True):
        job = jobs[job_id]
        assert job.get("uses") == DEPLOY_WAVE, f"{job_id}: call {DEPLOY_WAVE}"
        expected_needs = {"fleet"} if previous is None else {"fleet", previous}
        assert set(needs_of(job)) == expected_needs, f"{job_id} must need exactly {sorted(expected_needs)}"
        # `if: always()` or similar would start a wave after the one before it failed.
        assert "if" not in job, f"{job_id}: a wave starts only when the wave before it succeeded"
        expected_environment = "production" if wave.stage == "production" else "staging"
        arguments = job.get("with", {})
        assert arguments.get("environment") == expected_environment, f"{job_id}: environment {expected_environment}"
        assert arguments.get("wave") == wave.name
        output = f"fromJSON(needs.fleet.outputs.{wave.name})"
        assert arguments.get("stacks") == f"${{{{ toJSON({output}.stacks) }}}}"
        assert arguments.get("parallelism") == f"${{{{ {output}.parallelism }}}}"
        assert jobs["fleet"]["outputs"][wave.name] == f"${{{{ steps.waves.outputs.{wave.name} }}}}"
        assert job.get("secrets") == "inherit", f"{job_id}: the called job needs the Pulumi secrets"
        assert job.get("permissions") == {"contents": "read", "id-token": "write"}, f"{job_id}: grant OIDC, no more"
        previous = job_id

    def upstream(job_id: str) -> set[str]:
        direct = set(needs_of(jobs[job_id]))
        return direct.union(*(upstream(need) for need in direct))

    staging_jobs = {f"deploy-{wave.name}" for wave in fleet.waves if wave.stage == "staging"}
    for wave in fleet.waves:
        if wave.stage == "production":
            assert staging_jobs <= upstream(f"deploy-{wave.name}"), f"deploy-{wave.name} must wait for staging"


def check_wave_workflow(document: dict[str, Any]) -> None:
    """deploy-wave.yml: the per-stack job, in the environment the caller names, one update per stack at a time."""
    inputs = document["on"]["workflow_call"]["inputs"]
    assert {name: spec["type"] for name, spec in inputs.items()} == {
        "wave": "string", "environment": "string", "stacks": "string", "parallelism": "number",
    }  # fmt: skip
    assert all(spec["required"] for spec in inputs.values()), "no defaults: a wave states its environment"
    assert "concurrency" not in document, "per stack only: a workflow-level group would serialise or cancel waves"
    [job] = document["jobs"].values()
    assert job.get("environment") == "${{ inputs.environment }}", "the job runs in the caller's environment"
    assert job.get("concurrency") == {"group": "pulumi-up-${{ matrix.stack }}", "cancel-in-progress": False}
    assert job["strategy"]["matrix"] == {"stack": "${{ fromJSON(inputs.stacks) }}"}
    assert job["strategy"]["max-parallel"] == "${{ inputs.parallelism }}"
    assert job["strategy"]["fail-fast"] is False, "a running pulumi up is never cancelled"
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    # preflight connects to the cell's private database: the runner is chosen per environment (RUNNER_LABELS).
    assert job.get("runs-on") == DEPLOY_RUNNER, "the environment's runner, which reaches the cell's VPC"

    [aws] = steps_using(job, "aws-actions/configure-aws-credentials")
    [gcp] = steps_using(job, "google-github-actions/auth")
    assert aws["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}", "the environment's deploy role"
    assert gcp["with"]["service_account"] == "${{ vars.GCP_DEPLOY_SERVICE_ACCOUNT }}"
    [up] = steps_using(job, "pulumi/actions")
    assert up["with"]["command"] == "up"
    assert up["with"]["policyPacks"] == "policies"
    assert up["with"]["stack-name"] == "${{ env.PULUMI_STACK }}"
    names = [step.get("name", "") for step in job["steps"]]
    assert "Health gate" in names, "every stack passes the health gate before the wave counts as done"
    assert names.index("pulumi up --policy-pack policies") < names.index("Health gate")
    assert job["steps"][-1]["run"] == 'python -m ops fleet health --stack "$STACK"'


class TestDeployWorkflow:
    workflow = load_workflow("deploy.yml")
    wave_workflow = load_workflow("deploy-wave.yml")
    jobs = workflow["jobs"]
    fleet = fleet_without_stack_files()

    def test_runs_on_merge_to_main(self):
        assert self.workflow["on"]["push"]["branches"] == ["main"]

    def test_the_wave_workflow_is_only_called(self):
        assert set(self.wave_workflow["on"]) == {"workflow_call"}

    def test_one_wave_job_per_fleet_wave_staging_first_in_the_right_environment(self):
        check_wave_jobs(self.workflow, self.fleet)

    def test_staging_is_deployed_and_health_checked_before_prod(self):
        # The shipped fleet, spelt out: prod waits for staging and runs behind the `production` environment.
        assert needs_of(self.jobs["deploy-prod"]) == ["fleet", "deploy-staging"]
        assert needs_of(self.jobs["deploy-staging"]) == ["fleet"]
        assert self.jobs["deploy-staging"]["with"]["environment"] == "staging"
        assert self.jobs["deploy-prod"]["with"]["environment"] == "production"

    def test_each_stack_is_updated_in_the_callers_environment_one_update_at_a_time(self):
        check_wave_workflow(self.wave_workflow)


def _deploy_job(deploy: dict[str, Any], index: int) -> dict[str, Any]:
    return deploy["jobs"][[job_id for job_id in deploy["jobs"] if job_id.startswith("deploy-")][index]]


def _swap_waves(deploy: dict[str, Any]) -> None:
    jobs = deploy["jobs"]
    first, second = [job_id for job_id in jobs if job_id.startswith("deploy-")][:2]
    jobs[first]["needs"], jobs[second]["needs"] = ["fleet", second], "fleet"
    deploy["jobs"] = {job_id: jobs[job_id] for job_id in ["fleet", second, first, *list(jobs)[3:]]}


def _first_production_job(deploy: dict[str, Any]) -> dict[str, Any]:
    return _deploy_job(deploy, 1)  # the shipped fleet: staging, then production


BROKEN_DEPLOYS: dict[str, Callable[[dict[str, Any]], None]] = {
    "prod does not wait for staging": lambda d: _first_production_job(d).update(needs=["fleet"]),
    "prod runs even when staging failed": lambda d: _first_production_job(d).update({"if": "always()"}),
    "prod wave deploys in staging": lambda d: _first_production_job(d)["with"].update(environment="staging"),
    "prod wave names no environment": lambda d: _first_production_job(d)["with"].pop("environment"),
    "waves swapped": _swap_waves,
    "a wave job dropped": lambda d: d["jobs"].pop(list(d["jobs"])[-1]),
    "secrets not passed": lambda d: _deploy_job(d, 0).pop("secrets"),
    "prod runs the wrong stacks": lambda d: _first_production_job(d)["with"].update(
        stacks="${{ toJSON(fromJSON(needs.fleet.outputs.staging).stacks) }}"
    ),
}

BROKEN_WAVE_WORKFLOWS: dict[str, Callable[[dict[str, Any]], None]] = {
    "no environment": lambda w: w["jobs"]["up"].pop("environment"),
    "environment hard-coded": lambda w: w["jobs"]["up"].update(environment="staging"),
    "running update cancelled": lambda w: w["jobs"]["up"]["concurrency"].update({"cancel-in-progress": True}),
    "one group for all stacks": lambda w: w["jobs"]["up"]["concurrency"].update(group="pulumi-up"),
    "no concurrency group": lambda w: w["jobs"]["up"].pop("concurrency"),
    "fail-fast cancels the wave": lambda w: w["jobs"]["up"]["strategy"].update({"fail-fast": True}),
    "health gate dropped": lambda w: w["jobs"]["up"]["steps"].pop(),
    "runner fixed to GitHub-hosted": lambda w: w["jobs"]["up"].update({"runs-on": "ubuntu-24.04"}),
    "read-only role deploys": lambda w: steps_using(w["jobs"]["up"], "aws-actions/configure-aws-credentials")[0][
        "with"
    ].update({"role-to-assume": "${{ vars.AWS_READONLY_ROLE_ARN }}"}),
}


def test_the_checks_run_on_the_job_names_used_below():
    assert [wave.stage for wave in fleet_without_stack_files().waves][:2] == ["staging", "production"]
    assert list(load_workflow("deploy-wave.yml")["jobs"]) == ["up"]


@pytest.mark.parametrize("break_it", BROKEN_DEPLOYS.values(), ids=BROKEN_DEPLOYS.keys())
def test_the_deploy_checks_catch_a_broken_wave_order_or_environment(break_it):
    broken = copy.deepcopy(load_workflow("deploy.yml"))
    break_it(broken)
    with pytest.raises(AssertionError):
        check_wave_jobs(broken, fleet_without_stack_files())


@pytest.mark.parametrize("break_it", BROKEN_WAVE_WORKFLOWS.values(), ids=BROKEN_WAVE_WORKFLOWS.keys())
def test_the_deploy_checks_catch_a_broken_wave_job(break_it):
    broken = copy.deepcopy(load_workflow("deploy-wave.yml"))
    break_it(broken)
    with pytest.raises(AssertionError):
        check_wave_workflow(broken)


def test_a_new_wave_is_one_more_caller_job():
    """The docs' recipe for splitting prod by region: one job per wave, nothing else, passes the checks."""
    fleet = parse_fleet(
        {
            "waves": [
                {"name": "staging", "stage": "staging", "stacks": ["staging"]},
                {"name": "prod-eu", "stage": "production", "stacks": ["prod-eu"]},
                {"name": "prod-us", "stage": "production", "stacks": ["prod-us-east", "prod-us-west"]},
            ]
        },
        source="fleet.yaml",
        stack_has_file=lambda _: True,
    )
    deploy = copy.deepcopy(load_workflow("deploy.yml"))
    template = deploy["jobs"].pop("deploy-prod")
    outputs = deploy["jobs"]["fleet"]["outputs"]
    outputs.pop("prod")
    for previous, wave in itertools.pairwise(fleet.waves):
        if wave.stage != "production":
            continue
        job = copy.deepcopy(template)
        job["needs"] = ["fleet", f"deploy-{previous.name}"]
        job["with"] = {
            **job["with"],
            "wave": wave.name,
            "stacks": f"${{{{ toJSON(fromJSON(needs.fleet.outputs.{wave.name}).stacks) }}}}",
            "parallelism": f"${{{{ fromJSON(needs.fleet.outputs.{wave.name}).parallelism }}}}",
        }
        deploy["jobs"][f"deploy-{wave.name}"] = job
        outputs[wave.name] = f"${{{{ steps.waves.outputs.{wave.name} }}}}"

    check_wave_jobs(deploy, fleet)


class TestNightlyWorkflow:
    workflow = load_workflow("nightly.yml")
    jobs = workflow["jobs"]

    def test_runs_every_night(self):
        assert self.workflow["on"]["schedule"][0]["cron"]

    def test_detects_drift_per_stack_without_changing_anything(self):
        job = self.jobs["drift"]
        assert job["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.fleet.outputs.stacks) }}"
        [refresh] = [step["run"] for step in job["steps"] if "pulumi refresh" in step.get("run", "")]
        assert "--preview-only" in refresh
        assert "--expect-no-changes" in refresh
        assert job["concurrency"]["group"] != "pulumi-up-${{ matrix.stack }}", "drift must not cancel a queued deploy"

    def test_checks_update_age(self):
        [status] = [step["run"] for step in self.jobs["update-age"]["steps"] if "fleet status" in step.get("run", "")]
        assert 'python -m ops fleet status --max-age-days "$MAX_UPDATE_AGE_DAYS"' in status
        assert self.workflow["env"]["MAX_UPDATE_AGE_DAYS"] == "14"

    def test_opens_or_updates_an_issue_when_a_check_fails(self):
        report = self.jobs["report"]
        assert set(report["needs"]) == {"fleet", "drift", "update-age"}
        assert report["if"] == "always() && contains(needs.*.result, 'failure')"
        assert report["permissions"] == {"issues": "write"}
        script = report["steps"][0]["run"]
        assert "gh issue comment" in script
        assert "gh issue create" in script
