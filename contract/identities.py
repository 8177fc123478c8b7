"""Which Kubernetes service account each of the cell's cloud identities belongs to.

Both clouds build one identity per entry (an IRSA role, or a Google service account usable through Workload
Identity), trusted by exactly that service account. Entries whose namespace is None live in Gitpod's namespace
(`gitpod-cell:gitpod.namespace`). The Gitpod workloads among them (`gitpod: True`) are the ones Gitpod's installer
renders the ServiceAccounts of, which the installer Job annotates.
"""

from __future__ import annotations

from dataclasses import dataclass


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

WORKLOAD_ACCOUNTS: dict[str, WorkloadAccount] = {
    "cert-manager": WorkloadAccount("cert-manager", "cert-manager", "DNS01 challenges in the cell's zone"),
    "external-dns": WorkloadAccount("external-dns", "external-dns", "records in the cell's zone"),
    "cluster-autoscaler": WorkloadAccount("cluster-autoscaler", "kube-system", "scale the node groups (EKS only)"),
    "gitpod-server-storage": WorkloadAccount("server", None, "object storage (workspace content)", gitpod=True),
    "gitpod-ws-daemon-storage": WorkloadAccount("ws-daemon", None, "object storage (workspace content)",
                                                gitpod=True),
    "gitpod-image-builder-registry": WorkloadAccount("image-builder-mk3", None, "push to the registry",
                                                     gitpod=True),
    "gitpod-registry-facade-registry": WorkloadAccount("registry-facade", None, "pull from the registry",
                                                       gitpod=True),
    "registry-credentials": WorkloadAccount(REGISTRY_CREDENTIALS_SERVICE_ACCOUNT, None,
                                            "mint short-lived registry tokens"),
}
# The ServiceAccounts Gitpod's installer renders that need a cloud identity.
GITPOD_SERVICE_ACCOUNTS: tuple[str, ...] = tuple(sorted({account.service_account for account in
                                                         WORKLOAD_ACCOUNTS.values() if account.gitpod}))


def account_of(workload: str, gitpod_namespace: str) -> tuple[str, str]:
    """(namespace, service account) of a workload in WORKLOAD_ACCOUNTS."""
    account = WORKLOAD_ACCOUNTS[workload]
    return account.namespace_in(gitpod_namespace), account.service_account
