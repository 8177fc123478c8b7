"""Staged rollout of a Gitpod version across the fleet, wave by wave.

Each stack in a wave goes through the same steps: set the Gitpod version and the installer image (the Job runs
`gitpod.installerImage`, so the version alone would change a label, not what is installed) in its stack config,
preview with the policy pack, `up`, health gate. When a stack fails, its stack-file change is reverted, so only
the stacks that succeeded carry the new version in Git. Stacks inside a wave run with bounded parallelism. The
first failure halts the rollout: stacks already running finish (an interrupted `pulumi up` is worse than a
finished one), nothing else starts, and later waves stay untouched. Pulumi is reached only through
`PulumiDriver`, so this logic is tested with a fake and the Automation API implementation lives in
`ops.rollout.pulumi_automation`.
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

from ops.errors import EXIT_BAD_INPUT, OpsError
from ops.rollout.fleet import Fleet, Wave

GITPOD_CONFIG_KEY = "gitpod-cell:gitpod"
GITPOD_VERSION_FIELD = "version"
INSTALLER_IMAGE_FIELD = "installerImage"
_TAGGED_IMAGE = re.compile(r"^(?P<repository>[^@\s]+?):(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127})$")

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
    def set_gitpod_version(self, stack: str, version: str, installer_image: str) -> None:
        """Set `gitpod.version` and `gitpod.installerImage` in the stack's config (its stack file)."""
        ...

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
    reverted: bool = False  # the stack file's change was undone after the failure


@dataclass(frozen=True)
class RolloutPlan:
    version: str
    waves: tuple[Wave, ...]
    installer_images: Mapping[str, str] = dataclasses.field(default_factory=dict)  # per stack


# Takes a copy of a stack's file before its config is changed and returns what puts that copy back.
StackFileSnapshot = Callable[[str], Callable[[], None]]


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
            EXIT_BAD_INPUT,
        )
    if _INTEGER_PATTERN.match(version):
        raise OpsError(
            f"--version {version!r}: a bare number would be stored as a number in the stack config, not a version",
            EXIT_BAD_INPUT,
        )
    return version


def installer_image_for(current: str | None, version: str) -> str:
    """The installer image for `version`: the stack's current image repository with the new tag. A digest-pinned or
    absent image says nothing about which image is `version`, so that is refused (pass --installer-image)."""
    match = _TAGGED_IMAGE.match(current or "")
    if match is None or "@" in (current or ""):
        what = f"pinned by digest ({current})" if current and "@" in current else f"not a tagged image ({current!r})"
        raise OpsError(f"cannot derive the installer image for {version}: the stack's gitpod.installerImage is {what}; "
                       "pass --installer-image", EXIT_BAD_INPUT)
    return f"{match.group('repository')}:{version}"


def plan_rollout(
    fleet: Fleet,
    version: str,
    parallelism: int | None = None,
    *,
    current_images: Mapping[str, str | None] | None = None,
    installer_image: str | None = None,
) -> RolloutPlan:
    """The waves a rollout will run; `parallelism` (from `--parallelism`) overrides the fleet file's. Each stack's
    installer image is `installer_image` (`--installer-image`) or its current image (`current_images`, from the
    stack files) re-tagged with `version`; refused before anything changes when that cannot be derived."""
    if parallelism is not None and parallelism < 1:
        raise OpsError(f"--parallelism must be at least 1 (got {parallelism})", EXIT_BAD_INPUT)
    version = validate_gitpod_version(version)
    waves = tuple(
        dataclasses.replace(wave, parallelism=parallelism) if parallelism is not None else wave for wave in fleet.waves
    )
    images: dict[str, str] = {}
    problems: list[str] = []
    for stack in fleet.stacks:
        if installer_image is not None:
            images[stack] = installer_image
            continue
        try:
            images[stack] = installer_image_for((current_images or {}).get(stack), version)
        except OpsError as error:
            problems.append(f"{stack}: {error}")
    if problems:
        raise OpsError("\n".join(problems), EXIT_BAD_INPUT)
    return RolloutPlan(version=version, waves=waves, installer_images=images)


def describe_plan(plan: RolloutPlan, current_versions: Mapping[str, str | None] | None = None) -> str:
    current_versions = current_versions or {}
    lines = [
        f"Rollout of Gitpod {plan.version}: {len(plan.waves)} wave(s), in this order, halting on the first failure"
    ]
    for number, wave in enumerate(plan.waves, start=1):
        lines.append(f"  wave {number}: {wave.name} ({wave.stage}), up to {wave.parallelism} stack(s) at a time")
        for stack in wave.stacks:
            current = current_versions.get(stack) or "unset"
            image = plan.installer_images.get(stack)
            lines.append(f"    - {stack}: {current} -> {plan.version}" + (f" (installer {image})" if image else ""))
    lines.append("Each stack: set version and installer image, preview with the policy pack, up, health gate "
                 "(cluster, installation record, maintenance off, public URL). A failed stack's file is reverted.")
    return "\n".join(lines)


def run_rollout(
    plan: RolloutPlan,
    driver: PulumiDriver,
    policy_pack: Path,
    log: Callable[[str], None] = print,
    snapshot: StackFileSnapshot | None = None,
) -> RolloutReport:
    outcomes: list[StackOutcome] = []
    halted = threading.Event()
    for wave in plan.waves:
        if halted.is_set():
            outcomes.extend(StackOutcome(wave.name, stack, StackStatus.NOT_STARTED) for stack in wave.stacks)
            continue
        log(f"wave {wave.name}: {', '.join(wave.stacks)} (parallelism {wave.parallelism})")
        outcomes.extend(_run_wave(wave, plan, driver, policy_pack, halted, log, snapshot))
    return RolloutReport(version=plan.version, outcomes=tuple(outcomes))


def _run_wave(
    wave: Wave,
    plan: RolloutPlan,
    driver: PulumiDriver,
    policy_pack: Path,
    halted: threading.Event,
    log: Callable[[str], None],
    snapshot: StackFileSnapshot | None,
) -> list[StackOutcome]:
    def roll_out_stack(stack: str) -> StackOutcome:
        if halted.is_set():
            return StackOutcome(wave.name, stack, StackStatus.NOT_STARTED)
        try:
            outcome = _roll_out_stack(wave.name, stack, plan, driver, policy_pack, log, snapshot)
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
    plan: RolloutPlan,
    driver: PulumiDriver,
    policy_pack: Path,
    log: Callable[[str], None],
    snapshot: StackFileSnapshot | None,
) -> StackOutcome:
    version = plan.version
    restore: Callable[[], None] | None = None

    def set_version() -> StepResult:
        nonlocal restore
        image = plan.installer_images.get(stack)
        if image is None:
            return StepResult(ok=False, summary=f"no installer image planned for {stack!r}")
        restore = snapshot(stack) if snapshot is not None else None
        driver.set_gitpod_version(stack, version, image)
        return StepResult(ok=True, summary=f"{GITPOD_CONFIG_KEY}.{GITPOD_VERSION_FIELD} = {version}, "
                                           f"{GITPOD_CONFIG_KEY}.{INSTALLER_IMAGE_FIELD} = {image}")

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
            reverted = _revert(stack, restore, log)
            return StackOutcome(wave, stack, StackStatus.FAILED, failed_step=step_name, detail=result.summary,
                                reverted=reverted)
        log(f"[{stack}] {step_name} ok{': ' + result.summary if result.summary else ''}")
    return StackOutcome(wave, stack, StackStatus.SUCCEEDED)


def _revert(stack: str, restore: Callable[[], None] | None, log: Callable[[str], None]) -> bool:
    if restore is None:
        return False
    try:
        restore()
    except Exception as error:
        log(f"[{stack}] reverting the stack file FAILED: {type(error).__name__}: {error}")
        return False
    log(f"[{stack}] stack file reverted: it keeps the version it had before this rollout")
    return True


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
                if outcome.reverted:
                    line += " (stack file reverted)"
            lines.append(line)
    return "\n".join(lines)


def _first_line(text: str) -> str:
    stripped = text.strip()
    return stripped.splitlines()[0] if stripped else "(no detail)"
