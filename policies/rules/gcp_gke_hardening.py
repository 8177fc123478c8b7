"""GKE: authentication (no client certificates, no legacy ABAC, Google Groups), admission (Binary Authorization),
pod traffic visibility, control-plane availability in production, and the nodes' own identity."""

from __future__ import annotations

import re
from typing import Any

from policies.core.context import PRODUCTION_SCHEMA, in_environments
from policies.core.props import get, truthy
from policies.core.rule import Level, Report, configured, resource_rule
from policies.rules.tokens import BINARY_AUTHORIZATION_POLICY, GKE_CLUSTER, GKE_NODE_POOL

_ZONE = re.compile(r"^[a-z]+-[a-z]+\d+-[a-z]$")
_DEFAULT_COMPUTE_ACCOUNT = "-compute@developer.gserviceaccount.com"
_ENFORCING_MODES = ("PROJECT_SINGLETON_POLICY_ENFORCE", "POLICY_BINDINGS",
                    "POLICY_BINDINGS_AND_PROJECT_SINGLETON_POLICY_ENFORCE")


@resource_rule(
    name="gcp-gke-no-legacy-abac",
    summary="GKE clusters keep legacy ABAC off (enableLegacyAbac): RBAC alone decides what identities may do.",
    types=[GKE_CLUSTER],
    control="CKV_GCP_7, CIS GKE 5.8.3",
)
def gke_no_legacy_abac(args: Any, report: Report) -> None:
    if truthy(get(args.props, "enableLegacyAbac")):
        report("enableLegacyAbac is true; legacy ABAC grants broad static permissions outside RBAC.")


@resource_rule(
    name="gcp-gke-no-client-certificate",
    summary="GKE clusters issue no client certificate (masterAuth.clientCertificateConfig.issueClientCertificate "
    "false): a leaked certificate could not be revoked.",
    types=[GKE_CLUSTER],
    control="CKV_GCP_13, CIS GKE 5.8.1",
)
def gke_no_client_certificate(args: Any, report: Report) -> None:
    if truthy(get(args.props, "masterAuth.clientCertificateConfig.issueClientCertificate")):
        report("masterAuth.clientCertificateConfig.issueClientCertificate is true; turn it off.")


@resource_rule(
    name="gcp-gke-intranode-visibility",
    summary="GKE clusters route pod-to-pod traffic on a node through the VPC (enableIntranodeVisibility), so flow "
    "logs and firewall rules see it.",
    types=[GKE_CLUSTER],
    control="CKV_GCP_61, CIS GKE 5.6.1",
)
def gke_intranode_visibility(args: Any, report: Report) -> None:
    if not truthy(get(args.props, "enableIntranodeVisibility")):
        report("enableIntranodeVisibility must be true.")


@resource_rule(
    name="gcp-gke-regional-prod",
    summary="Production GKE clusters are regional (location is a region, not a zone): the control plane survives "
    "a zone outage and upgrades.",
    types=[GKE_CLUSTER],
    config=PRODUCTION_SCHEMA,
)
def gke_regional_prod(args: Any, report: Report) -> None:
    if not in_environments(args, configured(args, PRODUCTION_SCHEMA)["environments"]):
        return
    location = get(args.props, "location")
    if location is None or _ZONE.match(str(location)):
        shown = "not set (the provider's zone)" if location is None else repr(location)
        report(f"location is {shown}; a production cluster is regional (e.g. europe-west1).")


@resource_rule(
    name="gcp-gke-binary-authorization",
    summary="GKE clusters evaluate pods against Binary Authorization (binaryAuthorization.evaluationMode "
    "PROJECT_SINGLETON_POLICY_ENFORCE or policy bindings).",
    types=[GKE_CLUSTER],
    control="CKV_GCP_66",
)
def gke_binary_authorization(args: Any, report: Report) -> None:
    mode = get(args.props, "binaryAuthorization.evaluationMode")
    if mode not in _ENFORCING_MODES and not truthy(get(args.props, "binaryAuthorization.enabled")):
        shown = "not set (DISABLED)" if mode is None else repr(mode)
        report(f"binaryAuthorization.evaluationMode is {shown}; set PROJECT_SINGLETON_POLICY_ENFORCE.")


@resource_rule(
    name="gcp-binary-authorization-allowlist",
    summary="The Binary Authorization policy admits Google's system images and an allowlist, and denies (or in "
    "audit mode, logs) every other image: its default rule is never ALWAYS_ALLOW.",
    types=[BINARY_AUTHORIZATION_POLICY],
)
def binary_authorization_allowlist(args: Any, report: Report) -> None:
    evaluation = get(args.props, "defaultAdmissionRule.evaluationMode")
    if evaluation in (None, "ALWAYS_ALLOW"):
        shown = "not set" if evaluation is None else repr(evaluation)
        report(f"defaultAdmissionRule.evaluationMode is {shown}; every image would be admitted. Use ALWAYS_DENY "
               "with admissionWhitelistPatterns (or REQUIRE_ATTESTATION).")
    if get(args.props, "globalPolicyEvaluationMode") != "ENABLE":
        report("globalPolicyEvaluationMode is not ENABLE; Google's system images would need allowlisting too.")


@resource_rule(
    name="gcp-gke-google-groups-rbac",
    summary="GKE clusters bind RBAC to Google Groups (authenticatorGroupsConfig.securityGroup "
    "gke-security-groups@<domain>).",
    types=[GKE_CLUSTER],
    control="CKV_GCP_65, CIS GKE 5.8.2",
    level=Level.ADVISORY,
    why_advisory="It needs a Google Workspace or Cloud Identity domain with that group, which a project may not "
    "have; set gitpod-cell:gcp.securityGroup where it does.",
)
def gke_google_groups_rbac(args: Any, report: Report) -> None:
    group = get(args.props, "authenticatorGroupsConfig.securityGroup")
    if not group:
        report("authenticatorGroupsConfig.securityGroup is not set; RBAC can name only users and service accounts.")
    elif not str(group).startswith("gke-security-groups@"):
        report(f"authenticatorGroupsConfig.securityGroup is {group!r}; GKE reads only gke-security-groups@<domain>.")


@resource_rule(
    name="gcp-gke-node-service-account",
    summary="GKE node pools run as a dedicated service account, never the Compute Engine default account "
    "(which holds Editor on the project).",
    types=[GKE_NODE_POOL],
    control="CKV_GCP_30, CIS GKE 5.2.1",
)
def gke_node_service_account(args: Any, report: Report) -> None:
    account = get(args.props, "nodeConfig.serviceAccount")
    if not account or account == "default" or str(account).endswith(_DEFAULT_COMPUTE_ACCOUNT):
        shown = "not set (the Compute Engine default)" if not account else repr(account)
        report(f"nodeConfig.serviceAccount is {shown}; use the cell's least-privilege node account.")
