"""Update age per cell (`ops fleet status`), with an injected clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from ops.errors import OpsError
from ops.rollout.fleet_status import collect_update_ages, format_update_ages
from ops.rollout.staged import LastUpdate

FOURTEEN_DAYS = timedelta(days=14)


@pytest.fixture
def now(fixed_clock):
    return fixed_clock()


@pytest.fixture
def updates(now):
    return {
        "staging": LastUpdate(finished_at=now - timedelta(days=2, hours=6), gitpod_version="2024.09.0"),
        "staging-2": LastUpdate(finished_at=now - FOURTEEN_DAYS, gitpod_version="2024.09.0"),
        "prod-eu": LastUpdate(finished_at=now - timedelta(days=14, minutes=1), gitpod_version="2024.08.0"),
        # The Automation API parses history timestamps as naive datetimes in UTC.
        "prod-us": LastUpdate(finished_at=(now - timedelta(days=30)).replace(tzinfo=None), gitpod_version="2024.06.1"),
        "prod-us-2": LastUpdate(finished_at=None, gitpod_version=None),
    }


def test_ages_are_measured_from_the_last_successful_update(fake_driver_factory, updates, fixed_clock, now):
    driver = fake_driver_factory(updates=updates)

    ages = {cell.stack: cell for cell in collect_update_ages(list(updates), driver, FOURTEEN_DAYS, fixed_clock)}

    assert ages["staging"].age == timedelta(days=2, hours=6)
    assert ages["staging"].gitpod_version == "2024.09.0"
    assert not ages["staging"].overdue
    assert not ages["staging-2"].overdue, "exactly at the limit is still in time"
    assert ages["prod-eu"].overdue
    assert ages["prod-us"].age == timedelta(days=30)
    assert ages["prod-us"].last_update_at == now - timedelta(days=30)
    assert ages["prod-us"].overdue
    assert ages["prod-us-2"].overdue, "a cell never updated is overdue"
    assert ages["prod-us-2"].age is None


def test_the_limit_is_configurable(fake_driver_factory, updates, fixed_clock):
    driver = fake_driver_factory(updates=updates)

    ages = collect_update_ages(["staging", "prod-us"], driver, timedelta(days=60), fixed_clock)

    assert [cell.overdue for cell in ages] == [False, False]


def test_the_table_flags_overdue_cells(fake_driver_factory, updates, fixed_clock):
    ages = collect_update_ages(list(updates), fake_driver_factory(updates=updates), FOURTEEN_DAYS, fixed_clock)

    table = format_update_ages(ages, FOURTEEN_DAYS).splitlines()

    row = {line.split()[0]: line for line in table[1:-1]}
    assert "2.2 days" in row["staging"]
    assert row["staging"].endswith("ok")
    assert row["prod-us"].endswith("OVERDUE")
    assert "never" in row["prod-us-2"]
    assert table[-1] == "3 cell(s) past the 14 days update limit: prod-eu, prod-us, prod-us-2"


def test_status_command_exits_non_zero_when_a_cell_is_overdue(
    run_command, write_fleet, three_waves, stacks_dir, fake_driver_factory, updates, capsys
):
    write_fleet(three_waves)
    driver = fake_driver_factory(updates=updates)

    exit_code = run_command(["fleet", "status", "--json", "--fleet", str(stacks_dir / "fleet.yaml")], driver=driver)

    assert exit_code == 1
    document = json.loads(capsys.readouterr().out)
    assert document["maxAgeDays"] == 14
    cells = {cell["stack"]: cell for cell in document["cells"]}
    assert list(cells) == ["staging", "staging-2", "prod-eu", "prod-us", "prod-us-2"]
    assert cells["staging"] == {
        "stack": "staging",
        "gitpodVersion": "2024.09.0",
        "lastUpdateAt": "2026-11-18T06:00:00+00:00",
        "ageDays": 2.25,
        "overdue": False,
    }
    assert cells["prod-us-2"]["lastUpdateAt"] is None
    assert "dev" not in cells, "cells outside the fleet are not checked"


def test_status_command_passes_when_every_cell_is_recent(
    run_command, write_fleet, stacks_dir, fake_driver_factory, fixed_clock, capsys
):
    write_fleet({"waves": [{"name": "staging", "stage": "staging", "stacks": ["staging"]}]})
    recent = {"staging": LastUpdate(finished_at=fixed_clock() - timedelta(days=1), gitpod_version="2024.09.0")}

    exit_code = run_command(
        ["fleet", "status", "--max-age-days", "3", "--fleet", str(stacks_dir / "fleet.yaml")],
        driver=fake_driver_factory(updates=recent),
    )

    assert exit_code == 0
    assert "every cell was updated within 3 days" in capsys.readouterr().out


def test_a_max_age_below_one_day_is_refused(run_command, write_fleet, three_waves, stacks_dir):
    write_fleet(three_waves)
    with pytest.raises(OpsError, match="--max-age-days must be at least 1"):
        run_command(["fleet", "status", "--max-age-days", "0", "--fleet", str(stacks_dir / "fleet.yaml")])


def test_timezone_of_the_clock_does_not_matter(fake_driver_factory):
    finished = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
    driver = fake_driver_factory(updates={"staging": LastUpdate(finished_at=finished, gitpod_version=None)})
    clock_in_berlin = datetime.fromisoformat("2026-11-15T01:00:00+01:00")

    [cell] = collect_update_ages(["staging"], driver, FOURTEEN_DAYS, lambda: clock_in_berlin)

    assert cell.age == timedelta(days=14)
    assert not cell.overdue
