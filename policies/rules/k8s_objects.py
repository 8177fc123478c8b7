"""Kubernetes objects in general: a namespace of their own, pinned Helm charts."""

from __future__ import annotations

from typing import Any

from policies.core import k8s
from policies.core.context import provider_props
from policies.core.props import as_list, get
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
    elif namespace == "default" and not _reads_only_the_maintenance_lease(args):
        report(f"{path} is 'default'; use the cell's own namespace.")


# ws-manager-mk2 reads its maintenance lease from default/ws-manager-mk2-maintenance-mode (a location Gitpod fixed):
# a Role there that may only read that one ConfigMap, and RoleBindings to Roles there, are the one exception.
MAINTENANCE_LEASE = "ws-manager-mk2-maintenance-mode"
_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role"
_ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"


def _reads_only_the_maintenance_lease(args: Any) -> bool:
    if args.resource_type == _ROLE_BINDING:
        # A RoleBinding grants at most what a Role in `default` holds, and such a Role passes only as below.
        return get(args.props, "roleRef.kind") == "Role"
    if args.resource_type != _ROLE:
        return False
    rules = as_list(get(args.props, "rules"))
    return bool(rules) and all(
        set(as_list(get(rule, "resources"))) == {"configmaps"}
        and set(as_list(get(rule, "resourceNames"))) == {MAINTENANCE_LEASE}
        and set(as_list(get(rule, "verbs"))) <= {"get", "list", "watch"}
        and set(as_list(get(rule, "apiGroups"))) <= {""}
        for rule in rules)


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
