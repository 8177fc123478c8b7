"""GCP identity: no service-account keys; Workload Identity bindings scoped to one Kubernetes service account."""

from __future__ import annotations

import re
from typing import Any

from policies.core.props import as_list, get
from policies.core.rule import Report, resource_rule
from policies.rules.tokens import SERVICE_ACCOUNT_IAM_BINDING, SERVICE_ACCOUNT_IAM_MEMBER, SERVICE_ACCOUNT_KEY

WORKLOAD_IDENTITY_USER = "roles/iam.workloadIdentityUser"
_KSA_MEMBER = re.compile(r"^serviceAccount:[a-z0-9.-]+\.svc\.id\.goog\[[a-z0-9-]+/[a-z0-9.-]+\]$")
_KSA_PRINCIPAL = re.compile(r"^principal://iam\.googleapis\.com/.+/subject/ns/[a-z0-9-]+/sa/[a-z0-9.-]+$")


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
