"""ECR repositories for the images Gitpod builds: scanned on push, KMS-encrypted, untagged images expired."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_aws import ecr

from components.aws.key_policies import service_key_policy
from components.aws.kms import encryption_key
from components.component import child, stateful

UNTAGGED_IMAGE_DAYS = 14


def untagged_expiry_policy(days: int) -> str:
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": f"expire untagged images after {days} days",
                    "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                                  "countNumber": days},
                    "action": {"type": "expire"},
                }
            ]
        }
    )


@dataclass(frozen=True)
class RegistryArgs:
    name: str
    repository_prefix: str
    repositories: Sequence[str]
    protect: bool
    tags: Mapping[str, str]
    account_id: pulumi.Input[str]
    region: str


class ContainerRegistry(pulumi.ComponentResource):
    repositories: dict[str, ecr.Repository]
    url: pulumi.Output[str]
    server: pulumi.Output[str]

    def __init__(self, name: str, args: RegistryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gitpod-cell:aws:ContainerRegistry", name, None, opts)
        tags = dict(args.tags)
        key = encryption_key(f"{name}-ecr", f"ECR encryption for {name}", self, tags, args.protect,
                             policy=pulumi.Output.from_input(args.account_id).apply(
                                 lambda account: service_key_policy(account, "ecr", args.region)))
        self.repositories = {}
        for repository in args.repositories:
            self.repositories[repository] = ecr.Repository(
                f"{name}-{repository}",
                name=f"{args.repository_prefix}/{repository}",
                image_scanning_configuration=ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
                encryption_configurations=[
                    ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS", kms_key=key.arn)
                ],
                # A documented deviation (docs/policies.md, rule aws-ecr-mutable-tags-only-gitpod): image-builder
                # pushes each build under a tag derived from its inputs, and a forced rebuild (or a retried build
                # that raced another) pushes that same tag again; an immutable repository rejects that push
                # (ImageTagAlreadyExistsException) and the workspace start fails.
                image_tag_mutability="MUTABLE",
                force_delete=False,
                tags=tags,
                opts=stateful(self, args.protect),
            )
            ecr.LifecyclePolicy(
                f"{name}-{repository}",
                repository=self.repositories[repository].name,
                policy=untagged_expiry_policy(UNTAGGED_IMAGE_DAYS),
                opts=child(self),
            )
        first = self.repositories[args.repositories[0]]
        self.server = first.repository_url.apply(lambda url: url.split("/", 1)[0])
        self.url = self.server.apply(lambda server: f"{server}/{args.repository_prefix}")
        self.register_outputs({"url": self.url, "server": self.server})
