"""The offline plan as text: the resource tree, then a summary that reads in a minute (counts, what costs money,
what the marks mean), the warnings, the outputs and the policy report."""

from __future__ import annotations

import json
import textwrap
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

WIDTH = 118
TOP_TYPES = 12
LEGEND = (
    "[protected]  Pulumi refuses to delete or replace it (prod's stateful resources)",
    "[retained]   `pulumi destroy` leaves it in the cloud (data outlives the stack)",
    "[hooks: …]   rollout steps Pulumi runs before and after it (docs/operations.md)",
)


def render_text(plan: Mapping[str, Any], seconds: float, notice: str) -> str:
    resources = list(plan["resources"])
    lines = [*_wrap(notice, ""), "", f"stack {plan['stack']}: {len(resources)} resources", *_tree(resources)]
    lines += ["", "summary:", *_counts(resources), *_costs(resources), "  legend:",
              *(f"    {entry}" for entry in LEGEND)]
    if plan["warnings"]:
        lines += ["", "warnings:"]
        for warning in plan["warnings"]:
            lines += _wrap(warning, "  - ", "    ")
    lines += ["", "outputs:"]
    lines += [f"  {name}: {json.dumps(value)}" for name, value in plan["outputs"].items()]
    policies = plan["policies"]
    lines += ["", f"policies: {policies['ran']} ran, {len(policies['violations'])} violation(s)"]
    for violation in policies["violations"]:
        where = violation["urn"] or "stack"
        lines.append(f"  [{violation['enforcement']}] {violation['policy']}: {violation['message']} ({where})")
    lines.append(f"\nplanned offline in {seconds:.1f}s")
    return "\n".join(lines)


def _wrap(text: str, first: str, rest: str | None = None) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=first, subsequent_indent=first if rest is None else rest,
                         break_on_hyphens=False) or [first]


def _tree(resources: list[Mapping[str, Any]]) -> list[str]:
    lines: list[str] = []
    children: dict[str | None, list[Mapping[str, Any]]] = {}
    for resource in resources:
        children.setdefault(resource["parent"], []).append(resource)

    def walk(parent: str | None, depth: int) -> None:
        for resource in children.get(parent, []):
            marks = [mark for mark, on in (("protected", resource["options"]["protect"]),
                                           ("retained", resource["options"]["retainOnDelete"])) if on]
            hooks = sorted({h for names in resource["options"]["hooks"].values() for h in names})
            if hooks:
                marks.append("hooks: " + ", ".join(hooks))
            suffix = f"  [{'; '.join(marks)}]" if marks else ""
            lines.append(f"{'  ' * depth}{resource['type']}  {resource['name']}{suffix}")
            walk(resource["urn"], depth + 1)

    urns = {resource["urn"] for resource in resources}
    for root in dict.fromkeys(r["parent"] for r in resources if r["parent"] not in urns):
        walk(root, 1)
    return lines


def _counts(resources: list[Mapping[str, Any]]) -> list[str]:
    providers = Counter(r["type"].split(":", 1)[0] for r in resources if r.get("custom", True))
    types = Counter(r["type"] for r in resources if r.get("custom", True))
    lines = ["  resources by provider: " + ", ".join(f"{name} {count}" for name, count in providers.most_common())]
    ranked = sorted(types.items(), key=_by_count)
    shown = ", ".join(f"{t.split(':', 1)[1].rsplit(':', 1)[-1]} {n}" for t, n in ranked[:TOP_TYPES])
    more = len(ranked) - TOP_TYPES
    rest = f", and {more} more types (--json lists every resource)" if more > 0 else ""
    lines += _wrap(shown + rest, "  most common types: ", "    ")
    return lines


def _by_count(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]


def _of(resources: Iterable[Mapping[str, Any]], resource_type: str) -> list[Mapping[str, Any]]:
    return [r for r in resources if r["type"] == resource_type]


def _costs(resources: list[Mapping[str, Any]]) -> list[str]:
    """What costs money, as the plan registers it: node pools, the database, NAT, zones."""
    lines = ["  sizes that cost money:"]
    for pool in _of(resources, "aws:eks/nodeGroup:NodeGroup"):
        scaling = pool["inputs"].get("scalingConfig") or {}
        lines.append(f"    node group {pool['name']}: {', '.join(pool['inputs'].get('instanceTypes') or ['?'])}, "
                     f"{scaling.get('minSize', '?')}-{scaling.get('maxSize', '?')} nodes")
    for pool in _of(resources, "gcp:container/nodePool:NodePool"):
        scaling = pool["inputs"].get("autoscaling") or {}
        machine = (pool["inputs"].get("nodeConfig") or {}).get("machineType", "?")
        lines.append(f"    node pool {pool['name']}: {machine}, {scaling.get('totalMinNodeCount', '?')}-"
                     f"{scaling.get('totalMaxNodeCount', '?')} nodes")
    for database in _of(resources, "aws:rds/instance:Instance"):
        inputs = database["inputs"]
        ha = "multi-AZ" if inputs.get("multiAz") else "single-AZ"
        lines.append(f"    database {database['name']}: {inputs.get('instanceClass')}, {ha}, "
                     f"{inputs.get('allocatedStorage')} GB")
    for database in _of(resources, "gcp:sql/databaseInstance:DatabaseInstance"):
        settings = database["inputs"].get("settings") or {}
        lines.append(f"    database {database['name']}: {settings.get('tier')}, {settings.get('availabilityType')}, "
                     f"{settings.get('diskSize')} GB")
    nat = len(_of(resources, "aws:ec2/natGateway:NatGateway")) + len(_of(resources, "gcp:compute/routerNat:RouterNat"))
    if nat:
        lines.append(f"    NAT gateways: {nat}")
    zones = sorted({r["inputs"]["availabilityZone"] for r in _of(resources, "aws:ec2/subnet:Subnet")
                    if r["inputs"].get("availabilityZone")})
    for cluster in _of(resources, "gcp:container/cluster:Cluster"):
        location = cluster["inputs"].get("location", "?")
        zones = [f"{location} ({'regional' if location.count('-') == 1 else 'zonal'})"]
    if zones:
        lines.append(f"    zones: {', '.join(zones)}")
    return lines if len(lines) > 1 else []
