"""cluster-autoscaler for clouds whose node pools do not scale themselves (EKS); GKE autoscales natively, so the
Platform says whether it is needed (`cluster.needs_cluster_autoscaler`)."""

from __future__ import annotations

import pulumi
from pulumi_kubernetes.helm import v3 as helm

from components.gitpod.charts import CLUSTER_AUTOSCALER, pinned_release
from components.platform import Cluster, WorkloadIdentity

# The autoscaler's minor version must match the cluster's (it simulates the scheduler of that release).
AUTOSCALER_IMAGE_TAGS = {"1.33": "v1.33.0", "1.34": "v1.34.0", "1.35": "v1.35.0"}


def cluster_autoscaler(
    name: str, identity: WorkloadIdentity, cluster: Cluster, kubernetes_version: str, region: str,
    opts: pulumi.ResourceOptions,
) -> helm.Release:
    if kubernetes_version not in AUTOSCALER_IMAGE_TAGS:
        raise ValueError(f"no cluster-autoscaler pinned for Kubernetes {kubernetes_version}; "
                         f"pinned: {', '.join(sorted(AUTOSCALER_IMAGE_TAGS))}")
    return pinned_release(
        f"{name}-cluster-autoscaler",
        CLUSTER_AUTOSCALER,
        identity.namespace,
        {
            "cloudProvider": "aws",
            "awsRegion": region,
            # Discovers the node groups tagged k8s.io/cluster-autoscaler/<cluster>=owned, nothing else.
            "autoDiscovery": {"clusterName": cluster.name},
            "image": {"tag": AUTOSCALER_IMAGE_TAGS[kubernetes_version]},
            "rbac": {"serviceAccount": {"create": True, "name": identity.service_account,
                                        "annotations": identity.annotations}},
            "extraArgs": {
                "balance-similar-node-groups": True,
                "expander": "least-waste",
                # Workspace nodes drain slowly; do not evict running workspaces to save a node.
                "skip-nodes-with-local-storage": True,
                "scale-down-unneeded-time": "10m",
            },
            "securityContext": {"runAsNonRoot": True, "runAsUser": 65534, "fsGroup": 65534,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "containerSecurityContext": {"readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False,
                                         "capabilities": {"drop": ["ALL"]}},
        },
        opts,
    )
