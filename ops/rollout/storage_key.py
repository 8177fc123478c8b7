"""`python -m ops storage-key rotate --stack NAME`: a new static storage key, rolled out by the next `pulumi up`.

Builds that read object storage only with a static key (contract.gitpod_builds `s3-static-key`) hold exactly one,
limited to the cell's bucket (components/aws/storage_key.py, components/gcp/storage_key.py). Its resource name
carries `gitpod-cell:gitpod.staticStorageKey.rotation`, so a new label is a new key: the next `pulumi up` creates
it, writes it into the `gitpod-object-storage` Secret, re-runs the installer Job (its rollout hash covers the key's
version) so the storage users restart with it under the maintenance lease, and deletes the old key at the end of
that same update. This command writes the new label into the stack file, changing that one line and nothing else
(comments and layout stay), after checking that the result is a valid configuration.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import yaml

from ops.errors import EXIT_BAD_INPUT, OpsError

GITPOD_KEY = "gitpod-cell:gitpod"
BLOCK = "staticStorageKey"
FIELD = "rotation"


def rotation_label(now: datetime) -> str:
    """A label that names when the key was rotated (UTC), e.g. 20261203t141205."""
    return now.strftime("%Y%m%dt%H%M%S")


def with_rotation(text: str, label: str, where: str) -> tuple[str, str | None]:
    """`text` with `gitpod-cell:gitpod.staticStorageKey.rotation` set to `label`, and the label it replaced."""
    lines = text.splitlines(keepends=True)
    gitpod = _block(lines, 0, len(lines), GITPOD_KEY, where)
    storage = _block(lines, gitpod[0] + 1, gitpod[1], BLOCK, where, parent=GITPOD_KEY)
    indent = _indent(lines[storage[0]]) + 2
    for index in range(storage[0] + 1, storage[1]):
        match = re.match(rf"^(\s*){FIELD}:\s*(?P<value>[^#\n]*?)\s*(?P<comment>#.*)?$", lines[index].rstrip("\n"))
        if match and len(match.group(1)) == indent:
            old = match["value"].strip("'\"") or None
            comment = f"  {match['comment']}" if match["comment"] else ""
            lines[index] = f"{' ' * indent}{FIELD}: {label}{comment}\n"
            return "".join(lines), old
    lines.insert(storage[1], f"{' ' * indent}{FIELD}: {label}\n")
    return "".join(lines), None


def rotate(path: Path, now: datetime) -> tuple[str | None, str]:
    """Write a new rotation label into the stack file at `path`; (old label, new label)."""
    from components.config import CellConfig, CellConfigError
    from ops.common.stackfile import load_stack_file

    stack = load_stack_file(path)
    try:
        config = CellConfig.from_stack_config(stack.name, stack.config)
    except CellConfigError as error:
        raise OpsError(f"{path}: {error}", EXIT_BAD_INPUT) from error
    build = config.gitpod.build
    if build.storage_access != "s3-static-key":
        raise OpsError(f"stack {stack.name!r} pins {build.version}, whose storage users reach object storage with "
                       "their own identities: there is no static key to rotate", EXIT_BAD_INPUT)
    label = rotation_label(now)
    text, old = with_rotation(path.read_text(), label, str(path))
    if old == label:
        raise OpsError(f"{path}: the key was already rotated this second ({label}); try again", EXIT_BAD_INPUT)
    rotated = yaml.safe_load(text)["config"]
    try:
        CellConfig.from_stack_config(stack.name, rotated)
    except CellConfigError as error:  # the edit must leave a valid stack; never write one that is not
        raise OpsError(f"{path}: the rotated file would be invalid: {error}", EXIT_BAD_INPUT) from error
    path.write_text(text)
    return old, label


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _block(lines: list[str], start: int, end: int, key: str, where: str,
           parent: str | None = None) -> tuple[int, int]:
    """(index of the `key:` line, index after its last child line) within lines[start:end]."""
    pattern = re.compile(rf"^\s*{re.escape(key)}:\s*(#.*)?$")
    for index in range(start, end):
        if pattern.match(lines[index].rstrip("\n")):
            own = _indent(lines[index])
            last = index + 1
            while last < end and (not lines[last].strip() or lines[last].lstrip().startswith("#")
                                  or _indent(lines[last]) > own):
                last += 1
            while last > index + 1 and not lines[last - 1].strip():
                last -= 1
            return index, last
    inside = f" under {parent}" if parent else ""
    hint = (f"; a build that needs a static key asks for consent: add `{BLOCK}:` with `accept: true`"
            if key == BLOCK else "")
    raise OpsError(f"{where}: no `{key}:` block{inside}{hint}", EXIT_BAD_INPUT)
