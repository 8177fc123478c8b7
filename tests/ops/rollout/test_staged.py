"""The wave logic of `ops rollout`, against a fake driver: order, bounded parallelism, halting, dry run."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from ops.errors import OpsError
from ops.rollout.fleet import load_fleet
from ops.rollout.staged import StackStatus, format_report, plan_rollout, run_rollout
from tests.ops.support.stacks import stack_text

POLICY_PACK = Path("/policies")
STEPS = ["set version", "preview", "up", "health"]


def quiet(_line: str) -> None:
    pass


def plan(fleet, version: str, parallelism: int | None = None, **options):
    """A plan whose stacks all run `installer:2024.08.0` now (as the stacks_dir fixture's files do)."""
    options.setdefault("current_images", dict.fromkeys(fleet.stacks, "registry.example/installer:2024.08.0"))
    return plan_rollout(fleet, version, parallelism, **options)


@pytest.fixture
def fleet(write_fleet, stacks_dir, three_waves):
    return load_fleet(write_fleet(three_waves), stacks_dir)


def test_every_stack_goes_through_every_step_in_order(fleet, fake_driver_factory):
    driver = fake_driver_factory()
    report = run_rollout(plan(fleet, "2024.09.0", parallelism=1), driver, POLICY_PACK, log=quiet)

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

    run_rollout(plan(fleet, "2024.09.0"), driver, POLICY_PACK, log=quiet)

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
    driver = fake_driver_factory(rendezvous=parallelism)

    report = run_rollout(plan(fleet, "2024.09.0"), driver, POLICY_PACK, log=quiet)

    assert report.ok
    # Actually used: the first `parallelism` stacks met inside the driver at one moment (a rendezvous, not
    # overlapping sleeps); and bounded: never more in flight than that.
    assert driver.rendezvous_reached
    assert driver.max_concurrent_calls == parallelism


def test_parallelism_option_overrides_the_fleet_file(fleet, fake_driver_factory):
    driver = fake_driver_factory(step_seconds=0.02)

    run_rollout(plan(fleet, "2024.09.0", parallelism=1), driver, POLICY_PACK, log=quiet)

    assert driver.max_concurrent_calls == 1


def test_a_failed_wave_halts_the_rollout_and_later_waves_are_untouched(fleet, fake_driver_factory):
    driver = fake_driver_factory(failures={("staging-2", "health"): "https://staging-2.example answered 503"})

    report = run_rollout(plan(fleet, "2024.09.0", parallelism=1), driver, POLICY_PACK, log=quiet)

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

    report = run_rollout(plan(fleet, "2024.09.0"), driver, POLICY_PACK, log=quiet)

    assert [o.stack for o in report.succeeded] == ["staging", "prod-eu"]
    assert [(o.stack, o.failed_step) for o in report.failed] == [("prod", "set version")]
    assert [o.stack for o in report.not_started] == ["prod-us", "prod-us-2"]
    assert "prod-us" not in driver.stacks_called()
    assert "prod-us-2" not in driver.stacks_called()


@pytest.mark.parametrize("failing_step", STEPS)
def test_no_step_runs_after_the_failing_one(fleet, fake_driver_factory, failing_step):
    driver = fake_driver_factory(failures={("staging", failing_step): "no"})

    run_rollout(plan(fleet, "2024.09.0", parallelism=1), driver, POLICY_PACK, log=quiet)

    staging_steps = [step for step, stack in driver.calls if stack == "staging"]
    assert staging_steps == STEPS[: STEPS.index(failing_step) + 1]


def test_a_driver_exception_is_a_failure_not_a_crash(fleet, fake_driver_factory):
    driver = fake_driver_factory(exceptions={("staging", "preview"): ConnectionError("backend unreachable")})

    report = run_rollout(plan(fleet, "2024.09.0", parallelism=1), driver, POLICY_PACK, log=quiet)

    assert [(o.stack, o.failed_step) for o in report.failed] == [("staging", "preview")]
    assert "ConnectionError: backend unreachable" in report.failed[0].detail
    assert len(report.not_started) == 4


def test_an_interrupt_starts_nothing_new(fleet, fake_driver_factory):
    driver = fake_driver_factory(exceptions={("staging", "up"): KeyboardInterrupt()})

    with pytest.raises(KeyboardInterrupt):
        run_rollout(plan(fleet, "2024.09.0", parallelism=1), driver, POLICY_PACK, log=quiet)

    assert set(driver.stacks_called()) == {"staging"}


def test_the_report_says_what_ran_what_failed_and_what_did_not_start(fleet, fake_driver_factory):
    driver = fake_driver_factory(failures={("prod-eu", "up"): "error: update failed\nmore detail"})

    report = run_rollout(plan(fleet, "2024.09.0", parallelism=1), driver, POLICY_PACK, log=quiet)
    text = format_report(report)

    assert "HALTED" in text
    ran, failed, not_started = text.split("failed (")[0], text.split("failed (")[1], text.split("did not start")[1]
    assert "staging (wave staging)" in ran
    assert "staging-2 (wave staging)" in ran
    assert "prod-eu (wave prod-eu): up failed: error: update failed" in failed
    assert "prod-us (wave prod-us)" in not_started
    assert "prod-us-2 (wave prod-us)" in not_started


OLD_BUILD, NEW_BUILD = "release-2022.11.2.16", "release-2022.11.3"
INSTALLER = "eu.gcr.io/gitpod-core-dev/build/installer"


def write_valid_stacks(stacks_dir: Path, version: str = OLD_BUILD) -> None:
    """The command validates every stack it rolls out as `ops plan` would: complete stack files at `version`."""
    for path in stacks_dir.glob("Pulumi.*.yaml"):
        base = "prod" if path.name.startswith("Pulumi.prod") else "staging"
        gitpod = {"version": version, "installerImage": f"{INSTALLER}:{version}"}
        path.write_text(stack_text(base, {"gitpod-cell:gitpod": gitpod}))


def test_dry_run_prints_the_waves_and_touches_nothing(run_command, write_fleet, three_waves, stacks_dir, capsys):
    write_fleet(three_waves)
    write_valid_stacks(stacks_dir)
    before = {path.name: path.read_bytes() for path in stacks_dir.iterdir()}

    # run_command fails the test if the command asks for a Pulumi driver.
    exit_code = run_command(
        ["rollout", "--version", NEW_BUILD, "--dry-run", "--fleet", str(stacks_dir / "fleet.yaml")]
    )

    assert exit_code == 0
    assert {path.name: path.read_bytes() for path in stacks_dir.iterdir()} == before
    out = capsys.readouterr().out
    assert out.index("wave 1: staging") < out.index("wave 2: prod-eu") < out.index("wave 3: prod-us")
    assert f"- staging: {OLD_BUILD} -> {NEW_BUILD}" in out
    assert "up to 2 stack(s) at a time" in out
    assert "nothing was changed" in out


def test_rollout_command_runs_the_waves_and_exits_non_zero_on_failure(
    run_command, write_fleet, three_waves, stacks_dir, tmp_path, fake_driver_factory, capsys
):
    write_fleet(three_waves)
    write_valid_stacks(stacks_dir)
    policy_pack = tmp_path / "policies"
    policy_pack.mkdir()
    (policy_pack / "PulumiPolicy.yaml").write_text("runtime: python\n")
    driver = fake_driver_factory(
        failures={("prod-eu", "preview"): "[mandatory] rds-multi-az: prod database is single-AZ"},
        write_to=stacks_dir,
    )
    prod_eu_before = (stacks_dir / "Pulumi.prod-eu.yaml").read_text()

    exit_code = run_command(
        [
            "rollout",
            "--version",
            NEW_BUILD,
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
    (commit,) = [line for line in out.splitlines() if line.startswith("commit these")]
    assert "Pulumi.staging.yaml" in commit
    assert "Pulumi.staging-2.yaml" in commit
    assert "prod" not in commit
    (do_not,) = [line for line in out.splitlines() if line.startswith("do not commit these")]
    assert "Pulumi.prod-eu.yaml" in do_not
    assert "reverted" in do_not
    assert (stacks_dir / "Pulumi.prod-eu.yaml").read_text() == prod_eu_before
    staging = yaml.safe_load((stacks_dir / "Pulumi.staging.yaml").read_text())["config"]["gitpod-cell:gitpod"]
    assert (staging["version"], staging["installerImage"]) == (NEW_BUILD, f"{INSTALLER}:{NEW_BUILD}")


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
        plan(fleet, "2024.09.0", parallelism=0)


# -- the installer image moves with the version ------------------------------------------------------------------


def test_the_installer_image_is_retagged_with_the_version(fleet, fake_driver_factory):
    driver = fake_driver_factory()
    run_rollout(plan(fleet, "2024.09.0"), driver, POLICY_PACK, log=quiet)
    assert driver.images_set == dict.fromkeys(fleet.stacks, "registry.example/installer:2024.09.0")


def test_a_digest_pinned_installer_needs_installer_image(fleet, fake_driver_factory):
    images = dict.fromkeys(fleet.stacks, "registry.example:5000/installer:2024.08.0")
    images["prod-eu"] = "registry.example/installer@sha256:" + "a" * 64
    with pytest.raises(OpsError, match=r"prod-eu: .*pinned by digest.*pass --installer-image") as error:
        plan(fleet, "2024.09.0", current_images=images)
    assert error.value.exit_code == 2

    explicit = plan(fleet, "2024.09.0", current_images=images, installer_image="mirror.example/installer:2024.09.0")
    driver = fake_driver_factory()
    run_rollout(explicit, driver, POLICY_PACK, log=quiet)
    assert set(driver.images_set.values()) == {"mirror.example/installer:2024.09.0"}
    assert plan(fleet, "2024.09.0", current_images={**images, "prod-eu": "x:1"}).installer_images["staging"] == (
        "registry.example:5000/installer:2024.09.0")


def test_a_failed_stack_has_its_stack_file_change_reverted(fleet, fake_driver_factory):
    driver = fake_driver_factory(failures={("staging-2", "up"): "error: boom"})
    reverted: list[str] = []

    def snapshot(stack: str):
        return lambda: reverted.append(stack)

    report = run_rollout(plan(fleet, "2024.09.0", parallelism=1), driver, POLICY_PACK, log=quiet, snapshot=snapshot)

    assert reverted == ["staging-2"]
    assert [o.stack for o in report.succeeded] == ["staging"]
    (failed,) = report.failed
    assert failed.reverted
    assert "(stack file reverted)" in format_report(report)


# -- the health step judges the cluster, not the hooks ----------------------------------------------------------


def test_a_rollout_halts_when_the_cluster_health_fails_although_up_succeeded(fleet, fake_driver_factory,
                                                                             cluster, kube):
    """`pulumi up` succeeded for both staging cells (Pulumi only warns about a failed after-hook), but staging-2's
    cluster still holds maintenance: the health step checks the cluster (ops.cluster.cell_health) and halts the
    rollout. The two cells' clusters are two namespaces of the local API server, each holding its cell's record,
    workloads and lease."""
    import json

    from ops.backup.config_backup import ConfigBackup
    from ops.cluster.cell_health import check_cell_health
    from ops.rollout.staged import StepResult

    now = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
    namespaces = {}
    for stack, until in (("staging", "2025-03-14T09:20:00Z"), ("staging-2", "2025-03-14T10:20:00Z")):
        namespace = namespaces[stack] = cluster.create_namespace(stack)
        cluster.put_deployment(namespace, "server", replicas=1)
        backup = ConfigBackup("b", "k", "v", "2024.09.0", "abc", stack, now)
        cluster.put_config_map(namespace, "gitpod-installation", {
            "cell": stack, "version": "2024.09.0", "configHash": "abc", "lastConfigBackup": backup.to_json(),
            "lastRolloutStartedAt": "2025-03-14T09:00:00Z", "lastRolloutFinishedAt": "2025-03-14T09:20:00Z"})
        cluster.put_config_map(namespace, "ws-manager-mk2-maintenance-mode",
                               {"config.json": json.dumps({"enabledUntil": until})},
                               labels={"gitpod.io/maintenanceConfig": "true"})

    def cluster_health(stack: str) -> StepResult:
        health = check_cell_health(kube, stack, namespaces[stack], now, maintenance_namespace=namespaces[stack],
                                   timeout_seconds=1, poll_seconds=1)
        return StepResult(ok=health.healthy, summary=health.summary())

    driver = fake_driver_factory(health=cluster_health)
    report = run_rollout(plan(fleet, "2024.09.0", parallelism=1), driver, POLICY_PACK, log=quiet)

    assert [o.stack for o in report.succeeded] == ["staging"]
    (failed,) = report.failed
    assert (failed.stack, failed.failed_step) == ("staging-2", "health")
    assert "maintenance: still on until 2025-03-14T10:20:00Z" in failed.detail
    assert [o.stack for o in report.not_started] == ["prod-eu", "prod-us", "prod-us-2"]
    assert not any(stack.startswith("prod") for stack in driver.stacks_called())
