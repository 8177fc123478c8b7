"""`gitpod-cell:cloud: kubernetes`: the config of a cell on an existing cluster, and its one-line errors."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from components.config import CellConfig, CellConfigError
from components.config.kubernetes import SECRET_PLACEHOLDER
from ops.common.stackfile import load_stack
from tests.conftest import with_changes

KEY = "gitpod-cell:kubernetes"


def local(changes: dict[str, Any] | None = None) -> dict[str, Any]:
    config = copy.deepcopy(load_stack("local").config)
    return with_changes(config, changes or {})


def issues(config: dict[str, Any], stack: str = "local") -> dict[str, str]:
    with pytest.raises(CellConfigError) as raised:
        CellConfig.from_stack_config(stack, config)
    return dict(raised.value.issues)


def test_the_shipped_local_stack_is_valid_with_its_secrets_still_encrypted():
    config = CellConfig.from_stack_config("local", local())

    section = config.kubernetes
    assert config.cloud == "kubernetes"
    assert config.region == "us-east-1"
    assert section is not None
    assert section.database.password.get_secret_value() == SECRET_PLACEHOLDER
    assert section.object_storage.url == "http://127.0.0.1:9000"
    assert section.registry.push_url == "127.0.0.1:5000/gitpod"
    assert config.gitpod.letsencrypt is None


def test_secrets_never_reach_the_redacted_config():
    raw = local({f"{KEY}.database.password": "hunter2-database", f"{KEY}.registry.password": "hunter2-registry"})

    dumped = str(CellConfig.from_stack_config("local", raw).redacted())

    assert "hunter2" not in dumped


def test_the_region_is_the_object_stores():
    assert CellConfig.from_stack_config("local", local({f"{KEY}.objectStorage.region": "eu-central-1"})).region \
        == "eu-central-1"


@pytest.mark.parametrize(("changes", "key", "fragment"), [
    ({f"{KEY}": None}, KEY, "is required when gitpod-cell:cloud is kubernetes"),
    ({"gitpod-cell:database": {"multiAz": True}}, "gitpod-cell:database", "is not read by a cell on an existing "
                                                                          "cluster"),
    ({"gitpod-cell:cluster": {"kubernetesVersion": "1.34"}}, "gitpod-cell:cluster", "its nodes carry Gitpod's"),
    ({"gitpod-cell:replicaRegion": "eu-west-1"}, "gitpod-cell:replicaRegion", "remove it"),
    ({"gitpod-cell:gitpod.version": "main-gha.13463",
      "gitpod-cell:gitpod.installerImage": "eu.gcr.io/gitpod-core-dev/build/installer:main-gha.13463",
      "gitpod-cell:gitpod.staticStorageKey": None},
     "gitpod-cell:gitpod.version", "cannot use an S3-compatible store"),
    ({"gitpod-cell:gitpod.letsencrypt": {"email": "ops@example.com"}}, "gitpod-cell:gitpod.letsencrypt",
     "kubernetes.clusterIssuer (cell-issuer) issues the certificate"),
    ({f"{KEY}.objectStorage.endpoint": "minio.example.com:9000"}, f"{KEY}.objectStorage",
     "minio.example.com is not a loopback address"),
    ({f"{KEY}.objectStorage.endpoint": "https://minio.example.com"}, f"{KEY}.objectStorage.endpoint",
     "without a scheme"),
    ({f"{KEY}.kubeconfigPath": "kubeconfig.yaml"}, KEY, "exactly one of kubeconfig"),
    ({f"{KEY}.database.caPem": "not a certificate"}, f"{KEY}.database.caPem", "is not a PEM certificate"),
    ({f"{KEY}.registry.url": "elsewhere.example.com/gitpod"}, f"{KEY}.registry", "is not under server"),
    ({f"{KEY}.clusterIssuer": None}, f"{KEY}.clusterIssuer", "is required"),
    ({"gitpod-cell:gitpod.healthGateMinutes": 0}, "gitpod-cell:gitpod.healthGateMinutes", "at least 1"),
])
def test_each_problem_is_one_line_naming_its_key(changes, key, fragment):
    found = issues(local(changes))

    assert key in found, found
    assert fragment in found[key]
    assert "\n" not in found[key]


def test_prod_refuses_what_only_a_local_stack_may_do():
    found = issues(local({"gitpod-cell:environment": "prod"}))

    assert "must be false in prod" in found[f"{KEY}.database.acceptMariaDb"]
    assert "must be false in prod" in found[f"{KEY}.objectStorage.insecureLoopbackHttp"]
    assert "must be false in prod" in found[f"{KEY}.registry.insecureLoopbackHttp"]


def test_a_kubernetes_section_on_another_cloud_is_refused():
    raw = copy.deepcopy(load_stack("dev").config)
    raw[KEY] = local()[KEY]

    assert "is only read when gitpod-cell:cloud is kubernetes" in issues(raw, "dev")[KEY]


def test_aws_and_gcp_still_require_letsencrypt():
    raw = with_changes(copy.deepcopy(load_stack("dev").config), {"gitpod-cell:gitpod.letsencrypt": None})

    assert "is required" in issues(raw, "dev")["gitpod-cell:gitpod.letsencrypt"]


def test_the_longest_stack_name_is_set_by_the_cells_kubernetes_names():
    from components.config import MAX_STACK_NAME_LENGTH

    longest = "a" * MAX_STACK_NAME_LENGTH["kubernetes"]

    assert CellConfig.from_stack_config(longest, local()).name_prefix == f"gitpod-{longest}"
    assert "is not usable as a cell name" in issues(local(), longest + "a")["pulumi:stack"]
