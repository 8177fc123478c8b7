"""cert-manager, its service account bound to the Platform's `cert-manager` identity (Route53 / Cloud DNS DNS01)."""

from __future__ import annotations

import pulumi
from pulumi_kubernetes.helm import v3 as helm

from components.gitpod.charts import CERT_MANAGER, pinned_release
from components.platform import WorkloadIdentity


def cert_manager(name: str, identity: WorkloadIdentity, opts: pulumi.ResourceOptions) -> helm.Release:
    return pinned_release(
        f"{name}-cert-manager",
        CERT_MANAGER,
        identity.namespace,
        {
            # CRDs ship with the release so the ClusterIssuer and Certificate can be created right after it.
            "crds": {"enabled": True, "keep": True},
            "serviceAccount": {"create": True, "name": identity.service_account, "annotations": identity.annotations},
            # The projected IRSA / Workload Identity token is readable by the controller's non-root user.
            "securityContext": {"fsGroup": 1001, "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
            # Check DNS01 propagation against public resolvers, not the cluster's (split-horizon) DNS.
            "extraArgs": ["--dns01-recursive-nameservers-only",
                          "--dns01-recursive-nameservers=1.1.1.1:53,8.8.8.8:53"],
            "prometheus": {"enabled": True},
        },
        opts,
    )
