"""TLS for Gitpod: a cert-manager Certificate from an ACME (Let's Encrypt) ClusterIssuer solving DNS01, trusted
(not the staging CA) in production."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies.core.context import PRODUCTION_SCHEMA, environment_of
from policies.core.props import as_list, get
from policies.core.rule import Report, configured, stack_rule
from policies.core.stack import StackView

CLUSTER_ISSUER = "kubernetes:cert-manager.io/v1:ClusterIssuer"
CERTIFICATE = "kubernetes:cert-manager.io/v1:Certificate"
INSTALLER_JOB = "kubernetes:batch/v1:Job"
STAGING_SERVER = "acme-staging"
# Set by the Gitpod layer on a Certificate whose ClusterIssuer the cluster already runs (a cell on an existing
# cluster, components/gitpod/certificates.py): the issuer is deliberately outside the stack.
EXTERNAL_ISSUER_ANNOTATION = "gitpod-cell/cluster-issuer"
EXTERNAL_ISSUER_VALUE = "existing"


def _environment(view: StackView) -> str | None:
    """The cell's environment, from its cloud resources' tags or labels (Kubernetes objects carry none)."""
    return next((env for resource in view.resources if (env := environment_of(resource)) is not None), None)


@stack_rule(
    name="gitpod-tls-certificate",
    summary="A stack that installs Gitpod requests its certificate from cert-manager: a Certificate whose "
    "ClusterIssuer uses ACME with a DNS01 solver, and in production not the ACME staging CA.",
    config=PRODUCTION_SCHEMA,
)
def tls_certificate(args: Any, report: Report) -> None:
    view = StackView(args.resources)
    installers = [job for job in view.of_type(INSTALLER_JOB)
                  if str(get(job.props, "metadata.name") or job.name).startswith("gitpod-installer")]
    if not installers:
        return
    issuers = {str(get(i.props, "metadata.name")): i for i in view.of_type(CLUSTER_ISSUER)}
    certificates = view.of_type(CERTIFICATE)
    if not certificates:
        report("no cert-manager Certificate: Gitpod's proxy would have no TLS certificate.", installers[0].urn)
    production = _environment(view) in configured(args, PRODUCTION_SCHEMA)["environments"]
    external: list[str] = []
    for certificate in certificates:
        issuer_ref = str(get(certificate.props, "spec.issuerRef.name"))
        issuer = issuers.get(issuer_ref)
        if issuer is None and _declares_external_issuer(certificate.props):
            external.append(issuer_ref)
            continue
        if issuer is None:
            report("the Certificate's issuerRef names no ClusterIssuer of the stack.", certificate.urn)
            continue
        acme = get(issuer.props, "spec.acme")
        if acme is None or not any(get(s, "dns01") for s in as_list(get(acme, "solvers"))):
            report("the ClusterIssuer is not ACME with a DNS01 solver (wildcard names need DNS01).", issuer.urn)
        elif production and STAGING_SERVER in str(get(acme, "server")):
            report("a production cell uses the ACME staging CA; browsers do not trust its certificates.",
                   issuer.urn)
    if external and len(external) == len(certificates):
        # Nothing in the stack to judge: say so rather than pass silently.
        args.not_applicable(f"the certificate's ClusterIssuer {', '.join(sorted(set(external)))} is the cluster's "
                            "own, not in this stack: its ACME account, solver and trust are the cluster operator's "
                            "and cannot be checked here")


def _declares_external_issuer(props: Any) -> bool:
    annotations = get(props, "metadata.annotations")
    return isinstance(annotations, Mapping) and annotations.get(EXTERNAL_ISSUER_ANNOTATION) == EXTERNAL_ISSUER_VALUE
