"""What every configuration section shares: the pydantic base, the error type, and small value parsers."""

from __future__ import annotations

import re
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, ValidationInfo
from pydantic.alias_generators import to_camel

from contract.naming import CONFIG_NAMESPACE

NAMESPACE = CONFIG_NAMESPACE
DNS_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


class CellConfigError(ValueError):
    """One or more stack-config values are invalid. `issues` holds (stack-config key, message) pairs."""

    def __init__(self, issues: list[tuple[str, str]]) -> None:
        self.issues = issues
        lines = [f"  {key}: {message}" for key, message in issues]
        super().__init__("invalid stack configuration:\n" + "\n".join(lines))


class Section(BaseModel):
    """A stack-config object: camelCase keys, unknown keys refused, immutable once validated."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True, str_strip_whitespace=True,
        strict=True,
    )


def cloud_of(info: ValidationInfo) -> str:
    """The cloud being validated for (validation context `cloud`), for rules that differ per cloud."""
    context = info.context if isinstance(info.context, Mapping) else {}
    return str(context.get("cloud", "aws"))


def parse_duration(text: str) -> int:
    """A Go-style duration such as `30m`, `1h30m`, `24h`, as seconds."""
    match = _DURATION.match(text)
    if not text or not match or not any(match.groups()):
        raise ValueError(f"{text!r} is not a duration; use hours/minutes/seconds such as 30m, 1h30m, 24h")
    hours, minutes, seconds = (int(group or 0) for group in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def is_dns_name(name: str) -> bool:
    labels = name.split(".")
    return len(name) <= 253 and len(labels) >= 2 and all(DNS_LABEL.match(label) for label in labels)
