"""Reading `stacks/Pulumi.<stack>.yaml` without the Pulumi CLI.

Values encrypted with `pulumi config set --secret` (`{secure: ...}`) cannot be decrypted offline; they are
returned as `SECRET_PLACEHOLDER` and their keys listed in `secret_keys`, so the plan still marks them secret.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ops.common.files import load_yaml_file
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
    """Every stack that has a file in stacks/, sorted (a directory named like one is not a stack)."""
    return sorted(stack_name_from_path(p) for p in stacks_dir.glob("Pulumi.*.yaml") if p.is_file())


# Top-level keys of a Pulumi stack file (Pulumi's workspace.ProjectStack); anything else is a typo such as `confg:`.
STACK_FILE_KEYS = ("config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment")
# What `pulumi stack init` accepts as a stack name (the part after any org/project), and so what names a file here.
_STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


def load_stack_file(path: Path, name: str | None = None) -> StackFile:
    what = "stack file"
    document = load_yaml_file(path, what, hint="pass --stack NAME for stacks/Pulumi.NAME.yaml")
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise OpsError(f"{what} {path}: expected a mapping with a 'config:' key", EXIT_BAD_INPUT)
    unknown = [str(key) for key in document if key not in STACK_FILE_KEYS]
    if unknown:
        hint = difflib.get_close_matches(unknown[0], STACK_FILE_KEYS, n=1)
        maybe = f"did you mean {hint[0]!r}? " if hint else ""
        raise OpsError(f"{what} {path}: unknown top-level key {unknown[0]!r}; {maybe}a stack file holds "
                       f"{', '.join(STACK_FILE_KEYS)}", EXIT_BAD_INPUT)
    raw_config = document.get("config") or {}
    if not isinstance(raw_config, dict):
        raise OpsError(f"{what} {path}: 'config:' must be a mapping of keys to values", EXIT_BAD_INPUT)
    config: dict[str, Any] = {}
    secret_keys: set[str] = set()
    for key, value in raw_config.items():
        if not isinstance(key, str):
            raise OpsError(f"{what} {path}: config key {key!r} is not text; keys look like gitpod-cell:domain",
                           EXIT_BAD_INPUT)
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[key] = SECRET_PLACEHOLDER
            secret_keys.add(key)
        else:
            config[key] = value
    return StackFile(name or stack_name_from_path(path), path, config, frozenset(secret_keys))


def stack_name_problem(name: str | None, flag: str = "--stack") -> str | None:
    """Why `name` cannot name a stack file in stacks/ (None if it can): checked before a path is built from it."""
    if not name or not name.strip():
        return f"{flag}: empty; pass a stack name such as dev (stacks/Pulumi.dev.yaml)"
    if not _STACK_NAME.match(name) or name in (".", ".."):
        return (f"{flag} {name!r}: not a stack name (letters, digits, '-', '_', '.'); pass the NAME of "
                "stacks/Pulumi.NAME.yaml, or --stack-file PATH where the command has it")
    return None


def load_stack(name: str, stacks_dir: Path | None = None, flag: str = "--stack") -> StackFile:
    """stacks/Pulumi.NAME.yaml (`stacks_dir`: default STACKS_DIR as it is at the call)."""
    stacks_dir = stacks_dir if stacks_dir is not None else STACKS_DIR
    problem = stack_name_problem(name, flag)
    if problem:
        raise OpsError(problem, EXIT_BAD_INPUT)
    path = stack_path(name, stacks_dir)
    if not path.exists():
        known = ", ".join(shipped_stacks(stacks_dir)) or "none"
        raise OpsError(f"{flag} {name}: no stack named {name!r}: {path} does not exist (stacks here: {known})",
                       EXIT_BAD_INPUT)
    return load_stack_file(path, name)
