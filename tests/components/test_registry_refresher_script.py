"""The registry credential refresher's shell script run for real: fake `aws`/`gcloud` on PATH, real curl, the real
local API server with the refresher's own ServiceAccount, Role and RoleBinding from the plan, so RBAC decides what it
may write."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import pytest

from components.gitpod.namespace_secrets import EMPTY_DOCKER_CONFIG
from components.gitpod.registry_credentials import (
    FIELD_MANAGER,
    REFRESH_SCRIPT,
)
from ops.plan.runner import PlanDocument
from tests.cluster.plan_objects import kubernetes_objects
from tests.components.registry_refresher import (
    AWS,
    CLOUDS,
    GCP,
    JOB,
    REFRESHER,
    Cloud,
    Registered,
    one_of,
    pod_of,
    secret_named,
)
from tests.kube_server import KubeApiError, KubeApiServer


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
