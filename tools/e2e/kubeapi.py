"""A minimal JSON client for the local API server, as cluster-admin (the run's own client certificate)."""

from __future__ import annotations

import http.client
import json
import urllib.parse
from collections.abc import Mapping
from typing import Any

from tools.localkube import LocalKube

MERGE_PATCH = "application/merge-patch+json"


class KubeRequestError(Exception):
    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        self.status = status
        super().__init__(f"{method} {path}: HTTP {status}: {body[:400]}")


class Api:
    def __init__(self, kube: LocalKube) -> None:
        self.kube = kube
        parsed = urllib.parse.urlsplit(kube.server_url)
        self.host, self.port = str(parsed.hostname), int(parsed.port or 443)
        self.context = kube.ssl_context()

    def request(self, method: str, path: str, body: Any = None, content_type: str = "application/json",
                query: Mapping[str, str] | None = None) -> dict[str, Any]:
        if query:
            path = f"{path}?{urllib.parse.urlencode(query)}"
        connection = http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=30)
        try:
            payload = json.dumps(body) if body is not None else None
            connection.request(method, path, body=payload, headers={"Content-Type": content_type,
                                                                     "Accept": "application/json"})
            response = connection.getresponse()
            text = response.read().decode()
        finally:
            connection.close()
        if response.status >= 300:
            raise KubeRequestError(method, path, response.status, text)
        return json.loads(text) if text else {}

    def get(self, path: str) -> dict[str, Any] | None:
        try:
            return self.request("GET", path)
        except KubeRequestError as error:
            if error.status == 404:
                return None
            raise

    def items(self, path: str) -> list[dict[str, Any]]:
        found = self.get(path)
        return list(found.get("items") or []) if found else []

    def create(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self.request("POST", path, dict(body))

    def merge_patch(self, path: str, patch: Mapping[str, Any]) -> dict[str, Any]:
        return self.request("PATCH", path, dict(patch), MERGE_PATCH)
