"""The static key of builds that cannot reach object storage any other way (contract.gitpod_builds
`s3-static-key`, e.g. release-2022.11.3) on GCP: an HMAC key for GCS's S3-compatible XML API, as narrow as GCP
allows.

Why HMAC and not `objectStorage.cloudStorage`: cloudStorage makes Gitpod create one bucket per user in the
project, so its service-account key needs storage.admin on the whole project. release-2022.11.3's S3 mode is
minio-go with a static key, an endpoint and single-bucket mode (`objectStorage.s3.bucket`; content-service
storage/minio.go: objects under `<owner>/workspaces/...` in that bucket, BucketExists before use, MakeBucket only
when missing); minio-go signs requests to storage.googleapis.com with signature V2, which GCS accepts with HMAC
keys. So the key belongs to a service account that may use the cell's bucket and nothing else:
roles/storage.objectAdmin and roles/storage.legacyBucketReader (buckets.get for BucketExists), on the bucket only.

The HMAC resource's name carries `gitpod.staticStorageKey.rotation` (a new label creates the new key, the Gitpod
layer rolls it out, and the old one is deleted at the end of that update). Its id and secret are Pulumi secrets.
The service account's description carries `gitpod-cell-purpose: object-storage-static-key`, which is what the
policy pack's one exception allows; any service-account key, or any other HMAC key, still fails.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_gcp import serviceaccount, storage

from components.component import child
from components.gcp.naming import service_account_id
from components.platform import StaticStorageKey
from contract.naming import STATIC_STORAGE_KEY_PURPOSE, STATIC_STORAGE_KEY_TAG

BUCKET_ROLES: tuple[str, ...] = ("roles/storage.objectAdmin", "roles/storage.legacyBucketReader")
GCS_S3_ENDPOINT = "storage.googleapis.com"


@dataclass(frozen=True)
class StorageKeyArgs:
    prefix: str
    project: str
    bucket: pulumi.Input[str]
    rotation: str
    provider: pulumi.ProviderResource


class StorageKeyAccount(pulumi.ComponentResource):
    account: serviceaccount.Account
    key: StaticStorageKey

    def __init__(self, name: str, args: StorageKeyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gitpod-cell:gcp:StorageKeyAccount", name, None, opts)
        on = child(self, provider=args.provider)
        self.account = serviceaccount.Account(
            name,
            account_id=service_account_id(args.prefix, "object-storage"),
            display_name=f"Gitpod object storage key of {args.prefix}",
            description=f"{STATIC_STORAGE_KEY_TAG}: {STATIC_STORAGE_KEY_PURPOSE} (holds one HMAC key for the "
                        "cell's bucket only)",
            opts=on,
        )
        member = self.account.email.apply(lambda email: f"serviceAccount:{email}")
        for role in BUCKET_ROLES:
            storage.BucketIAMMember(f"{name}-{role.rsplit('.', 1)[-1]}", bucket=args.bucket, role=role,
                                    member=member, opts=on)
        hmac = storage.HmacKey(
            f"{name}-{args.rotation}",
            project=args.project,
            service_account_email=self.account.email,
            opts=child(self, provider=args.provider, additional_secret_outputs=["accessId", "secret"]),
        )
        self.key = StaticStorageKey(
            access_key_id=pulumi.Output.secret(hmac.access_id),
            secret_access_key=pulumi.Output.secret(hmac.secret),
            holder=self.account.email,
        )
        self.register_outputs({"account": self.account.email})
