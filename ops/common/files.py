"""Reading the files an operator hands a command (stack files, the fleet file, policy-pack config, CA bundles,
kubeconfigs): every problem is one OpsError (exit 2) that names the flag or file and what to do, before any cloud
is touched.

Size is checked before a byte is read: a stack file is a few KiB, and YAML parsing is slow and memory-hungry
(a 32 MB file took 110 s and 2.3 GB before it was refused). YAML is read strictly: a key given twice at any depth
is an error (PyYAML keeps the last one silently, so a duplicated `aws:region` would deploy elsewhere), and anchors
and aliases are refused (an alias bomb expands exponentially once serialised; stack files never need them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ops.errors import EXIT_BAD_INPUT, OpsError

MAX_INPUT_BYTES = 1024 * 1024  # 1 MiB: shipped stack files are ~3 KiB, the fleet file < 1 KiB


def require_file(path: Path, what: str, *, hint: str = "") -> Path:
    """`path` exists and is a regular file, else one OpsError naming `what` (a flag or a file's role)."""
    next_step = f"; {hint}" if hint else ""
    if not path.exists():
        raise OpsError(f"{what} {path}: no such file{next_step}", EXIT_BAD_INPUT)
    if path.is_dir():
        raise OpsError(f"{what} {path}: is a directory, not a file{next_step}", EXIT_BAD_INPUT)
    if not path.is_file():
        raise OpsError(f"{what} {path}: not a regular file{next_step}", EXIT_BAD_INPUT)
    return path


def read_text(path: Path, what: str, *, max_bytes: int = MAX_INPUT_BYTES, hint: str = "") -> str:
    """The file's text as UTF-8; refused when missing, a directory, larger than `max_bytes` or not UTF-8."""
    require_file(path, what, hint=hint)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise OpsError(f"{what} {path}: {size} bytes; at most {max_bytes} bytes ({max_bytes // 1024} KiB) are "
                           "read: is this the right file?", EXIT_BAD_INPUT)
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as error:
        raise OpsError(f"{what} {path}: cannot be read: {error.strerror or error}", EXIT_BAD_INPUT) from None
    if len(data) > max_bytes:  # grew while being read, or a special file whose size stat does not tell
        raise OpsError(f"{what} {path}: more than {max_bytes} bytes; is this the right file?", EXIT_BAD_INPUT)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise OpsError(f"{what} {path}: not UTF-8 text (byte 0x{data[error.start]:02x} on line {line}); save it as "
                       "UTF-8", EXIT_BAD_INPUT) from None


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys and aliases."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(None, None, "anchors and aliases (*name) are not accepted here; write "
                                              "the value out", self.peek_event().start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.flatten_mapping(node)
        seen: dict[Any, int] = {}
        for key_node, _value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None, None, "a mapping key must be a scalar", key_node.start_mark) from None
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice (first on line {seen[key]}); keep one",
                    key_node.start_mark)
            seen[key] = key_node.start_mark.line + 1
        return dict(super().construct_mapping(node, deep=deep))


def _refuse_tag(loader: _StrictLoader, node: yaml.Node) -> Any:
    raise yaml.constructor.ConstructorError(None, None, f"the tag {node.tag} is not accepted in a config file",
                                            node.start_mark)


# What the Pulumi CLI reads as text stays text (a date-like value is a string to it); what JSON cannot hold is refused.
_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)
for _tag in ("binary", "set", "omap", "pairs"):
    _StrictLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse_tag)


def parse_yaml(text: str, what: str) -> Any:
    """One YAML document, strictly (see the module doc); errors name `what` and the line."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.YAMLError as error:
        raise OpsError(f"{what}: not valid YAML: {_one_line(error)}", EXIT_BAD_INPUT) from None
    except RecursionError:
        raise OpsError(f"{what}: nested too deeply to be a config file", EXIT_BAD_INPUT) from None


def load_yaml_file(path: Path, what: str, *, hint: str = "") -> Any:
    return parse_yaml(read_text(path, what, hint=hint), f"{what} {path}")


def _one_line(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return where + (f"{context}: " if context else "") + " ".join(str(problem).split())
