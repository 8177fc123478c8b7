"""GCP identity: no service-account keys, no basic roles, Workload Identity bindings scoped to one Kubernetes service
account."""

from __future__ import annotations

import re
from typing import Any

from policies.core.props import as_list, get, json_document
from policies.core.rule import Report, configured, resource_rule
from policies.rules.tokens import (
    GCP_IAM_BINDINGS,
    GCP_IAM_MEMBERS,
    GCP_IAM_POLICIES,
    SERVICE_ACCOUNT_IAM_BINDING,
    SERVICE_ACCOUNT_IAM_MEMBER,
    SERVICE_ACCOUNT_KEY,
)

WORKLOAD_IDENTITY_USER = "roles/iam.workloadIdentityUser"
_KSA_MEMBER = re.compile(r"^serviceAccount:[a-z0-9.-]+\.svc\.id\.goog\[[a-z0-9-]+/[a-z0-9.-]+\]$")
_KSA_PRINCIPAL = re.compile(r"^principal://iam\.googleapis\.com/.+/subject/ns/[a-z0-9-]+/sa/[a-z0-9.-]+$")
ALWAYS_FORBIDDEN_ROLES = ("roles/owner", "roles/editor")
VIEWER_ROLE = "roles/viewer"
BASIC_ROLES_SCHEMA = {
    "allowViewer": {
        "type": "boolean",
        "default": False,
        "description": "Allow the basic roles/viewer role (roles/owner and roles/editor are never allowed).",
    },
}


@resource_rule(
    name="gcp-no-service-account-keys",
    summary="The cell creates no GCP service-account keys; workloads use Workload Identity.",
    types=[SERVICE_ACCOUNT_KEY],
    control="CIS GCP 1.4",
)
def no_service_account_keys(args: Any, report: Report) -> None:
    report("service-account keys are not allowed; bind the workload's Kubernetes service account with "
           "Workload Identity instead.")


@resource_rule(
    name="gcp-workload-identity-single-ksa",
    summary="Workload Identity grants (roles/iam.workloadIdentityUser) name exactly one Kubernetes service "
    "account, never a wildcard or a principal set.",
    types=[SERVICE_ACCOUNT_IAM_MEMBER, SERVICE_ACCOUNT_IAM_BINDING],
)
def workload_identity_single_ksa(args: Any, report: Report) -> None:
    if get(args.props, "role") != WORKLOAD_IDENTITY_USER:
        return
    if args.resource_type == SERVICE_ACCOUNT_IAM_MEMBER:
        members = as_list(get(args.props, "member"))
    else:
        members = as_list(get(args.props, "members"))
    if len(members) != 1:
        report(f"grants {WORKLOAD_IDENTITY_USER} to {len(members)} members; bind one Kubernetes service account "
               "per Google service account.")
    for member in members:
        text = str(member)
        if not (_KSA_MEMBER.match(text) or _KSA_PRINCIPAL.match(text)):
            report(f"member {text!r} is not a single Kubernetes service account "
                   "(serviceAccount:PROJECT.svc.id.goog[NAMESPACE/NAME]).")


@resource_rule(
    name="gcp-no-principal-sets",
    summary="No IAM grant (member, binding or policy) names a principal set (`principalSet://`: every service "
    "account of a namespace or a pool); a Kubernetes workload is granted a role as its own principal "
    "(`principal://.../subject/ns/NAMESPACE/sa/NAME`).",
    types=[*GCP_IAM_MEMBERS, *GCP_IAM_BINDINGS, *GCP_IAM_POLICIES],
)
def no_principal_sets(args: Any, report: Report) -> None:
    for where, role, members in _grants(args):
        for member in members:
            if member.startswith("principalSet://"):
                report(f"{where}grants {role} to the principal set {member!r}; grant it to the one Kubernetes "
                       "service account that needs it (principal://.../subject/ns/NAMESPACE/sa/NAME).")


def _grants(args: Any) -> list[tuple[str, str, list[str]]]:
    """(where, role, members) for each role the resource grants."""
    if args.resource_type in GCP_IAM_MEMBERS:
        return [("", str(get(args.props, "role") or ""), [str(m) for m in as_list(get(args.props, "member"))])]
    if args.resource_type in GCP_IAM_BINDINGS:
        return [("", str(get(args.props, "role") or ""), [str(m) for m in as_list(get(args.props, "members"))])]
    policy = json_document(get(args.props, "policyData")) or {}
    return [
        (f"policyData binding #{index} ", str(get(binding, "role") or ""),
         [str(m) for m in as_list(get(binding, "members"))])
        for index, binding in enumerate(as_list(policy.get("bindings")))
    ]


@resource_rule(
    name="gcp-no-basic-roles",
    summary="No IAM grant (project, folder, organization, service account or bucket; member, binding or policy) "
    "uses the basic roles roles/owner or roles/editor, nor roles/viewer unless `allowViewer`; grant predefined or "
    "custom roles instead.",
    types=[*GCP_IAM_MEMBERS, *GCP_IAM_BINDINGS, *GCP_IAM_POLICIES],
    control="CKV_GCP_117, CIS GCP 1.5",
    config=BASIC_ROLES_SCHEMA,
)
def no_basic_roles(args: Any, report: Report) -> None:
    forbidden = {*ALWAYS_FORBIDDEN_ROLES}
    if not configured(args, BASIC_ROLES_SCHEMA)["allowViewer"]:
        forbidden.add(VIEWER_ROLE)
    for where, role, members in _grants(args):
        if role in forbidden:
            to = ", ".join(members) if members else "no members"
            report(f"{where}grants the basic role {role} (to {to}); basic roles span every service in the "
                   "project: grant a predefined or custom role instead.")
