"""Which Kubernetes service account each of the cell's cloud identities belongs to.

Both clouds build one identity per entry, trusted by exactly that service account: an IRSA role on AWS, a Google
service account (Workload Identity) for the add-ons on GCP, and IAM granted straight to the Kubernetes service
account's principal for Gitpod's own workloads on GCP. Entries whose namespace is None live in Gitpod's namespace
(`gitpod-cell:gitpod.namespace`).

Gitpod's own workloads (`gitpod=True`) depend on the pinned build (contract.gitpod_builds): the storage users
need an identity only on builds that reach S3 with their ambient credentials, and their ServiceAccounts are
rendered by Gitpod's installer, which drops ServiceAccount customizations; the installer Job writes the identity's
annotations onto the rendered ServiceAccounts before it applies them.
"""

from __future__ import annotations

from dataclasses import dataclass

from contract.gitpod_builds import GitpodBuild


@dataclass(frozen=True)
class WorkloadAccount:
    service_account: str
    # None: Gitpod's namespace.
    namespace: str | None
    # What the identity may do, in words (each cloud turns it into grants).
    purpose: str
    # Rendered by Gitpod's installer (not by this program).
    gitpod: bool = False

    def namespace_in(self, gitpod_namespace: str) -> str:
        return self.namespace or gitpod_namespace


# The service account the registry-credential refresher runs as, in Gitpod's namespace.
REGISTRY_CREDENTIALS_SERVICE_ACCOUNT = "registry-credentials"

# The identities of what this program installs itself (add-ons and the registry refresher).
PLATFORM_ACCOUNTS: dict[str, WorkloadAccount] = {
    "cert-manager": WorkloadAccount("cert-manager", "cert-manager", "DNS01 challenges in the cell's zone"),
    "external-dns": WorkloadAccount("external-dns", "external-dns", "records in the cell's zone"),
    "cluster-autoscaler": WorkloadAccount("cluster-autoscaler", "kube-system", "scale the node groups (EKS only)"),
    "registry-credentials": WorkloadAccount(REGISTRY_CREDENTIALS_SERVICE_ACCOUNT, None,
                                            "mint short-lived registry tokens"),
}
STORAGE = "object storage (workspace content)"
# Gitpod's `server`: one of the four accounts Gitpod's installer has customizations for, but on every supported build
# its config has no storage settings (it reaches workspace content through content-service) and it reads the
# database and registry from Secrets, so it needs no cloud identity; the plan says so rather than leave it out.
SERVER_SERVICE_ACCOUNT = "server"
REGISTRY_PUSH = "push to the registry"
REGISTRY_PULL = "pull from the registry"


def gitpod_accounts(build: GitpodBuild) -> dict[str, WorkloadAccount]:
    """The identities of Gitpod's own workloads on `build`, keyed `gitpod-<service account>-<what>`."""
    accounts = {
        "gitpod-image-builder-registry": WorkloadAccount(build.registry_push_service_account, None, REGISTRY_PUSH,
                                                         gitpod=True),
        "gitpod-registry-facade-registry": WorkloadAccount(build.registry_pull_service_account, None, REGISTRY_PULL,
                                                           gitpod=True),
    }
    if build.keyless_object_storage:
        accounts.update({f"gitpod-{account}-storage": WorkloadAccount(account, None, STORAGE, gitpod=True)
                         for account in build.storage_service_accounts})
    return accounts


def workload_accounts(build: GitpodBuild) -> dict[str, WorkloadAccount]:
    return {**PLATFORM_ACCOUNTS, **gitpod_accounts(build)}


def account_of(workload: str, gitpod_namespace: str, build: GitpodBuild) -> tuple[str, str]:
    """(namespace, service account) of a workload of `workload_accounts(build)`."""
    account = workload_accounts(build)[workload]
    return account.namespace_in(gitpod_namespace), account.service_account
