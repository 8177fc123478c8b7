"""Gitpod's installer config loader and validator, emulated over the schema generated from its Go structs.

`problems(config_yaml, build)` answers what the pinned installer would say about a config file:
- the YAML is decoded as `sigs.k8s.io/yaml.UnmarshalStrict` does: duplicate keys and keys no struct field has are
  errors (encoding/json matches keys case-insensitively, so does this), and values must fit the field's type;
- the document is merged over the installer's defaults (`Defaults`/`Factory`, recorded in the schema as paths);
- go-playground/validator then checks the merged value: `required` (non-zero; a non-pointer struct is descended
  into, never itself required), `required_if`, `omitempty`, `dive`, and the installer's custom validations that a
  rendered config can reach. A tag this emulation does not know is reported, never silently passed.

The schema files are tests/data/installer-schema/<build>.json (see the README there).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "data" / "installer-schema"
_FQDN = re.compile(r"^([a-zA-Z0-9]{1}[a-zA-Z0-9-]{0,62})(\.[a-zA-Z0-9]{1}[a-zA-Z0-9-]{0,62})*?"
                   r"(\.[a-zA-Z]{1}[a-zA-Z0-9]{0,62})\.?$")
_MISSING = object()
# Custom validations (validation.go) and the enum type whose constants they accept.
_ENUM_TAGS = {"objectref_kind": "config.ObjectRefKind", "fs_shift_method": "config.FSShiftMethod",
              "installation_kind": "config.InstallationKind", "log_level": "config.LogLevel"}


@dataclass(frozen=True)
class Schema:
    name: str
    revision: str
    commit: str
    types: dict[str, list[dict[str, Any]]]
    enums: dict[str, list[str]]
    defaults: frozenset[str]


@cache
def load_schema(name: str) -> Schema:
    data = json.loads((SCHEMA_DIR / f"{name}.json").read_text())
    return Schema(name, data["revision"], data["commit"], {k: v or [] for k, v in data["types"].items()},
                  data["enums"], frozenset(data["defaults"]))


def schema_names() -> list[str]:
    return sorted(path.stem for path in SCHEMA_DIR.glob("*.json"))


class _StrictLoader(yaml.SafeLoader):
    """YAML that refuses duplicate keys, as sigs.k8s.io/yaml's strict conversion does."""


def _mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    keys = [loader.construct_object(key, deep=deep) for key, _ in node.value]
    duplicates = sorted({str(key) for key in keys if keys.count(key) > 1})
    if duplicates:
        raise yaml.constructor.ConstructorError(None, None, f"duplicate keys: {', '.join(duplicates)}",
                                                node.start_mark)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def problems(config_yaml: str, build: str) -> list[str]:
    """Every error the installer of `build` would report for this config file (empty: it loads and validates)."""
    schema = load_schema(build)
    try:
        document = yaml.load(config_yaml, Loader=_StrictLoader)
    except yaml.YAMLError as error:
        return [f"yaml: {error}"]
    if not isinstance(document, dict):
        return ["the config is not a mapping"]
    document = {key: value for key, value in document.items() if key != "apiVersion"}  # the loader deletes it
    found: list[str] = []
    _decode(schema, "config.Config", document, "", found)
    if not found:
        _validate_struct(schema, "config.Config", document, "", found)
    return found


# -- strict decoding ---------------------------------------------------------------------------------------------


def _fields(schema: Schema, type_name: str) -> list[dict[str, Any]]:
    """The fields of a struct as JSON sees them: inlined structs' fields belong to the parent."""
    out: list[dict[str, Any]] = []
    for field in schema.types.get(type_name, []):
        if field["inline"]:
            out.extend(_fields(schema, _struct_ref(field["type"]) or ""))
        else:
            out.append(field)
    return out


def _struct_ref(type_: dict[str, Any]) -> str | None:
    while type_["kind"] == "pointer":
        type_ = type_["elem"]
    return type_.get("ref") if type_["kind"] == "struct" else None


def _field_for(schema: Schema, type_name: str, key: str) -> dict[str, Any] | None:
    fields = _fields(schema, type_name)
    exact = [field for field in fields if field["json"] == key]
    folded = [field for field in fields if field["json"].lower() == str(key).lower()]
    return (exact or folded or [None])[0]


def _decode(schema: Schema, type_name: str, value: Any, path: str, found: list[str]) -> None:
    if type_name not in schema.types:
        found.append(f"{path or '.'}: no schema for {type_name}")
        return
    if not isinstance(value, dict):
        found.append(f"{path or '.'}: cannot unmarshal {type(value).__name__} into {type_name}")
        return
    for key, item in value.items():
        field = _field_for(schema, type_name, str(key))
        where = f"{path}.{key}" if path else str(key)
        if field is None:
            found.append(f'{where}: unknown field "{key}" (the installer loads its config strictly)')
            continue
        _decode_value(schema, field["type"], item, where, found)


def _decode_value(schema: Schema, type_: dict[str, Any], value: Any, path: str, found: list[str]) -> None:
    kind = type_["kind"]
    if value is None:
        return  # JSON null leaves pointers, slices and maps nil and scalars zero
    if kind == "pointer":
        _decode_value(schema, type_["elem"], value, path, found)
    elif kind == "struct":
        _decode(schema, type_["ref"], value, path, found)
    elif kind == "slice":
        if not isinstance(value, list):
            found.append(f"{path}: cannot unmarshal {type(value).__name__} into {type_['go']}")
            return
        for index, item in enumerate(value):
            _decode_value(schema, type_["elem"], item, f"{path}[{index}]", found)
    elif kind == "map":
        if not isinstance(value, dict):
            found.append(f"{path}: cannot unmarshal {type(value).__name__} into {type_['go']}")
            return
        for key, item in value.items():
            _decode_value(schema, type_["elem"], item, f"{path}.{key}", found)
    elif kind == "scalar":
        problem = _scalar_problem(schema, type_["go"], value)
        if problem:
            found.append(f"{path}: {problem}")


def _scalar_problem(schema: Schema, go_type: str, value: Any) -> str | None:
    base = go_type if go_type not in schema.enums and "." not in go_type else _underlying(schema, go_type)
    if isinstance(value, dict | list):
        return f"cannot unmarshal {type(value).__name__} into {go_type}"
    if base == "string" and not isinstance(value, str):
        return f"cannot unmarshal {type(value).__name__} into {go_type} (a string)"
    if base == "bool" and not isinstance(value, bool):
        return f"cannot unmarshal {type(value).__name__} into {go_type} (a bool)"
    if base.startswith(("int", "uint")) and (isinstance(value, bool) or not isinstance(value, int)):
        return f"cannot unmarshal {type(value).__name__} into {go_type} (an integer)"
    if base == "duration" and not (isinstance(value, str) and _is_go_duration(value)):
        return f"{value!r} is not a Go duration such as 30m or 1h30m"
    return None


def _underlying(schema: Schema, go_type: str) -> str:
    if go_type in ("util.Duration", "metav1.Duration", "time.Duration"):
        return "duration"
    if go_type in ("resource.Quantity", "intstr.IntOrString", "metav1.Time"):
        return "any"
    # Named string types of the config package (InstallationKind, LogLevel, ...) and of Kubernetes.
    return "string"


def _is_go_duration(text: str) -> bool:
    return bool(re.fullmatch(r"(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+", text))


# -- validation over the defaults ---------------------------------------------------------------------------------


def _validate_struct(schema: Schema, type_name: str, value: dict[str, Any], path: str, found: list[str]) -> None:
    """Validate one struct value (`value`: its decoded keys; absent fields fall back to the defaults)."""
    for field in _fields(schema, type_name):
        where = f"{path}.{field['json']}" if path else field["json"]
        item = _lookup(value, field["json"])
        present = item is not None
        nonzero = _nonzero(field["type"]["kind"], item) if present else where in schema.defaults
        _check_tags(schema, field, item, nonzero, value, where, found)
        kind, ref = field["type"]["kind"], _struct_ref(field["type"])
        if ref and (kind == "struct" or nonzero):
            # validator descends into struct values, and into pointers to structs that are not nil.
            _validate_struct(schema, ref, item if isinstance(item, dict) else {}, where, found)
        elif kind == "slice" and "dive" in field["validate"].split(",") and present:
            elem_ref = _struct_ref(field["type"]["elem"])
            for index, element in enumerate(item):
                if elem_ref and isinstance(element, dict):
                    _validate_struct(schema, elem_ref, element, f"{where}[{index}]", found)


def _lookup(value: dict[str, Any], key: str) -> Any:
    """The decoded value of a field: encoding/json prefers the exact key, else any case-insensitive match."""
    if key in value:
        return value[key]
    return next((item for name, item in value.items() if str(name).lower() == key.lower()), None)


def _nonzero(kind: str, item: Any) -> bool:
    if kind in ("pointer", "slice", "map", "struct", "opaque"):
        return True  # decoded from a non-null value: not nil
    return item not in ("", 0, False)


def _check_tags(schema: Schema, field: dict[str, Any], value: Any, nonzero: bool, parent: dict[str, Any],
                path: str, found: list[str]) -> None:
    tags = [tag for tag in field["validate"].split(",") if tag]
    if "omitempty" in tags and not nonzero:
        return
    for tag in tags:
        name, _, argument = tag.partition("=")
        if name in ("omitempty", "dive"):
            continue
        if name == "required":
            # go-playground/validator v10 (without WithRequiredStructEnabled) never fails `required` on a struct
            # value: it validates the struct's own fields instead.
            if field["type"]["kind"] != "struct" and not nonzero:
                found.append(f"{path}: required")
        elif name == "required_if":
            other, _, expected = argument.partition(" ")
            actual = parent.get(_json_name(schema, field, other), _MISSING)
            if str(actual).lower() == expected.lower() and not nonzero:
                found.append(f"{path}: required when {other} is {expected}")
        elif value is None and name != "block_new_users_passlist":
            continue  # a default the schema records as set: its value is the installer's own
        elif name in _ENUM_TAGS:
            if value not in schema.enums.get(_ENUM_TAGS[name], []):
                found.append(f"{path}: {value!r} is not one of {schema.enums.get(_ENUM_TAGS[name])}")
        elif name == "fqdn":
            if not (isinstance(value, str) and _FQDN.match(value)):
                found.append(f"{path}: {value!r} is not a fully qualified domain name")
        elif name == "startswith":
            if not (isinstance(value, str) and value.startswith(argument)):
                found.append(f"{path}: must start with {argument!r}")
        elif name == "ascii":
            if not (isinstance(value, str) and value.isascii()):
                found.append(f"{path}: must be ASCII")
        elif name == "url":
            if not (isinstance(value, str) and re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://\S+$", value)):
                found.append(f"{path}: {value!r} is not a URL")
        elif name == "block_new_users_passlist":
            value = value or []  # Factory sets an empty, non-nil passlist
            if _lookup(parent, "enabled") is True and (
                    not value or not all(isinstance(domain, str) and _FQDN.match(domain) for domain in value)):
                found.append(f"{path}: blockNewUsers.enabled needs a passlist of domains")
        else:
            found.append(f"{path}: validation {name!r} is not emulated here; cannot vouch for {value!r}")


def _json_name(schema: Schema, field: dict[str, Any], go_name: str) -> str:
    """The JSON key of a sibling given its Go field name (required_if names Go fields)."""
    del field
    for fields in schema.types.values():
        for candidate in fields:
            if candidate["name"] == go_name:
                return str(candidate["json"])
    return go_name
