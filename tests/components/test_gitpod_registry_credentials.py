"""The registry credential refresher: what the program registers for it on AWS and GCP, and the minter's contract.
Its shell script, run for real against the local API server: test_registry_refresher_script.py."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import cast

import pulumi
import pytest

from components.gitpod.registry_credentials import (
    MINT_SCRIPT,
    REFRESH_SCRIPT,
    check_minter,
    refresh_schedule,
)
from components.platform import CredentialMinter, WorkloadIdentity
from ops.plan.mocks import ACCOUNT_ID
from policies.offline import evaluate
from tests.components.registry_refresher import (
    AWS,
    CLOUDS,
    CRON_JOB,
    GCP,
    GCP_PROJECT,
    JOB,
    REFRESHER,
    Cloud,
    Registered,
    one_of,
    pod_of,
    secret_named,
)

# --- what the program registers ---------------------------------------------------------------------------


@CLOUDS
def test_cron_job_refreshes_well_inside_the_token_lifetime(registered: Registered, cloud: Cloud) -> None:
    cron = one_of(registered(cloud.stack), CRON_JOB)
    spec = cron["inputs"]["spec"]
    assert cron["inputs"]["metadata"] == {"name": REFRESHER, "namespace": "gitpod",
                                          "labels": cron["inputs"]["metadata"]["labels"]}
    assert spec["schedule"] == cloud.schedule
    assert spec["concurrencyPolicy"] == "Forbid"
    assert 0 < spec["startingDeadlineSeconds"] <= 600
    assert spec["successfulJobsHistoryLimit"] >= 1
    assert spec["failedJobsHistoryLimit"] >= 1
    assert spec["jobTemplate"]["spec"]["activeDeadlineSeconds"] <= 300


@CLOUDS
def test_refresher_pods_run_pinned_unprivileged_and_as_the_dedicated_account(registered: Registered,
                                                                             cloud: Cloud) -> None:
    plan = registered(cloud.stack)
    workloads = [one_of(plan, CRON_JOB), one_of(plan, JOB)]
    for workload in workloads:
        pod = pod_of(workload)
        assert pod["serviceAccountName"] == REFRESHER
        assert pod["restartPolicy"] == "Never"
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["nodeSelector"]["gitpod.io/workload_services"] == "true"
        (container,) = pod["containers"]
        image = container["image"]
        assert image.startswith(cloud.image_prefix)
        tag = image.rsplit(":", 1)[1]
        assert tag[0].isdigit()
        assert "latest" not in tag
        assert container["command"] == ["/bin/sh", "/scripts/refresh.sh"]
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        assert container["resources"]["limits"]["memory"]
        env = {e["name"]: e["value"] for e in container["env"]}
        assert "[secret]" not in env.values()
        assert env["REGISTRY_SERVER"] == cloud.server
        assert env["REGISTRY_USER"] == cloud.user
        assert env["DOCKER_CONFIG_NAME"] == "gitpod-registry"
        assert env["NAMESPACE"] == "gitpod"
        tmp = next(v for v in pod["volumes"] if v["name"] == "tmp")
        assert tmp["emptyDir"]["medium"] == "Memory"
    # The one-shot Job and the CronJob run exactly the same pod.
    assert pod_of(workloads[0]) == pod_of(workloads[1])


@CLOUDS
def test_service_account_carries_the_minters_identity(registered: Registered, cloud: Cloud) -> None:
    account = one_of(registered(cloud.stack), "kubernetes:core/v1:ServiceAccount")["inputs"]["metadata"]
    assert (account["namespace"], account["name"]) == ("gitpod", REFRESHER)
    (value,) = [v for k, v in account["annotations"].items() if k == cloud.annotation]
    # IAM role names get Pulumi's random suffix; Google service-account emails do not.
    assert value == cloud.identity or value.startswith(f"{cloud.identity}-")
    assert len(account["annotations"]) == 1


@CLOUDS
def test_role_allows_only_get_and_patch_of_the_one_secret(registered: Registered, cloud: Cloud) -> None:
    plan = registered(cloud.stack)
    role = one_of(plan, "kubernetes:rbac.authorization.k8s.io/v1:Role")["inputs"]
    assert role["metadata"]["namespace"] == "gitpod"
    assert role["rules"] == [{"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["gitpod-registry"],
                              "verbs": ["get", "patch", "update"]}]
    binding = one_of(plan, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")["inputs"]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                  "name": role["metadata"]["name"]}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": REFRESHER, "namespace": "gitpod"}]
    # No cluster-wide rights for it anywhere.
    for cluster_binding in plan.by_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"):
        assert all(s["name"] != REFRESHER for s in cluster_binding["inputs"]["subjects"])


@CLOUDS
def test_installer_waits_for_the_first_refresh(registered: Registered, cloud: Cloud) -> None:
    plan = registered(cloud.stack)
    initial = one_of(plan, JOB)
    (installer,) = [job for job in plan.by_type(JOB)
                    if job["inputs"]["metadata"]["labels"]["app.kubernetes.io/name"] == "gitpod-installer"]
    assert initial["urn"] in installer["options"]["dependsOn"]
    # The one-shot Job is awaited (Pulumi waits for a Job to complete) and re-run after a failure.
    assert initial["options"]["customTimeouts"] == {"create": "10m", "update": "10m"}
    assert initial["inputs"]["metadata"]["annotations"]["pulumi.com/replaceUnready"] == "true"
    digest = initial["inputs"]["spec"]["template"]["metadata"]["annotations"]["gitpod-cell/scripts-digest"]
    assert initial["inputs"]["metadata"]["name"] == f"registry-credentials-initial-{digest[:10]}"
    # It starts only once everything it uses exists.
    depends = set(initial["options"]["dependsOn"])
    for resource_type in ("kubernetes:core/v1:ServiceAccount", "kubernetes:core/v1:ConfigMap",
                          "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"):
        assert one_of(plan, resource_type)["urn"] in depends
    assert secret_named(plan, "gitpod-registry")["urn"] in depends


@CLOUDS
def test_registry_secret_is_created_empty_and_then_left_to_the_refresher(registered: Registered,
                                                                        cloud: Cloud) -> None:
    secret = secret_named(registered(cloud.stack), "gitpod-registry")
    assert secret["inputs"]["type"] == "kubernetes.io/dockerconfigjson"
    assert secret["inputs"]["stringData"] == {".dockerconfigjson": "[secret]"}
    assert {"data", "stringData"} <= set(secret["options"]["ignoreChanges"])


@CLOUDS
def test_scripts_are_plain_config(registered: Registered, cloud: Cloud) -> None:
    scripts = one_of(registered(cloud.stack), "kubernetes:core/v1:ConfigMap")["inputs"]["data"]
    assert set(scripts) == {REFRESH_SCRIPT, MINT_SCRIPT}
    mint = scripts[MINT_SCRIPT]
    assert ("aws ecr get-login-password --region eu-west-1" in mint) if cloud is AWS else (
        "gcloud auth print-access-token" in mint)
    # Nothing in the refresher's pods echoes the token or traces the shell.
    assert "set -x" not in scripts[REFRESH_SCRIPT]
    assert "echo \"$token\"" not in scripts[REFRESH_SCRIPT]


def test_aws_identity_may_mint_tokens_and_use_only_the_cells_repositories(registered: Registered) -> None:
    plan = registered("prod")
    role = plan.one("aws:iam/role:Role", "gitpod-prod-gitpod-registry-credentials")
    (trust,) = json.loads(role["inputs"]["assumeRolePolicy"])["Statement"]
    (subject,) = [v for k, v in trust["Condition"]["StringEquals"].items() if k.endswith(":sub")]
    assert subject == "system:serviceaccount:gitpod:registry-credentials"
    policy = json.loads(plan.one("aws:iam/rolePolicy:RolePolicy",
                                 "gitpod-prod-gitpod-registry-credentials")["inputs"]["policy"])
    statements = policy["Statement"]
    # ecr:GetAuthorizationToken is the only action on `*` (the only resource ECR accepts for it) ...
    wildcard = [s for s in statements if "*" in s["Resource"]]
    assert [s["Action"] for s in wildcard] in (["ecr:GetAuthorizationToken"], [["ecr:GetAuthorizationToken"]])
    # ... and, since the token acts with this role's permissions, push/pull on the cell's repositories only.
    repositories = {r["inputs"]["name"] for r in plan.by_type("aws:ecr/repository:Repository")}
    for statement in statements:
        if statement in wildcard:
            continue
        assert statement["Effect"] == "Allow"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all(a.startswith("ecr:") and "Delete" not in a and "Policy" not in a for a in actions)
        assert "ecr:PutImage" in actions
        assert set(statement["Resource"]) == {f"arn:aws:ecr:eu-west-1:{ACCOUNT_ID}:repository/{name}"
                                              for name in repositories}
    # Not handed to Gitpod's own workloads: the installer config stays as it was.
    assert all("registry-credentials" not in r["name"] for r in plan.by_type("kubernetes:helm.sh/v3:Release"))


def test_gcp_identity_writes_only_the_one_repository(registered: Registered) -> None:
    plan = registered("prod-gcp")
    account = plan.one("gcp:serviceaccount/account:Account", "gitpod-prod-gcp-gitpod-registry-credentials")
    email = f"{account['inputs']['accountId']}@{GCP_PROJECT}.iam.gserviceaccount.com"
    assert email == GCP.identity
    member = f"serviceAccount:{email}"
    binding = plan.one("gcp:serviceaccount/iAMMember:IAMMember",
                       "gitpod-prod-gcp-gitpod-registry-credentials-workload-identity")["inputs"]
    assert binding["role"] == "roles/iam.workloadIdentityUser"
    assert binding["member"] == f"serviceAccount:{GCP_PROJECT}.svc.id.goog[gitpod/registry-credentials]"
    grants = [r["inputs"] for r in plan.resources if r["type"].startswith("gcp:") and "Iam" in r["type"]
              and r["inputs"].get("member") == member]
    assert grants == [{"repository": "gitpod-prod-gcp", "project": GCP_PROJECT, "member": member,
                       "role": "roles/artifactregistry.writer", "location": "europe-west1"}]
    project_grants = [r for r in plan.by_type("gcp:projects/iAMMember:IAMMember") if r["inputs"]["member"] == member]
    assert project_grants == []


@CLOUDS
def test_refresher_objects_pass_every_policy_advisory_included(registered: Registered, cloud: Cloud) -> None:
    plan = registered(cloud.stack)
    ours = {r["urn"] for r in plan.resources if "registry-credentials" in r["urn"]}
    assert len(ours) >= 8
    violations = evaluate(plan.resources)["violations"]
    assert [v for v in violations if v["urn"] in ours] == []
    assert [v for v in violations if v["enforcement"] == "mandatory"] == []


# --- the minter's contract ------------------------------------------------------------------------------------


# Annotations are never read by these checks; a real Output outside a Pulumi program would bind to whatever event
# loop is current and can stall the next mock-engine run in the same worker.
NO_ANNOTATIONS = cast("pulumi.Output[dict[str, str]]", None)


def minter(every: int, lifetime: int, namespace: str = "gitpod") -> CredentialMinter:
    identity = WorkloadIdentity(namespace, REFRESHER, NO_ANNOTATIONS)
    return CredentialMinter("example/cli:1.0.0", "cli token", "user", every, lifetime, identity)


@pytest.mark.parametrize(("every", "schedule"), [(30, "*/30 * * * *"), (15, "*/15 * * * *"),
                                                 (60, "0 * * * *"), (360, "0 */6 * * *")])
def test_refresh_schedule(every: int, schedule: str) -> None:
    assert refresh_schedule(every) == schedule


@pytest.mark.parametrize("every", [0, 45, 90, 7 * 60])
def test_refresh_schedule_rejects_intervals_cron_cannot_say(every: int) -> None:
    with pytest.raises(ValueError, match="not a cron schedule"):
        refresh_schedule(every)


def test_minter_must_leave_a_missed_run_of_slack() -> None:
    check_minter(minter(30, 60), "gitpod")
    with pytest.raises(ValueError, match="at most half"):
        check_minter(minter(45, 60), "gitpod")
    with pytest.raises(ValueError, match="starting deadline"):
        check_minter(minter(10, 60), "gitpod")
    with pytest.raises(ValueError, match="runs in gitpod"):
        check_minter(replace(minter(30, 60), identity=WorkloadIdentity("elsewhere", REFRESHER, NO_ANNOTATIONS)),
                     "gitpod")
