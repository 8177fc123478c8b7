"""The fleet file (`stacks/fleet.yaml`): which cells a rollout updates, in which waves, how many at once.

Waves run in file order. Every `staging` wave comes before the first `production` wave, so a change reaches the
internal cells before any customer cell. A stack appears in at most one wave; stacks not listed (e.g. `dev`) are
never touched by a rollout.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from ops.common.stackfile import STACKS_DIR, shipped_stacks, stack_name_problem, stack_path
from ops.errors import EXIT_BAD_INPUT, OpsError

DEFAULT_FLEET_PATH = STACKS_DIR / "fleet.yaml"
DEFAULT_PARALLELISM = 1

Stage = Literal["staging", "production"]
STAGES: tuple[Stage, ...] = ("staging", "production")

WAVE_NAME_PATTERN = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
TOP_LEVEL_KEYS = frozenset({"parallelism", "waves"})
WAVE_KEYS = frozenset({"name", "stage", "stacks", "parallelism"})


class FleetFileError(OpsError):
    """The fleet file is invalid; the message names the file and the offending key."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        location = f"{source}: {key}" if key else source
        super().__init__(f"{location}: {problem}", EXIT_BAD_INPUT)
        self.key = key


@dataclass(frozen=True)
class Wave:
    name: str
    stage: Stage
    stacks: tuple[str, ...]
    parallelism: int


@dataclass(frozen=True)
class Fleet:
    source: str
    waves: tuple[Wave, ...]

    @property
    def stacks(self) -> list[str]:
        """Every stack in the fleet, in rollout order."""
        return [stack for wave in self.waves for stack in wave.stacks]

    def wave(self, name: str) -> Wave:
        for wave in self.waves:
            if wave.name == name:
                return wave
        known = ", ".join(wave.name for wave in self.waves)
        raise OpsError(f"{self.source}: no wave named {name!r} (waves: {known})", EXIT_BAD_INPUT)


def load_fleet(path: Path = DEFAULT_FLEET_PATH, stacks_dir: Path = STACKS_DIR) -> Fleet:
    """Read and validate a fleet file; every stack it names must have a `Pulumi.<stack>.yaml` in `stacks_dir`."""
    from ops.common.files import load_yaml_file

    source = str(path)
    document = load_yaml_file(path, "--fleet", hint="the fleet file is stacks/fleet.yaml")
    known_stacks = shipped_stacks(stacks_dir)

    def stack_has_file(stack: str) -> bool:
        return stack_path(stack, stacks_dir).is_file()

    def describe_missing(stack: str) -> str:
        known = ", ".join(known_stacks) or "none"
        return f"no stack file {stack_path(stack, stacks_dir)} (stacks here: {known})"

    return parse_fleet(document, source=source, stack_has_file=stack_has_file, describe_missing=describe_missing)


def parse_fleet(
    document: Any,
    *,
    source: str,
    stack_has_file: Callable[[str], bool],
    describe_missing: Callable[[str], str] | None = None,
) -> Fleet:
    """Validate an already-parsed fleet document. Errors name the key, e.g. `waves[1].stacks[0]`."""
    if not isinstance(document, dict):
        raise FleetFileError(source, "", "expected a mapping with a 'waves:' list")
    unknown = sorted(str(key) for key in document if key not in TOP_LEVEL_KEYS)
    if unknown:
        raise FleetFileError(source, unknown[0], f"unknown key (accepted: {', '.join(sorted(TOP_LEVEL_KEYS))})")
    default_parallelism = _positive_int(document.get("parallelism", DEFAULT_PARALLELISM), source, "parallelism")

    raw_waves = document.get("waves")
    if not isinstance(raw_waves, list) or not raw_waves:
        raise FleetFileError(source, "waves", "must be a non-empty list of waves")

    waves: list[Wave] = []
    wave_of_stack: dict[str, str] = {}
    for index, raw_wave in enumerate(raw_waves):
        key = f"waves[{index}]"
        wave = _parse_wave(raw_wave, source, key, default_parallelism)
        if any(existing.name == wave.name for existing in waves):
            raise FleetFileError(source, f"{key}.name", f"duplicate wave name {wave.name!r}")
        for stack_index, stack in enumerate(wave.stacks):
            stack_key = f"{key}.stacks[{stack_index}]"
            if stack in wave_of_stack:
                raise FleetFileError(source, stack_key, f"stack {stack!r} is already in wave {wave_of_stack[stack]!r}")
            if not stack_has_file(stack):
                detail = describe_missing(stack) if describe_missing else f"no stack file for {stack!r}"
                raise FleetFileError(source, stack_key, detail)
            wave_of_stack[stack] = wave.name
        waves.append(wave)

    _check_staging_first(waves, source)
    return Fleet(source=source, waves=tuple(waves))


def _parse_wave(raw_wave: Any, source: str, key: str, default_parallelism: int) -> Wave:
    if not isinstance(raw_wave, dict):
        raise FleetFileError(source, key, "each wave must be a mapping with 'name', 'stage' and 'stacks'")
    unknown = sorted(str(wave_key) for wave_key in raw_wave if wave_key not in WAVE_KEYS)
    if unknown:
        raise FleetFileError(source, f"{key}.{unknown[0]}", f"unknown key (accepted: {', '.join(sorted(WAVE_KEYS))})")

    name = raw_wave.get("name")
    if not isinstance(name, str) or not WAVE_NAME_PATTERN.match(name):
        raise FleetFileError(source, f"{key}.name", f"must be lowercase letters, digits and '-' (got {name!r})")
    stage = raw_wave.get("stage")
    if stage not in STAGES:
        raise FleetFileError(source, f"{key}.stage", f"must be one of {', '.join(STAGES)} (got {stage!r})")

    raw_stacks = raw_wave.get("stacks")
    if not isinstance(raw_stacks, list) or not raw_stacks:
        raise FleetFileError(source, f"{key}.stacks", "must be a non-empty list of stack names")
    stacks: list[str] = []
    for stack_index, stack in enumerate(raw_stacks):
        if not isinstance(stack, str) or not stack.strip() or stack_name_problem(stack) is not None:
            raise FleetFileError(source, f"{key}.stacks[{stack_index}]", f"must be a stack name (got {stack!r})")
        if stack in stacks:
            raise FleetFileError(source, f"{key}.stacks[{stack_index}]", f"stack {stack!r} is listed twice")
        stacks.append(stack)

    parallelism = _positive_int(raw_wave.get("parallelism", default_parallelism), source, f"{key}.parallelism")
    return Wave(name=name, stage=cast(Stage, stage), stacks=tuple(stacks), parallelism=parallelism)


def _check_staging_first(waves: Sequence[Wave], source: str) -> None:
    if waves[0].stage != "staging":
        raise FleetFileError(
            source, "waves[0].stage", "the first wave must be a staging wave: changes reach staging cells first"
        )
    first_production = next((index for index, wave in enumerate(waves) if wave.stage == "production"), None)
    if first_production is None:
        return
    for index in range(first_production + 1, len(waves)):
        if waves[index].stage == "staging":
            raise FleetFileError(
                source,
                f"waves[{index}].stage",
                f"staging wave {waves[index].name!r} comes after production wave "
                f"{waves[first_production].name!r}: list every staging wave first",
            )


def _positive_int(value: Any, source: str, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise FleetFileError(source, key, f"must be a whole number of at least 1 (got {value!r})")
    return value
