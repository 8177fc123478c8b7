"""Stack configuration as it arrives: a flat map of `gitpod-cell:<key>` values and the cloud's own keys, turned
into a validated `CellConfig` (defaults of the environment merged under it), with every problem reported by the
stack-config key it concerns."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from pydantic.alias_generators import to_camel

from components.config.defaults import environment_defaults
from components.config.kubernetes import CLOUD_ONLY_SECTIONS, cloud_only_section_issues, kubernetes_region
from components.config.rules import consistency_issues
from components.config.section import NAMESPACE, CellConfigError

if TYPE_CHECKING:
    from components.config.model import CellConfig

_STACK_KEY = "pulumi:stack"

# Keys accepted under the `gitpod-cell:` namespace, and other namespaces read.
_TOP_LEVEL_KEYS = {
    "cloud", "environment", "replicaRegion", "domain", "tags", "network", "cluster", "database", "storage", "dns",
    "gcp", "kubernetes", "gitpod", "restore",
}
# The keys each cloud's provider reads, and the CellConfig field each one fills.
_CLOUD_KEYS: dict[str, dict[str, str]] = {
    # The cell's providers are explicit (one per region), so they take the profile from here, not from `aws:`.
    "aws": {"aws:region": "region", "aws:profile": "aws_profile"},
    "gcp": {"gcp:region": "region", "gcp:project": "project"},
    # A cell on an existing cluster has no cloud provider: its region is its object store's (kubernetes section).
    "kubernetes": {},
}
# Every key outside `gitpod-cell:` a stack may set: the provider keys the cell reads (above) and Pulumi's own. The
# one table to extend when a provider gains a key the cell reads (e.g. `kubernetes:` for a cloud that uses one).
# Anything else is refused with the nearest accepted key: a misspelt `aws:regoin` would otherwise be ignored and the
# provider would fall back to whatever region the environment says.
PROVIDER_KEYS: dict[str, frozenset[str]] = {
    "aws": frozenset({"region", "profile"}),
    "gcp": frozenset({"project", "region"}),
    "pulumi": frozenset({"disable-default-providers", "tags"}),
}


def accepted_keys() -> list[str]:
    """Every top-level stack-config key this program accepts, sorted."""
    own = [f"{NAMESPACE}:{key}" for key in _TOP_LEVEL_KEYS]
    providers = [f"{namespace}:{key}" for namespace, keys in PROVIDER_KEYS.items() for key in keys]
    return sorted(own + providers)


def _did_you_mean(key: str) -> str:
    import difflib

    close = difflib.get_close_matches(key, accepted_keys(), n=1, cutoff=0.6)
    return f"did you mean {close[0]}? " if close else ""


def _provider_key_issue(key: str) -> str | None:
    """Why `key` (outside `gitpod-cell:`) is refused, or None when the table accepts it."""
    namespace, _, name = key.partition(":")
    if namespace in PROVIDER_KEYS:
        if name in PROVIDER_KEYS[namespace]:
            return None
        accepted = ", ".join(f"{namespace}:{k}" for k in sorted(PROVIDER_KEYS[namespace]))
        return f"unknown key; {_did_you_mean(key)}this program reads {accepted}"
    return (f"unknown namespace {namespace + ':' if name else key!r}; {_did_you_mean(key)}this program reads "
            f"{NAMESPACE}:* and {', '.join(sorted(f'{n}:{k}' for n, keys in PROVIDER_KEYS.items() for k in keys))}")


def _stack_key(top: str, cloud: str = "aws") -> str:
    for key, field in _CLOUD_KEYS[cloud].items():
        if top == field:
            return key
    return f"{NAMESPACE}:{top}"


def _sections_from_raw(raw: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    sections: dict[str, Any] = {}
    cloud_keys: dict[str, dict[str, Any]] = {}
    issues: list[tuple[str, str]] = []
    for key, value in raw.items():
        cloud = next((c for c, keys in _CLOUD_KEYS.items() if key in keys), None)
        if cloud is not None:
            cloud_keys.setdefault(cloud, {})[_CLOUD_KEYS[cloud][key]] = value
        elif key.startswith(f"{NAMESPACE}:"):
            name = key.split(":", 1)[1]
            if name not in _TOP_LEVEL_KEYS:
                accepted = ", ".join(f"{NAMESPACE}:{k}" for k in sorted(_TOP_LEVEL_KEYS))
                issues.append((key, f"unknown key; {_did_you_mean(key)}accepted: {accepted}"))
                continue
            # Under `pulumi up` structured values arrive as JSON strings.
            if isinstance(value, str) and value[:1] in "{[":
                try:
                    value = json.loads(value, object_pairs_hook=_no_duplicates)
                except (json.JSONDecodeError, _DuplicateKey) as error:
                    issues.append((key, f"is not a valid JSON/YAML object ({error})"))
                    continue
            sections[name] = value
        elif (problem := _provider_key_issue(key)) is not None:
            issues.append((key, problem))
    return {**{_python_name(k): v for k, v in sections.items()}, "_cloud_keys": cloud_keys}, issues


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKey(f"key {key!r} is given twice")
        seen[key] = value
    return seen


def _python_name(camel: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", camel).lower()


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _issues_from_validation(error: ValidationError, cloud: str = "aws") -> list[tuple[str, str]]:
    issues = []
    for detail in error.errors():
        location = [str(part) for part in detail["loc"]]
        if not location:
            issues.append((NAMESPACE, detail["msg"]))
            continue
        top = location[0]
        key = _STACK_KEY if top == "stack" else _stack_key(to_camel(top) if "_" in top else top, cloud)
        if len(location) > 1:
            key += "." + ".".join(location[1:])
        message = detail["msg"].removeprefix("Value error, ")
        if detail["type"] == "extra_forbidden":
            message = "unknown key (check the spelling against the README's configuration reference)"
        elif detail["type"] == "literal_error":
            message = f"got {detail.get('input')!r}; {message[:1].lower()}{message[1:]}"
        elif detail["type"] == "missing":
            message = "is required"
        elif detail["type"] in _TYPE_ERRORS:
            given = detail.get("input")
            message = (f"got {given!r} ({_KIND.get(type(given), type(given).__name__)}); expected "
                       f"{_TYPE_ERRORS[detail['type']]}")
        elif detail["type"] in _BOUND_ERRORS:
            bound = next(iter(detail.get("ctx", {}).values()), "?")
            message = f"got {detail.get('input')!r}; {_BOUND_ERRORS[detail['type']]} {bound}"
        issues.append((key, message))
    return issues


# Strict types (section.Section): YAML's `"no"` is not false and `true` is not 1, so each is refused by its kind.
_TYPE_ERRORS = {
    "bool_type": "true or false (unquoted)",
    "int_type": "a whole number (unquoted, e.g. 14)",
    "float_type": "a number",
    "string_type": "text (quote values such as \"1.34\" that YAML would read as numbers)",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping of keys to values",
    "model_attributes_type": "a mapping of keys to values",
}
_KIND = {bool: "a boolean", int: "a number", float: "a number", str: "text", list: "a list", dict: "a mapping",
         type(None): "empty"}

_BOUND_ERRORS = {
    "greater_than_equal": "accepted: at least",
    "greater_than": "accepted: more than",
    "less_than_equal": "accepted: at most",
    "less_than": "accepted: less than",
    "too_short": "accepted: at least this many entries:",
}


def config_from_stack(stack: str, raw: Mapping[str, Any]) -> CellConfig:
    """Validate the flat stack-config map (`gitpod-cell:<key>`, and `aws:region` or `gcp:region`/`gcp:project`)."""
    from components.config.model import CellConfig

    sections, issues = _sections_from_raw(raw)
    cloud = sections.get("cloud") if sections.get("cloud") in ("gcp", "kubernetes") else "aws"
    cloud_keys = sections.pop("_cloud_keys")
    for name, value in cloud_keys.get(cloud, {}).items():
        sections[name] = value
    if cloud == "aws" and "gcp" in sections:
        issues.append((f"{NAMESPACE}:gcp", "is only read when gitpod-cell:cloud is gcp; remove it"))
        sections.pop("gcp")
    if cloud != "kubernetes" and "kubernetes" in sections:
        issues.append((f"{NAMESPACE}:kubernetes", "is only read when gitpod-cell:cloud is kubernetes; remove it"))
        sections.pop("kubernetes")
    if cloud == "kubernetes":
        issues.extend(cloud_only_section_issues(sections))
        for name in CLOUD_ONLY_SECTIONS:
            sections.pop(_python_name(name), None)
        sections["region"] = kubernetes_region(sections.get("kubernetes"))
    merged = _deep_merge(environment_defaults(cloud, sections.get("environment")), sections)
    try:
        config = CellConfig.model_validate({"stack": stack, **merged}, context={"cloud": cloud})
    except ValidationError as error:
        issues.extend(_issues_from_validation(error, cloud))
        raise CellConfigError(issues) from None
    issues.extend(consistency_issues(config))
    if issues:
        raise CellConfigError(issues)
    return config


def load_from_pulumi() -> CellConfig:
    """Read and validate the running stack's configuration (under `pulumi up` or the offline plan). Placeholders
    (components.config.placeholders) stop a real preview/up of a staging or prod stack; otherwise each is a
    warning naming its key (the offline plan lists them under `warnings`)."""
    import pulumi
    from pulumi.runtime.config import CONFIG, get_config, get_config_env

    from components.config.placeholders import find_placeholders

    # Every key the engine passed in, so a misspelled key (ours or a provider's) is an error rather than ignored.
    cloud_keys = {key for keys in _CLOUD_KEYS.values() for key in keys}
    keys = {*CONFIG.get(), *get_config_env()} | cloud_keys
    from_engine = {key: value for key in sorted(keys) if (value := get_config(key)) is not None}
    config = config_from_stack(pulumi.get_stack(), from_engine)
    placeholders = find_placeholders({k: v for k, v in from_engine.items() if k.startswith(f"{NAMESPACE}:")})
    if placeholders and config.environment in ("staging", "prod") and not under_mock_engine():
        raise CellConfigError(placeholders)
    for key, message in placeholders:
        pulumi.log.warn(f"placeholder: {key}: {message} before a real deploy"
                        + (" (a real preview/up of this staging/prod stack refuses it)"
                           if config.environment in ("staging", "prod") else ""))
    return config


def under_mock_engine() -> bool:
    """True when the program runs under the SDK's mock engine (the offline plan, component tests): the monitor
    answering registrations is a MockMonitor, which only `pulumi.runtime.set_mocks` installs. A real engine's
    monitor is a gRPC stub, so this cannot be faked by a flag or an environment variable left set."""
    from pulumi.runtime.mocks import MockMonitor
    from pulumi.runtime.settings import get_monitor

    return isinstance(get_monitor(), MockMonitor)
