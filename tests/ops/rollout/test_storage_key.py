"""`python -m ops storage-key rotate`: one line of the stack file changes, and the next plan replaces the key, its
Secret and the installer Job that restarts the storage users with it."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ops.common.stackfile import STACKS_DIR, load_stack_file
from ops.plan.runner import PlanDocument
from ops.rollout import cli as rollout_cli
from ops.rollout.storage_key import with_rotation
from tests.conftest import recorded_run
from tests.ops.support.cli import run_command

NOW = datetime(2026, 12, 3, 14, 12, 5, tzinfo=UTC)


def stack_copy(tmp_path: Path, name: str = "dev") -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / f"Pulumi.{name}.yaml"
    shutil.copy(STACKS_DIR / f"Pulumi.{name}.yaml", path)
    return path


def rotate(path: Path, stack: str = "dev", now: datetime = NOW) -> int:
    return run_command(rollout_cli, ["storage-key", "rotate", "--stack", stack, "--stack-file", str(path)],
                       clock=lambda: now)


def test_rotation_changes_one_line_and_keeps_everything_else(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = stack_copy(tmp_path)
    before = path.read_text()
    assert rotate(path) == 0
    after = path.read_text()
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    assert added == ["      rotation: 20261203t141205"]
    assert len(after.splitlines()) == len(before.splitlines()) + 1
    assert "(none) -> 20261203t141205" in capsys.readouterr().out
    assert rotate(path, now=NOW.replace(hour=15)) == 0
    again = path.read_text()
    assert "      rotation: 20261203t151205" in again.splitlines()
    assert len(again.splitlines()) == len(after.splitlines())
    assert "# release-2022.11.3 reads object storage only with a static key" in again


def test_an_existing_label_is_replaced_in_place_with_its_comment() -> None:
    text = ("config:\n  gitpod-cell:gitpod:\n    version: release-2022.11.3\n    staticStorageKey:\n"
            "      accept: true\n      rotation: old-one   # rotated by hand\n    namespace: gitpod\n")
    rotated, old = with_rotation(text, "20261203t141205", "x.yaml")
    assert old == "old-one"
    assert "      rotation: 20261203t141205  # rotated by hand\n    namespace: gitpod\n" in rotated


def test_the_next_plan_replaces_the_key_and_reruns_the_installer(tmp_path: Path) -> None:
    original = stack_copy(tmp_path / "before")
    rotated = stack_copy(tmp_path / "after")
    assert rotate(rotated) == 0

    def planned(path: Path) -> PlanDocument:  # `original` is the shipped dev stack: its run is shared
        resources, outputs, _warnings = recorded_run(load_stack_file(path))
        return PlanDocument({"resources": resources, "outputs": outputs})

    before, after = planned(original), planned(rotated)
    assert before.one("aws:iam/accessKey:AccessKey")["name"] == "gitpod-dev-object-storage-initial"
    assert after.one("aws:iam/accessKey:AccessKey")["name"] == "gitpod-dev-object-storage-20261203t141205"

    def job(plan: PlanDocument) -> dict:
        return next(j for j in plan.by_type("kubernetes:batch/v1:Job")
                    if j["inputs"]["metadata"]["labels"]["app.kubernetes.io/name"] == "gitpod-installer")

    assert job(before)["inputs"]["metadata"]["name"] != job(after)["inputs"]["metadata"]["name"]
    assert before.document["outputs"]["gitpodConfigHash"] == after.document["outputs"]["gitpodConfigHash"]


def test_a_keyless_build_has_nothing_to_rotate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = stack_copy(tmp_path)
    text = path.read_text().replace("version: release-2022.11.3 ", "version: main-gha.13463 ").replace(
        "installer:release-2022.11.3", "installer:main-gha.13463").replace(
        "    staticStorageKey:\n      accept: true\n", "")
    path.write_text(text)
    assert rotate(path) == 2
    assert "there is no static key to rotate" in capsys.readouterr().out


def test_a_stack_without_consent_is_refused_before_anything_is_written(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = stack_copy(tmp_path)
    path.write_text(path.read_text().replace("    staticStorageKey:\n      accept: true\n", ""))
    before = path.read_text()
    assert rotate(path) == 2
    assert "gitpod-cell:gitpod.staticStorageKey.accept" in capsys.readouterr().out
    assert path.read_text() == before
