"""The GitHub Actions workflows: actionlint on every file, and the promises actionlint cannot check —
staging before prod, the `production` environment, one concurrency group per stack, minimal permissions,
pinned actions, and the deploy jobs kept in step with stacks/fleet.yaml."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from ops.fleet import DEFAULT_FLEET_PATH, Fleet, parse_fleet
from ops.stackfile import REPO_ROOT

WORKFLOWS_DIR = REPO_ROOT / ".github" / "workflows"
WORKFLOWS = sorted(WORKFLOWS_DIR.glob("*.yml")) + sorted(WORKFLOWS_DIR.glob("*.yaml"))
PINNED_ACTION = re.compile(r"^[\w.-]+/[\w./-]+@v\d+\.\d+\.\d+$")
OIDC_ACTIONS = ("aws-actions/configure-aws-credentials@", "google-github-actions/auth@")

# Inputs the actions document (their action.yml). actionlint knows the inputs of popular actions only when they are
# referenced by major tag, so with full version pins a misspelt input would otherwise pass silently.
KNOWN_INPUTS = {
    "actions/checkout": {"persist-credentials", "fetch-depth", "ref"},
    "actions/setup-python": {"python-version", "cache", "cache-dependency-path"},
    "aws-actions/configure-aws-credentials": {
        "role-to-assume", "aws-region", "role-session-name", "role-duration-seconds",
    },
    "google-github-actions/auth": {"workload_identity_provider", "service_account", "project_id"},
    "pulumi/actions": {
        "command", "stack-name", "work-dir", "cloud-url", "pulumi-version", "policyPacks", "policyPackConfigs",
        "comment-on-pr", "comment-on-summary", "edit-pr-comment", "github-token", "message", "diff", "color",
        "refresh", "expect-no-changes", "parallel", "suppress-progress", "suppress-outputs",
    },
}  # fmt: skip


def load_workflow(name: str) -> dict[str, Any]:
    document = yaml.safe_load((WORKFLOWS_DIR / name).read_text())
    # YAML 1.1 reads the key `on` as True.
    if True in document:
        document["on"] = document.pop(True)
    return document


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [step for step in job.get("steps", []) if str(step.get("uses", "")).startswith(f"{action}@")]


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


def test_there_are_workflows_for_pull_requests_deploys_and_nightly_checks():
    assert {path.name for path in WORKFLOWS} >= {"pull-request.yml", "deploy.yml", "nightly.yml"}


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_actionlint_passes(workflow):
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
        for step in job.get("steps", []):
            uses = step.get("uses")
            if uses is None:
                continue
            assert PINNED_ACTION.match(uses), f"{workflow.name}:{job_id}: {uses} is not pinned to vX.Y.Z"
            action = uses.split("@")[0]
            assert action in KNOWN_INPUTS, f"{workflow.name}:{job_id}: add {action}'s inputs to KNOWN_INPUTS"
            unknown = set(step.get("with", {})) - KNOWN_INPUTS[action]
            assert not unknown, f"{workflow.name}:{job_id}: {action} has no input(s) {sorted(unknown)}"


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_permissions_are_minimal(workflow):
    document = load_workflow(workflow.name)
    assert document["permissions"] == {"contents": "read"}, "the workflow default must be read-only"
    for job_id, job in document["jobs"].items():
        permissions = job.get("permissions", {})
        uses_oidc = any(str(step.get("uses", "")).startswith(OIDC_ACTIONS) for step in job.get("steps", []))
        assert (permissions.get("id-token") == "write") == uses_oidc, f"{job_id}: id-token: write only with OIDC"
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

    def test_previews_every_stack_with_the_policy_pack_and_comments(self):
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


class TestDeployWorkflow:
    workflow = load_workflow("deploy.yml")
    jobs = workflow["jobs"]
    fleet = fleet_without_stack_files()

    def test_runs_on_merge_to_main(self):
        assert self.workflow["on"]["push"]["branches"] == ["main"]

    def test_there_is_one_deploy_job_per_fleet_wave_in_fleet_order(self):
        deploy_jobs = [job_id for job_id in self.jobs if job_id.startswith("deploy-")]
        assert deploy_jobs == [f"deploy-{wave.name}" for wave in self.fleet.waves]
        for earlier, later in itertools.pairwise(self.fleet.waves):
            assert f"deploy-{earlier.name}" in self.jobs[f"deploy-{later.name}"]["needs"]

    def test_staging_is_deployed_and_health_checked_before_prod(self):
        staging, prod = self.jobs["deploy-staging"], self.jobs["deploy-prod"]
        assert "deploy-staging" in prod["needs"]
        assert "deploy-prod" not in str(staging.get("needs", ""))
        for job in (staging, prod):
            names = [step.get("name", "") for step in job["steps"]]
            assert names.index("pulumi up --policy-pack policies") < names.index("Health gate")
            assert job["steps"][-1]["run"] == 'python -m ops fleet health --stack "$STACK"'

    def test_each_wave_deploys_its_own_stacks(self):
        for wave in self.fleet.waves:
            job = self.jobs[f"deploy-{wave.name}"]
            output = f"fromJSON(needs.fleet.outputs.{wave.name})"
            assert job["strategy"]["matrix"]["stack"] == f"${{{{ {output}.stacks }}}}"
            assert job["strategy"]["max-parallel"] == f"${{{{ {output}.parallelism }}}}"
            assert job["strategy"]["fail-fast"] is False, "a running pulumi up is never cancelled"
            assert self.jobs["fleet"]["outputs"][wave.name] == f"${{{{ steps.waves.outputs.{wave.name} }}}}"

    def test_production_waves_need_the_production_environment(self):
        for wave in self.fleet.waves:
            expected = "production" if wave.stage == "production" else "staging"
            assert self.jobs[f"deploy-{wave.name}"]["environment"] == expected
        assert self.jobs["deploy-prod"]["environment"] == "production"

    def test_one_update_at_a_time_per_stack(self):
        for wave in self.fleet.waves:
            concurrency = self.jobs[f"deploy-{wave.name}"]["concurrency"]
            assert concurrency == {"group": "pulumi-up-${{ matrix.stack }}", "cancel-in-progress": False}

    def test_up_runs_with_the_policy_pack(self):
        for wave in self.fleet.waves:
            [up] = steps_using(self.jobs[f"deploy-{wave.name}"], "pulumi/actions")
            assert up["with"]["command"] == "up"
            assert up["with"]["policyPacks"] == "policies"
            assert up["with"]["stack-name"] == "${{ env.PULUMI_STACK }}"


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
