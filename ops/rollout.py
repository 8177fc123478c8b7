"""Staged rollout of a Gitpod version across the fleet, wave by wave.

Each stack in a wave goes through the same steps: set the Gitpod version in its stack config, preview with the
policy pack, `up`, health gate. Stacks inside a wave run with bounded parallelism. The first failure halts the
rollout: stacks already running finish (an interrupted `pulumi up` is worse than a finished one), nothing else
starts, and later waves stay untouched. Pulumi is reached only through `PulumiDriver`, so this logic is tested
with a fake and the Automation API implementation lives in `ops.pulumi_automation`.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Protocol

from ops.cli import EXIT_CONFIG_ERROR, OpsError
from ops.fleet import Fleet, Wave

GITPOD_CONFIG_KEY = "gitpod-cell:gitpod"
GITPOD_VERSION_FIELD = "version"

# Pulumi's `config set --path` stores a value that looks like an integer as a number; a version must stay a string.
_VERSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
_INTEGER_PATTERN = re.compile(r"^[0-9]+$")


@dataclass(frozen=True)
class StepResult:
    ok: bool
    summary: str = ""


@dataclass(frozen=True)
class LastUpdate:
    """The most recent successful `pulumi up` of a stack, or nothing if it never had one."""

    finished_at: datetime | None
    gitpod_version: str | None


class UpdateHistory(Protocol):
    def last_update(self, stack: str) -> LastUpdate: ...


class PulumiDriver(UpdateHistory, Protocol):
    def set_gitpod_version(self, stack: str, version: str) -> None: ...

    def preview(self, stack: str, policy_pack: Path) -> StepResult: ...

    def up(self, stack: str, policy_pack: Path) -> StepResult: ...

    def health(self, stack: str) -> StepResult: ...


class StackStatus(Enum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    NOT_STARTED = "not started"


@dataclass(frozen=True)
class StackOutcome:
    wave: str
    stack: str
    status: StackStatus
    failed_step: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class RolloutPlan:
    version: str
    waves: tuple[Wave, ...]


@dataclass(frozen=True)
class RolloutReport:
    version: str
    outcomes: tuple[StackOutcome, ...]

    def _with_status(self, status: StackStatus) -> list[StackOutcome]:
        return [outcome for outcome in self.outcomes if outcome.status is status]

    @property
    def succeeded(self) -> list[StackOutcome]:
        return self._with_status(StackStatus.SUCCEEDED)

    @property
    def failed(self) -> list[StackOutcome]:
        return self._with_status(StackStatus.FAILED)

    @property
    def not_started(self) -> list[StackOutcome]:
        return self._with_status(StackStatus.NOT_STARTED)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_started


def validate_gitpod_version(version: str) -> str:
    version = version.strip()
    if not _VERSION_PATTERN.match(version):
        raise OpsError(
            f"--version {version!r}: expected a Gitpod release such as 2024.09.0 (letters, digits, '.', '-', '_', '+')",
            EXIT_CONFIG_ERROR,
        )
    if _INTEGER_PATTERN.match(version):
        raise OpsError(
            f"--version {version!r}: a bare number would be stored as a number in the stack config, not a version",
            EXIT_CONFIG_ERROR,
        )
    return version


def plan_rollout(fleet: Fleet, version: str, parallelism: int | None = None) -> RolloutPlan:
    """The waves a rollout will run; `parallelism` (from `--parallelism`) overrides the fleet file's."""
    if parallelism is not None and parallelism < 1:
        raise OpsError(f"--parallelism must be at least 1 (got {parallelism})", EXIT_CONFIG_ERROR)
    waves = tuple(
        dataclasses.replace(wave, parallelism=parallelism) if parallelism is not None else wave for wave in fleet.waves
    )
    return RolloutPlan(version=validate_gitpod_version(version), waves=waves)


def describe_plan(plan: RolloutPlan, current_versions: Mapping[str, str | None] | None = None) -> str:
    current_versions = current_versions or {}
    lines = [
        f"Rollout of Gitpod {plan.version}: {len(plan.waves)} wave(s), in this order, halting on the first failure"
    ]
    for number, wave in enumerate(plan.waves, start=1):
        lines.append(f"  wave {number}: {wave.name} ({wave.stage}), up to {wave.parallelism} stack(s) at a time")
        for stack in wave.stacks:
            current = current_versions.get(stack) or "unset"
            lines.append(f"    - {stack}: {current} -> {plan.version}")
    lines.append("Each stack: set version, preview with the policy pack, up, health gate.")
    return "\n".join(lines)


def run_rollout(
    plan: RolloutPlan,
    driver: PulumiDriver,
    policy_pack: Path,
    log: Callable[[str], None] = print,
) -> RolloutReport:
    outcomes: list[StackOutcome] = []
    halted = threading.Event()
    for wave in plan.waves:
        if halted.is_set():
            outcomes.extend(StackOutcome(wave.name, stack, StackStatus.NOT_STARTED) for stack in wave.stacks)
            continue
        log(f"wave {wave.name}: {', '.join(wave.stacks)} (parallelism {wave.parallelism})")
        outcomes.extend(_run_wave(wave, plan.version, driver, policy_pack, halted, log))
    return RolloutReport(version=plan.version, outcomes=tuple(outcomes))


def _run_wave(
    wave: Wave,
    version: str,
    driver: PulumiDriver,
    policy_pack: Path,
    halted: threading.Event,
    log: Callable[[str], None],
) -> list[StackOutcome]:
    def roll_out_stack(stack: str) -> StackOutcome:
        if halted.is_set():
            return StackOutcome(wave.name, stack, StackStatus.NOT_STARTED)
        try:
            outcome = _roll_out_stack(wave.name, stack, version, driver, policy_pack, log)
        except BaseException:
            halted.set()
            raise
        if outcome.status is StackStatus.FAILED:
            halted.set()
        return outcome

    workers = min(wave.parallelism, len(wave.stacks))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"wave-{wave.name}") as executor:
        try:
            return list(executor.map(roll_out_stack, wave.stacks))
        except BaseException:
            halted.set()  # interrupted (Ctrl-C): updates already running finish, queued stacks do not start
            raise


def _roll_out_stack(
    wave: str,
    stack: str,
    version: str,
    driver: PulumiDriver,
    policy_pack: Path,
    log: Callable[[str], None],
) -> StackOutcome:
    def set_version() -> StepResult:
        driver.set_gitpod_version(stack, version)
        return StepResult(ok=True, summary=f"{GITPOD_CONFIG_KEY}.{GITPOD_VERSION_FIELD} = {version}")

    steps: Sequence[tuple[str, Callable[[], StepResult]]] = (
        ("set version", set_version),
        ("preview", lambda: driver.preview(stack, policy_pack)),
        ("up", lambda: driver.up(stack, policy_pack)),
        ("health", lambda: driver.health(stack)),
    )
    for step_name, step in steps:
        log(f"[{stack}] {step_name} ...")
        try:
            result = step()
        except Exception as error:  # a driver bug or an unexpected CLI failure must still halt the rollout cleanly
            result = StepResult(ok=False, summary=f"{type(error).__name__}: {error}")
        if not result.ok:
            log(f"[{stack}] {step_name} FAILED: {result.summary}")
            return StackOutcome(wave, stack, StackStatus.FAILED, failed_step=step_name, detail=result.summary)
        log(f"[{stack}] {step_name} ok{': ' + result.summary if result.summary else ''}")
    return StackOutcome(wave, stack, StackStatus.SUCCEEDED)


def format_report(report: RolloutReport) -> str:
    lines = [f"Rollout of Gitpod {report.version}: {'complete' if report.ok else 'HALTED'}"]
    sections = (
        ("ran", report.succeeded),
        ("failed", report.failed),
        ("did not start", report.not_started),
    )
    for title, outcomes in sections:
        lines.append(f"  {title} ({len(outcomes)}):")
        if not outcomes:
            lines.append("    (none)")
        for outcome in outcomes:
            line = f"    - {outcome.stack} (wave {outcome.wave})"
            if outcome.failed_step:
                line += f": {outcome.failed_step} failed: {_first_line(outcome.detail)}"
            lines.append(line)
    return "\n".join(lines)


def _first_line(text: str) -> str:
    stripped = text.strip()
    return stripped.splitlines()[0] if stripped else "(no detail)"
