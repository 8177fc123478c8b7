"""external-dns, publishing Gitpod's proxy records into the cell's zone with the Platform's `external-dns`
identity. It only ever touches its own zone and records it owns (TXT registry keyed by the stack)."""

from __future__ import annotations

import pulumi
from pulumi_kubernetes.helm import v3 as helm

from components.gitpod.charts import EXTERNAL_DNS, pinned_release
from components.platform import DnsZone, WorkloadIdentity

_PROVIDERS = {"route53": "aws", "clouddns": "google"}


def external_dns(
    name: str, identity: WorkloadIdentity, zone: DnsZone, owner_id: str, region: str, project: str | None,
    opts: pulumi.ResourceOptions,
) -> helm.Release:
    zone_filter = zone.zone_id.apply(lambda zone_id: f"--zone-id-filter={zone_id}")
    if zone.kind == "clouddns" and not project:
        raise ValueError("external-dns on Cloud DNS needs the zone's project")
    project_args = [f"--google-project={project}"] if zone.kind == "clouddns" else []
    return pinned_release(
        f"{name}-external-dns",
        EXTERNAL_DNS,
        identity.namespace,
        {
            "provider": {"name": _PROVIDERS[zone.kind]},
            "serviceAccount": {"create": True, "name": identity.service_account, "annotations": identity.annotations},
            "domainFilters": [zone.domain],
            "extraArgs": [zone_filter, *project_args],
            "env": [{"name": "AWS_DEFAULT_REGION", "value": region}] if zone.kind == "route53" else [],
            # `sync` deletes records whose Service/Ingress is gone; the TXT owner id keeps it to this cell's records.
            "policy": "sync",
            "registry": "txt",
            "txtOwnerId": owner_id,
            "sources": ["service", "ingress"],
            "securityContext": {"runAsNonRoot": True, "readOnlyRootFilesystem": True,
                                "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
            "podSecurityContext": {"fsGroup": 65534, "runAsNonRoot": True,
                                   "seccompProfile": {"type": "RuntimeDefault"}},
        },
        opts,
    )
