"""The installer config: rendered per shipped stack from the platform's real (offline-plan) endpoints, for the
pinned Gitpod build, and accepted by that build's own schema (tests/data/installer-schema, generated from its Go
structs) the way its installer loads it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import yaml

from components.config import CellConfig, CellConfigError
from components.gitpod.installer_config import (
    CONTAINERD_RUNTIME_DIR,
    InstallerInputs,
    ObjectRef,
    Workspace,
    WorkspaceRuntime,
    build_installer_config,
    config_hash,
    render_installer_config,
    to_document,
)
from contract.gitpod_builds import SUPPORTED_BUILDS
from ops.common.stackfile import STACKS_DIR, load_stack
from ops.plan.runner import PlanDocument
from tests.components.installer_schema import problems

Registered = Callable[[str], PlanDocument]
SHIPPED = tuple(sorted(path.name.removeprefix("Pulumi.").removesuffix(".yaml")
                       for path in STACKS_DIR.glob("Pulumi.*.yaml")))
AWS_STACKS = ("dev", "staging", "prod")
KEYLESS = "main-gha.13463"


def shipped_config(stack: str, **changes: object) -> CellConfig:
    raw = dict(load_stack(stack).config)
    raw.update(changes)
    return CellConfig.from_stack_config(stack, raw)


def on_build(stack: str, version: str) -> CellConfig:
    """A shipped stack pinned to another supported build."""
    raw = dict(load_stack(stack).config)
    gitpod = dict(raw["gitpod-cell:gitpod"])
    gitpod.update(version=version, installerImage=SUPPORTED_BUILDS[version].installer_image)
    if SUPPORTED_BUILDS[version].keyless_object_storage:
        gitpod.pop("staticStorageKey", None)
    raw["gitpod-cell:gitpod"] = gitpod
    return CellConfig.from_stack_config(stack, raw)


def rendered_text(plan: PlanDocument) -> str:
    config_map = next(r for r in plan.by_type("kubernetes:core/v1:ConfigMap")
                      if r["inputs"]["metadata"]["name"] == "gitpod-installer-config")
    return str(config_map["inputs"]["data"]["config.yaml"])


def inputs(version: str = "release-2022.11.3", **overrides: object) -> InstallerInputs:
    values: dict = {"build": SUPPORTED_BUILDS[version], "region": "eu-west-1", "bucket": "b",
                    "s3_endpoint": "s3.eu-west-1.amazonaws.com", "static_storage_key": True,
                    "registry_url": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/gitpod-dev"}
    values.update(overrides)
    return InstallerInputs(**values)


# -- every shipped stack, against the schema of the build it pins ---------------------------------------------------


@pytest.mark.parametrize("stack", SHIPPED)
def test_every_shipped_config_is_accepted_by_its_builds_own_schema(registered: Registered, stack: str) -> None:
    version = load_stack(stack).config["gitpod-cell:gitpod"]["version"]
    assert problems(rendered_text(registered(stack)), version) == []


@pytest.mark.parametrize("version", sorted(SUPPORTED_BUILDS))
def test_every_supported_build_gets_a_config_its_own_schema_accepts(version: str) -> None:
    build = SUPPORTED_BUILDS[version]
    text = render_installer_config(inputs(version, static_storage_key=not build.keyless_object_storage),
                                   on_build("prod", version))
    assert problems(text, version) == []


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_keyless_build_gets_a_config_its_own_schema_accepts(stack: str) -> None:
    config = on_build(stack, KEYLESS)
    text = render_installer_config(inputs(KEYLESS, static_storage_key=False), config)
    assert problems(text, KEYLESS) == []
    document = yaml.safe_load(text)
    assert "credentials" not in document["objectStorage"]["s3"]  # the storage users' IRSA roles reach S3
    assert document["workspace"]["runtime"]["containerdSocketDir"] == "/run/containerd"
    # ...and the other build's schema refuses it: the renderer really follows the pin.
    assert any("containerdSocketDir" in problem for problem in problems(text, "release-2022.11.3"))


def test_the_old_release_needs_a_key_and_its_socket_key() -> None:
    config = shipped_config("dev")
    text = render_installer_config(inputs(), config)
    document = yaml.safe_load(text)
    assert document["objectStorage"]["s3"]["credentials"] == {"kind": "secret", "name": "gitpod-object-storage"}
    assert document["workspace"]["runtime"]["containerdSocket"] == "/run/containerd/containerd.sock"
    assert any("containerdSocket" in problem for problem in problems(text, KEYLESS))
    keyless = render_installer_config(inputs(static_storage_key=False), config)
    assert "objectStorage.s3.credentials.name: required" in problems(keyless, "release-2022.11.3")


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_rendered_config_carries_the_platforms_real_endpoints(registered: Registered, stack: str) -> None:
    plan = registered(stack)
    document = yaml.safe_load(rendered_text(plan))
    bucket = plan.one("aws:s3/bucket:Bucket", f"gitpod-{stack}-primary")
    assert document["apiVersion"] == "v1"
    assert document["kind"] == "Full"
    assert document["domain"] == load_stack(stack).config["gitpod-cell:domain"]
    assert document["database"]["inCluster"] is False
    assert document["objectStorage"]["s3"] == {
        "endpoint": f"s3.{load_stack(stack).config['aws:region']}.amazonaws.com",
        "bucket": bucket["inputs"]["bucket"],
        "credentials": {"kind": "secret", "name": "gitpod-object-storage"},
    }
    assert document["containerRegistry"]["inCluster"] is False
    assert "customization" in document
    assert all(c["kind"] == "Service" for c in document["customization"])  # never a dropped ServiceAccount one


def test_gcp_uses_gcs_through_its_s3_api_with_the_bucket_key(registered: Registered) -> None:
    plan = registered("prod-gcp")
    document = yaml.safe_load(rendered_text(plan))
    bucket = plan.one("gcp:storage/bucket:Bucket", "gitpod-prod-gcp-workspaces")
    assert document["objectStorage"] == {
        "inCluster": False,
        "s3": {"endpoint": "storage.googleapis.com", "bucket": bucket["inputs"]["name"],
               "credentials": {"kind": "secret", "name": "gitpod-object-storage"}},
    }


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_rendered_config_carries_workspace_lifecycle_and_runtime(registered: Registered, stack: str) -> None:
    workspace = yaml.safe_load(rendered_text(registered(stack)))["workspace"]
    assert workspace["runtime"]["containerdRuntimeDir"] == CONTAINERD_RUNTIME_DIR
    assert workspace["runtime"]["fsShiftMethod"] == "fuse"
    lifecycle = shipped_config(stack).gitpod.workspace
    assert (workspace["timeoutDefault"], workspace["timeoutExtended"], workspace["timeoutAfterClose"],
            workspace["maxLifetime"]) == (lifecycle.timeout_default, lifecycle.timeout_extended,
                                          lifecycle.timeout_after_close, lifecycle.max_lifetime)


# -- the model, and the rules the pin brings -------------------------------------------------------------------------


def test_unknown_or_misspelled_keys_cannot_be_constructed() -> None:
    with pytest.raises(TypeError):
        ObjectRef(name="x", kindd="secret")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="exactly one of containerdSocket or containerdSocketDir"):
        WorkspaceRuntime(fs_shift_method="fuse", containerd_runtime_dir="/run/x")
    with pytest.raises(ValueError, match="must be absolute"):
        WorkspaceRuntime(fs_shift_method="fuse", containerd_runtime_dir="relative", containerd_socket="/s")
    with pytest.raises(TypeError):
        Workspace(runtime=None, resources=None, max_lifetime="1h", timeout_default="1m",  # type: ignore[arg-type]
                  timeout_extended="1m", timeout_after_close="1m", templates={})  # type: ignore[call-arg]


def test_rendering_is_stable() -> None:
    config = shipped_config("dev")
    first = render_installer_config(inputs(), config)
    assert render_installer_config(inputs(), config) == first
    assert config_hash(first) == config_hash(render_installer_config(inputs(), config))
    assert config_hash(first) != config_hash(render_installer_config(inputs(bucket="other"), config))


def test_gc_off_disables_collection_in_the_experimental_section() -> None:
    config = shipped_config("dev", **{"gitpod-cell:gitpod": {
        **load_stack("dev").config["gitpod-cell:gitpod"],
        "workspace": {"garbageCollection": {"enabled": False}}}})
    document = to_document(build_installer_config(inputs(), config))
    assert document["experimental"] == {"webapp": {"server": {"disableWorkspaceGarbageCollection": True}}}
    assert problems(yaml.safe_dump(document), "release-2022.11.3") == []


def gitpod_section(stack: str = "dev", **changes: object) -> dict:
    return {**load_stack(stack).config["gitpod-cell:gitpod"], **changes}


def config_error(stack: str = "dev", **changes: object) -> CellConfigError:
    with pytest.raises(CellConfigError) as caught:
        shipped_config(stack, **{"gitpod-cell:gitpod": gitpod_section(stack, **changes)})
    return caught.value


def test_gc_age_the_installer_cannot_express_is_a_config_error() -> None:
    error = config_error(workspace={"garbageCollection": {"enabled": True, "minAgeDays": 7}})
    assert error.issues[0][0] == "gitpod-cell:gitpod.workspace.garbageCollection.minAgeDays"


@pytest.mark.parametrize("version", ["release-2022.06.0.10", "2024.11.0", "latest"])
def test_an_unsupported_pin_names_the_key_and_the_supported_builds(version: str) -> None:
    ((key, message),) = config_error(version=version).issues
    assert key == "gitpod-cell:gitpod.version"
    for supported in SUPPORTED_BUILDS:
        assert supported in message


def test_the_installer_image_must_be_the_pinned_builds() -> None:
    ((key, message),) = config_error(installerImage=SUPPORTED_BUILDS[KEYLESS].installer_image).issues
    assert key == "gitpod-cell:gitpod"
    assert "eu.gcr.io/gitpod-core-dev/build/installer:release-2022.11.3" in message
    digest = "@sha256:" + "a" * 64
    mirrored = gitpod_section(installerImage=f"registry.example.com/gitpod/installer:release-2022.11.3{digest}")
    assert shipped_config("dev", **{"gitpod-cell:gitpod": mirrored}).gitpod.build.version == "release-2022.11.3"


def test_a_static_key_is_consent_not_default() -> None:
    section = gitpod_section()
    section.pop("staticStorageKey")
    with pytest.raises(CellConfigError) as caught:
        shipped_config("dev", **{"gitpod-cell:gitpod": section})
    ((key, message),) = caught.value.issues
    assert key == "gitpod-cell:gitpod.staticStorageKey.accept"
    assert "ops storage-key rotate" in message
    assert KEYLESS in message


def test_a_keyless_build_refuses_a_key_it_would_not_use() -> None:
    ((key, _),) = config_error(version=KEYLESS, installerImage=SUPPORTED_BUILDS[KEYLESS].installer_image).issues
    assert key == "gitpod-cell:gitpod.staticStorageKey.accept"


def test_a_keyless_aws_only_build_is_refused_on_gcp() -> None:
    with pytest.raises(CellConfigError) as caught:
        on_build("prod-gcp", KEYLESS)
    ((key, message),) = caught.value.issues
    assert key == "gitpod-cell:gitpod.version"
    assert "release-2022.11.3" in message


def test_blocking_new_users_needs_a_passlist() -> None:
    ((key, _),) = config_error(blockNewUsers=True).issues
    assert key == "gitpod-cell:gitpod.blockNewUsersPasslist"
    config = shipped_config("dev", **{"gitpod-cell:gitpod": gitpod_section(
        blockNewUsers=True, blockNewUsersPasslist=["example.com"])})
    text = render_installer_config(inputs(), config)
    assert yaml.safe_load(text)["blockNewUsers"] == {"enabled": True, "passlist": ["example.com"]}
    assert problems(text, "release-2022.11.3") == []


def test_rotation_labels_are_names() -> None:
    ((key, _),) = config_error(staticStorageKey={"accept": True, "rotation": "Not A Label"}).issues
    assert key == "gitpod-cell:gitpod.staticStorageKey.rotation"
