"""The static S3 key of builds that cannot reach object storage any other way (contract.gitpod_builds
`s3-static-key`, e.g. release-2022.11.3), made as narrow as AWS allows.

- An IAM user with no console access and one inline policy: list the cell's bucket, read/write/delete its
  objects, and use the bucket's KMS key only through S3 in the cell's region. Nothing else in the account.
- One access key. Its resource name carries `gitpod.staticStorageKey.rotation`: a new label creates the new key,
  the Gitpod layer rolls it out (the storage users restart under the maintenance lease), and Pulumi deletes the
  old key at the end of that same update.
- The key and its id are Pulumi secrets; the Gitpod layer writes them into one Kubernetes Secret and nowhere else.
- The user is tagged `gitpod-cell-purpose: object-storage-static-key`, which is what the policy pack's one
  exception (`static-storage-key-is-scoped-to-the-cell-bucket`) allows; any other IAM user or key still fails.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_aws import iam

from components.aws.policy_documents import Statement, document
from components.component import child
from components.platform import StaticStorageKey
from contract.naming import STATIC_STORAGE_KEY_PURPOSE, STATIC_STORAGE_KEY_TAG


@dataclass(frozen=True)
class StorageKeyArgs:
    prefix: str
    # The bucket's statements (components.aws.cell.storage_statements), resolved.
    statements: pulumi.Input[Sequence[Statement]]
    rotation: str
    tags: Mapping[str, str]


class StorageKeyUser(pulumi.ComponentResource):
    user: iam.User
    key: StaticStorageKey

    def __init__(self, name: str, args: StorageKeyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gitpod-cell:aws:StorageKeyUser", name, None, opts)
        self.user = iam.User(
            name,
            name=f"{args.prefix}-object-storage",
            path="/gitpod-cell/",
            force_destroy=True,
            tags={**args.tags, STATIC_STORAGE_KEY_TAG: STATIC_STORAGE_KEY_PURPOSE,
                  "Name": f"{args.prefix}-object-storage"},
            opts=child(self),
        )
        iam.UserPolicy(
            f"{name}-bucket-only",
            user=self.user.name,
            policy=pulumi.Output.from_input(args.statements).apply(document),
            opts=child(self),
        )
        access_key = iam.AccessKey(
            f"{name}-{args.rotation}",
            user=self.user.name,
            opts=child(self, additional_secret_outputs=["id", "secret", "sesSmtpPasswordV4"]),
        )
        self.key = StaticStorageKey(
            access_key_id=pulumi.Output.secret(access_key.id),
            secret_access_key=pulumi.Output.secret(access_key.secret),
            holder=self.user.arn,
        )
        self.register_outputs({"user": self.user.arn})
