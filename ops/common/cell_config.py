"""The one way a command reads a cell's stack: the stack file, read strictly (ops.common.files), validated as
`plan` validates it (components.config.CellConfig), before any client is built. A config that `ops plan` refuses
is refused by every command, with the same key named."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ops.common import stackfile
from ops.common.stackfile import StackFile
from ops.errors import EXIT_BAD_INPUT, OpsError

if TYPE_CHECKING:
    from components.config import CellConfig


def config_error_line(path: Path, issues: list[tuple[str, str]]) -> str:
    """Every invalid key on one line, then what to do."""
    listed = "; ".join(f"{key}: {message}" for key, message in issues)
    return (f"{path}: invalid stack configuration: {listed} (fix {'this key' if len(issues) == 1 else 'these keys'} "
            "in the stack file; README: Configuration)")


def validate(stack: StackFile) -> CellConfig:
    from components.config import CellConfig, CellConfigError

    try:
        return CellConfig.from_stack_config(stack.name, stack.config)
    except CellConfigError as error:
        raise OpsError(config_error_line(stack.path, error.issues), EXIT_BAD_INPUT) from None


def load_cell(name: str, stack_file: Path | None = None, *, flag: str = "--stack",
              stacks_dir: Path | None = None) -> tuple[StackFile, CellConfig]:
    """`--stack NAME` (stacks/Pulumi.NAME.yaml) or `--stack-file PATH` named NAME: read and validated."""
    if stack_file is not None:
        problem = stackfile.stack_name_problem(name, flag)
        if problem:
            raise OpsError(problem, EXIT_BAD_INPUT)
        stack = stackfile.load_stack_file(Path(stack_file), name)
    else:
        stack = stackfile.load_stack(name, stacks_dir or stackfile.STACKS_DIR, flag)
    return stack, validate(stack)
