"""`python -m ops maintenance ...` against the real local API server: the lease in `default` (reset per test by the
`cluster` fixture), the installation record in the test's own namespace (the stack file's gitpod.namespace)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from ops import cli
from ops.cluster import cli as maintenance_cli
from ops.cluster.maintenance import MAINTENANCE_CONFIG_KEY, MAINTENANCE_CONFIG_MAP
from ops.common import stackfile
from tests.ops.support.cli import run_command
from tests.ops.support.kube_cluster import KubeCluster
from tests.ops.support.stacks import stack_config, stack_text
from tests.ops.support.values import write_kubeconfig
from tools.localkube import free_port


def _stack_texts(namespace: str) -> dict[str, str]:
    """dev: a lease of 80 minutes; staging: the gitpod section as JSON text, as `pulumi config set --path` may leave
    it, without a lease (the default, 60); test: no namespace (the record is read in `gitpod`)."""
    gitpod = stack_config("dev")["gitpod-cell:gitpod"]
    return {
        "dev": stack_text("dev", {"gitpod-cell:gitpod": {"maintenanceLeaseMinutes": 80, "namespace": namespace}}),
        "staging": stack_text("dev", {"gitpod-cell:gitpod": None}).replace(
            "config:\n", "config:\n  gitpod-cell:gitpod: '" + json.dumps({**gitpod, "namespace": namespace}) + "'\n",
            1),
        "test": stack_text("dev", {"gitpod-cell:gitpod": {"namespace": None}}),
    }


def run_cli(argv: list[str]) -> int:
    return run_command(maintenance_cli, argv)


@pytest.fixture
def stacks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cluster: KubeCluster) -> Path:
    directory = tmp_path / "stacks"
    directory.mkdir()
    for name, text in _stack_texts(cluster.namespace).items():
        (directory / f"Pulumi.{name}.yaml").write_text(text)
    monkeypatch.setattr(stackfile, "STACKS_DIR", directory)
    return directory


@pytest.fixture
def maintenance(stacks: Path, cluster: KubeCluster) -> Callable[..., int]:
    def run(action: str, *extra: str, stack: str = "dev") -> int:
        return run_cli(["maintenance", action, "--stack", stack, "--kubeconfig", str(cluster.kubeconfig_path),
                        *extra])

    return run


def _lease(cluster: KubeCluster) -> dict[str, str]:
    data = cluster.config_map_data("default", MAINTENANCE_CONFIG_MAP)
    assert data is not None
    return json.loads(data[MAINTENANCE_CONFIG_KEY])


def test_enter_uses_the_stacks_lease_then_status_then_exit(maintenance: Callable[..., int], cluster: KubeCluster,
                                                           capsys: pytest.CaptureFixture[str]):
    assert maintenance("enter") == 0
    assert "(80 min left)" in capsys.readouterr().out
    assert "enabledUntil" in _lease(cluster)

    assert maintenance("status", "--json") == 0
    status = json.loads(capsys.readouterr().out)
    assert status["enabled"] is True
    assert 79 * 60 <= status["remainingSeconds"] <= 80 * 60
    assert status["configMap"] == MAINTENANCE_CONFIG_MAP

    assert maintenance("exit") == 0
    assert "maintenance OFF" in capsys.readouterr().out
    assert maintenance("status", "--json") == 0
    assert json.loads(capsys.readouterr().out)["enabled"] is False


def test_lease_minutes_flag_overrides_and_default_is_60(maintenance: Callable[..., int],
                                                       capsys: pytest.CaptureFixture[str]):
    assert maintenance("enter", "--lease-minutes", "5", "--json") == 0
    assert 4 * 60 <= json.loads(capsys.readouterr().out)["remainingSeconds"] <= 5 * 60

    assert maintenance("enter", "--json", stack="staging") == 0
    assert 59 * 60 <= json.loads(capsys.readouterr().out)["remainingSeconds"] <= 60 * 60


def test_a_lease_out_of_range_is_an_operator_error(maintenance: Callable[..., int],
                                                   capsys: pytest.CaptureFixture[str]):
    assert maintenance("enter", "--lease-minutes", "0") == cli.EXIT_CONFIG_ERROR
    assert "--lease-minutes 0: accepted 1-240 minutes, or up to 1440 with --force-long-lease" in capsys.readouterr().out


def test_an_unknown_stack_is_an_operator_error(maintenance: Callable[..., int], capsys: pytest.CaptureFixture[str]):
    assert maintenance("status", stack="prod") == cli.EXIT_CONFIG_ERROR
    assert "no stack named 'prod'" in capsys.readouterr().out


def test_an_unreachable_cluster_is_an_operator_error(stacks: Path, cluster: KubeCluster, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]):
    document = json.loads(cluster.kubeconfig_text())
    document["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{free_port()}"  # nothing listens there
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", document)
    assert run_cli(["maintenance", "status", "--stack", "dev", "--kubeconfig", str(kubeconfig)]) == 3
    assert (f"error: Kubernetes API: GET /api/v1/namespaces/{cluster.namespace}/configmaps/"
            in capsys.readouterr().out)


def test_a_missing_kubeconfig_is_an_operator_error(stacks: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]):
    code = run_cli(["maintenance", "status", "--stack", "dev", "--kubeconfig", str(tmp_path / "nope")])
    assert code == cli.EXIT_CONFIG_ERROR
    assert f"--kubeconfig {tmp_path / 'nope'}: no such file" in capsys.readouterr().out


def test_forbidden_hints_at_rbac(stacks: Path, cluster: KubeCluster, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]):
    """RBAC is the server's: this account may read the record in the Gitpod namespace, nothing in `default`."""
    token = cluster.service_account_token("operator", rules=[
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "create", "patch"]}])
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", cluster.token_kubeconfig(token))

    assert run_cli(["maintenance", "enter", "--stack", "dev", "--kubeconfig", str(kubeconfig)]) == 1

    out = capsys.readouterr().out
    assert "HTTP 403 Forbidden" in out
    assert 'cannot patch resource "configmaps" in API group "" in the namespace "default"' in out
    assert "check RBAC" in out
    assert cluster.config_map_data("default", MAINTENANCE_CONFIG_MAP) is None


def test_the_command_family_is_registered_with_the_ops_cli():
    assert "ops.cluster.cli" in cli.COMMAND_MODULES


def test_the_lease_goes_to_default_whatever_the_gitpod_namespace(maintenance: Callable[..., int],
                                                                 cluster: KubeCluster):
    assert maintenance("enter", "--namespace", cluster.namespace) == 0
    assert cluster.config_map_names(MAINTENANCE_CONFIG_MAP) == [("default", MAINTENANCE_CONFIG_MAP)]
    assert cluster.config_map_labels("default", MAINTENANCE_CONFIG_MAP)["gitpod.io/maintenanceConfig"] == "true"
    assert cluster.ws_manager_maintenance() is not None


def test_maintenance_namespace_overrides_where_the_lease_goes(maintenance: Callable[..., int],
                                                              cluster: KubeCluster):
    elsewhere = cluster.create_namespace("ws-manager")
    assert maintenance("enter", "--maintenance-namespace", elsewhere) == 0
    assert cluster.config_map_names(MAINTENANCE_CONFIG_MAP) == [(elsewhere, MAINTENANCE_CONFIG_MAP)]


def test_a_lease_over_240_minutes_needs_force(maintenance: Callable[..., int], cluster: KubeCluster,
                                              capsys: pytest.CaptureFixture[str]):
    assert maintenance("enter", "--lease-minutes", "241") == cli.EXIT_CONFIG_ERROR
    assert "--force-long-lease" in capsys.readouterr().out
    assert cluster.config_map_data("default", MAINTENANCE_CONFIG_MAP) is None

    assert maintenance("enter", "--lease-minutes", "240", "--json") == 0
    assert json.loads(capsys.readouterr().out)["remainingSeconds"] in range(239 * 60, 240 * 60 + 1)
    assert maintenance("enter", "--lease-minutes", "600", "--force-long-lease", "--json") == 0
    assert json.loads(capsys.readouterr().out)["remainingSeconds"] in range(599 * 60, 600 * 60 + 1)


def test_the_operator_cli_keeps_its_explicit_semantics(maintenance: Callable[..., int],
                                                       capsys: pytest.CaptureFixture[str]):
    assert maintenance("enter", "--lease-minutes", "200", "--json") == 0
    assert maintenance("enter", "--lease-minutes", "10", "--json") == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["remainingSeconds"] in range(9 * 60, 10 * 60 + 1)


@pytest.mark.parametrize("action", ["status", "enter", "exit"])
def test_a_cluster_of_another_cell_is_refused(maintenance: Callable[..., int], cluster: KubeCluster,
                                              capsys: pytest.CaptureFixture[str], action: str):
    cluster.put_config_map(cluster.namespace, "gitpod-installation", {"cell": "prod", "version": "2024.11.0"})

    assert maintenance(action) == cli.EXIT_CONFIG_ERROR

    assert "belongs to cell 'prod', not 'dev'" in capsys.readouterr().out
    assert cluster.config_map_data("default", MAINTENANCE_CONFIG_MAP) is None


def test_the_cluster_of_this_cell_is_accepted(maintenance: Callable[..., int], cluster: KubeCluster):
    cluster.put_config_map(cluster.namespace, "gitpod-installation", {"cell": "dev", "version": "2024.11.0"})
    assert maintenance("enter") == 0
    assert cluster.ws_manager_maintenance() is not None


def test_without_a_namespace_in_the_stack_the_record_is_read_in_gitpod(maintenance: Callable[..., int],
                                                                       cluster: KubeCluster):
    """`gitpod` is fixed here, not the test's own namespace: the record is removed again afterwards."""
    cluster.ensure_namespace("gitpod")
    cluster.put_config_map("gitpod", "gitpod-installation", {"cell": "prod"})
    try:
        assert maintenance("enter", stack="test") == cli.EXIT_CONFIG_ERROR
        assert maintenance("enter", "--namespace", cluster.namespace, stack="test") == 0
    finally:
        cluster.delete_config_map("gitpod", "gitpod-installation")
