"""Kubernetes objects in general: a namespace of their own, pinned Helm charts."""

from __future__ import annotations

from typing import Any

from policies.core import k8s
from policies.core.context import provider_props
from policies.core.props import get
from policies.core.rule import Report, resource_rule

_RANGE_MARKERS = ("*", "^", "~", ">", "<", " ", "||", "x.", ".x")


@resource_rule(
    name="k8s-no-default-namespace",
    summary="Namespaced Kubernetes objects and Helm releases are placed in a namespace other than `default`.",
    types=[*k8s.NAMESPACED_TYPES, k8s.HELM_RELEASE],
    control="CKV_K8S_21",
)
def no_default_namespace(args: Any, report: Report) -> None:
    path = "namespace" if args.resource_type == k8s.HELM_RELEASE else "metadata.namespace"
    namespace = get(args.props, path) or get(provider_props(args), "namespace")
    if not namespace:
        report(f"{path} is not set (nor a provider namespace), so the object lands in 'default'.")
    elif namespace == "default":
        report(f"{path} is 'default'; use the cell's own namespace.")


def is_local_chart(chart: str) -> bool:
    return chart.startswith(("./", "../", "/"))


@resource_rule(
    name="k8s-helm-chart-version-pinned",
    summary="Helm releases pin an exact chart version (no ranges, no 'latest').",
    types=[k8s.HELM_RELEASE],
)
def helm_chart_version_pinned(args: Any, report: Report) -> None:
    chart = str(get(args.props, "chart") or "")
    if is_local_chart(chart):
        return
    version = get(args.props, "version")
    if not version:
        report(f"chart {chart!r} has no version; the release would follow whatever the repository serves.")
    elif str(version) == "latest" or any(marker in str(version) for marker in _RANGE_MARKERS):
        report(f"chart {chart!r} version {version!r} is a range; pin an exact version.")
