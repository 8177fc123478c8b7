"""Customer-managed KMS keys: one per data domain, rotated yearly, retained and protected like the data, each with
an explicit key policy (components/aws/key_policies.py)."""

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
    policy: pulumi.Input[str],
    provider: pulumi.ProviderResource | None = None,
    signing: bool = False,
) -> kms.Key:
    """A symmetric encryption key, or with `signing` an ECC_NIST_P256 signing key (Route53 DNSSEC's only choice;
    asymmetric keys cannot rotate automatically)."""
    key = kms.Key(
        name,
        description=description,
        enable_key_rotation=not signing,
        customer_master_key_spec="ECC_NIST_P256" if signing else None,
        key_usage="SIGN_VERIFY" if signing else None,
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
