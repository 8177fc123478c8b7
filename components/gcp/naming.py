"""GCP's naming rules, applied once: service-account ids, custom-role ids and bucket names have tight limits."""

from __future__ import annotations

import hashlib
import re


def _fit(text: str, limit: int, separator: str) -> str:
    if len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:6]
    return f"{text[: limit - len(digest) - 1].rstrip(separator)}{separator}{digest}"


def service_account_id(prefix: str, workload: str) -> str:
    """6-30 characters of [a-z0-9-], starting with a letter; shortened with a stable digest when too long."""
    return _fit(f"{prefix}-{workload}", 30, "-")


def custom_role_id(prefix: str, purpose: str) -> str:
    """Custom role ids allow [a-zA-Z0-9_.] only, 3-64 characters."""
    return _fit(re.sub(r"[^a-zA-Z0-9_.]", "_", f"{prefix}_{purpose}"), 64, "_")


def bucket_name(prefix: str, project: str) -> str:
    """Globally unique (the project id is), at most 63 characters."""
    return _fit(f"{prefix}-{project}", 63, "-")
