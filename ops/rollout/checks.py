"""What a rollout checks before it changes anything: the build is a supported one, it is not older than what a
stack runs now (unless --allow-downgrade), and every stack's config is valid with it, as `ops plan` and the stack's
own `pulumi preview` would find.

Why a downgrade is refused rather than only reported: Gitpod's database migrations only go forward, and a build
older than the schema it finds can fail in ways a health gate sees too late (after maintenance is over). The
recovery from a bad upgrade is a restore (`ops restore plan`), and a deliberate downgrade stays possible with
--allow-downgrade, which the plan then states.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ops.errors import EXIT_BAD_INPUT, OpsError


def check_rollout(plan: Any, stacks_dir: Path, *, allow_downgrade: bool) -> list[str]:
    """OpsError (exit 2) naming the flag or the stack's key; the notes to print otherwise."""
    from contract.gitpod_builds import SUPPORTED_BUILDS
    from ops.common.cell_config import config_error_line, load_cell

    build = SUPPORTED_BUILDS.get(plan.version)
    if build is None:
        raise OpsError(f"--version {plan.version}: not a supported Gitpod build; supported: "
                       f"{', '.join(SUPPORTED_BUILDS)} (README: Supported Gitpod builds)", EXIT_BAD_INPUT)
    notes: list[str] = []
    downgrades: list[str] = []
    for wave in plan.waves:
        for stack in wave.stacks:
            loaded, config = load_cell(stack, stacks_dir=stacks_dir)
            current = SUPPORTED_BUILDS.get(config.gitpod.version)
            if current is not None and current.released > build.released:
                downgrades.append(f"{stack} runs {current.version} (released {current.released})")
            _validate_with(loaded, plan.version, plan.installer_images[stack], config_error_line)
    if downgrades:
        what = (f"--version {plan.version} (released {build.released}) is a downgrade: {'; '.join(downgrades)}")
        if not allow_downgrade:
            raise OpsError(f"{what}. Gitpod's database migrations only go forward; restore a backup instead, or "
                           "pass --allow-downgrade if this is really meant", EXIT_BAD_INPUT)
        notes.append(f"{what}; allowed by --allow-downgrade")
    return notes


def _validate_with(stack: Any, version: str, image: str, error_line: Any) -> None:
    """The stack's config with the new version and image, validated; OpsError naming the stack's key."""
    from components.config import CellConfig, CellConfigError

    gitpod = stack.config.get("gitpod-cell:gitpod")
    gitpod = dict(gitpod) if isinstance(gitpod, dict) else {}
    changed = {**stack.config, "gitpod-cell:gitpod": {**gitpod, "version": version, "installerImage": image}}
    try:
        CellConfig.from_stack_config(stack.name, changed)
    except CellConfigError as error:
        raise OpsError(f"rollout of {version} to {stack.name}: " + error_line(stack.path, error.issues),
                       EXIT_BAD_INPUT) from None
