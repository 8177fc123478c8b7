"""Small helpers shared by every component: child options and stateful-resource options."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi


def child(parent: pulumi.Resource, **options: object) -> pulumi.ResourceOptions:
    """Options for a child resource: parented to the component, plus any extra options."""
    return pulumi.ResourceOptions(parent=parent, **options)  # type: ignore[arg-type]


def stateful(
    parent: pulumi.Resource,
    protect: bool,
    depends_on: Sequence[pulumi.Resource] | None = None,
    provider: pulumi.ProviderResource | None = None,
    ignore_changes: Sequence[str] | None = None,
) -> pulumi.ResourceOptions:
    """Options for a resource that holds data: protected in prod, and never deleted with the stack."""
    return pulumi.ResourceOptions(
        parent=parent,
        protect=protect,
        retain_on_delete=True,
        depends_on=list(depends_on or []),
        provider=provider,
        ignore_changes=list(ignore_changes or []),
    )
