"""AWS identity: no admin wildcards or admin managed policies, IRSA roles scoped to one SA (IAM users and static keys:
static_keys.py)."""

from __future__ import annotations

from typing import Any

from policies.core import iam
from policies.core.props import as_list, get
from policies.core.rule import Report, configured, resource_rule
from policies.rules.tokens import (
    IAM_POLICY_ATTACHMENTS,
    IAM_POLICY_HOLDERS,
    IAM_ROLE,
)

ADMIN_POLICY = "AdministratorAccess"
WILDCARD_SCHEMA = {
    "allowServiceWildcards": {
        "type": "boolean",
        "default": False,
        "description": "Allow `service:*` actions on resource `*` (the full `*` action is never allowed).",
    },
    "deniedManagedPolicies": {
        "type": "array",
        "items": {"type": "string"},
        "default": [ADMIN_POLICY, "PowerUserAccess", "IAMFullAccess"],
        "description": "Managed policies that must not be attached: AWS-managed policy names (any partition) or "
        "full policy ARNs. AdministratorAccess is denied even when left out.",
    },
}
_WEB_IDENTITY = "sts:AssumeRoleWithWebIdentity"
_SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"


def _policy_documents(args: Any) -> list[tuple[str, Any]]:
    if args.resource_type == IAM_ROLE:
        return [(f"inline policy {get(p, 'name') or index}", get(p, "policy"))
                for index, p in enumerate(as_list(get(args.props, "inlinePolicies")))]
    if args.resource_type in IAM_POLICY_HOLDERS:
        return [("policy", get(args.props, IAM_POLICY_HOLDERS[args.resource_type]))]
    return []


def _attached_policies(args: Any) -> tuple[str, list[str]]:
    """The input naming managed policies, and the ARNs it attaches (a role's deprecated `managedPolicyArns` too)."""
    if args.resource_type == IAM_ROLE:
        field = "managedPolicyArns"
    elif args.resource_type in IAM_POLICY_ATTACHMENTS:
        field = IAM_POLICY_ATTACHMENTS[args.resource_type]
    else:
        return "", []
    return field, [str(arn) for arn in as_list(get(args.props, field)) if arn]


def _denied(arn: str, denylist: list[str]) -> bool:
    name = iam.managed_policy_name(arn)
    return arn in denylist or (name is not None and name in denylist)


def _statement_problems(statement: Any, allow_service: bool) -> list[str]:
    where = iam.all_resources(statement)
    if not iam.is_allow(statement) or where is None:
        return []
    excluded = iam.not_actions(statement)
    if excluded:
        return [f"allows every action except {', '.join(excluded)} (NotAction) on {where}"]
    return [
        f"allows {action!r} on {where}" for action in iam.values(statement, "Action")
        if iam.is_full_wildcard_action(action) or (iam.is_service_wildcard_action(action) and not allow_service)
    ]


@resource_rule(
    name="aws-iam-no-wildcard-admin",
    summary="No IAM identity policy allows `*` (or, unless configured, `service:*`) actions on resource `*`, nor "
    "every action but a few (`NotAction`) on `*`; no role or group gets a managed policy on `deniedManagedPolicies` "
    "(AdministratorAccess, PowerUserAccess, IAMFullAccess) through an attachment or `managedPolicyArns`.",
    types=[IAM_ROLE, *IAM_POLICY_HOLDERS, *IAM_POLICY_ATTACHMENTS],
    control="CKV_AWS_62, CKV_AWS_63, CKV_AWS_274, AWS FSBP IAM.1",
    config=WILDCARD_SCHEMA,
)
def iam_no_wildcard_admin(args: Any, report: Report) -> None:
    settings = configured(args, WILDCARD_SCHEMA)
    for label, document in _policy_documents(args):
        for index, statement in enumerate(iam.statements(document)):
            for problem in _statement_problems(statement, settings["allowServiceWildcards"]):
                sid = statement.get("Sid") or f"#{index}"
                report(f"{label} statement {sid} {problem}; grant only the actions and resources the workload "
                       "needs.")
    denylist = [ADMIN_POLICY, *settings["deniedManagedPolicies"]]
    field, arns = _attached_policies(args)
    for arn in arns:
        if _denied(arn, denylist):
            report(f"{field} attaches {arn}, an admin-level managed policy (deniedManagedPolicies); attach a policy "
                   "scoped to what the workload needs.")


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


# Actions IAM authorizes on no resource but `*` (the Service Authorization Reference lists no resource type for
# them), and which the cell's workloads need: the only actions that may name `Resource: "*"`.
UNSCOPABLE_ACTIONS: tuple[str, ...] = (
    "autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeLaunchConfigurations", "autoscaling:DescribeScalingActivities", "autoscaling:DescribeTags",
    "ec2:DescribeImages", "ec2:DescribeInstanceTypes", "ec2:DescribeLaunchTemplateVersions",
    "ec2:GetInstanceTypesFromInstanceRequirements",
    "route53:ListHostedZones", "route53:ListHostedZonesByName",
    "ecr:GetAuthorizationToken",
)
UNSCOPABLE_SCHEMA = {
    "unscopableActions": {
        "type": "array",
        "items": {"type": "string"},
        "default": list(UNSCOPABLE_ACTIONS),
        "description": "Actions that may be allowed on resource `*`: those IAM offers no resource-level "
        "permission for (docs/policies.md, deviations).",
    },
}


def _kms_through_one_service(statement: Any) -> bool:
    """KMS use on `*` pinned to one service in one region (kms:ViaService): the key of a bucket a restore adopts
    belongs to the old cell, so its ARN is not the cell's to name."""
    actions = iam.values(statement, "Action")
    return bool(actions) and all(a.startswith("kms:") for a in actions) and bool(
        iam.condition_values(statement, "StringEquals", "kms:ViaService"))


@resource_rule(
    name="aws-iam-wildcard-resource-unscopable-only",
    summary="IAM identity policies allow `Resource: \"*\"` only for actions that have no resource-level "
    "permissions (`unscopableActions`: the autoscaler's and external-dns' Describe/List calls, "
    "ecr:GetAuthorizationToken) or for KMS use pinned to one service (kms:ViaService); every other action names "
    "its resources.",
    types=[IAM_ROLE, *IAM_POLICY_HOLDERS],
    control="CKV_AWS_355, CKV_AWS_290",
    config=UNSCOPABLE_SCHEMA,
)
def iam_wildcard_resource_unscopable_only(args: Any, report: Report) -> None:
    allowed = set(configured(args, UNSCOPABLE_SCHEMA)["unscopableActions"])
    for label, document in _policy_documents(args):
        for index, statement in enumerate(iam.statements(document)):
            if not iam.is_allow(statement) or iam.all_resources(statement) is None:
                continue
            if _kms_through_one_service(statement):
                continue
            scopable = [a for a in iam.values(statement, "Action") if a not in allowed]
            if scopable:
                sid = statement.get("Sid") or f"#{index}"
                report(f"{label} statement {sid} allows {', '.join(scopable)} on every resource; name the "
                       "resources (only unscopableActions may use '*').")
