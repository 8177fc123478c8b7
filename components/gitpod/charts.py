"""Pinned Helm charts: one table to bump, and one way to install them (helm.v3.Release, which registers as a
plain resource, keeps Helm hooks and waits for the release's resources to become ready)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_kubernetes.helm import v3 as helm


@dataclass(frozen=True)
class PinnedChart:
    chart: str
    version: str
    repository: str


CERT_MANAGER = PinnedChart("cert-manager", "v1.16.2", "https://charts.jetstack.io")
EXTERNAL_DNS = PinnedChart("external-dns", "1.15.0", "https://kubernetes-sigs.github.io/external-dns/")
# The chart renders the autoscaler's RBAC, so it must be at least as new as the images cluster_autoscaler.py runs
# (v1.33-v1.35). Chart 9.43.x ships appVersion 1.31 RBAC: no `volumeattachments` (storage.k8s.io), which
# cluster-autoscaler >= 1.32 watches and waits to sync before its first loop, so with a newer image it runs,
# reports Ready and never scales (kubernetes/autoscaler#7663, fixed in chart 9.46.3 by #7904). 9.59.0 carries
# appVersion 1.35.0, the newest image pinned here, and the chart's ClusterRole has only gained rules across
# releases, so it serves v1.33/v1.34 too. (Chart/appVersion pairs: 9.45.0=1.32, 9.47.0=1.33, 9.59.0=1.35.)
CLUSTER_AUTOSCALER = PinnedChart("cluster-autoscaler", "9.59.0", "https://kubernetes.github.io/autoscaler")
# The oldest chart whose RBAC lets cluster-autoscaler >= 1.32 start scaling (tests hold the pin to it).
CLUSTER_AUTOSCALER_MIN_CHART = "9.46.3"

# Helm waits this long for a release's workloads; Pulumi's own timeout sits above it so Helm reports first.
RELEASE_TIMEOUT_SECONDS = 600


def pinned_release(
    name: str, pinned: PinnedChart, namespace: str, values: Mapping[str, Any], opts: pulumi.ResourceOptions
) -> helm.Release:
    return helm.Release(
        name,
        name=pinned.chart,
        chart=pinned.chart,
        version=pinned.version,
        repository_opts=helm.RepositoryOptsArgs(repo=pinned.repository),
        namespace=namespace,
        create_namespace=True,
        # A failed upgrade rolls back instead of leaving a half-upgraded controller in the cell.
        atomic=True,
        cleanup_on_fail=True,
        timeout=RELEASE_TIMEOUT_SECONDS,
        max_history=10,
        values=dict(values),
        opts=pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(custom_timeouts=pulumi.CustomTimeouts(create="15m", update="15m"))
        ),
    )
