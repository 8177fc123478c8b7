"""Joins across the resources of a stack, for stack rules.

A sub-resource (BucketVersioning, FlowLog, ...) names its owner by a key input (`bucket`, `vpcId`). Offline,
the plan's mocks make those inputs equal to the owner's (`BucketVersioning.bucket == Bucket.bucket`); under the
CLI they may be unknown during preview, and an auto-named owner has no name input at all. So: match on the key
when it names a known owner, otherwise fall back to the dependency graph.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from policies.core.props import known


def urn_of(resource: Any) -> str:
    return str(resource.urn)


def dependency_urns(resource: Any) -> set[str]:
    urns = {urn_of(dep) for dep in (getattr(resource, "dependencies", None) or [])}
    for deps in (getattr(resource, "property_dependencies", None) or {}).values():
        urns.update(urn_of(dep) for dep in deps or [])
    return urns


class StackView:
    """The stack's resources, indexed by type."""

    def __init__(self, resources: Iterable[Any]) -> None:
        self.resources: list[Any] = list(resources)

    def of_type(self, *types: str) -> list[Any]:
        wanted = set(types)
        return [resource for resource in self.resources if resource.resource_type in wanted]

    def attached_to(
        self,
        target: Any,
        types: Sequence[str],
        key: str,
        target_key: str | None = None,
    ) -> list[Any]:
        """Resources of `types` that belong to `target`: their `key` input equals `target`'s `target_key` (default:
        the same key). A candidate whose key names no resource of the target's type (unknown, auto-named) belongs
        to the target when it depends on it."""
        owner_key = target_key or key
        target_value = known(target.props, owner_key)
        owner_values = {
            value for owner in self.of_type(target.resource_type)
            if isinstance(value := known(owner.props, owner_key), str | int)
        }
        found = []
        for candidate in self.of_type(*types):
            value = known(candidate.props, key)
            if value is not None and value in owner_values:
                if value == target_value:
                    found.append(candidate)
            elif urn_of(target) in dependency_urns(candidate):
                found.append(candidate)
        return found

    def find_by(self, types: Sequence[str], key: str, value: Any) -> list[Any]:
        if value is None:
            return []
        return [candidate for candidate in self.of_type(*types) if known(candidate.props, key) == value]
