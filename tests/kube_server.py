"""The `kube_api` fixture: a real kube-apiserver + etcd on loopback (tools/localkube.py), one per pytest process.

Each xdist worker starts its own server when its first test asks for one. Measured on 2 busy cores: 4-8 s to
/readyz and ~300 MB (etcd ~42 MB + kube-apiserver ~260 MB; ~440 MB with cert-manager's CRDs), paid in parallel by
the two workers; sharing one across processes would save that once, at the price of a lock, a reference count
and tests of two workers meeting in one server. Talk to it with `kubectl` (built with
it) or with `request()`: plain HTTPS as cluster-admin, standard library only.
"""

from __future__ import annotations

import http.client
import json
import ssl
import subprocess
import urllib.parse
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tools import crds, localkube


class KubeApiError(Exception):
    def __init__(self, method: str, path: str, status: int, body: Mapping[str, Any]) -> None:
        self.status = status
        self.body = body
        self.reason = str(body.get("reason", ""))
        self.message = str(body.get("message", body))
        super().__init__(f"{method} {path}: HTTP {status} {self.reason}: {self.message}")


@dataclass(frozen=True)
class ApiResource:
    """Where a kind lives on this server, from discovery."""

    api_version: str
    kind: str
    plural: str
    namespaced: bool

    def path(self, namespace: str | None, name: str | None = None) -> str:
        prefix = f"/api/{self.api_version}" if "/" not in self.api_version else f"/apis/{self.api_version}"
        if self.namespaced:
            if not namespace:
                raise ValueError(f"{self.kind} is namespaced: give a namespace")
            prefix += f"/namespaces/{urllib.parse.quote(namespace, safe='')}"
        path = f"{prefix}/{self.plural}"
        return f"{path}/{urllib.parse.quote(name, safe='')}" if name else path


@dataclass
class KubeApiServer:
    kube: localkube.LocalKube
    _resources: dict[tuple[str, str], ApiResource] = field(default_factory=dict)
    _crds: list[str] = field(default_factory=list)

    @property
    def kubeconfig_path(self) -> Path:
        return self.kube.kubeconfig_path

    @property
    def server_url(self) -> str:
        return self.kube.server_url

    def request(self, method: str, path: str, body: Any = None, query: Mapping[str, str] | None = None,
                content_type: str = "application/json", token: str | None = None) -> dict[str, Any]:
        """One API call as cluster-admin (or, given `token`, as that bearer token and nothing else); a JSON body
        comes back as a dict, an error status raises KubeApiError."""
        url = urllib.parse.urlsplit(self.server_url)
        target = path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        payload = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        context = (ssl.create_default_context(cafile=str(self.kube.ca_path)) if token
                   else self.kube.ssl_context())
        connection = http.client.HTTPSConnection(url.hostname or "127.0.0.1", url.port, context=context, timeout=60)
        try:
            headers = {"Accept": "application/json"}
            if token:
                headers["Authorization"] = f"Bearer {token}"
            if payload is not None:
                headers["Content-Type"] = content_type
            connection.request(method, target, body=payload, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        document = json.loads(raw) if raw.strip().startswith(b"{") else {"message": raw.decode(errors="replace")}
        if response.status >= 400:
            raise KubeApiError(method, target, response.status, document)
        return document

    def resource(self, api_version: str, kind: str) -> ApiResource:
        """Discovery for one group/version, asked again on a miss (a CRD just installed)."""
        key = (api_version, kind)
        if key not in self._resources:
            path = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
            for entry in self.request("GET", path)["resources"]:
                if "/" not in entry["name"]:
                    self._resources[(api_version, entry["kind"])] = ApiResource(
                        api_version, entry["kind"], entry["name"], bool(entry["namespaced"]))
        if key not in self._resources:
            raise LookupError(f"the server does not serve {kind} in {api_version}")
        return self._resources[key]

    def apply(self, manifest: Mapping[str, Any], field_manager: str, *, dry_run: bool = False,
              strict: bool = True, force: bool = False) -> dict[str, Any]:
        """Server-side apply of one object (Strict field validation unless told otherwise)."""
        metadata = manifest["metadata"]
        resource = self.resource(manifest["apiVersion"], manifest["kind"])
        query = {"fieldManager": field_manager, "fieldValidation": "Strict" if strict else "Warn"}
        if dry_run:
            query["dryRun"] = "All"
        if force:
            query["force"] = "true"
        path = resource.path(metadata.get("namespace"), metadata["name"])
        return self.request("PATCH", path, dict(manifest), query, content_type="application/apply-patch+yaml")

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        return self.request("GET", self.resource(api_version, kind).path(namespace, name))

    def create_namespace(self, prefix: str = "test") -> str:
        """A namespace of its own for a test (never deleted: no namespace controller runs to finish it)."""
        name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        self.ensure_namespace(name)
        return name

    def ensure_namespace(self, name: str) -> None:
        try:
            self.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                        "metadata": {"name": name}})
        except KubeApiError as error:
            if error.status != 409:
                raise

    def install_cert_manager_crds(self) -> list[str]:
        """cert-manager's CRDs at the version the cell pins (tools/crds.py), once per server."""
        if not self._crds:
            self._crds = crds.install_cert_manager(localkube.BIN_DIR / "kubectl", self.kubeconfig_path)
        return self._crds

    def kubectl(self, *args: str, input_text: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(localkube.BIN_DIR / "kubectl"), f"--kubeconfig={self.kubeconfig_path}", *args],
                              input=input_text, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="session")
def kube_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeApiServer]:
    missing = localkube.missing_binaries()
    if missing:
        pytest.fail(f"{', '.join(missing)} missing in .tools/bin: run `make kube-tools`", pytrace=False)
    directory = tmp_path_factory.mktemp("localkube")
    try:
        kube = localkube.start(directory, tie_to_parent=True)
    except localkube.LocalKubeError as error:
        pytest.fail(f"local API server: {error}", pytrace=False)
    try:
        yield KubeApiServer(kube)
    finally:
        localkube.stop(directory)
