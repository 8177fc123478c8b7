"""Where the Kubernetes API server is and how to authenticate to it: kubeconfig files (merged as kubectl merges
$KUBECONFIG), kubeconfig text (a cell's own, from its stack outputs), or the in-cluster service account.

Credentials: server CA, bearer token, token file (re-read on every request: projected tokens rotate), client
certificate, or an exec credential plugin such as `aws eks get-token` / `gke-gcloud-auth-plugin` (cached until it
expires). Only the standard library and PyYAML are used.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from ops.common.timestamps import parse_rfc3339

IN_CLUSTER_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
EXEC_PLUGIN_TIMEOUT_SECONDS = 60.0
# Renew an exec-plugin token this long before it expires, so a request never starts with a token about to lapse.
TOKEN_EXPIRY_MARGIN_SECONDS = 60.0


class KubeConfigError(Exception):
    """The kubeconfig or in-cluster environment cannot produce a working connection."""


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


def kubeconfig_paths_from_env() -> list[Path]:
    return [Path(p) for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]


def load_kubeconfig(path: str | Path | None = None, context: str | None = None) -> ClusterConnection:
    """Like kubectl: an explicit path, else every file in $KUBECONFIG merged (first wins), else ~/.kube/config."""
    paths = [Path(path)] if path is not None else kubeconfig_paths_from_env() or [Path.home() / ".kube" / "config"]
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
            raise KubeConfigError(f"kubeconfig cluster option {unsupported!r} is not supported by "
                                  "ops.cluster.kubeconfig")
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
