"""A local HTTP double of exactly the Kubernetes API endpoints ops/cluster/kube.py uses.

    GET    /api/v1/namespaces/{ns}/configmaps/{name}
    POST   /api/v1/namespaces/{ns}/configmaps
    PATCH  /api/v1/namespaces/{ns}/configmaps/{name}        (application/merge-patch+json only; data, labels, and
                                                             metadata.resourceVersion as a precondition)
    GET    /apis/apps/v1/namespaces/{ns}/deployments         (?labelSelector=k=v[,k=v])
    GET    /apis/apps/v1/namespaces/{ns}/statefulsets
    GET    /api/v1/nodes                                     (ops/cluster_nodes.py, for preflight)

It answers like the API server does for these calls (Status objects on errors, 404 for an unknown namespace,
409 AlreadyExists, resourceVersion bumps and preconditions (409 Conflict), merge-patch semantics including `null`
deleting a key), optionally over
TLS with a bearer token or a client certificate, and can inject faults: fail the Nth request, fail requests
matching a method and path, or hang them until the client gives up. Anything else gets 404, so a client calling an
endpoint the double does not know fails loudly.
"""

from __future__ import annotations

import copy
import json
import re
import ssl
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_CONFIG_MAP = re.compile(r"^/api/v1/namespaces/([^/]+)/configmaps/([^/]+)$")
_CONFIG_MAPS = re.compile(r"^/api/v1/namespaces/([^/]+)/configmaps$")
_NODES = "/api/v1/nodes"
_WORKLOADS = re.compile(r"^/apis/apps/v1/namespaces/([^/]+)/(deployments|statefulsets)$")
# A hung request is released at the latest after this long, so a forgotten fault cannot wedge the test run.
_MAX_HANG_SECONDS = 5.0


@dataclass
class Fault:
    status: int | None  # None: hang instead of answering
    method: str | None = None
    path_contains: str | None = None
    request_number: int | None = None  # fail exactly the Nth request the double receives (1-based)
    times: int = 1

    def matches(self, number: int, method: str, path: str) -> bool:
        if self.times <= 0:
            return False
        if self.request_number is not None:
            return number == self.request_number
        return (self.method is None or self.method == method) and (
            self.path_contains is None or self.path_contains in path
        )


@dataclass
class RecordedRequest:
    number: int
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class KubeDouble:
    def __init__(
        self,
        *,
        # Every real cluster has `default`; ws-manager-mk2 reads its maintenance ConfigMap from there.
        namespaces: tuple[str, ...] = ("gitpod", "default"),
        token: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.namespaces = set(namespaces)
        self.token = token
        self.config_maps: dict[tuple[str, str], dict[str, Any]] = {}
        self.workloads: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}  # (ns, resource) -> name -> object
        self.nodes: dict[str, dict[str, Any]] = {}
        self.requests: list[RecordedRequest] = []
        self.faults: list[Fault] = []
        # Called with (method, path) before each workload list is answered: lets a test evolve state per poll.
        self.before_list: Callable[[str, str], None] | None = None
        self._lock = threading.Lock()
        self._resource_version = 0
        self._release_hangs = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        if ssl_context is not None:
            self._server.socket = ssl_context.wrap_socket(self._server.socket, server_side=True)
        self.scheme = "https" if ssl_context is not None else "http"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="kube-double", daemon=True
        )

    # -- lifecycle ----------------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{self.scheme}://{host}:{port}"

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> KubeDouble:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release_hangs.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def kubeconfig(self, *, token: str | None = None, ca_data: str | None = None, namespace: str = "gitpod") -> dict:
        cluster: dict[str, Any] = {"server": self.url}
        if ca_data:
            cluster["certificate-authority-data"] = ca_data
        user = {"token": token} if token else {}
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "double", "cluster": cluster}],
            "users": [{"name": "double", "user": user}],
            "contexts": [{"name": "double", "context": {"cluster": "double", "user": "double",
                                                        "namespace": namespace}}],
            "current-context": "double",
        }

    # -- fault injection ----------------------------------------------------------------------------------------

    def fail_request(self, number: int, status: int = 500) -> None:
        """Fail the Nth request counted from the double's start (see `request_count`)."""
        self.faults.append(Fault(status, request_number=number))

    def fail_next(self, count: int = 1, status: int = 500) -> None:
        """Fail the next `count` requests, whatever they are."""
        self.faults.append(Fault(status, times=count))

    def fail_when(self, method: str, path_contains: str, status: int = 500, times: int = 1) -> None:
        self.faults.append(Fault(status, method, path_contains, times=times))

    def hang_when(self, method: str, path_contains: str, times: int = 1) -> None:
        """Accept the request and never answer (until stop or 5 s): the client must time out."""
        self.faults.append(Fault(None, method, path_contains, times=times))

    @property
    def request_count(self) -> int:
        return len(self.requests)

    # -- state --------------------------------------------------------------------------------------------------

    def config_map_data(self, namespace: str, name: str) -> dict[str, str] | None:
        with self._lock:
            stored = self.config_maps.get((namespace, name))
            return dict(stored["data"]) if stored else None

    def config_map_labels(self, namespace: str, name: str) -> dict[str, str] | None:
        with self._lock:
            stored = self.config_maps.get((namespace, name))
            return dict(stored["metadata"].get("labels") or {}) if stored else None

    def put_config_map(self, namespace: str, name: str, data: dict[str, str],
                       labels: dict[str, str] | None = None) -> None:
        with self._lock:
            stored = self._new_object("ConfigMap", "v1", namespace, name, data=dict(data))
            stored["metadata"]["labels"] = dict(labels or {})
            self.config_maps[(namespace, name)] = stored

    def config_map_names(self, name: str) -> list[tuple[str, str]]:
        """Every (namespace, name) holding a ConfigMap called `name`: to prove one was written nowhere else."""
        with self._lock:
            return sorted(key for key in self.config_maps if key[1] == name)

    def ws_manager_maintenance(self) -> dict[str, Any] | None:
        """The maintenance config exactly as ws-manager-mk2 sees it: ConfigMap `ws-manager-mk2-maintenance-mode` in
        namespace `default` (its hard-coded key), and only if labelled `gitpod.io/maintenanceConfig: "true"` (its
        informer cache filters on that label); `config.json` parsed. None: ws-manager-mk2 sees no maintenance."""
        with self._lock:
            stored = self.config_maps.get(("default", "ws-manager-mk2-maintenance-mode"))
            if stored is None or (stored["metadata"].get("labels") or {}).get("gitpod.io/maintenanceConfig") != "true":
                return None
            raw = stored["data"].get("config.json")
        return json.loads(raw) if raw else None

    def put_deployment(self, namespace: str, name: str, **state: Any) -> None:
        self._put_workload("deployments", "Deployment", namespace, name, **state)

    def put_stateful_set(self, namespace: str, name: str, **state: Any) -> None:
        self._put_workload("statefulsets", "StatefulSet", namespace, name, **state)

    def put_node(
        self,
        name: str,
        *,
        labels: dict[str, str] | None = None,
        kernel_version: str = "6.1.112-124.190.amzn2023.x86_64",
        container_runtime_version: str = "containerd://1.7.22",
        kubelet_version: str = "v1.33.5-eks-113cf36",
    ) -> None:
        node_info = {"kernelVersion": kernel_version, "containerRuntimeVersion": container_runtime_version,
                     "kubeletVersion": kubelet_version, "osImage": "Amazon Linux 2023", "architecture": "amd64"}
        with self._lock:
            self._resource_version += 1
            self.nodes[name] = {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {"name": name, "labels": dict(labels or {}),
                             "resourceVersion": str(self._resource_version)},
                "status": {"nodeInfo": node_info},
            }

    def _put_workload(
        self,
        resource: str,
        kind: str,
        namespace: str,
        name: str,
        *,
        replicas: int | None = 1,
        ready: int | None = None,
        updated: int | None = None,
        generation: int = 1,
        observed_generation: int | None = None,
        labels: dict[str, str] | None = None,
        update_strategy: dict[str, Any] | None = None,
    ) -> None:
        spec: dict[str, Any] = {} if replicas is None else {"replicas": replicas}
        if update_strategy is not None:
            spec["updateStrategy"] = update_strategy
        desired = 1 if replicas is None else replicas
        status: dict[str, Any] = {
            "observedGeneration": generation if observed_generation is None else observed_generation,
            "replicas": desired,
        }
        # The API server omits zero counts from status, as here.
        for key, value in (("readyReplicas", desired if ready is None else ready),
                           ("updatedReplicas", desired if updated is None else updated)):
            if value:
                status[key] = value
        with self._lock:
            obj = self._new_object(kind, "apps/v1", namespace, name, spec=spec, status=status)
            obj["metadata"]["generation"] = generation
            obj["metadata"]["labels"] = dict(labels or {})
            self.workloads.setdefault((namespace, resource), {})[name] = obj

    def _new_object(self, kind: str, api_version: str, namespace: str, name: str, **body: Any) -> dict[str, Any]:
        self._resource_version += 1
        return {
            "apiVersion": api_version,
            "kind": kind,
            "metadata": {"name": name, "namespace": namespace, "resourceVersion": str(self._resource_version)},
            **body,
        }

    # -- request handling (called from server threads) ----------------------------------------------------------

    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any] | None:
        parsed = urllib.parse.urlsplit(raw_path)
        path = parsed.path
        query = dict(urllib.parse.parse_qsl(parsed.query))
        try:
            decoded = json.loads(body) if body else None
        except ValueError:
            decoded = body.decode(errors="replace")
        with self._lock:
            number = len(self.requests) + 1
            self.requests.append(RecordedRequest(number, method, path, query, decoded, headers))
            fault = next((f for f in self.faults if f.matches(number, method, path)), None)
            if fault is not None:
                fault.times -= 1
        if fault is not None:
            if fault.status is None:
                self._release_hangs.wait(_MAX_HANG_SECONDS)
                return None
            return fault.status, _status(fault.status, "InternalError", f"injected fault on request {number}")
        if self.token is not None and headers.get("authorization") != f"Bearer {self.token}":
            return 401, _status(401, "Unauthorized", "Unauthorized")
        if path == _NODES and method == "GET":
            with self._lock:
                items = [copy.deepcopy(node) for node in self.nodes.values()]
            return 200, {"apiVersion": "v1", "kind": "NodeList", "metadata": {}, "items": items}
        if (match := _WORKLOADS.match(path)) and method == "GET":
            if self.before_list is not None:
                self.before_list(method, path)
            return self._list(match.group(1), match.group(2), query.get("labelSelector"))
        if (match := _CONFIG_MAPS.match(path)) and method == "POST":
            return self._create_config_map(match.group(1), decoded)
        if match := _CONFIG_MAP.match(path):
            namespace, name = match.groups()
            if method == "GET":
                return self._get_config_map(namespace, name)
            if method == "PATCH":
                if headers.get("content-type") != "application/merge-patch+json":
                    return 415, _status(415, "UnsupportedMediaType", "only merge patches are supported here")
                return self._patch_config_map(namespace, name, decoded)
        return 404, _status(404, "NotFound", f"the double does not serve {method} {path}")

    def _list(self, namespace: str, resource: str, selector: str | None) -> tuple[int, Any]:
        wanted = dict(part.split("=", 1) for part in selector.split(",")) if selector else {}
        with self._lock:
            items = [copy.deepcopy(obj) for obj in self.workloads.get((namespace, resource), {}).values()
                     if all(obj["metadata"]["labels"].get(k) == v for k, v in wanted.items())]
        kind = "DeploymentList" if resource == "deployments" else "StatefulSetList"
        return 200, {"apiVersion": "apps/v1", "kind": kind, "metadata": {}, "items": items}

    def _get_config_map(self, namespace: str, name: str) -> tuple[int, Any]:
        with self._lock:
            stored = self.config_maps.get((namespace, name))
            if stored is None:
                return 404, _status(404, "NotFound", f'configmaps "{name}" not found')
            return 200, copy.deepcopy(stored)

    def _create_config_map(self, namespace: str, body: Any) -> tuple[int, Any]:
        if namespace not in self.namespaces:
            return 404, _status(404, "NotFound", f'namespaces "{namespace}" not found')
        if not isinstance(body, dict) or body.get("kind") != "ConfigMap":
            return 400, _status(400, "BadRequest", "expected a ConfigMap")
        name = body["metadata"]["name"]
        with self._lock:
            if (namespace, name) in self.config_maps:
                return 409, _status(409, "AlreadyExists", f'configmaps "{name}" already exists')
            stored = self._new_object("ConfigMap", "v1", namespace, name, data=dict(body.get("data") or {}))
            stored["metadata"]["labels"] = dict(body["metadata"].get("labels") or {})
            self.config_maps[(namespace, name)] = stored
            return 201, copy.deepcopy(stored)

    def _patch_config_map(self, namespace: str, name: str, patch: Any) -> tuple[int, Any]:
        with self._lock:
            stored = self.config_maps.get((namespace, name))
            if stored is None:
                return 404, _status(404, "NotFound", f'configmaps "{name}" not found')
            metadata = (patch or {}).get("metadata") or {}
            expected = metadata.get("resourceVersion")
            if expected is not None and expected != stored["metadata"]["resourceVersion"]:
                return 409, _status(409, "Conflict", f'Operation cannot be fulfilled on configmaps "{name}": the '
                                    "object has been modified; please apply your changes to the latest version")
            for target, changes in ((stored["data"], (patch or {}).get("data") or {}),
                                    (stored["metadata"].setdefault("labels", {}), metadata.get("labels") or {})):
                for key, value in changes.items():
                    if value is None:
                        target.pop(key, None)
                    else:
                        target[key] = value
            self._resource_version += 1
            stored["metadata"]["resourceVersion"] = str(self._resource_version)
            return 200, copy.deepcopy(stored)


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message, "reason": reason,
            "code": code}


def _handler_for(double: KubeDouble) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {key.lower(): value for key, value in self.headers.items()}
            answer = double.handle(self.command, self.path, headers, body)
            if answer is None:
                self.close_connection = True
                return
            status, payload = answer
            encoded = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(encoded)))
            self.end_headers()
            self.wfile.write(encoded)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # the base class's signature
            pass

    return Handler
