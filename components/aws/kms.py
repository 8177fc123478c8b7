"""Customer-managed KMS keys: one per data domain, rotated yearly, retained and protected like the data."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
from pulumi_aws import kms

from components.component import stateful


def encryption_key(
    name: str,
    description: str,
    parent: pulumi.Resource,
    tags: Mapping[str, str],
    protect: bool,
    provider: pulumi.ProviderResource | None = None,
    policy: pulumi.Input[str] | None = None,
) -> kms.Key:
    key = kms.Key(
        name,
        description=description,
        enable_key_rotation=True,
        deletion_window_in_days=30,
        policy=policy,
        tags={**tags, "Name": name},
        opts=stateful(parent, protect, provider=provider),
    )
    kms.Alias(
        f"{name}-alias",
        name=f"alias/{name}",
        target_key_id=key.key_id,
        opts=pulumi.ResourceOptions(parent=key, provider=provider),
    )
    return key
