"""The Gitpod builds a cell can install, as data: which installer config schema each one loads, and what it can do.

Every fact here was read in gitpod-io/gitpod at the build's source revision (`git show <revision>:<path>`), and the
schema each build loads is generated from that revision's Go structs into tests/data/installer-schema/<version>.json
(tools/installer-schema). The renderer (components/gitpod/installer_config.py), the installer Job, the maintenance
mechanism and the config validator branch on these capabilities and on nothing else, so supporting a new build is a
new row here, a new schema file, and the tests that compare the two.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

# How maintenance pauses workspace starts and stops on a build (see contract.cluster and ops' maintenance):
#   mk2-lease         ws-manager-mk2 reads the lease itself (default/ws-manager-mk2-maintenance-mode) and refuses
#                     to start or stop workspaces until `enabledUntil`;
#   scale-ws-manager  the build's ws-manager (mk1) knows no maintenance mode: it is held at zero replicas while the
#                     lease runs (the server cannot reach it, so nothing starts, stops or takes a snapshot; running
#                     workspaces keep running), and an in-cluster CronJob gives it back its replicas once the lease
#                     has passed, whether or not the process that entered maintenance is still alive.
MaintenanceMechanism = Literal["mk2-lease", "scale-ws-manager"]
# How Gitpod's storage users reach the cell's object storage:
#   s3-static-key  the S3 API with a static key from a secret (`accessKeyId`, `secretAccessKey` files, minio-go),
#                  at any S3-compatible endpoint (AWS S3, GCS's XML API with an HMAC key, an on-premises store);
#   s3-ambient     the AWS SDK's default chain (IRSA web identity on EKS), no secret; AWS S3 only (no endpoint).
StorageAccess = Literal["s3-static-key", "s3-ambient"]


@dataclass(frozen=True)
class GitpodBuild:
    version: str
    installer_image: str
    # The gitpod-io/gitpod revision every fact below was read at, and its commit.
    source_revision: str
    source_commit: str
    released: str
    storage_access: StorageAccess
    maintenance: MaintenanceMechanism
    # The Deployment that starts and stops workspaces (the one scale-ws-manager holds at zero).
    workspace_manager: str
    # The ServiceAccounts of the workloads that read and write object storage (they mount the storage secret or
    # use the ambient identity), and of the workloads that push to / pull from the registry.
    storage_service_accounts: tuple[str, ...]
    registry_push_service_account: str
    registry_pull_service_account: str
    # workspace.runtime: the key naming containerd's socket, and its value on EKS/GKE nodes (containerd 1.7+).
    containerd_socket_key: Literal["containerdSocket", "containerdSocketDir"]
    containerd_socket: str
    # Whether the AWS SDK in the build knows EKS Pod Identity (aws-sdk-go-v2 config >= v1.26 / late 2023).
    aws_sdk_knows_pod_identity: bool
    note: str

    @property
    def keyless_object_storage(self) -> bool:
        return self.storage_access == "s3-ambient"

    @property
    def image_tag(self) -> str:
        return self.installer_image.rsplit(":", 1)[1]


# The 2022.11 self-hosted releases: what both load and do, read at 2022.11.3 (config.go:
# objectStorage.s3.credentials `validate:"required"`; common/storage.go: minio-go with AccessKeyIdFile /
# SecretAccessKeyFile from the mounted secret, an endpoint and single-bucket mode; no ws-manager-mk2, which first
# appeared in gitpod commit 25220bb3 (2023-03), and ws-manager (mk1) has no maintenance mode). release-2022.11.2
# loads the same installer config schema (tests/data/installer-schema).
_RELEASE_2022_11 = GitpodBuild(
    version="release-2022.11.3",
    installer_image="eu.gcr.io/gitpod-core-dev/build/installer:release-2022.11.3",
    source_revision="2022.11.3",
    source_commit="9ae8bfde2182c87b9a652f432c8061dce6994678",
    released="2023-06-05",
    storage_access="s3-static-key",
    maintenance="scale-ws-manager",
    workspace_manager="ws-manager",
    storage_service_accounts=("content-service", "ws-daemon", "ws-manager"),
    registry_push_service_account="image-builder-mk3",
    registry_pull_service_account="registry-facade",
    containerd_socket_key="containerdSocket",
    containerd_socket="/run/containerd/containerd.sock",
    aws_sdk_knows_pod_identity=False,
    note="the last official self-hosted release; object storage needs a static key",
)

SUPPORTED_BUILDS: dict[str, GitpodBuild] = {
    build.version: build
    for build in (
        # The tag's KOTS manifests (install/kots/manifests/gitpod-installer-job.yaml) run this installer image.
        replace(_RELEASE_2022_11, version="release-2022.11.2.16",
                installer_image="eu.gcr.io/gitpod-core-dev/build/installer:release-2022.11.2.16",
                source_revision="release-2022.11.2", source_commit="72e822c8dbc247382ff1e02032dec2231fe89698",
                released="2023-03-01", note="the self-hosted release before 2022.11.3 (an upgrade path to it)"),
        _RELEASE_2022_11,
        GitpodBuild(
            version="main-gha.13463",
            installer_image="eu.gcr.io/gitpod-core-dev/build/installer:main-gha.13463",
            source_revision="main-gha.13463",
            source_commit="8cfbf056541eefe7909915469ec6fd2e8ea7dd17",
            released="2023-07-13",
            # config.go: s3.credentials optional, s3.bucket required (gitpod commit 55a9abe1); content-service's
            # storage.go loads aws-sdk-go-v2 config v1.18.3's default chain (IRSA web identity, no Pod Identity).
            storage_access="s3-ambient",
            maintenance="mk2-lease",
            workspace_manager="ws-manager-mk2",
            storage_service_accounts=("content-service", "ws-daemon", "ws-manager-mk2"),
            registry_push_service_account="image-builder-mk3",
            registry_pull_service_account="registry-facade",
            containerd_socket_key="containerdSocketDir",
            containerd_socket="/run/containerd",
            aws_sdk_knows_pod_identity=False,
            note="a main-branch build of July 2023: keyless S3 on AWS, ws-manager-mk2 maintenance",
        ),
    )
}
DEFAULT_BUILD = "release-2022.11.3"


def supported_versions() -> str:
    return ", ".join(SUPPORTED_BUILDS)


# The image that applies what a build's installer rendered and keeps the maintenance lease of mk1 builds: it needs
# bash, kubectl, jq, yq (v4) and curl. The installer image of release-2022.11.3 is Alpine 3.16 with exactly those
# (install/installer/leeway.Dockerfile at 2022.11.3: `apk add bash curl jq openssh-keygen yq`, kubectl), and it is
# public; later installer images are distroless (cgr.dev/chainguard/helm) and only render.
TOOLBOX_IMAGE = SUPPORTED_BUILDS["release-2022.11.3"].installer_image
