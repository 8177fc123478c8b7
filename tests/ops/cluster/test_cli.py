"""`python -m ops maintenance ...` against the Kubernetes double."""

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
from tests.ops.support.kube_double import KubeDouble
from tests.ops.support.stacks import stack_config, stack_text
from tests.ops.support.values import write_kubeconfig

STACK_WITH_LEASE = stack_text("dev", {"gitpod-cell:gitpod": {"maintenanceLeaseMinutes": 80}})
# The gitpod section as JSON text, as `pulumi config set --path` may leave it; no lease: the default, 60.
STACK_WITHOUT_LEASE = stack_text("dev", {"gitpod-cell:gitpod": None}).replace(
    "config:\n", "config:\n  gitpod-cell:gitpod: '" + json.dumps({**stack_config("dev")["gitpod-cell:gitpod"],
                                                                 "namespace": "gitpod"}) + "'\n", 1)


def run_cli(argv: list[str]) -> int:
    return run_command(maintenance_cli, argv)


@pytest.fixture
def stacks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "stacks"
    directory.mkdir()
    (directory / "Pulumi.dev.yaml").write_text(STACK_WITH_LEASE)
    (directory / "Pulumi.staging.yaml").write_text(STACK_WITHOUT_LEASE)
    monkeypatch.setattr(stackfile, "STACKS_DIR", directory)
    return directory


@pytest.fixture
def maintenance(stacks: Path, kube_double: KubeDouble, tmp_path: Path) -> Callable[..., int]:
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", kube_double.kubeconfig())

    def run(action: str, *extra: str, stack: str = "dev") -> int:
        return run_cli(["maintenance", action, "--stack", stack, "--kubeconfig", str(kubeconfig), *extra])

    return run


def _lease(double: KubeDouble) -> dict[str, str]:
    data = double.config_map_data("default", MAINTENANCE_CONFIG_MAP)
    assert data is not None
    return json.loads(data[MAINTENANCE_CONFIG_KEY])


def test_enter_uses_the_stacks_lease_then_status_then_exit(maintenance: Callable[..., int], kube_double: KubeDouble,
                                                           capsys: pytest.CaptureFixture[str]):
    assert maintenance("enter") == 0
    assert "(80 min left)" in capsys.readouterr().out
    assert "enabledUntil" in _lease(kube_double)

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


def test_an_unreachable_cluster_is_an_operator_error(stacks: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]):
    gone = KubeDouble().start()
    document = gone.kubeconfig()
    gone.stop()
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", document)
    assert run_cli(["maintenance", "status", "--stack", "dev", "--kubeconfig", str(kubeconfig)]) == 3
    assert "error: Kubernetes API: GET /api/v1/namespaces/gitpod/configmaps/" in capsys.readouterr().out


def test_a_missing_kubeconfig_is_an_operator_error(stacks: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]):
    code = run_cli(["maintenance", "status", "--stack", "dev", "--kubeconfig", str(tmp_path / "nope")])
    assert code == cli.EXIT_CONFIG_ERROR
    assert f"--kubeconfig {tmp_path / 'nope'}: no such file" in capsys.readouterr().out


def test_forbidden_hints_at_rbac(maintenance: Callable[..., int], kube_double: KubeDouble,
                                 capsys: pytest.CaptureFixture[str]):
    kube_double.fail_next(status=403)
    assert maintenance("enter") == 1
    assert "check RBAC" in capsys.readouterr().out


def test_the_command_family_is_registered_with_the_ops_cli():
    assert "ops.cluster.cli" in cli.COMMAND_MODULES


def test_the_lease_goes_to_default_whatever_the_gitpod_namespace(maintenance: Callable[..., int],
                                                                 kube_double: KubeDouble):
    assert maintenance("enter", "--namespace", "gitpod") == 0
    assert kube_double.config_map_names(MAINTENANCE_CONFIG_MAP) == [("default", MAINTENANCE_CONFIG_MAP)]
    assert kube_double.config_map_labels("default", MAINTENANCE_CONFIG_MAP)["gitpod.io/maintenanceConfig"] == "true"
    assert kube_double.ws_manager_maintenance() is not None


def test_maintenance_namespace_overrides_where_the_lease_goes(maintenance: Callable[..., int],
                                                              kube_double: KubeDouble):
    kube_double.namespaces.add("ws-manager")
    assert maintenance("enter", "--maintenance-namespace", "ws-manager") == 0
    assert kube_double.config_map_names(MAINTENANCE_CONFIG_MAP) == [("ws-manager", MAINTENANCE_CONFIG_MAP)]


def test_a_lease_over_240_minutes_needs_force(maintenance: Callable[..., int], kube_double: KubeDouble,
                                              capsys: pytest.CaptureFixture[str]):
    assert maintenance("enter", "--lease-minutes", "241") == cli.EXIT_CONFIG_ERROR
    assert "--force-long-lease" in capsys.readouterr().out
    assert kube_double.config_map_data("default", MAINTENANCE_CONFIG_MAP) is None

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
def test_a_cluster_of_another_cell_is_refused(maintenance: Callable[..., int], kube_double: KubeDouble,
                                              capsys: pytest.CaptureFixture[str], action: str):
    kube_double.put_config_map("gitpod", "gitpod-installation", {"cell": "prod", "version": "2024.11.0"})

    assert maintenance(action) == cli.EXIT_CONFIG_ERROR

    assert "belongs to cell 'prod', not 'dev'" in capsys.readouterr().out
    assert kube_double.config_map_data("default", MAINTENANCE_CONFIG_MAP) is None


def test_the_cluster_of_this_cell_is_accepted(maintenance: Callable[..., int], kube_double: KubeDouble):
    kube_double.put_config_map("gitpod", "gitpod-installation", {"cell": "dev", "version": "2024.11.0"})
    assert maintenance("enter") == 0
    assert kube_double.ws_manager_maintenance() is not None
