"""AWS identity: roles only (no IAM users or static keys), no admin wildcards, IRSA roles scoped to one SA."""

from __future__ import annotations

from typing import Any

from policies.core import iam
from policies.core.props import as_list, get
from policies.core.rule import Report, configured, resource_rule
from policies.rules.tokens import IAM_ACCESS_KEY, IAM_POLICY_HOLDERS, IAM_ROLE, IAM_USER_TYPES

WILDCARD_SCHEMA = {
    "allowServiceWildcards": {
        "type": "boolean",
        "default": False,
        "description": "Allow `service:*` actions on resource `*` (the full `*` action is never allowed).",
    },
}
_WEB_IDENTITY = "sts:AssumeRoleWithWebIdentity"
_SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"


@resource_rule(
    name="aws-no-iam-users",
    summary="The cell creates no IAM users (or their policies and logins); workloads use IRSA roles.",
    types=IAM_USER_TYPES,
    control="CKV_AWS_273",
)
def no_iam_users(args: Any, report: Report) -> None:
    report(f"{args.resource_type.rsplit(':', 1)[-1]} resources are not allowed; use an IAM role (IRSA) instead.")


@resource_rule(
    name="aws-no-access-keys",
    summary="The cell creates no IAM access keys; nothing it runs needs long-lived credentials.",
    types=[IAM_ACCESS_KEY],
    control="AWS FSBP IAM.3 (stricter: no keys at all)",
)
def no_access_keys(args: Any, report: Report) -> None:
    report("static access keys are not allowed; use an IAM role (IRSA) instead.")


def _policy_documents(args: Any) -> list[tuple[str, Any]]:
    if args.resource_type == IAM_ROLE:
        return [(f"inline policy {get(p, 'name') or index}", get(p, "policy"))
                for index, p in enumerate(as_list(get(args.props, "inlinePolicies")))]
    return [("policy", get(args.props, IAM_POLICY_HOLDERS[args.resource_type]))]


@resource_rule(
    name="aws-iam-no-wildcard-admin",
    summary="No IAM identity policy allows `*` (or, unless configured, `service:*`) actions on resource `*`.",
    types=[IAM_ROLE, *IAM_POLICY_HOLDERS],
    control="CKV_AWS_62, CKV_AWS_63, AWS FSBP IAM.1",
    config=WILDCARD_SCHEMA,
)
def iam_no_wildcard_admin(args: Any, report: Report) -> None:
    allow_service = configured(args, WILDCARD_SCHEMA)["allowServiceWildcards"]
    for label, document in _policy_documents(args):
        for index, statement in enumerate(iam.statements(document)):
            if not iam.is_allow(statement) or "*" not in iam.values(statement, "Resource"):
                continue
            for action in iam.values(statement, "Action"):
                if iam.is_full_wildcard_action(action) or (
                    iam.is_service_wildcard_action(action) and not allow_service
                ):
                    sid = statement.get("Sid") or f"#{index}"
                    report(f"{label} statement {sid} allows {action!r} on '*'; grant only the actions and "
                           "resources the workload needs.")


def _subjects(statement: Any) -> tuple[list[str], list[str]]:
    exact = iam.condition_values(statement, "StringEquals", ":sub")
    patterns = iam.condition_values(statement, "StringLike", ":sub")
    return exact, patterns


@resource_rule(
    name="aws-irsa-single-service-account",
    summary="Roles assumed through the cluster's OIDC provider (IRSA) trust exactly one Kubernetes service "
    "account (StringEquals on `:sub`) and the STS audience.",
    types=[IAM_ROLE],
)
def irsa_single_service_account(args: Any, report: Report) -> None:
    web_identity = [
        statement for statement in iam.statements(get(args.props, "assumeRolePolicy"))
        if iam.is_allow(statement) and _WEB_IDENTITY in iam.values(statement, "Action")
    ]
    if not web_identity:
        return
    subjects: set[str] = set()
    for statement in web_identity:
        exact, patterns = _subjects(statement)
        wildcards = [s for s in exact + patterns if "*" in s or "?" in s]
        if wildcards:
            report(f"the trust policy matches service accounts by pattern ({', '.join(wildcards)}); name one "
                   "service account exactly.")
        elif patterns:
            report("the trust policy matches :sub with StringLike; use StringEquals with one service account.")
        elif not exact:
            report("the trust policy has no StringEquals condition on :sub; any service account in the cluster "
                   "could assume this role.")
        subjects.update(exact + patterns)
        if "sts.amazonaws.com" not in iam.condition_values(statement, "StringEquals", ":aud"):
            report("the trust policy does not pin :aud to sts.amazonaws.com.")
    malformed = sorted(s for s in subjects if not (s.startswith(_SERVICE_ACCOUNT_PREFIX) and s.count(":") == 3))
    if malformed:
        report(f":sub {', '.join(malformed)} is not of the form system:serviceaccount:NAMESPACE:NAME.")
    if len(subjects) > 1:
        report(f"the role trusts {len(subjects)} service accounts ({', '.join(sorted(subjects))}); create one role "
               "per service account.")
