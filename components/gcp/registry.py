"""Artifact Registry for the images Gitpod builds: one docker repository in the cell's region, CMEK-encrypted,
with cleanup policies that delete only untagged images and keep every tagged one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_gcp import artifactregistry

from components.component import stateful

UNTAGGED_IMAGE_DAYS = 14


def cleanup_policies(untagged_days: int) -> list[artifactregistry.RepositoryCleanupPolicyArgs]:
    """KEEP wins over DELETE in Artifact Registry, so tagged images (releases, workspace images in use) are kept
    whatever the other policy matches."""
    return [
        artifactregistry.RepositoryCleanupPolicyArgs(
            id="keep-tagged",
            action="KEEP",
            condition=artifactregistry.RepositoryCleanupPolicyConditionArgs(tag_state="TAGGED"),
        ),
        artifactregistry.RepositoryCleanupPolicyArgs(
            id="delete-untagged",
            action="DELETE",
            condition=artifactregistry.RepositoryCleanupPolicyConditionArgs(
                tag_state="UNTAGGED", older_than=f"{untagged_days * 86400}s"
            ),
        ),
    ]


@dataclass(frozen=True)
class RegistryArgs:
    repository_id: str
    project: str
    region: str
    encryption_key: pulumi.Input[str]
    # The Artifact Registry service agent's grant on the key: the repository cannot be created before it.
    encryption_key_grants: Sequence[pulumi.Resource]
    protect: bool
    labels: Mapping[str, str]
    provider: pulumi.ProviderResource


class ArtifactRegistry(pulumi.ComponentResource):
    repository: artifactregistry.Repository
    url: pulumi.Output[str]
    server: pulumi.Output[str]

    def __init__(self, name: str, args: RegistryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gitpod-cell:gcp:ArtifactRegistry", name, None, opts)
        self.repository = artifactregistry.Repository(
            name,
            repository_id=args.repository_id,
            location=args.region,
            format="DOCKER",
            description=f"Images built by Gitpod cell {name}",
            kms_key_name=args.encryption_key,
            docker_config=artifactregistry.RepositoryDockerConfigArgs(immutable_tags=False),
            cleanup_policy_dry_run=False,
            cleanup_policies=cleanup_policies(UNTAGGED_IMAGE_DAYS),
            labels=dict(args.labels),
            opts=stateful(self, args.protect, provider=args.provider, depends_on=list(args.encryption_key_grants)),
        )
        self.server = pulumi.Output.from_input(f"{args.region}-docker.pkg.dev")
        self.url = self.repository.repository_id.apply(
            lambda repository: f"{args.region}-docker.pkg.dev/{args.project}/{repository}"
        )
        self.register_outputs({"url": self.url, "server": self.server})
