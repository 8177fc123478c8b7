"""Reading `stacks/Pulumi.<stack>.yaml` without the Pulumi CLI.

Values encrypted with `pulumi config set --secret` (`{secure: ...}`) cannot be decrypted offline; they are
returned as `SECRET_PLACEHOLDER` and their keys listed in `secret_keys`, so the plan still marks them secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ops.errors import EXIT_BAD_INPUT, OpsError

REPO_ROOT = Path(__file__).resolve().parents[2]
STACKS_DIR = REPO_ROOT / "stacks"
SECRET_PLACEHOLDER = "[secret: encrypted in the stack file]"


@dataclass(frozen=True)
class StackFile:
    name: str
    path: Path
    config: dict[str, Any]
    secret_keys: frozenset[str] = field(default_factory=frozenset)


def stack_path(name: str, stacks_dir: Path = STACKS_DIR) -> Path:
    return stacks_dir / f"Pulumi.{name}.yaml"


def stack_name_from_path(path: Path) -> str:
    stem = path.name
    if stem.startswith("Pulumi.") and stem.endswith((".yaml", ".yml")):
        return stem[len("Pulumi.") :].rsplit(".", 1)[0]
    return path.stem


def shipped_stacks(stacks_dir: Path = STACKS_DIR) -> list[str]:
    """Every stack that has a file in stacks/, sorted."""
    return sorted(stack_name_from_path(p) for p in stacks_dir.glob("Pulumi.*.yaml"))


def load_stack_file(path: Path, name: str | None = None) -> StackFile:
    if not path.is_file():
        raise OpsError(f"stack file not found: {path}", EXIT_BAD_INPUT)
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise OpsError(f"{path}: not valid YAML: {error}", EXIT_BAD_INPUT) from error
    if not isinstance(document, dict):
        raise OpsError(f"{path}: expected a mapping with a 'config:' key", EXIT_BAD_INPUT)
    raw_config = document.get("config") or {}
    if not isinstance(raw_config, dict):
        raise OpsError(f"{path}: 'config:' must be a mapping of keys to values", EXIT_BAD_INPUT)
    config: dict[str, Any] = {}
    secret_keys: set[str] = set()
    for key, value in raw_config.items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[str(key)] = SECRET_PLACEHOLDER
            secret_keys.add(str(key))
        else:
            config[str(key)] = value
    return StackFile(name or stack_name_from_path(path), path, config, frozenset(secret_keys))


def load_stack(name: str, stacks_dir: Path = STACKS_DIR) -> StackFile:
    path = stack_path(name, stacks_dir)
    if not path.is_file():
        known = ", ".join(shipped_stacks(stacks_dir)) or "none"
        raise OpsError(f"no stack named {name!r}: {path} does not exist (stacks here: {known})", EXIT_BAD_INPUT)
    return load_stack_file(path, name)
