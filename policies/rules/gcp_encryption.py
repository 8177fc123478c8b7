"""GCP encryption: Artifact Registry with a customer-managed key, Cloud KMS key rotation."""

from __future__ import annotations

from typing import Any

from policies.core.props import get
from policies.core.rule import Report, configured, resource_rule
from policies.rules.tokens import ARTIFACT_REPOSITORY, KMS_CRYPTO_KEY

ROTATION_SCHEMA = {
    "maximumDays": {
        "type": "integer",
        "minimum": 1,
        "default": 90,
        "description": "Longest rotation period allowed for Cloud KMS keys.",
    },
}


@resource_rule(
    name="gcp-artifact-registry-cmek",
    summary="Artifact Registry repositories are encrypted with a customer-managed KMS key.",
    types=[ARTIFACT_REPOSITORY],
    control="CKV_GCP_84",
)
def artifact_registry_cmek(args: Any, report: Report) -> None:
    if not get(args.props, "kmsKeyName"):
        report("kmsKeyName is not set; encrypt with the cell's Cloud KMS key.")


def rotation_seconds(period: Any) -> float | None:
    """Cloud KMS rotation periods are seconds with an `s` suffix, e.g. "7776000s"."""
    text = str(period).strip()
    try:
        return float(text[:-1] if text.endswith("s") else text)
    except ValueError:
        return None


@resource_rule(
    name="gcp-kms-key-rotation",
    summary="Cloud KMS encryption keys rotate at least every `maximumDays` days (default 90).",
    types=[KMS_CRYPTO_KEY],
    control="CKV_GCP_43, CIS GCP 1.10",
    config=ROTATION_SCHEMA,
)
def kms_key_rotation(args: Any, report: Report) -> None:
    if get(args.props, "purpose", "ENCRYPT_DECRYPT") != "ENCRYPT_DECRYPT":
        return
    maximum_days = configured(args, ROTATION_SCHEMA)["maximumDays"]
    period = get(args.props, "rotationPeriod")
    seconds = rotation_seconds(period) if period is not None else None
    if seconds is None:
        shown = "not set" if period is None else f"{period!r}, which is not a duration"
        report(f"rotationPeriod is {shown}; rotate at least every {maximum_days} days.")
    elif seconds > maximum_days * 86400:
        report(f"rotationPeriod is {period} ({seconds / 86400:g} days); rotate at least every {maximum_days} days.")
