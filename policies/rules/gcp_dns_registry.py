"""Cloud DNS zones the stack creates are DNSSEC-signed; Artifact Registry never cleans up tagged images."""

from __future__ import annotations

from typing import Any

from policies.core.props import as_list, get
from policies.core.rule import Report, resource_rule
from policies.rules.tokens import ARTIFACT_REPOSITORY, DNS_MANAGED_ZONE


@resource_rule(
    name="gcp-dns-dnssec",
    summary="Public Cloud DNS zones the stack creates are DNSSEC-signed (dnssecConfig.state on).",
    types=[DNS_MANAGED_ZONE],
    control="CKV_GCP_16",
)
def dns_dnssec(args: Any, report: Report) -> None:
    if get(args.props, "visibility", "public") != "public":
        return
    state = get(args.props, "dnssecConfig.state")
    if state != "on":
        shown = "not set (off)" if state is None else repr(state)
        report(f"dnssecConfig.state is {shown}; set it to 'on' and publish the DS record.")


def _deletes_tagged(policy: Any) -> bool:
    return get(policy, "action") == "DELETE" and get(policy, "condition.tagState", "ANY") in ("TAGGED", "ANY")


@resource_rule(
    name="gcp-artifact-registry-keep-tagged",
    summary="No Artifact Registry cleanup policy deletes tagged images (workspace images in use and releases are "
    "tagged); only untagged images may be cleaned up.",
    types=[ARTIFACT_REPOSITORY],
)
def artifact_registry_keep_tagged(args: Any, report: Report) -> None:
    for policy in as_list(get(args.props, "cleanupPolicies")):
        if _deletes_tagged(policy):
            report(f"cleanup policy {get(policy, 'id') or '<unnamed>'!r} deletes tagged images; restrict it to "
                   "tagState UNTAGGED.")
