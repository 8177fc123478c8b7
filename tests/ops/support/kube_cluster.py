"""The real local API server (tests/kube_server.py) as the ops/ tests use it: one namespace of their own, the objects
they need put there as a cell would have them, and read back exactly as stored.

No controller runs, so a Deployment's or StatefulSet's status is what `put_deployment`/`put_stateful_set` write
through the status subresource, as the controller would (the server validates it: ready <= replicas and so on);
Nodes are created with `status.nodeInfo`, as a kubelet registers them. Cluster-wide state is reset per test by the
`cluster` fixture (tests/ops/conftest.py): the maintenance lease in `default` (where ws-manager-mk2 reads it, fixed)
and the Nodes. Each xdist worker has its own server and runs one test at a time, so that reset isolates tests.
"""

from __future__ import annotations

import base64
import http.client
import json
import threading
import urllib.parse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from contract.cluster import MK2_MAINTENANCE_CONFIG_MAP, MK2_MAINTENANCE_LABEL, MK2_MAINTENANCE_NAMESPACE
from tests.kube_server import KubeApiError, KubeApiServer

TEST_FIELD_MANAGER = "gitpod-cell-tests"
# Bumped to make the server count a new spec generation (any template change does).
GENERATION_ANNOTATION = "tests.gitpod-cell.io/spec-version"
IMAGE = "registry.invalid/gitpod/app:1"
MERGE_PATCH = "application/merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"


class _KeepAlive:
    """One persistent cluster-admin connection per server for the tests' own setup calls: a TLS handshake with a
    client certificate costs more than the call itself, and a test makes dozens. (The code under test keeps its own
    connection-per-request client.)"""

    def __init__(self, api: KubeApiServer) -> None:
        self._api = api
        self._lock = threading.Lock()
        self._connection: http.client.HTTPSConnection | None = None

    def request(self, method: str, path: str, body: Any = None, query: Mapping[str, str] | None = None,
                content_type: str = "application/json") -> dict[str, Any]:
        target = path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        headers = {"Accept": "application/json"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = content_type
        with self._lock:
            for attempt in (1, 2):
                connection = self._connect()
                try:
                    connection.request(method, target, body=payload, headers=headers)
                    response = connection.getresponse()
                    raw = response.read()
                    break
                except (OSError, http.client.HTTPException):
                    # The server closed an idle connection: open a new one, once.
                    connection.close()
                    self._connection = None
                    if attempt == 2:
                        raise
        document = json.loads(raw) if raw.strip().startswith(b"{") else {"message": raw.decode(errors="replace")}
        if response.status >= 400:
            raise KubeApiError(method, target, response.status, document)
        return dict(document)

    def _connect(self) -> http.client.HTTPSConnection:
        if self._connection is None:
            url = urllib.parse.urlsplit(self._api.server_url)
            self._connection = http.client.HTTPSConnection(url.hostname or "127.0.0.1", url.port,
                                                           context=self._api.kube.ssl_context(), timeout=60)
        return self._connection


_KEEP_ALIVE: dict[str, _KeepAlive] = {}


class KubeCluster:
    """One test's view of the worker's API server."""

    def __init__(self, api: KubeApiServer, prefix: str = "ops") -> None:
        self.api = api
        self._http = _KEEP_ALIVE.setdefault(api.server_url, _KeepAlive(api))
        # Every namespace this test wrote into: where config_map_names looks.
        self.namespaces = {MK2_MAINTENANCE_NAMESPACE}
        self._nodes: set[str] = set()
        self._nodes_reset = False
        self.namespace = self.create_namespace(prefix)

    # -- connection ---------------------------------------------------------------------------------------------

    @property
    def kubeconfig_path(self) -> Path:
        """cluster-admin (system:masters) by client certificate."""
        return self.api.kubeconfig_path

    @property
    def server_url(self) -> str:
        return self.api.server_url

    @property
    def ca_pem(self) -> bytes:
        return self.api.kube.ca_path.read_bytes()

    def kubeconfig_text(self) -> str:
        return self.kubeconfig_path.read_text()

    def token_kubeconfig(self, token: str, *, with_ca: bool = True, namespace: str | None = None) -> dict[str, Any]:
        """A kubeconfig that authenticates with `token` alone (no client certificate)."""
        cluster: dict[str, Any] = {"server": self.server_url}
        if with_ca:
            cluster["certificate-authority-data"] = base64.b64encode(self.ca_pem).decode()
        context: dict[str, Any] = {"cluster": "local", "user": "token"}
        if namespace:
            context["namespace"] = namespace
        return {"apiVersion": "v1", "kind": "Config", "current-context": "local",
                "clusters": [{"name": "local", "cluster": cluster}],
                "users": [{"name": "token", "user": {"token": token}}],
                "contexts": [{"name": "local", "context": context}]}

    def request(self, method: str, path: str, body: Any = None, query: Mapping[str, str] | None = None,
                content_type: str = "application/json") -> dict[str, Any]:
        """One call as cluster-admin over the worker's kept-alive connection; an error status raises
        KubeApiError."""
        return self._http.request(method, path, body, query, content_type)

    def create_namespace(self, prefix: str = "ops") -> str:
        """A namespace of the test's own (never deleted: no namespace controller runs to finish it)."""
        namespace = self.api.create_namespace(prefix)
        self.namespaces.add(namespace)
        return namespace

    def ensure_namespace(self, name: str) -> str:
        self.api.ensure_namespace(name)
        self.namespaces.add(name)
        return name

    # -- identities ---------------------------------------------------------------------------------------------

    def service_account_token(self, name: str, namespace: str | None = None,
                              rules: Sequence[Mapping[str, Any]] = ()) -> str:
        """A ServiceAccount in `namespace` (default: the test's) holding exactly `rules` there (a Role and its
        RoleBinding; none: no rights at all), and a TokenRequest token for it, as a pod's projected token."""
        namespace = namespace or self.namespace
        base = f"/api/v1/namespaces/{namespace}/serviceaccounts"
        self._create(base, {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}})
        if rules:
            rbac = f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}"
            self._create(f"{rbac}/roles", {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                                           "metadata": {"name": name}, "rules": [dict(rule) for rule in rules]})
            self._create(f"{rbac}/rolebindings", {
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": name},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
                "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}]})
        return self.token_for(name, namespace)

    def token_for(self, service_account: str, namespace: str) -> str:
        issued = self.request("POST", f"/api/v1/namespaces/{namespace}/serviceaccounts/{service_account}/token",
                                  {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                                   "spec": {"expirationSeconds": 3600}})
        return str(issued["status"]["token"])

    def _create(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self.request("POST", path, dict(body))

    # -- ConfigMaps ---------------------------------------------------------------------------------------------

    def put_config_map(self, namespace: str, name: str, data: Mapping[str, str],
                       labels: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Create the ConfigMap, or replace it whole (data and labels) if it exists."""
        self.namespaces.add(namespace)
        body = {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": name, "namespace": namespace, "labels": dict(labels or {})},
                "data": dict(data)}
        try:
            return self.request("POST", f"/api/v1/namespaces/{namespace}/configmaps", body)
        except KubeApiError as error:
            if error.status != 409:
                raise
        return self.request("PUT", _config_map_path(namespace, name), body)

    def config_map(self, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            return self.request("GET", _config_map_path(namespace, name))
        except KubeApiError as error:
            if error.status == 404:
                return None
            raise

    def config_map_data(self, namespace: str, name: str) -> dict[str, str] | None:
        stored = self.config_map(namespace, name)
        return dict(stored.get("data") or {}) if stored is not None else None

    def config_map_labels(self, namespace: str, name: str) -> dict[str, str] | None:
        stored = self.config_map(namespace, name)
        return dict(stored["metadata"].get("labels") or {}) if stored is not None else None

    def resource_version(self, namespace: str, name: str) -> str | None:
        stored = self.config_map(namespace, name)
        return str(stored["metadata"]["resourceVersion"]) if stored is not None else None

    def config_map_names(self, name: str) -> list[tuple[str, str]]:
        """Every (namespace, name) among the test's namespaces and `default` holding a ConfigMap called `name`:
        to prove one was written nowhere else."""
        found = []
        for namespace in sorted(self.namespaces):
            listing = self.request("GET", f"/api/v1/namespaces/{namespace}/configmaps",
                                       query={"fieldSelector": f"metadata.name={name}"})
            found += [(namespace, name) for _ in listing.get("items") or []]
        return found

    def delete_config_map(self, namespace: str, name: str) -> None:
        try:
            self.request("DELETE", _config_map_path(namespace, name))
        except KubeApiError as error:
            if error.status != 404:
                raise

    def ws_manager_maintenance(self) -> dict[str, Any] | None:
        """The maintenance config as ws-manager-mk2 finds it: its informer lists ConfigMaps in `default` labelled
        `gitpod.io/maintenanceConfig: "true"` (the server filters), and reads `config.json` of the one named
        `ws-manager-mk2-maintenance-mode`. None: ws-manager-mk2 sees no maintenance."""
        listing = self.request("GET", f"/api/v1/namespaces/{MK2_MAINTENANCE_NAMESPACE}/configmaps",
                                   query={"labelSelector": f"{MK2_MAINTENANCE_LABEL}=true"})
        for item in listing.get("items") or []:
            if item["metadata"]["name"] == MK2_MAINTENANCE_CONFIG_MAP:
                raw = (item.get("data") or {}).get("config.json")
                return json.loads(raw) if raw else None
        return None

    def clear_maintenance_lease(self) -> None:
        self.delete_config_map(MK2_MAINTENANCE_NAMESPACE, MK2_MAINTENANCE_CONFIG_MAP)

    # -- workloads ----------------------------------------------------------------------------------------------

    def put_deployment(self, namespace: str, name: str, **state: Any) -> dict[str, Any]:
        return self._put_workload("Deployment", "deployments", namespace, name, **state)

    def put_stateful_set(self, namespace: str, name: str, **state: Any) -> dict[str, Any]:
        return self._put_workload("StatefulSet", "statefulsets", namespace, name, **state)

    def _put_workload(
        self,
        kind: str,
        plural: str,
        namespace: str,
        name: str,
        *,
        replicas: int | None = 1,
        ready: int | None = None,
        updated: int | None = None,
        generation: int | None = None,
        observed_generation: int | None = None,
        labels: Mapping[str, str] | None = None,
        update_strategy: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Server-side apply of the spec (`replicas=None` leaves it to the server's default), spec changes until
        metadata.generation reaches `generation`, then the status a controller would write: observedGeneration
        (default: caught up), replicas, ready and updated (default: all of them)."""
        self.namespaces.add(namespace)
        pods = {"app.kubernetes.io/name": name}
        spec: dict[str, Any] = {
            "selector": {"matchLabels": pods},
            "template": {"metadata": {"labels": pods}, "spec": {"containers": [{"name": "app", "image": IMAGE}]}},
        }
        if replicas is not None:
            spec["replicas"] = replicas
        if kind == "StatefulSet":
            spec["serviceName"] = name
            if update_strategy is not None:
                spec["updateStrategy"] = dict(update_strategy)
        manifest = {"apiVersion": "apps/v1", "kind": kind,
                    "metadata": {"name": name, "namespace": namespace, "labels": dict(labels or {})}, "spec": spec}
        path = f"/apis/apps/v1/namespaces/{namespace}/{plural}/{name}"
        stored = self.request("PATCH", path, manifest, {"fieldManager": TEST_FIELD_MANAGER, "force": "true"},
                              content_type=APPLY_PATCH)
        while generation is not None and stored["metadata"]["generation"] < generation:
            bump = {"spec": {"template": {"metadata": {"annotations": {
                GENERATION_ANNOTATION: str(stored["metadata"]["generation"] + 1)}}}}}
            stored = self.request("PATCH", path, bump, content_type=MERGE_PATCH)
        if generation is not None and stored["metadata"]["generation"] != generation:
            raise ValueError(f"{kind} {namespace}/{name} is already at generation {stored['metadata']['generation']}")
        desired = int(stored["spec"]["replicas"])
        ready_count = desired if ready is None else ready
        status = {
            "observedGeneration": stored["metadata"]["generation"] if observed_generation is None
            else observed_generation,
            "replicas": desired,
            "readyReplicas": ready_count,
            "availableReplicas": ready_count,
            "updatedReplicas": desired if updated is None else updated,
        }
        return self.request("PATCH", f"{path}/status", {"status": status}, content_type=MERGE_PATCH)

    # -- nodes --------------------------------------------------------------------------------------------------

    def put_node(
        self,
        name: str,
        *,
        labels: Mapping[str, str] | None = None,
        kernel_version: str = "6.1.112-124.190.amzn2023.x86_64",
        container_runtime_version: str = "containerd://1.7.22",
        kubelet_version: str = "v1.33.5-eks-113cf36",
    ) -> dict[str, Any]:
        """A Node as a kubelet registers it (status.nodeInfo set on create). The first one in a test removes every
        Node left on the server, so the cluster has exactly the test's Nodes."""
        if not self._nodes_reset:
            self.delete_nodes()
            self._nodes_reset = True
        node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": dict(labels or {})},
                "status": {"nodeInfo": {"kernelVersion": kernel_version,
                                        "containerRuntimeVersion": container_runtime_version,
                                        "kubeletVersion": kubelet_version, "osImage": "Amazon Linux 2023",
                                        "operatingSystem": "linux", "architecture": "amd64"}}}
        if name in self._nodes:
            self.request("DELETE", f"/api/v1/nodes/{name}")
        self._nodes.add(name)
        return self.request("POST", "/api/v1/nodes", node)

    def delete_nodes(self) -> None:
        self.request("DELETE", "/api/v1/nodes")
        self._nodes.clear()

    # -- per test -----------------------------------------------------------------------------------------------

    def reset_cluster_wide_state(self) -> None:
        """What is not in the test's own namespace: the lease where ws-manager-mk2 reads it, and the Nodes."""
        self.clear_maintenance_lease()
        if self._nodes or self._nodes_reset:
            self.delete_nodes()


def _config_map_path(namespace: str, name: str) -> str:
    return f"/api/v1/namespaces/{namespace}/configmaps/{urllib.parse.quote(name, safe='')}"
