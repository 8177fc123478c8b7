"""Let's Encrypt through cert-manager: a DNS01 ClusterIssuer on the cell's zone and the `https-certificates`
Certificate Gitpod's proxy serves (the domain, its wildcard, and the workspace wildcard).

DNS01 rather than HTTP01 because wildcards require it. The staging ACME server issues untrusted certificates
without production rate limits; CellConfig allows it outside prod only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_kubernetes import apiextensions

from components.config import LetsEncryptConfig
from components.gitpod.installer_config import HTTPS_CERTIFICATE_SECRET, gitpod_hostnames
from components.platform import DnsZone

ACME_SERVERS = {
    False: "https://acme-v02.api.letsencrypt.org/directory",
    True: "https://acme-staging-v02.api.letsencrypt.org/directory",
}


# On a Certificate whose ClusterIssuer is the cluster's own (not created by this stack), so the policy pack can tell
# an issuer deliberately outside the stack from a misspelt one.
EXTERNAL_ISSUER_ANNOTATION = "gitpod-cell/cluster-issuer"
EXTERNAL_ISSUER_VALUE = "existing"


@dataclass(frozen=True)
class Certificates:
    # None: the certificate comes from an existing ClusterIssuer of the cluster.
    issuer: apiextensions.CustomResource | None
    certificate: apiextensions.CustomResource


def issuer_name(letsencrypt: LetsEncryptConfig) -> str:
    return "letsencrypt-staging" if letsencrypt.staging else "letsencrypt"


def certificate_dns_names(domain: str) -> list[str]:
    # The same names external-dns publishes for the proxy (installer_config.proxy_dns_customization).
    return gitpod_hostnames(domain)


def dns01_solver(zone: DnsZone, region: str, project: str | None) -> dict[str, Any]:
    if zone.kind == "route53":
        # No credentials here: cert-manager uses its IRSA role (ambient credentials are allowed for ClusterIssuers).
        return {"dns01": {"route53": {"region": region, "hostedZoneID": zone.zone_id}},
                "selector": {"dnsZones": [zone.domain]}}
    if not project:
        raise ValueError("a Cloud DNS DNS01 solver needs the zone's project")
    # Workload Identity stands in for a service-account key (no serviceAccountSecretRef).
    return {"dns01": {"cloudDNS": {"project": project, "hostedZoneName": zone.zone_id}},
            "selector": {"dnsZones": [zone.domain]}}


def certificates(
    name: str, letsencrypt: LetsEncryptConfig, zone: DnsZone, region: str, project: str | None, namespace: str,
    opts: pulumi.ResourceOptions,
) -> Certificates:
    issuer = issuer_name(letsencrypt)
    cluster_issuer = apiextensions.CustomResource(
        f"{name}-{issuer}",
        api_version="cert-manager.io/v1",
        kind="ClusterIssuer",
        metadata={"name": issuer},
        spec={
            "acme": {
                "server": ACME_SERVERS[letsencrypt.staging],
                "email": letsencrypt.email,
                "privateKeySecretRef": {"name": f"{issuer}-account-key"},
                "solvers": [dns01_solver(zone, region, project)],
            }
        },
        opts=opts,
    )
    certificate = _certificate(name, issuer, zone.domain, namespace,
                               pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[cluster_issuer])))
    return Certificates(cluster_issuer, certificate)


def existing_issuer_certificates(name: str, issuer: str, domain: str, namespace: str,
                                 opts: pulumi.ResourceOptions) -> Certificates:
    """The certificate from a ClusterIssuer the cluster already runs (a cell on an existing cluster): its ACME
    account, solver and trust are the cluster operator's, and the Certificate says so in an annotation."""
    certificate = _certificate(name, issuer, domain, namespace, opts,
                               annotations={EXTERNAL_ISSUER_ANNOTATION: EXTERNAL_ISSUER_VALUE})
    return Certificates(None, certificate)


def _certificate(name: str, issuer: str, domain: str, namespace: str, opts: pulumi.ResourceOptions,
                 annotations: dict[str, str] | None = None) -> apiextensions.CustomResource:
    metadata: dict[str, Any] = {"name": HTTPS_CERTIFICATE_SECRET, "namespace": namespace}
    if annotations:
        metadata["annotations"] = annotations
    return apiextensions.CustomResource(
        f"{name}-https-certificates",
        api_version="cert-manager.io/v1",
        kind="Certificate",
        metadata=metadata,
        spec={
            "secretName": HTTPS_CERTIFICATE_SECRET,
            "issuerRef": {"name": issuer, "kind": "ClusterIssuer", "group": "cert-manager.io"},
            "dnsNames": certificate_dns_names(domain),
            "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
            # Renew a month ahead, so a failing renewal has weeks to be noticed.
            "renewBefore": "720h",
        },
        opts=opts,
    )
