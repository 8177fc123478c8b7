"""RFC3339 UTC timestamps, the one format every record and lease in ops/ is written in.

ws-manager-mk2 parses `enabledUntil` with Go's time.Time (RFC3339), and operators read these values in kubectl
output, so every writer uses whole seconds with a `Z` suffix and every reader accepts any RFC3339 offset.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def require_aware(moment: datetime, what: str = "time") -> datetime:
    """The same moment in UTC; a naive datetime is refused because its zone would be a guess."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {moment.isoformat()}")
    return moment.astimezone(UTC)


def format_rfc3339(moment: datetime) -> str:
    return require_aware(moment).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text: str) -> datetime:
    """Parse `2025-01-02T03:04:05Z` or with an offset / fractional seconds; always returns UTC."""
    if not isinstance(text, str) or "T" not in text.upper():
        raise ValueError(f"{text!r} is not an RFC3339 timestamp such as 2025-01-02T03:04:05Z")
    normalised = text.strip().upper().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(normalised)
    except ValueError as error:
        raise ValueError(f"{text!r} is not an RFC3339 timestamp such as 2025-01-02T03:04:05Z") from error
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset; RFC3339 requires one (e.g. a trailing Z)")
    return moment.astimezone(UTC)
