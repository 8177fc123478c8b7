"""A minimal Kubernetes REST client for exactly the endpoints ops/ uses.

Endpoints: read, create and merge-patch a ConfigMap; list Deployments and StatefulSets in a namespace. Nothing
else, so the test double (tests/ops/k8s_double.py) can implement all of it and a real cluster needs only these RBAC
verbs: configmaps get/create/patch, deployments and statefulsets list.

Credentials come from a kubeconfig (server, CA, bearer token, token file, client certificate, or an exec credential
plugin such as `aws eks get-token`) or from the in-cluster service account. Only the standard library is used:
`http.client` talks to exactly the configured server, without environment proxy handling that could send a
request somewhere else.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from ops.timestamps import parse_rfc3339

DEFAULT_TIMEOUT_SECONDS = 30.0
FIELD_MANAGER = "gitpod-cell-ops"
IN_CLUSTER_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
EXEC_PLUGIN_TIMEOUT_SECONDS = 60.0
# Renew an exec-plugin token this long before it expires, so a request never starts with a token about to lapse.
TOKEN_EXPIRY_MARGIN_SECONDS = 60.0


class KubeConfigError(Exception):
    """The kubeconfig or in-cluster environment cannot produce a working connection."""


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


class TokenSource(Protocol):
    def token(self) -> str | None: ...

    def invalidate(self) -> bool:
        """Forget a cached token after the server rejected it (401); True if asking again may give another."""


@dataclass
class StaticToken:
    value: str | None

    def token(self) -> str | None:
        return self.value

    def invalidate(self) -> bool:
        return False


@dataclass
class TokenFile:
    """A token file that is re-read on every request: projected service-account tokens rotate on disk."""

    path: Path

    def token(self) -> str | None:
        try:
            return self.path.read_text().strip() or None
        except OSError as error:
            raise KubeConfigError(f"cannot read token file {self.path}: {error}") from error

    def invalidate(self) -> bool:
        return True  # the kubelet may have rotated it since


@dataclass
class ExecCredentialPlugin:
    """A client-go exec credential plugin (`aws eks get-token`, `gke-gcloud-auth-plugin`, ...), cached to expiry."""

    command: str
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    api_version: str = "client.authentication.k8s.io/v1beta1"
    cluster_info: dict[str, Any] | None = None
    wall_clock: Callable[[], float] = time.time
    _cached: str | None = field(default=None, init=False, repr=False)
    _expires_at: float | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def token(self) -> str | None:
        with self._lock:
            fresh = self._expires_at is None or self.wall_clock() < self._expires_at - TOKEN_EXPIRY_MARGIN_SECONDS
            if self._cached is None or not fresh:
                self._cached, self._expires_at = self._run()
            return self._cached

    def invalidate(self) -> bool:
        with self._lock:
            self._cached = None
        return True

    def _run(self) -> tuple[str, float | None]:
        exec_info: dict[str, Any] = {"apiVersion": self.api_version, "kind": "ExecCredential",
                                     "spec": {"interactive": False}}
        if self.cluster_info is not None:
            exec_info["spec"]["cluster"] = self.cluster_info
        env = {**os.environ, **self.env, "KUBERNETES_EXEC_INFO": json.dumps(exec_info)}
        try:
            # The command comes from the operator's own kubeconfig, as with kubectl.
            completed = subprocess.run(
                [self.command, *self.args], env=env, capture_output=True, text=True, check=False,
                timeout=EXEC_PLUGIN_TIMEOUT_SECONDS, stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise KubeConfigError(f"credential plugin {self.command!r} could not run: {error}") from error
        if completed.returncode != 0:
            detail = completed.stderr.strip().splitlines()[-1:] or ["no output on stderr"]
            raise KubeConfigError(
                f"credential plugin {self.command!r} exited with {completed.returncode}: {detail[0]}"
            )
        try:
            credential = json.loads(completed.stdout)
            status = credential["status"]
            token = status["token"]
        except (ValueError, KeyError, TypeError) as error:
            raise KubeConfigError(
                f"credential plugin {self.command!r} did not print an ExecCredential with status.token"
            ) from error
        expiry = status.get("expirationTimestamp")
        return token, parse_rfc3339(expiry).timestamp() if expiry else None


@dataclass(frozen=True)
class ClusterConnection:
    """Where the API server is and how to authenticate to it."""

    server: str
    ssl_context: ssl.SSLContext | None = None
    token_source: TokenSource = field(default_factory=lambda: StaticToken(None))
    default_namespace: str | None = None


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
            and not _kubeconfig_paths_from_env()
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


# -- kubeconfig -----------------------------------------------------------------------------------------------


def _kubeconfig_paths_from_env() -> list[Path]:
    return [Path(p) for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]


def load_kubeconfig(path: str | Path | None = None, context: str | None = None) -> ClusterConnection:
    """Like kubectl: an explicit path, else every file in $KUBECONFIG merged (first wins), else ~/.kube/config."""
    paths = [Path(path)] if path is not None else _kubeconfig_paths_from_env() or [Path.home() / ".kube" / "config"]
    existing = [p for p in paths if p.is_file()]
    if not existing:
        raise KubeConfigError(f"no kubeconfig found at {', '.join(str(p) for p in paths)}")
    merged: dict[str, Any] = {"clusters": [], "users": [], "contexts": [], "current-context": None}
    for kubeconfig_path in existing:
        document = parse_kubeconfig_text(kubeconfig_path.read_text(), str(kubeconfig_path))
        # Relative file references are relative to the kubeconfig that names them.
        _resolve_relative_paths(document, kubeconfig_path.parent)
        for section in ("clusters", "users", "contexts"):
            known = {entry.get("name") for entry in merged[section]}
            merged[section].extend(e for e in document.get(section) or [] if e.get("name") not in known)
        merged["current-context"] = merged["current-context"] or document.get("current-context")
    return connection_from_kubeconfig(merged, context, existing[0].parent)


def parse_kubeconfig_text(text: str, source: str = "kubeconfig") -> dict[str, Any]:
    try:
        document = yaml.safe_load(text)  # JSON is YAML: EKS kubeconfigs built by components/aws are JSON.
    except yaml.YAMLError as error:
        raise KubeConfigError(f"{source} is not valid YAML: {error}") from error
    if not isinstance(document, dict):
        raise KubeConfigError(f"{source} is not a kubeconfig (expected a mapping with clusters/users/contexts)")
    return document


def _resolve_relative_paths(document: dict[str, Any], base_dir: Path) -> None:
    for section, keys in (("clusters", ("certificate-authority",)),
                          ("users", ("client-certificate", "client-key", "tokenFile"))):
        for entry in document.get(section) or []:
            body = entry.get(section[:-1]) or {}
            for key in keys:
                value = body.get(key)
                if isinstance(value, str) and value and not os.path.isabs(value):
                    body[key] = str(base_dir / value)


def _named(document: Mapping[str, Any], section: str, name: str) -> dict[str, Any]:
    for entry in document.get(section) or []:
        if entry.get("name") == name:
            return dict(entry.get(section[:-1]) or {})
    raise KubeConfigError(f"kubeconfig has no {section[:-1]} named {name!r}")


def connection_from_kubeconfig(
    document: Mapping[str, Any], context: str | None, base_dir: Path
) -> ClusterConnection:
    context_name = context or document.get("current-context")
    if not context_name:
        raise KubeConfigError("kubeconfig has no current-context; pass a context name")
    context_body = _named(document, "contexts", context_name)
    cluster = _named(document, "clusters", str(context_body.get("cluster")))
    user = _named(document, "users", str(context_body.get("user"))) if context_body.get("user") else {}
    server = cluster.get("server")
    if not server:
        raise KubeConfigError(f"cluster of context {context_name!r} has no server")
    for unsupported in ("proxy-url", "tls-server-name"):
        if cluster.get(unsupported):
            raise KubeConfigError(f"kubeconfig cluster option {unsupported!r} is not supported by ops/kube.py")
    if user.get("auth-provider"):
        raise KubeConfigError("kubeconfig auth-provider is not supported; use an exec credential plugin")
    ssl_context = _ssl_context(cluster, user) if str(server).startswith("https") else None
    return ClusterConnection(
        server=str(server),
        ssl_context=ssl_context,
        token_source=_token_source(cluster, user, base_dir),
        default_namespace=context_body.get("namespace"),
    )


def _ssl_context(cluster: Mapping[str, Any], user: Mapping[str, Any]) -> ssl.SSLContext:
    if cluster.get("insecure-skip-tls-verify"):
        # The operator asked for it in the kubeconfig, as kubectl would honour it.
        context = ssl._create_unverified_context()
    elif cluster.get("certificate-authority-data"):
        ca_pem = base64.b64decode(cluster["certificate-authority-data"]).decode()
        context = ssl.create_default_context(cadata=ca_pem)
    elif cluster.get("certificate-authority"):
        context = ssl.create_default_context(cafile=cluster["certificate-authority"])
    else:
        context = ssl.create_default_context()
    certificate, key = user.get("client-certificate-data"), user.get("client-key-data")
    if certificate and key:
        _load_client_certificate_data(context, base64.b64decode(certificate), base64.b64decode(key))
    elif user.get("client-certificate") and user.get("client-key"):
        context.load_cert_chain(user["client-certificate"], user["client-key"])
    return context


def _load_client_certificate_data(context: ssl.SSLContext, certificate: bytes, key: bytes) -> None:
    # ssl can only load a certificate chain from files: write them where only we can read, load, remove.
    with tempfile.TemporaryDirectory(prefix="gitpod-cell-kube-") as directory:
        certificate_path, key_path = Path(directory, "client.crt"), Path(directory, "client.key")
        for path, content in ((certificate_path, certificate), (key_path, key)):
            path.touch(mode=0o600)
            path.write_bytes(content)
        context.load_cert_chain(certificate_path, key_path)


def _token_source(cluster: Mapping[str, Any], user: Mapping[str, Any], base_dir: Path) -> TokenSource:
    if user.get("token"):
        return StaticToken(str(user["token"]))
    if user.get("tokenFile"):
        return TokenFile(Path(user["tokenFile"]))
    exec_config = user.get("exec")
    if exec_config:
        command = str(exec_config.get("command") or "")
        if not command:
            raise KubeConfigError("kubeconfig exec credential plugin has no command")
        if os.sep in command and not os.path.isabs(command):
            command = str(base_dir / command)
        cluster_info = None
        if exec_config.get("provideClusterInfo"):
            cluster_info = {key: cluster[key] for key in ("server", "certificate-authority-data") if key in cluster}
        return ExecCredentialPlugin(
            command=command,
            args=[str(arg) for arg in exec_config.get("args") or []],
            env={str(e["name"]): str(e["value"]) for e in exec_config.get("env") or []},
            api_version=str(exec_config.get("apiVersion") or "client.authentication.k8s.io/v1beta1"),
            cluster_info=cluster_info,
        )
    return StaticToken(None)


def in_cluster_connection(directory: Path = IN_CLUSTER_DIR) -> ClusterConnection:
    host, port = os.environ.get("KUBERNETES_SERVICE_HOST"), os.environ.get("KUBERNETES_SERVICE_PORT", "443")
    token_path = directory / "token"
    if not host or not token_path.is_file():
        raise KubeConfigError("not running in a cluster: KUBERNETES_SERVICE_HOST or the service-account token is "
                              "missing")
    namespace_path = directory / "namespace"
    host_part = f"[{host}]" if ":" in host else host
    return ClusterConnection(
        server=f"https://{host_part}:{port}",
        ssl_context=ssl.create_default_context(cafile=str(directory / "ca.crt")),
        token_source=TokenFile(token_path),
        default_namespace=namespace_path.read_text().strip() if namespace_path.is_file() else None,
    )
