"""The engine `make engine` builds into .tools/bin, end to end: a tiny Python program (random resources and a
resource hook) through preview, up, a replacing change and destroy on a local file backend, and a Python policy pack
through the language host (`pulumi_cli`: tests/conftest.py puts .tools/bin on PATH; without `make engine` they fail)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ops.common.stackfile import REPO_ROOT

BIN = REPO_ROOT / ".tools" / "bin"
SECRET_SIG = "4dabf18193072939515e22adb298388d"

pytestmark = [pytest.mark.pulumi_cli]

PROGRAM = """
import os

import pulumi
import pulumi_random as random


def record(args: pulumi.ResourceHookArgs) -> None:
    outputs = args.new_outputs or args.old_outputs or {}
    with open(os.environ["HOOK_LOG"], "a") as log:
        log.write(f"{args.name} length={int(outputs['length'])}\\n")


config = pulumi.Config()
created = pulumi.ResourceHook("record-create", record)
deleted = pulumi.ResourceHook("record-delete", record)
key = random.RandomBytes("key", length=config.get_int("length") or 32, opts=pulumi.ResourceOptions(
    hooks=pulumi.ResourceHookBinding(after_create=[created], after_delete=[deleted])))
password = random.RandomPassword("pw", length=24, min_upper=3, override_special="!#")
pulumi.export("hex", key.hex)
pulumi.export("password", password.result)
"""

POLICY_PACK = """
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy


def long_keys(args, report_violation):
    if args.resource_type == "random:index/randomBytes:RandomBytes" and args.props["length"] < 32:
        report_violation(f"key of {int(args.props['length'])} bytes")


PolicyPack("engine-test", enforcement_level=EnforcementLevel.MANDATORY, policies=[
    ResourceValidationPolicy(name="long-keys", description="keys of 32 bytes or more", validate=long_keys)])
"""


class Cli:
    """.tools/bin/pulumi in one project and stack, offline, on a file backend; hooks append to `hooks`."""

    def __init__(self, project: Path, env: dict[str, str], hooks: Path) -> None:
        self.project, self.env, self.hooks = project, env, hooks

    def __call__(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(BIN / "pulumi"), *args, "--non-interactive"], cwd=self.project, env=self.env,
                              capture_output=True, text=True, timeout=600, check=False)
        if ok and done.returncode != 0:
            pytest.fail(f"pulumi {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done

    def hook_lines(self) -> list[str]:
        return self.hooks.read_text().splitlines() if self.hooks.exists() else []


@pytest.fixture
def pulumi(tmp_path: Path) -> Cli:
    project = tmp_path / "project"
    project.mkdir()
    runtime = {"name": "python", "options": {"toolchain": "pip", "virtualenv": sys.prefix}}
    (project / "Pulumi.yaml").write_text(yaml.safe_dump({"name": "engine-test", "runtime": runtime}))
    (project / "__main__.py").write_text(PROGRAM)
    (tmp_path / "state").mkdir()
    # No PULUMI_SKIP_UPDATE_CHECK / PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: the .tools/bin/pulumi wrapper
    # defaults both to true, and the program's venv has the aws and gcp SDKs whose plugins are not built.
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("PULUMI_SKIP_UPDATE_CHECK",
                                                            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION")},
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "PULUMI_HOME": str(tmp_path / "home"),
        "PULUMI_BACKEND_URL": (tmp_path / "state").as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": "engine-test",
        "HOOK_LOG": str(tmp_path / "hooks.log"),
    }
    cli = Cli(project, env, tmp_path / "hooks.log")
    cli("stack", "init", "dev")
    return cli


def test_preview_up_replace_and_destroy_run_the_program_providers_and_hooks(pulumi):
    preview = pulumi("preview")
    assert "+ 3 to create" in preview.stdout
    assert pulumi.hook_lines() == [], "a preview must not run after-create hooks"

    pulumi("up", "--yes")
    assert pulumi.hook_lines() == ["key length=32"]
    outputs = json.loads(pulumi("stack", "output", "--json", "--show-secrets").stdout)
    assert len(bytes.fromhex(outputs["hex"])) == 32
    password = outputs["password"]
    assert len(password) == 24
    assert sum(c.isupper() for c in password) >= 3
    assert set(password) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#")
    state = json.loads(pulumi("stack", "export").stdout)["deployment"]["resources"]
    by_type = {r["type"]: r for r in state}
    key_outputs = by_type["random:index/randomBytes:RandomBytes"]["outputs"]
    assert key_outputs["hex"].get(SECRET_SIG), "hex must be secret"
    assert key_outputs["base64"].get(SECRET_SIG), "base64 must be secret"
    assert by_type["random:index/randomPassword:RandomPassword"]["outputs"]["result"].get(SECRET_SIG)

    pulumi("config", "set", "length", "16")
    up = pulumi("up", "--yes")
    assert "+-1 replaced" in up.stdout
    assert pulumi.hook_lines() == ["key length=32", "key length=16", "key length=32"]
    assert len(bytes.fromhex(json.loads(pulumi("stack", "output", "--json", "--show-secrets").stdout)["hex"])) == 16

    pulumi("destroy", "--yes", "--run-program")
    assert pulumi.hook_lines()[-1] == "key length=16"
    state = json.loads(pulumi("stack", "export").stdout)["deployment"].get("resources") or []
    assert [r["type"] for r in state if r["type"].startswith("random:")] == []


def test_a_python_policy_pack_runs_through_the_language_host(pulumi, tmp_path):
    pack = tmp_path / "pack"
    pack.mkdir()
    runtime = {"name": "python", "options": {"toolchain": "pip", "virtualenv": sys.prefix}}
    (pack / "PulumiPolicy.yaml").write_text(yaml.safe_dump({"runtime": runtime, "version": "0.0.1"}))
    (pack / "__main__.py").write_text(POLICY_PACK)

    assert pulumi("preview", "--policy-pack", str(pack)).returncode == 0

    pulumi("config", "set", "length", "16")
    failed = pulumi("preview", "--policy-pack", str(pack), ok=False)
    assert failed.returncode != 0
    assert "long-keys" in failed.stdout
    assert "key of 16 bytes" in failed.stdout


K8S_PROGRAM = """
import os

import pulumi
import pulumi_kubernetes as k8s

provider = k8s.Provider("cluster", kubeconfig=os.environ["TEST_KUBECONFIG"])
k8s.core.v1.ConfigMap("cm", data={"a": "b"}, opts=pulumi.ResourceOptions(provider=provider))
"""


def test_the_kubernetes_provider_built_here_previews_against_an_unreachable_cluster(pulumi, tmp_path):
    """No cluster here: the provider previews offline, as upstream does when the cluster is unreachable."""
    (pulumi.project / "__main__.py").write_text(K8S_PROGRAM)
    kubeconfig = {
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:9"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
    }
    (tmp_path / "kubeconfig").write_text(json.dumps(kubeconfig))
    pulumi.env["TEST_KUBECONFIG"] = str(tmp_path / "kubeconfig")

    preview = pulumi("preview")

    assert "+ 3 to create" in preview.stdout
    # The SDK pin asks for 4.34.2; the engine ran the provider on PATH and says which version it has.
    assert "but has 4.25.0-alpha." in preview.stdout
