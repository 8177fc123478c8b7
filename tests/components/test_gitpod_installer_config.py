"""The installer config: rendered per shipped stack from the platform's real (offline-plan) endpoints, and only
ever made of keys the installer's config v1 schema documents."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import yaml

from components.config import CellConfig, CellConfigError
from components.gitpod.installer_config import (
    CONTAINERD_RUNTIME_DIR,
    CONTAINERD_SOCKET,
    DOCUMENTED_KEYS,
    InstallerInputs,
    ObjectRef,
    Workspace,
    WorkspaceRuntime,
    build_installer_config,
    check_installable,
    config_hash,
    key_paths,
    render_installer_config,
    to_document,
)
from ops.plan.runner import PlanDocument
from ops.stackfile import load_stack

Registered = Callable[[str], PlanDocument]
STACKS = ("dev", "staging", "prod")


def shipped_config(stack: str, **changes: object) -> CellConfig:
    raw = dict(load_stack(stack).config)
    raw.update(changes)
    return CellConfig.from_stack_config(stack, raw)


def rendered(plan: PlanDocument) -> dict:
    config_map = next(r for r in plan.by_type("kubernetes:core/v1:ConfigMap")
                      if r["inputs"]["metadata"]["name"] == "gitpod-installer-config")
    return yaml.safe_load(config_map["inputs"]["data"]["config.yaml"])


def inputs(**overrides: object) -> InstallerInputs:
    values: dict = {"object_storage_kind": "s3", "object_storage_region": "eu-west-1", "bucket": "b",
                    "registry_url": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/gitpod-dev"}
    values.update(overrides)
    return InstallerInputs(**values)


@pytest.mark.parametrize("stack", STACKS)
def test_rendered_config_carries_the_platforms_real_endpoints(registered: Registered, stack: str) -> None:
    plan = registered(stack)
    document = rendered(plan)
    rds = plan.one("aws:rds/instance:Instance")
    bucket = plan.one("aws:s3/bucket:Bucket", f"gitpod-{stack}-primary")
    assert document["apiVersion"] == "v1"
    assert document["kind"] == "Full"
    assert document["domain"] == shipped_config(stack).domain
    assert document["metadata"]["region"] == "eu-west-1"
    assert document["objectStorage"] == {
        "inCluster": False,
        "s3": {"bucket": bucket["inputs"]["bucket"], "endpoint": "s3.eu-west-1.amazonaws.com"},
    }
    assert document["containerRegistry"]["inCluster"] is False
    assert document["containerRegistry"]["external"]["url"] == plan.document["outputs"]["registryUrl"]
    assert document["containerRegistry"]["external"]["url"].startswith("123456789012.dkr.ecr.eu-west-1.amazonaws.com/")
    assert document["database"] == {
        "inCluster": False,
        "external": {"certificate": {"kind": "secret", "name": "gitpod-database"}},
        "ssl": {"caCert": {"kind": "secret", "name": "gitpod-database-ca"}},
    }
    assert document["certificate"] == {"kind": "secret", "name": "https-certificates"}
    # The database secret the config points at is built from the RDS instance's address.
    database_secret = plan.one("kubernetes:core/v1:Secret", f"gitpod-{stack}-database")
    assert rds["urn"] in database_secret["dependencies"]


@pytest.mark.parametrize("stack", STACKS)
def test_rendered_config_carries_workspace_lifecycle_and_runtime(registered: Registered, stack: str) -> None:
    lifecycle = shipped_config(stack).gitpod.workspace
    workspace = rendered(registered(stack))["workspace"]
    assert workspace["timeoutDefault"] == lifecycle.timeout_default
    assert workspace["timeoutExtended"] == lifecycle.timeout_extended
    assert workspace["timeoutAfterClose"] == lifecycle.timeout_after_close
    assert workspace["maxLifetime"] == lifecycle.max_lifetime
    assert workspace["runtime"] == {"fsShiftMethod": "fuse", "containerdRuntimeDir": CONTAINERD_RUNTIME_DIR,
                                    "containerdSocket": CONTAINERD_SOCKET}
    assert workspace["resources"]["requests"] == {"cpu": "1000m", "memory": "2Gi"}


def test_dev_lifecycle_values_come_from_its_stack_file(registered: Registered) -> None:
    workspace = rendered(registered("dev"))["workspace"]
    assert (workspace["timeoutDefault"], workspace["maxLifetime"], workspace["timeoutAfterClose"]) == (
        "30m", "8h", "5m")


@pytest.mark.parametrize("stack", STACKS)
def test_rendered_config_uses_only_documented_keys(registered: Registered, stack: str) -> None:
    document = rendered(registered(stack))
    assert key_paths(document) <= DOCUMENTED_KEYS
    assert "experimental" not in document  # GC is on in every shipped stack


def test_gitpod_service_accounts_get_their_workload_identities(registered: Registered) -> None:
    customizations = {c["metadata"]["name"]: c for c in rendered(registered("prod"))["customization"]
                      if c["kind"] == "ServiceAccount"}
    assert set(customizations) == {"server", "ws-daemon", "image-builder-mk3", "registry-facade"}
    for customization in customizations.values():
        assert (customization["apiVersion"], customization["kind"]) == ("v1", "ServiceAccount")
        role = customization["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
        assert role.startswith("arn:aws:iam::123456789012:role/gitpod-prod-gitpod-")


def test_unknown_or_misspelled_keys_cannot_be_constructed() -> None:
    with pytest.raises(TypeError):
        ObjectRef(name="x", kinds="secret")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        WorkspaceRuntime(fs_shift_method="fuse", containerd_runtime_dir="/a", containerd_socket="/b",
                         containerdSocket="/c")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Workspace(timeoutDefault="30m")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="absolute"):
        WorkspaceRuntime(fs_shift_method="fuse", containerd_runtime_dir="run/containerd", containerd_socket="/s")


def test_every_model_key_is_documented_and_rendering_is_stable() -> None:
    config = shipped_config("staging")
    text = render_installer_config(inputs(), config)
    assert text == render_installer_config(inputs(), config)
    assert config_hash(text) == config_hash(render_installer_config(inputs(), config))
    assert config_hash(text) != config_hash(render_installer_config(inputs(bucket="other"), config))
    assert key_paths(to_document(build_installer_config(inputs(), config))) <= DOCUMENTED_KEYS


def test_gc_off_disables_collection_in_the_experimental_section() -> None:
    config = shipped_config("dev", **{"gitpod-cell:gitpod": {
        **load_stack("dev").config["gitpod-cell:gitpod"],
        "workspace": {"garbageCollection": {"enabled": False}}}})
    document = to_document(build_installer_config(inputs(), config))
    assert document["experimental"] == {"webapp": {"server": {"disableWorkspaceGarbageCollection": True}}}
    assert key_paths(document) <= DOCUMENTED_KEYS


def test_gc_age_the_installer_cannot_express_is_a_config_error() -> None:
    gitpod = {**load_stack("prod").config["gitpod-cell:gitpod"]}
    gitpod["workspace"] = {**gitpod["workspace"], "garbageCollection": {"enabled": True, "minAgeDays": 30}}
    with pytest.raises(CellConfigError, match=r"gitpod\.workspace\.garbageCollection\.minAgeDays"):
        check_installable(shipped_config("prod", **{"gitpod-cell:gitpod": gitpod}))


def test_gcs_needs_a_project() -> None:
    config = shipped_config("dev")
    with pytest.raises(ValueError, match="project"):
        build_installer_config(inputs(object_storage_kind="gcs"), config)
    document = to_document(build_installer_config(inputs(object_storage_kind="gcs", gcs_project="acme-gitpod"),
                                                  config))
    assert document["objectStorage"]["cloudStorage"]["project"] == "acme-gitpod"
    assert "s3" not in document["objectStorage"]
