"""The wave logic of `ops rollout`, against a fake driver: order, bounded parallelism, halting, dry run."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops.cli import OpsError
from ops.fleet import load_fleet
from ops.rollout import StackStatus, format_report, plan_rollout, run_rollout

POLICY_PACK = Path("/policies")
STEPS = ["set version", "preview", "up", "health"]


def quiet(_line: str) -> None:
    pass


@pytest.fixture
def fleet(write_fleet, stacks_dir, three_waves):
    return load_fleet(write_fleet(three_waves), stacks_dir)


def test_every_stack_goes_through_every_step_in_order(fleet, fake_driver_factory):
    driver = fake_driver_factory()
    plan = plan_rollout(fleet, "2024.09.0", parallelism=1)

    report = run_rollout(plan, driver, POLICY_PACK, log=quiet)

    expected = [
        (step, stack) for stack in ["staging", "staging-2", "prod-eu", "prod-us", "prod-us-2"] for step in STEPS
    ]
    assert driver.calls == expected
    assert report.ok
    assert [outcome.stack for outcome in report.succeeded] == [stack for _, stack in expected[::4]]
    assert driver.versions_set == dict.fromkeys(fleet.stacks, "2024.09.0")
    assert driver.policy_packs == {POLICY_PACK}


def test_waves_run_one_after_the_other_even_when_parallel(fleet, fake_driver_factory):
    driver = fake_driver_factory(step_seconds=0.01)

    run_rollout(plan_rollout(fleet, "2024.09.0"), driver, POLICY_PACK, log=quiet)

    positions = {
        wave.name: [i for i, stack in enumerate(driver.stacks_called()) if stack in wave.stacks] for wave in fleet.waves
    }
    assert max(positions["staging"]) < min(positions["prod-eu"])
    assert max(positions["prod-eu"]) < min(positions["prod-us"])


@pytest.mark.parametrize("parallelism", [1, 2, 3])
def test_parallelism_inside_a_wave_is_bounded(write_fleet, stacks_dir, fake_driver_factory, parallelism):
    wide_wave = {
        "parallelism": parallelism,
        "waves": [
            {"name": "staging", "stage": "staging", "stacks": ["staging", "staging-2", "prod", "prod-eu", "prod-us"]}
        ],
    }
    fleet = load_fleet(write_fleet(wide_wave), stacks_dir)
    driver = fake_driver_factory(step_seconds=0.02)

    report = run_rollout(plan_rollout(fleet, "2024.09.0"), driver, POLICY_PACK, log=quiet)

    assert report.ok
    # Bounded, and actually used: with every call holding 20 ms, the workers overlap up to the bound.
    assert driver.max_concurrent_calls == parallelism


def test_parallelism_option_overrides_the_fleet_file(fleet, fake_driver_factory):
    driver = fake_driver_factory(step_seconds=0.02)

    run_rollout(plan_rollout(fleet, "2024.09.0", parallelism=1), driver, POLICY_PACK, log=quiet)

    assert driver.max_concurrent_calls == 1


def test_a_failed_wave_halts_the_rollout_and_later_waves_are_untouched(fleet, fake_driver_factory):
    driver = fake_driver_factory(failures={("staging-2", "health"): "https://staging-2.example answered 503"})

    report = run_rollout(plan_rollout(fleet, "2024.09.0", parallelism=1), driver, POLICY_PACK, log=quiet)

    assert not report.ok
    assert set(driver.stacks_called()) == {"staging", "staging-2"}
    assert [o.stack for o in report.succeeded] == ["staging"]
    assert [(o.stack, o.failed_step) for o in report.failed] == [("staging-2", "health")]
    assert [o.stack for o in report.not_started] == ["prod-eu", "prod-us", "prod-us-2"]
    assert all(o.status is StackStatus.NOT_STARTED for o in report.not_started)


def test_a_failure_inside_a_wave_stops_stacks_that_have_not_started(write_fleet, stacks_dir, fake_driver_factory):
    document = {
        "waves": [
            {"name": "staging", "stage": "staging", "stacks": ["staging"]},
            {
                "name": "prod",
                "stage": "production",
                "parallelism": 2,
                "stacks": ["prod", "prod-eu", "prod-us", "prod-us-2"],
            },
        ]
    }
    fleet = load_fleet(write_fleet(document), stacks_dir)
    # prod fails at once; prod-eu, started beside it, is slow and must be allowed to finish.
    driver = fake_driver_factory(failures={("prod", "set version"): "stack file is read-only"}, step_seconds=0.03)

    report = run_rollout(plan_rollout(fleet, "2024.09.0"), driver, POLICY_PACK, log=quiet)

    assert [o.stack for o in report.succeeded] == ["staging", "prod-eu"]
    assert [(o.stack, o.failed_step) for o in report.failed] == [("prod", "set version")]
    assert [o.stack for o in report.not_started] == ["prod-us", "prod-us-2"]
    assert "prod-us" not in driver.stacks_called()
    assert "prod-us-2" not in driver.stacks_called()


@pytest.mark.parametrize("failing_step", STEPS)
def test_no_step_runs_after_the_failing_one(fleet, fake_driver_factory, failing_step):
    driver = fake_driver_factory(failures={("staging", failing_step): "no"})

    run_rollout(plan_rollout(fleet, "2024.09.0", parallelism=1), driver, POLICY_PACK, log=quiet)

    staging_steps = [step for step, stack in driver.calls if stack == "staging"]
    assert staging_steps == STEPS[: STEPS.index(failing_step) + 1]


def test_a_driver_exception_is_a_failure_not_a_crash(fleet, fake_driver_factory):
    driver = fake_driver_factory(exceptions={("staging", "preview"): ConnectionError("backend unreachable")})

    report = run_rollout(plan_rollout(fleet, "2024.09.0", parallelism=1), driver, POLICY_PACK, log=quiet)

    assert [(o.stack, o.failed_step) for o in report.failed] == [("staging", "preview")]
    assert "ConnectionError: backend unreachable" in report.failed[0].detail
    assert len(report.not_started) == 4


def test_an_interrupt_starts_nothing_new(fleet, fake_driver_factory):
    driver = fake_driver_factory(exceptions={("staging", "up"): KeyboardInterrupt()})

    with pytest.raises(KeyboardInterrupt):
        run_rollout(plan_rollout(fleet, "2024.09.0", parallelism=1), driver, POLICY_PACK, log=quiet)

    assert set(driver.stacks_called()) == {"staging"}


def test_the_report_says_what_ran_what_failed_and_what_did_not_start(fleet, fake_driver_factory):
    driver = fake_driver_factory(failures={("prod-eu", "up"): "error: update failed\nmore detail"})

    report = run_rollout(plan_rollout(fleet, "2024.09.0", parallelism=1), driver, POLICY_PACK, log=quiet)
    text = format_report(report)

    assert "HALTED" in text
    ran, failed, not_started = text.split("failed (")[0], text.split("failed (")[1], text.split("did not start")[1]
    assert "staging (wave staging)" in ran
    assert "staging-2 (wave staging)" in ran
    assert "prod-eu (wave prod-eu): up failed: error: update failed" in failed
    assert "prod-us (wave prod-us)" in not_started
    assert "prod-us-2 (wave prod-us)" in not_started


def test_dry_run_prints_the_waves_and_touches_nothing(run_command, write_fleet, three_waves, stacks_dir, capsys):
    write_fleet(three_waves)
    before = {path.name: path.read_bytes() for path in stacks_dir.iterdir()}

    # run_command fails the test if the command asks for a Pulumi driver.
    exit_code = run_command(
        ["rollout", "--version", "2024.09.0", "--dry-run", "--fleet", str(stacks_dir / "fleet.yaml")]
    )

    assert exit_code == 0
    assert {path.name: path.read_bytes() for path in stacks_dir.iterdir()} == before
    out = capsys.readouterr().out
    assert out.index("wave 1: staging") < out.index("wave 2: prod-eu") < out.index("wave 3: prod-us")
    assert "- staging: 2024.08.0 -> 2024.09.0" in out
    assert "up to 2 stack(s) at a time" in out
    assert "nothing was changed" in out


def test_rollout_command_runs_the_waves_and_exits_non_zero_on_failure(
    run_command, write_fleet, three_waves, stacks_dir, tmp_path, fake_driver_factory, capsys
):
    write_fleet(three_waves)
    policy_pack = tmp_path / "policies"
    policy_pack.mkdir()
    (policy_pack / "PulumiPolicy.yaml").write_text("runtime: python\n")
    driver = fake_driver_factory(
        failures={("prod-eu", "preview"): "[mandatory] rds-multi-az: prod database is single-AZ"}
    )

    exit_code = run_command(
        [
            "rollout",
            "--version",
            "2024.09.0",
            "--policy-pack",
            str(policy_pack),
            "--fleet",
            str(stacks_dir / "fleet.yaml"),
        ],
        driver=driver,
    )

    assert exit_code == 1
    assert driver.policy_packs == {policy_pack}
    out = capsys.readouterr().out
    assert "prod-eu (wave prod-eu): preview failed: [mandatory] rds-multi-az" in out
    assert "commit them" in out


def test_rollout_refuses_a_missing_policy_pack_before_touching_anything(
    run_command, write_fleet, three_waves, stacks_dir, tmp_path
):
    write_fleet(three_waves)
    with pytest.raises(OpsError, match=r"no PulumiPolicy\.yaml"):
        run_command(
            [
                "rollout",
                "--version",
                "2024.09.0",
                "--policy-pack",
                str(tmp_path / "nowhere"),
                "--fleet",
                str(stacks_dir / "fleet.yaml"),
            ]
        )


@pytest.mark.parametrize("version", ["", "two words", "2024", "../etc", "-rf"])
def test_versions_that_are_not_versions_are_refused(fleet, version):
    with pytest.raises(OpsError, match="--version") as error:
        plan_rollout(fleet, version)
    assert error.value.exit_code == 2


def test_parallelism_below_one_is_refused(fleet):
    with pytest.raises(OpsError, match="--parallelism"):
        plan_rollout(fleet, "2024.09.0", parallelism=0)
