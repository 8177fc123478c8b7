"""Cloud KMS: one key ring per cell, one key per data domain, rotated every 90 days, retained like the data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_gcp import kms

from components.component import child, stateful

ROTATION_PERIOD = f"{90 * 86400}s"
ENCRYPTER_DECRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"


@dataclass(frozen=True)
class KeyRingArgs:
    name: str
    location: str
    # Key name -> service agents (IAM members) that encrypt and decrypt with it.
    keys: Mapping[str, Sequence[pulumi.Input[str]]]
    protect: bool
    labels: Mapping[str, str]
    provider: pulumi.ProviderResource


class KeyRing(pulumi.ComponentResource):
    """A key ring cannot be deleted in GCP, and a destroyed key loses every byte encrypted with it: both are
    protected in prod and never deleted with the stack."""

    key_ring: kms.KeyRing
    keys: dict[str, kms.CryptoKey]
    # Grants per key, so a resource can depend on its service agent being able to use the key.
    grants: dict[str, list[kms.CryptoKeyIAMMember]]

    def __init__(self, name: str, args: KeyRingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gitpod-cell:gcp:KeyRing", name, None, opts)
        self.key_ring = kms.KeyRing(
            name, name=args.name, location=args.location, opts=stateful(self, args.protect, provider=args.provider)
        )
        self.keys = {}
        self.grants = {}
        for key_name, members in args.keys.items():
            key = kms.CryptoKey(
                f"{name}-{key_name}",
                name=key_name,
                key_ring=self.key_ring.id,
                purpose="ENCRYPT_DECRYPT",
                rotation_period=ROTATION_PERIOD,
                # Destroying a key version is scheduled, and can be cancelled, for 30 days.
                destroy_scheduled_duration=f"{30 * 86400}s",
                labels=dict(args.labels),
                opts=stateful(self, args.protect, provider=args.provider),
            )
            self.keys[key_name] = key
            self.grants[key_name] = [
                kms.CryptoKeyIAMMember(
                    f"{name}-{key_name}-{index}",
                    crypto_key_id=key.id,
                    role=ENCRYPTER_DECRYPTER,
                    member=member,
                    opts=child(self, provider=args.provider),
                )
                for index, member in enumerate(members)
            ]
        self.register_outputs({"key_ring": self.key_ring.id, "keys": {k: v.id for k, v in self.keys.items()}})
