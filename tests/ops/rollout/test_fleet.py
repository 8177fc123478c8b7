"""Validation of stacks/fleet.yaml: every error names the file and the key, and exits 2 (a config error)."""

from __future__ import annotations

import copy

import pytest

from ops import cli
from ops.rollout.fleet import FleetFileError, load_fleet

STAGING = {"name": "staging", "stage": "staging", "stacks": ["staging"]}
PROD = {"name": "prod", "stage": "production", "stacks": ["prod"]}


def test_a_valid_fleet_keeps_wave_order_and_parallelism(write_fleet, stacks_dir, three_waves):
    three_waves["waves"][2]["parallelism"] = 1

    fleet = load_fleet(write_fleet(three_waves), stacks_dir)

    assert [wave.name for wave in fleet.waves] == ["staging", "prod-eu", "prod-us"]
    assert [wave.stage for wave in fleet.waves] == ["staging", "production", "production"]
    assert [wave.parallelism for wave in fleet.waves] == [2, 2, 1]
    assert fleet.stacks == ["staging", "staging-2", "prod-eu", "prod-us", "prod-us-2"]


def test_parallelism_defaults_to_one(write_fleet, stacks_dir):
    fleet = load_fleet(write_fleet({"waves": [STAGING, PROD]}), stacks_dir)

    assert [wave.parallelism for wave in fleet.waves] == [1, 1]


INVALID_FLEETS = {
    "not a mapping": (["staging"], "", "expected a mapping"),
    "misspelled top-level key": ({"parallelsim": 2, "waves": [STAGING]}, "parallelsim", "unknown key"),
    "no waves": ({"parallelism": 2}, "waves", "non-empty list"),
    "empty waves": ({"waves": []}, "waves", "non-empty list"),
    "wave not a mapping": ({"waves": ["staging"]}, "waves[0]", "must be a mapping"),
    "misspelled wave key": ({"waves": [{**STAGING, "stack": ["x"]}]}, "waves[0].stack", "unknown key"),
    "wave without name": ({"waves": [{"stage": "staging", "stacks": ["staging"]}]}, "waves[0].name", "lowercase"),
    "wave name with spaces": ({"waves": [{**STAGING, "name": "Prod EU"}]}, "waves[0].name", "lowercase"),
    "duplicate wave name": ({"waves": [STAGING, {**PROD, "name": "staging"}]}, "waves[1].name", "duplicate"),
    "unknown stage": ({"waves": [{**STAGING, "stage": "canary"}]}, "waves[0].stage", "staging, production"),
    "no stacks": ({"waves": [{**STAGING, "stacks": []}]}, "waves[0].stacks", "non-empty list"),
    "stack not a name": ({"waves": [{**STAGING, "stacks": [7]}]}, "waves[0].stacks[0]", "stack name"),
    "stack twice in a wave": (
        {"waves": [{**STAGING, "stacks": ["staging", "staging"]}]},
        "waves[0].stacks[1]",
        "listed twice",
    ),
    "stack in two waves": (
        {"waves": [STAGING, {**PROD, "stacks": ["prod", "staging"]}]},
        "waves[1].stacks[1]",
        "already in wave 'staging'",
    ),
    "stack without a stack file": (
        {"waves": [STAGING, {**PROD, "stacks": ["prod-asia"]}]},
        "waves[1].stacks[0]",
        "Pulumi.prod-asia.yaml",
    ),
    "parallelism zero": ({"parallelism": 0, "waves": [STAGING]}, "parallelism", "at least 1"),
    "parallelism not a number": ({"parallelism": "two", "waves": [STAGING]}, "parallelism", "at least 1"),
    "parallelism true": ({"parallelism": True, "waves": [STAGING]}, "parallelism", "at least 1"),
    "wave parallelism zero": ({"waves": [{**STAGING, "parallelism": 0}]}, "waves[0].parallelism", "at least 1"),
    "production first": ({"waves": [PROD, STAGING]}, "waves[0].stage", "first wave must be a staging wave"),
    "staging after production": (
        {"waves": [STAGING, PROD, {"name": "staging-late", "stage": "staging", "stacks": ["staging-2"]}]},
        "waves[2].stage",
        "comes after production wave 'prod'",
    ),
}


@pytest.mark.parametrize(("document", "key", "problem"), INVALID_FLEETS.values(), ids=INVALID_FLEETS.keys())
def test_invalid_fleet_files_name_the_key(write_fleet, stacks_dir, document, key, problem):
    path = write_fleet(copy.deepcopy(document))

    with pytest.raises(FleetFileError) as raised:
        load_fleet(path, stacks_dir)

    message = str(raised.value)
    assert message.startswith(f"{path}: {key}" if key else f"{path}: ")
    assert problem in message
    assert raised.value.key == key
    assert raised.value.exit_code == cli.EXIT_CONFIG_ERROR


def test_a_missing_stack_file_lists_the_stacks_that_exist(write_fleet, stacks_dir):
    path = write_fleet({"waves": [{**STAGING, "stacks": ["stagin"]}]})

    with pytest.raises(
        FleetFileError, match=r"stacks here: dev, prod, prod-eu, prod-us, prod-us-2, staging, staging-2"
    ):
        load_fleet(path, stacks_dir)


def test_broken_yaml_and_missing_files_are_config_errors(write_fleet, stacks_dir):
    with pytest.raises(cli.OpsError, match="not valid YAML"):
        load_fleet(write_fleet("waves: [unclosed\n"), stacks_dir)
    with pytest.raises(cli.OpsError, match=r"absent\.yaml: no such file") as raised:
        load_fleet(stacks_dir / "absent.yaml", stacks_dir)
    assert raised.value.exit_code == cli.EXIT_CONFIG_ERROR


def test_the_cli_prints_the_error_without_a_traceback(write_fleet, stacks_dir, capsys):
    path = write_fleet({"waves": [PROD, STAGING]})

    exit_code = cli.main(["fleet", "show", "--fleet", str(path)])

    assert exit_code == cli.EXIT_CONFIG_ERROR
    assert (
        capsys.readouterr().err == f"error: {path}: waves[0].stage: the first wave must be a staging wave: "
        "changes reach staging cells first\n"
    )
