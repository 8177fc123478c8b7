"""`python -m ops fleet show|health` and the shipped fleet file, through the real entry point where it matters."""

from __future__ import annotations

import json

import pytest

from ops import cli
from ops.common.stackfile import STACKS_DIR, shipped_stacks
from ops.rollout import cli as rollout_cli
from ops.rollout.fleet import DEFAULT_FLEET_PATH, load_fleet


def test_rollout_commands_are_registered_with_the_ops_cli():
    assert "ops.rollout.cli" in cli.COMMAND_MODULES
    help_text = cli.build_parser().format_help()
    assert "rollout" in help_text
    assert "fleet" in help_text


def test_fleet_show_json_is_what_the_workflows_read(run_command, write_fleet, three_waves, stacks_dir, capsys):
    write_fleet(three_waves)

    assert run_command(["fleet", "show", "--json", "--fleet", str(stacks_dir / "fleet.yaml")]) == 0

    document = json.loads(capsys.readouterr().out)
    assert document["waves"][0] == {
        "name": "staging",
        "stage": "staging",
        "stacks": ["staging", "staging-2"],
        "parallelism": 2,
    }
    assert [wave["name"] for wave in document["waves"]] == ["staging", "prod-eu", "prod-us"]
    assert document["fleetStacks"] == ["staging", "staging-2", "prod-eu", "prod-us", "prod-us-2"]
    assert document["allStacks"] == ["dev", "prod", "prod-eu", "prod-us", "prod-us-2", "staging", "staging-2"]


def test_fleet_show_names_the_stacks_outside_the_fleet(run_command, write_fleet, three_waves, stacks_dir, capsys):
    write_fleet(three_waves)

    run_command(["fleet", "show", "--fleet", str(stacks_dir / "fleet.yaml")])

    out = capsys.readouterr().out
    assert "wave 1: staging (staging, parallelism 2): staging, staging-2" in out
    assert "not rolled out (no wave): dev, prod" in out


def test_fleet_health_checks_a_wave_and_fails_on_any_unhealthy_cell(
    run_command, write_fleet, three_waves, stacks_dir, fake_driver_factory, capsys
):
    write_fleet(three_waves)
    driver = fake_driver_factory(failures={("prod-us-2", "health"): "https://prod-us-2.example answered 502"})

    exit_code = run_command(
        ["fleet", "health", "--wave", "prod-us", "--fleet", str(stacks_dir / "fleet.yaml")], driver=driver
    )

    assert exit_code == 1
    assert driver.calls == [("health", "prod-us"), ("health", "prod-us-2")]
    out = capsys.readouterr().out
    assert "prod-us: healthy" in out
    assert "prod-us-2: UNHEALTHY: https://prod-us-2.example answered 502" in out


def test_fleet_health_of_one_stack_passes_when_healthy(
    run_command, write_fleet, three_waves, stacks_dir, fake_driver_factory
):
    write_fleet(three_waves)
    driver = fake_driver_factory()

    assert (
        run_command(["fleet", "health", "--stack", "staging", "--fleet", str(stacks_dir / "fleet.yaml")], driver=driver)
        == 0
    )
    assert driver.calls == [("health", "staging")]


def test_shipped_fleet_is_valid_staging_first_and_leaves_dev_out():
    fleet = load_fleet(DEFAULT_FLEET_PATH, STACKS_DIR)

    assert fleet.waves[0].name == "staging"
    assert fleet.waves[0].stacks == ("staging",)
    assert [wave.stage for wave in fleet.waves] == ["staging", "production"]
    assert fleet.wave("prod").stacks == ("prod",)
    assert "dev" not in fleet.stacks
    assert "dev" in shipped_stacks()


def test_dry_run_of_the_shipped_fleet_through_python_m_ops(capsys):
    before = {path: path.read_bytes() for path in STACKS_DIR.iterdir()}

    exit_code = cli.main(["rollout", "--version", "release-2022.11.3", "--dry-run"])

    assert exit_code == 0
    assert {path: path.read_bytes() for path in STACKS_DIR.iterdir()} == before
    out = capsys.readouterr().out
    assert out.index("wave 1: staging") < out.index("wave 2: prod")
    assert "-> release-2022.11.3" in out


def test_a_missing_pulumi_cli_is_an_operator_error(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(cli.OpsError, match="Pulumi CLI is not on PATH"):
        rollout_cli.make_automation_driver()
