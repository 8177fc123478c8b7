"""KMS keys: automatic rotation, explicit key policies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies.core import iam
from policies.core.props import as_list, get, truthy
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


# Conditions that pin a wildcard principal to this account's callers or to one service's own requests.
_PINNING_KEYS = ("kms:calleraccount", "kms:viaservice", "aws:sourceaccount", "aws:principalaccount",
                 "aws:principalorgid")


def _pins_principal(statement: Any) -> bool:
    conditions = statement.get("Condition")
    if not isinstance(conditions, Mapping):
        return False
    return any(str(key).lower() in _PINNING_KEYS for block in conditions.values() if isinstance(block, Mapping)
               for key in block)


def _wildcard_principal(statement: Any) -> bool:
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        return "*" in [str(p) for p in as_list(principal.get("AWS"))]
    return False


def _administers(statement: Any) -> bool:
    principal = statement.get("Principal")
    aws = [str(p) for p in as_list(principal.get("AWS"))] if isinstance(principal, Mapping) else []
    actions = iam.values(statement, "Action")
    return iam.is_allow(statement) and any(p.endswith(":root") for p in aws) and "kms:*" in actions


@resource_rule(
    name="aws-kms-key-policy",
    summary="Every customer-managed KMS key has an explicit key policy: the account root administers it, and "
    "every other grant names its principal, or pins a wildcard principal to this account or a service "
    "(kms:CallerAccount, kms:ViaService, aws:SourceAccount).",
    types=[KMS_KEY],
    control="CKV2_AWS_64, CKV_AWS_33",
)
def kms_key_policy(args: Any, report: Report) -> None:
    policy = get(args.props, "policy")
    statements = iam.statements(policy)
    if not statements:
        report("policy is not set; the key gets the default policy. Write one naming the account root and only "
               "the principals and services that use the key.")
        return
    if not any(_administers(statement) for statement in statements):
        report("no statement lets the account root administer the key (kms:*); without it a broken policy "
               "locks the key for good.")
    for index, statement in enumerate(statements):
        if iam.is_allow(statement) and _wildcard_principal(statement) and not _pins_principal(statement):
            sid = statement.get("Sid") or f"#{index}"
            report(f"statement {sid} allows any principal without a condition pinning it to this account or a "
                   "service.")
