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
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ops.common.stackfile import REPO_ROOT, STACKS_DIR, shipped_stacks
from ops.rollout.fleet import DEFAULT_FLEET_PATH, Fleet, load_fleet, parse_fleet
from tests.ops.rollout.workflows import (
    DEPLOY_RUNNER,
    DEPLOY_WAVE,
    OIDC_ACTIONS,
    fleet_without_stack_files,
    load_workflow,
    needs_of,
    steps_using,
)


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
