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
_REGION_KEY = "aws:region"
# The keys each cloud's provider reads, and the CellConfig field each one fills.
_CLOUD_KEYS: dict[str, dict[str, str]] = {
    # The cell's providers are explicit (one per region), so they take the profile from here, not from `aws:`.
    "aws": {"aws:region": "region", "aws:profile": "aws_profile"},
    "gcp": {"gcp:region": "region", "gcp:project": "project"},
    # A cell on an existing cluster has no cloud provider: its region is its object store's (kubernetes section).
    "kubernetes": {},
}
_IGNORED_NAMESPACES = ("aws:", "gcp:", "kubernetes:", "random:", "pulumi:")


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
                issues.append((key, f"unknown key; accepted: {accepted}"))
                continue
            # Under `pulumi up` structured values arrive as JSON strings.
            if isinstance(value, str) and value[:1] in "{[":
                try:
                    value = json.loads(value)
                except json.JSONDecodeError:
                    issues.append((key, "is not valid JSON/YAML object"))
                    continue
            sections[name] = value
        elif not key.startswith(_IGNORED_NAMESPACES):
            issues.append((key, f"unknown namespace; this program reads {NAMESPACE}:*, {_REGION_KEY} (AWS), "
                                "gcp:region and gcp:project (GCP)"))
    return {**{_python_name(k): v for k, v in sections.items()}, "_cloud_keys": cloud_keys}, issues


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
        elif detail["type"] in _BOUND_ERRORS:
            bound = next(iter(detail.get("ctx", {}).values()), "?")
            message = f"got {detail.get('input')!r}; {_BOUND_ERRORS[detail['type']]} {bound}"
        issues.append((key, message))
    return issues


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
    """Read and validate the running stack's configuration (under `pulumi up` or the offline plan)."""
    import pulumi
    from pulumi.runtime.config import CONFIG, get_config, get_config_env

    # Every key the engine passed in, so a misspelled `gitpod-cell:` key is an error rather than ignored.
    cloud_keys = {key for keys in _CLOUD_KEYS.values() for key in keys}
    keys = {key for key in (*CONFIG.get(), *get_config_env()) if key.startswith(f"{NAMESPACE}:")} | cloud_keys
    from_engine = {key: value for key in sorted(keys) if (value := get_config(key)) is not None}
    return config_from_stack(pulumi.get_stack(), from_engine)
