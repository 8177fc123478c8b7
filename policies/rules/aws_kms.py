"""KMS keys: automatic rotation."""

from __future__ import annotations

from typing import Any

from policies.core.props import get, truthy
from policies.core.rule import Report, resource_rule
from policies.rules.tokens import KMS_KEY


@resource_rule(
    name="aws-kms-key-rotation",
    summary="Customer-managed KMS keys rotate automatically.",
    types=[KMS_KEY],
    control="CKV_AWS_7, AWS FSBP KMS.4",
)
def kms_key_rotation(args: Any, report: Report) -> None:
    if get(args.props, "keyUsage", "ENCRYPT_DECRYPT") != "ENCRYPT_DECRYPT":
        return
    if get(args.props, "customerMasterKeySpec", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT":
        return
    if not truthy(get(args.props, "enableKeyRotation")):
        report("enableKeyRotation must be true.")
