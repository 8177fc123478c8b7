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
CLUSTER_AUTOSCALER = PinnedChart("cluster-autoscaler", "9.43.2", "https://kubernetes.github.io/autoscaler")

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
