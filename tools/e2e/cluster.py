"""One local cluster for `make e2e`: a local API server with cert-manager's CRDs and an existing ClusterIssuer (as
the cluster operator would have), the TEST-ONLY stand-in controller, and how a cell stack is pointed at it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools import crds, localkube
from tools.e2e.kubeapi import Api
from tools.e2e.project import Project
from tools.e2e.servers import DATABASE_USER, Database, ObjectStore, RegistryRoot, Tls
from tools.e2e.standin import StandIn

CLUSTER_ISSUER = "cell-issuer"


@dataclass
class LocalCluster:
    kube: localkube.LocalKube
    api: Api
    standin: StandIn

    @classmethod
    def start(cls, directory: Path) -> LocalCluster:
        kube = localkube.start(directory, tie_to_parent=True)
        try:
            crds.install_cert_manager(localkube.BIN_DIR / "kubectl", kube.kubeconfig_path,
                                      crds.pinned_cert_manager_version())
            api = Api(kube)
            # The cluster's own cert-manager issuer, which a cell on an existing cluster uses and never creates.
            api.create("/apis/cert-manager.io/v1/clusterissuers", {
                "apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer", "metadata": {"name": CLUSTER_ISSUER},
                "spec": {"selfSigned": {}}})
            standin = StandIn(api).start()
        except Exception:
            localkube.stop(directory)
            raise
        return cls(kube, api, standin)

    def stop(self) -> None:
        self.standin.stop()
        localkube.stop(self.kube.directory)

    def installation_record(self, namespace: str = "gitpod") -> dict[str, str]:
        found = self.api.get(f"/api/v1/namespaces/{namespace}/configmaps/gitpod-installation")
        return dict((found or {}).get("data") or {})


def point_stack_at(project: Project, stack: str, cluster: LocalCluster, database: Database, database_name: str,
                   store: ObjectStore, bucket: str, registry: RegistryRoot, tls: Tls) -> None:
    """Write the run's addresses and credentials into the project's copy of the stack file."""
    section = "gitpod-cell:kubernetes"
    plain: dict[str, Any] = {
        f"{section}.database.host": "127.0.0.1",
        f"{section}.database.port": database.port,
        f"{section}.database.name": database_name,
        f"{section}.database.username": DATABASE_USER,
        f"{section}.objectStorage.endpoint": store.endpoint,
        f"{section}.objectStorage.bucket": bucket,
        f"{section}.registry.server": registry.server_address,
        f"{section}.registry.url": f"{registry.server_address}/gitpod",
        f"{section}.registry.username": registry.username,
    }
    secret = {
        f"{section}.kubeconfig": cluster.kube.kubeconfig_path.read_text(),
        f"{section}.database.password": database.password,
        f"{section}.database.caPem": tls.ca_pem.decode(),
        f"{section}.objectStorage.accessKeyId": store.access_key_id,
        f"{section}.objectStorage.secretAccessKey": store.secret_access_key,
        f"{section}.registry.password": registry.password,
    }
    project.set_config(stack, plain)
    project.set_config(stack, secret, secret=True)
