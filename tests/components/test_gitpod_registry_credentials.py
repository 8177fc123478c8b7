"""The registry credential refresher: what the program registers for it on AWS and GCP, and its shell script run
for real (fake `aws`/`gcloud` on PATH, real curl, the real local API server with the refresher's own ServiceAccount,
Role and RoleBinding from the plan, so RBAC decides what it may write)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import pulumi
import pytest

from components.gitpod.namespace_secrets import EMPTY_DOCKER_CONFIG
from components.gitpod.registry_credentials import (
    FIELD_MANAGER,
    MINT_SCRIPT,
    REFRESH_SCRIPT,
    check_minter,
    refresh_schedule,
)
from components.platform import CredentialMinter, WorkloadIdentity
from ops.plan.mocks import ACCOUNT_ID
from ops.plan.runner import PlanDocument
from policies.offline import evaluate
from tests.cluster.plan_objects import kubernetes_objects
from tests.kube_server import KubeApiError, KubeApiServer

Registered = Callable[[str], PlanDocument]
JOB = "kubernetes:batch/v1:Job"
CRON_JOB = "kubernetes:batch/v1:CronJob"
REFRESHER = "registry-credentials"
GCP_PROJECT = "acme-gitpod-prod"


@dataclass(frozen=True)
class Cloud:
    stack: str
    schedule: str
    annotation: str
    identity: str
    server: str
    user: str
    image_prefix: str


AWS = Cloud("prod", "0 */6 * * *", "eks.amazonaws.com/role-arn",
            f"arn:aws:iam::{ACCOUNT_ID}:role/gitpod-prod-gitpod-registry-credentials",
            f"{ACCOUNT_ID}.dkr.ecr.eu-west-1.amazonaws.com", "AWS", "public.ecr.aws/aws-cli/aws-cli:2.")
GCP = Cloud("prod-gcp", "*/30 * * * *", "iam.gke.io/gcp-service-account",
            f"gitpod-prod-gcp-registry-creds@{GCP_PROJECT}.iam.gserviceaccount.com",
            "europe-west1-docker.pkg.dev", "oauth2accesstoken", "gcr.io/google.com/cloudsdktool/google-cloud-cli:")
CLOUDS = pytest.mark.parametrize("cloud", [AWS, GCP], ids=["aws", "gcp"])


def refresher_objects(plan: PlanDocument, resource_type: str) -> list[dict[str, Any]]:
    return [r for r in plan.by_type(resource_type)
            if r["inputs"]["metadata"].get("labels", {}).get("app.kubernetes.io/name") == REFRESHER]


def one_of(plan: PlanDocument, resource_type: str) -> dict[str, Any]:
    (found,) = refresher_objects(plan, resource_type)
    return found


def pod_of(resource: dict[str, Any]) -> dict[str, Any]:
    spec = resource["inputs"]["spec"]
    return (spec["jobTemplate"]["spec"] if resource["type"] == CRON_JOB else spec)["template"]["spec"]


def secret_named(plan: PlanDocument, name: str) -> dict[str, Any]:
    (found,) = [r for r in plan.by_type("kubernetes:core/v1:Secret") if r["inputs"]["metadata"]["name"] == name]
    return found


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


# --- the script, run for real ---------------------------------------------------------------------------------


@dataclass
class RefresherCluster:
    """The refresher's objects from the plan on the real local API server, in a namespace of the test's own: its
    ServiceAccount, Role and RoleBinding (so RBAC is the server's), the docker config secret as the program creates
    it (empty), and a TokenRequest token for the account, as its pod's projected token."""

    api: KubeApiServer
    namespace: str
    secret: str
    token: str

    def secret_object(self, name: str | None = None) -> dict[str, Any] | None:
        try:
            return self.api.get("v1", "Secret", name or self.secret, self.namespace)
        except KubeApiError as error:
            if error.status == 404:
                return None
            raise

    def docker_config(self) -> dict[str, Any]:
        stored = self.secret_object()
        assert stored is not None
        return cast("dict[str, Any]", json.loads(base64.b64decode(stored["data"][".dockerconfigjson"])))

    def resource_version(self) -> str:
        stored = self.secret_object()
        assert stored is not None
        return str(stored["metadata"]["resourceVersion"])


def refresher_cluster(api: KubeApiServer, plan: PlanDocument, *, with_secret: bool = True) -> RefresherCluster:
    namespace = api.create_namespace("registry-credentials")
    wanted = {"kubernetes:core/v1:ServiceAccount", "kubernetes:rbac.authorization.k8s.io/v1:Role",
              "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"}
    objects = [o for o in kubernetes_objects(plan.resources) if o.resource_type in wanted
               and o.manifest["metadata"].get("labels", {}).get("app.kubernetes.io/name") == REFRESHER]
    assert sorted(o.resource_type for o in objects) == sorted(wanted)
    for planned in objects:
        manifest = planned.manifest
        assert manifest["metadata"]["namespace"] == "gitpod"
        manifest["metadata"]["namespace"] = namespace
        for subject in manifest.get("subjects") or []:
            assert subject["namespace"] == "gitpod"
            subject["namespace"] = namespace
        api.apply(manifest, "pulumi-kubernetes")
    (secret,) = [o.manifest for o in kubernetes_objects([secret_named(plan, "gitpod-registry")])]
    if with_secret:
        # What components/gitpod/namespace_secrets.py writes (the plan redacts it): an empty docker config.
        secret.pop("data", None)
        secret["stringData"] = {".dockerconfigjson": EMPTY_DOCKER_CONFIG}
        secret["metadata"]["namespace"] = namespace
        api.apply(secret, "pulumi-kubernetes")
    issued = api.request("POST", f"/api/v1/namespaces/{namespace}/serviceaccounts/{REFRESHER}/token",
                         {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                          "spec": {"expirationSeconds": 600}})
    return RefresherCluster(api, namespace, secret["metadata"]["name"], str(issued["status"]["token"]))


# Realistic shapes: ECR passwords are long base64 with `+`, `/`, `=`; access tokens are `ya29.` plus URL-safe text.
CLI_TOKENS = {"aws": "eyJwYXlsb2FkIjoiZmFrZSJ9+/abc==", "gcloud": "ya29.c.Fake_Access-Token.0123"}
FAKE_CLI = """#!/bin/sh
[ "$*" = "{expected}" ] || {{ echo "unexpected arguments: $*" >&2; exit 64; }}
{body}
"""


@dataclass(frozen=True)
class Run:
    returncode: int
    output: str
    leftovers: list[str]


def run_refresher(registered: Registered, cloud: Cloud, cluster: RefresherCluster, tmp_path: Path, shell: str,
                  cli_body: str | None = None, env_overrides: dict[str, str] | None = None) -> Run:
    """The registered ConfigMap's scripts, with the registered container env (its namespace: the test's), run as the
    CronJob's pod would run them: its service-account token and the cluster CA in the account directory, the API
    server's address in KUBERNETES_SERVICE_HOST/PORT, real curl, a fake cloud CLI on PATH."""
    plan = registered(cloud.stack)
    scripts_dir = tmp_path / "scripts"
    scripts_dir.mkdir()
    for name, text in one_of(plan, "kubernetes:core/v1:ConfigMap")["inputs"]["data"].items():
        (scripts_dir / name).write_text(text)
    cli = "aws" if cloud is AWS else "gcloud"
    expected = "ecr get-login-password --region eu-west-1" if cli == "aws" else "auth print-access-token --quiet"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / cli
    fake.write_text(FAKE_CLI.format(expected=expected, body=cli_body or f"echo '{CLI_TOKENS[cli]}'"))
    fake.chmod(0o755)
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text(cluster.token)
    (account / "ca.crt").write_bytes(cluster.api.kube.ca_path.read_bytes())
    work = tmp_path / "tmp"
    work.mkdir()
    (container,) = pod_of(one_of(plan, JOB))["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["NAMESPACE"] == "gitpod"
    server = urlsplit(cluster.api.server_url)
    env.update({"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(work), "TMPDIR": str(work),
                "SERVICE_ACCOUNT_DIR": str(account), "KUBERNETES_SERVICE_HOST": str(server.hostname),
                "KUBERNETES_SERVICE_PORT": str(server.port), "NAMESPACE": cluster.namespace,
                **(env_overrides or {})})
    result = subprocess.run([shell, str(scripts_dir / REFRESH_SCRIPT)], env=env, capture_output=True, text=True,
                            timeout=60, check=False)
    return Run(result.returncode, result.stdout + result.stderr, sorted(os.listdir(work)))


SHELLS = [shell for shell in ("dash", "bash") if shutil.which(shell)]


def secrets_in(output: str, cloud: Cloud, cluster: RefresherCluster) -> list[str]:
    token = CLI_TOKENS["aws" if cloud is AWS else "gcloud"]
    auth = base64.b64encode(f"{cloud.user}:{token}".encode()).decode()
    return [s for s in (token, auth, cluster.token) if s in output]


@CLOUDS
@pytest.mark.parametrize("shell", SHELLS)
def test_script_patches_a_docker_config_for_the_registry(registered: Registered, kube_api: KubeApiServer,
                                                         tmp_path: Path, cloud: Cloud, shell: str) -> None:
    cluster = refresher_cluster(kube_api, registered(cloud.stack))
    assert cluster.docker_config() == {"auths": {}}

    run = run_refresher(registered, cloud, cluster, tmp_path, shell)

    assert run.returncode == 0, run.output
    token = CLI_TOKENS["aws" if cloud is AWS else "gcloud"]
    assert cluster.docker_config() == {"auths": {cloud.server: {
        "auth": base64.b64encode(f"{cloud.user}:{token}".encode()).decode()}}}
    stored = cluster.secret_object()
    assert stored is not None
    assert stored["type"] == "kubernetes.io/dockerconfigjson"
    # A merge patch (an Update) under the refresher's own field manager, which Pulumi's apply leaves alone.
    managers = {entry["manager"]: entry["operation"] for entry in stored["metadata"]["managedFields"]}
    assert managers[FIELD_MANAGER] == "Update"
    assert f"refreshed {cluster.namespace}/gitpod-registry for {cloud.server}" in run.output
    assert secrets_in(run.output, cloud, cluster) == []
    assert run.leftovers == []


@pytest.mark.parametrize("shell", SHELLS)
def test_script_may_patch_only_its_own_secret(registered: Registered, kube_api: KubeApiServer, tmp_path: Path,
                                              shell: str) -> None:
    """RBAC is the server's: the Role names one secret. Pointed at another, the PATCH is forbidden, the script
    fails loudly, prints no token and the other secret stays as it was."""
    cluster = refresher_cluster(kube_api, registered(AWS.stack))
    kube_api.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "other", "namespace": cluster.namespace},
                    "type": "kubernetes.io/dockerconfigjson",
                    "stringData": {".dockerconfigjson": EMPTY_DOCKER_CONFIG}}, "test")
    before = cluster.secret_object("other")

    run = run_refresher(registered, AWS, cluster, tmp_path, shell, env_overrides={"DOCKER_CONFIG_NAME": "other"})

    assert run.returncode != 0
    assert "HTTP 403" in run.output
    assert (f'secrets \\"other\\" is forbidden: User \\"system:serviceaccount:{cluster.namespace}:{REFRESHER}\\"'
            in run.output)
    assert cluster.secret_object("other") == before
    assert cluster.docker_config() == {"auths": {}}
    assert secrets_in(run.output, AWS, cluster) == []
    assert run.leftovers == []


def test_script_never_creates_the_secret(registered: Registered, kube_api: KubeApiServer, tmp_path: Path) -> None:
    cluster = refresher_cluster(kube_api, registered(GCP.stack), with_secret=False)

    run = run_refresher(registered, GCP, cluster, tmp_path, SHELLS[0])

    assert run.returncode != 0
    assert "HTTP 404" in run.output
    assert 'secrets \\"gitpod-registry\\" not found' in run.output
    assert cluster.secret_object() is None
    assert secrets_in(run.output, GCP, cluster) == []


@pytest.mark.parametrize(("body", "message"), [
    ("echo 'AccessDenied' >&2; exit 255", "minting a registry token failed"),
    ("true", "printed no token"),
    ("echo one; echo two", "more than one token"),
])
def test_script_patches_nothing_when_minting_fails(registered: Registered, kube_api: KubeApiServer, tmp_path: Path,
                                                   body: str, message: str) -> None:
    cluster = refresher_cluster(kube_api, registered(GCP.stack))
    version = cluster.resource_version()

    run = run_refresher(registered, GCP, cluster, tmp_path, SHELLS[0], cli_body=body)

    assert run.returncode != 0
    assert message in run.output
    assert cluster.resource_version() == version
    assert run.leftovers == []
