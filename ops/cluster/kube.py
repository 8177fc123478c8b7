"""A minimal Kubernetes REST client for exactly the endpoints ops/ uses.

Endpoints: read, create and merge-patch a ConfigMap; list Deployments and StatefulSets in a namespace. Nothing
else, so a real cluster needs only these RBAC verbs: configmaps get/create/patch, deployments and statefulsets list.
(The tests run all of it against a real kube-apiserver: tests/ops/support/kube_cluster.py.)

Credentials come from a kubeconfig or the in-cluster service account (ops.cluster.kubeconfig). Only the standard
library is used: `http.client` talks to exactly the configured server, without environment proxy handling that
could send a request somewhere else.
"""

from __future__ import annotations

import http.client
import json
import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ops.cluster.kubeconfig import (
    ClusterConnection,
    KubeConfigError,
    connection_from_kubeconfig,
    in_cluster_connection,
    kubeconfig_paths_from_env,
    load_kubeconfig,
    parse_kubeconfig_text,
)

__all__ = ["ClusterConnection", "KubeApi", "KubeClient", "KubeConfigError", "KubeConflict", "KubeError",
           "KubeNotFound", "KubeUnavailable"]

DEFAULT_TIMEOUT_SECONDS = 30.0
FIELD_MANAGER = "gitpod-cell-ops"


class KubeError(Exception):
    """A Kubernetes API request failed. `status` is the HTTP status, or None when no response arrived."""

    def __init__(self, method: str, path: str, status: int | None, reason: str, message: str) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.reason = reason
        self.message = message
        status_text = f"HTTP {status} {reason}" if status is not None else reason
        super().__init__(f"{method} {path}: {status_text}: {message}")

    @property
    def is_transient(self) -> bool:
        """Worth retrying later: no response, throttled, or a server-side error."""
        return self.status is None or self.status == 429 or self.status >= 500


class KubeNotFound(KubeError):
    """HTTP 404: the object (or its namespace) does not exist."""


class KubeConflict(KubeError):
    """HTTP 409: the object already exists, or was changed by someone else."""


class KubeUnavailable(KubeError):
    """No HTTP response: connection refused, TLS failure, or the request timed out."""

    def __init__(self, method: str, path: str, message: str) -> None:
        super().__init__(method, path, None, "unavailable", message)


@dataclass(frozen=True)
class ConfigMap:
    namespace: str
    name: str
    data: Mapping[str, str]
    resource_version: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WorkloadStatus:
    """The rollout-relevant fields of a Deployment or StatefulSet, with Kubernetes' defaults applied."""

    kind: str
    namespace: str
    name: str
    generation: int
    observed_generation: int
    desired_replicas: int
    ready_replicas: int
    updated_replicas: int
    # Replicas that must run the newest template: all of them, fewer under a StatefulSet partition, and none
    # checked for a StatefulSet with the OnDelete strategy (it never updates pods by itself).
    expected_updated_replicas: int


@dataclass(frozen=True)
class DeploymentScale:
    """A Deployment's desired replicas and its annotations (what pausing the workspace manager reads)."""

    namespace: str
    name: str
    replicas: int
    annotations: Mapping[str, str]


class KubeApi(Protocol):
    """What ops/ needs from Kubernetes; KubeClient implements it, tests may substitute their own."""

    def get_config_map(self, namespace: str, name: str) -> ConfigMap: ...

    def create_config_map(
        self, namespace: str, name: str, data: Mapping[str, str], labels: Mapping[str, str] | None = None
    ) -> ConfigMap: ...

    def patch_config_map_data(
        self, namespace: str, name: str, data: Mapping[str, str], *, labels: Mapping[str, str] | None = None,
        resource_version: str | None = None,
    ) -> ConfigMap: ...

    def list_deployments(self, namespace: str, label_selector: str | None = None) -> list[WorkloadStatus]: ...

    def list_stateful_sets(self, namespace: str, label_selector: str | None = None) -> list[WorkloadStatus]: ...

    def get_deployment_scale(self, namespace: str, name: str) -> DeploymentScale: ...

    def scale_deployment(self, namespace: str, name: str, replicas: int,
                         annotations: Mapping[str, str | None] | None = None) -> DeploymentScale: ...


class KubeClient:
    """KubeApi over HTTP(S). One connection per request: ops/ makes a handful of calls, not a stream of them."""

    def __init__(
        self,
        connection: ClusterConnection,
        *,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        field_manager: str = FIELD_MANAGER,
    ) -> None:
        parsed = urllib.parse.urlsplit(connection.server)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise KubeConfigError(f"server {connection.server!r} is not an http(s) URL")
        self.connection = connection
        self.timeout_seconds = timeout_seconds
        self.field_manager = field_manager
        self._scheme = parsed.scheme
        self._host = parsed.hostname
        self._port = parsed.port
        # Some API servers sit behind a path prefix (e.g. Rancher's /k8s/clusters/<id>).
        self._base_path = parsed.path.rstrip("/")

    @classmethod
    def from_kubeconfig(
        cls, path: str | Path | None = None, context: str | None = None, **options: Any
    ) -> KubeClient:
        return cls(load_kubeconfig(path, context), **options)

    @classmethod
    def from_kubeconfig_text(cls, text: str, context: str | None = None, **options: Any) -> KubeClient:
        return cls(connection_from_kubeconfig(parse_kubeconfig_text(text), context, Path.cwd()), **options)

    @classmethod
    def in_cluster(cls, **options: Any) -> KubeClient:
        return cls(in_cluster_connection(), **options)

    @classmethod
    def from_environment(
        cls, kubeconfig: str | Path | None = None, context: str | None = None, **options: Any
    ) -> KubeClient:
        """As client-go decides: an explicit kubeconfig, else $KUBECONFIG, else ~/.kube/config if it exists, else
        the in-cluster service account."""
        use_in_cluster = (
            kubeconfig is None
            and not kubeconfig_paths_from_env()
            and not (Path.home() / ".kube" / "config").is_file()
            and "KUBERNETES_SERVICE_HOST" in os.environ
        )
        if use_in_cluster:
            return cls.in_cluster(**options)
        return cls.from_kubeconfig(kubeconfig, context, **options)

    # -- ConfigMaps ---------------------------------------------------------------------------------------------

    def get_config_map(self, namespace: str, name: str) -> ConfigMap:
        return _config_map_from(self._request("GET", _config_map_path(namespace, name)))

    def create_config_map(
        self, namespace: str, name: str, data: Mapping[str, str], labels: Mapping[str, str] | None = None
    ) -> ConfigMap:
        body = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(labels or {})},
            "data": dict(data),
        }
        path = f"/api/v1/namespaces/{_quote(namespace)}/configmaps"
        return _config_map_from(self._request("POST", path, body=body, query={"fieldManager": self.field_manager}))

    def patch_config_map_data(
        self, namespace: str, name: str, data: Mapping[str, str], *, labels: Mapping[str, str] | None = None,
        resource_version: str | None = None,
    ) -> ConfigMap:
        """JSON merge patch of `data` (and `labels`): sets the given keys and leaves every other key as the server
        has it. With `resource_version` the API server applies the patch only if the object is still at that
        version (409 Conflict, KubeConflict, otherwise): a compare-and-swap."""
        body: dict[str, Any] = {"data": dict(data)}
        metadata: dict[str, Any] = {}
        if labels:
            metadata["labels"] = dict(labels)
        if resource_version is not None:
            metadata["resourceVersion"] = resource_version
        if metadata:
            body["metadata"] = metadata
        return _config_map_from(
            self._request(
                "PATCH",
                _config_map_path(namespace, name),
                body=body,
                content_type="application/merge-patch+json",
                query={"fieldManager": self.field_manager},
            )
        )

    # -- Workloads ----------------------------------------------------------------------------------------------

    def list_deployments(self, namespace: str, label_selector: str | None = None) -> list[WorkloadStatus]:
        return self._list_workloads("deployments", "Deployment", namespace, label_selector)

    def list_stateful_sets(self, namespace: str, label_selector: str | None = None) -> list[WorkloadStatus]:
        return self._list_workloads("statefulsets", "StatefulSet", namespace, label_selector)

    def get_deployment_scale(self, namespace: str, name: str) -> DeploymentScale:
        return _scale_from(self._request("GET", _deployment_path(namespace, name)))

    def scale_deployment(self, namespace: str, name: str, replicas: int,
                         annotations: Mapping[str, str | None] | None = None) -> DeploymentScale:
        """Set the Deployment's replicas and annotations (None removes one) in one JSON merge patch."""
        body: dict[str, Any] = {"spec": {"replicas": replicas}}
        if annotations:
            body["metadata"] = {"annotations": dict(annotations)}
        return _scale_from(self._request("PATCH", _deployment_path(namespace, name), body=body,
                                         content_type="application/merge-patch+json",
                                         query={"fieldManager": self.field_manager}))

    def _list_workloads(
        self, resource: str, kind: str, namespace: str, label_selector: str | None
    ) -> list[WorkloadStatus]:
        query = {"labelSelector": label_selector} if label_selector else None
        listing = self._request("GET", f"/apis/apps/v1/namespaces/{_quote(namespace)}/{resource}", query=query)
        return [workload_status(kind, item) for item in listing.get("items") or []]

    # -- HTTP ---------------------------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        content_type: str = "application/json",
        query: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        target = self._base_path + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        payload = json.dumps(body).encode() if body is not None else None
        status, reason, raw = self._send(method, path, target, payload, content_type)
        if status == 401 and self.connection.token_source.invalidate():
            # A cached or rotated token may have lapsed before its stated expiry: fetch a new one, once.
            status, reason, raw = self._send(method, path, target, payload, content_type)
        if 200 <= status < 300:
            try:
                decoded = json.loads(raw or b"{}")
            except ValueError as error:
                raise KubeError(method, path, status, reason, "response is not JSON") from error
            return decoded if isinstance(decoded, dict) else {}
        raise _error_for(method, path, status, reason, raw)

    def _send(
        self, method: str, path: str, target: str, payload: bytes | None, content_type: str
    ) -> tuple[int, str, bytes]:
        headers = {"Accept": "application/json", "User-Agent": "gitpod-cell-ops"}
        if payload is not None:
            headers["Content-Type"] = content_type
        token = self.connection.token_source.token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        connection: http.client.HTTPConnection
        if self._scheme == "https":
            connection = http.client.HTTPSConnection(
                self._host, self._port, timeout=self.timeout_seconds, context=self.connection.ssl_context
            )
        else:
            connection = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout_seconds)
        try:
            connection.request(method, target, body=payload, headers=headers)
            response = connection.getresponse()
            return response.status, response.reason, response.read()
        except TimeoutError as error:
            raise KubeUnavailable(method, path, f"no response within {self.timeout_seconds:g}s") from error
        except (OSError, http.client.HTTPException) as error:
            raise KubeUnavailable(method, path, f"{type(error).__name__}: {error}") from error
        finally:
            connection.close()


def workload_status(kind: str, item: Mapping[str, Any]) -> WorkloadStatus:
    metadata = item.get("metadata") or {}
    spec = item.get("spec") or {}
    status = item.get("status") or {}
    # Kubernetes defaults spec.replicas to 1 when it is omitted.
    desired = int(spec["replicas"]) if spec.get("replicas") is not None else 1
    expected_updated = desired
    if kind == "StatefulSet":
        strategy = spec.get("updateStrategy") or {}
        if strategy.get("type") == "OnDelete":
            expected_updated = 0
        else:
            partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0)
            expected_updated = max(desired - partition, 0)
    return WorkloadStatus(
        kind=kind,
        namespace=str(metadata.get("namespace", "")),
        name=str(metadata.get("name", "")),
        generation=int(metadata.get("generation") or 0),
        observed_generation=int(status.get("observedGeneration") or 0),
        desired_replicas=desired,
        ready_replicas=int(status.get("readyReplicas") or 0),
        updated_replicas=int(status.get("updatedReplicas") or 0),
        expected_updated_replicas=expected_updated,
    )


def _config_map_from(body: Mapping[str, Any]) -> ConfigMap:
    metadata = body.get("metadata") or {}
    return ConfigMap(
        namespace=str(metadata.get("namespace", "")),
        name=str(metadata.get("name", "")),
        data={str(k): str(v) for k, v in (body.get("data") or {}).items()},
        resource_version=metadata.get("resourceVersion"),
        labels={str(k): str(v) for k, v in (metadata.get("labels") or {}).items()},
    )


def _scale_from(body: Mapping[str, Any]) -> DeploymentScale:
    metadata = body.get("metadata") or {}
    spec = body.get("spec") or {}
    replicas = spec.get("replicas")
    return DeploymentScale(str(metadata.get("namespace", "")), str(metadata.get("name", "")),
                           int(replicas) if isinstance(replicas, int) else 1, dict(metadata.get("annotations") or {}))


def _deployment_path(namespace: str, name: str) -> str:
    return f"/apis/apps/v1/namespaces/{_quote(namespace)}/deployments/{_quote(name)}"


def _config_map_path(namespace: str, name: str) -> str:
    return f"/api/v1/namespaces/{_quote(namespace)}/configmaps/{_quote(name)}"


def _quote(segment: str) -> str:
    return urllib.parse.quote(segment, safe="")


def _error_for(method: str, path: str, status: int, reason: str, raw: bytes) -> KubeError:
    message = raw.decode(errors="replace").strip()[:500] or "(empty body)"
    try:
        decoded = json.loads(raw)
        if isinstance(decoded, dict) and decoded.get("message"):
            message = str(decoded["message"])
            reason = str(decoded.get("reason") or reason)
    except ValueError:
        pass
    error_type = {404: KubeNotFound, 409: KubeConflict}.get(status, KubeError)
    return error_type(method, path, status, reason, message)


