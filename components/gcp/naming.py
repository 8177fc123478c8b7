"""GCP's naming rules, applied once: service-account ids and custom-role ids have tight limits (bucket names are
in contract.naming, which ops shares)."""

from __future__ import annotations

import re

from contract.naming import fit_name


def service_account_id(prefix: str, workload: str) -> str:
    """6-30 characters of [a-z0-9-], starting with a letter; shortened with a stable digest when too long."""
    return fit_name(f"{prefix}-{workload}", 30, "-")


def custom_role_id(prefix: str, purpose: str) -> str:
    """Custom role ids allow [a-zA-Z0-9_.] only, 3-64 characters."""
    return fit_name(re.sub(r"[^a-zA-Z0-9_.]", "_", f"{prefix}_{purpose}"), 64, "_")
