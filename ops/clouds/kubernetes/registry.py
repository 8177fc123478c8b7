"""Preflight's registry check for a registry given in config: its API root (`/v2/`) accepts the credentials the
cell writes into Gitpod's docker config secret (Docker Registry HTTP API v2 basic auth)."""

from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field

from ops.common.check_result import CheckResult, failed, passed

TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class DockerRegistryProbe:
    server: str
    docker_config: str = field(repr=False)
    plain_http: bool = False
    ca_pem: str | None = field(default=None, repr=False)

    def check(self, repositories: Sequence[str]) -> list[CheckResult]:
        name = "registry"
        try:
            auth = json.loads(self.docker_config)["auths"][self.server]
            credentials = auth.get("auth") or base64.b64encode(
                f"{auth['username']}:{auth['password']}".encode()).decode()
        except (ValueError, KeyError, TypeError):
            return [failed(name, f"the docker config holds no credentials for {self.server}")]
        url = f"{'http' if self.plain_http else 'https'}://{self.server}/v2/"
        request = urllib.request.Request(url, headers={"Authorization": f"Basic {credentials}"})
        context = None if self.plain_http else ssl.create_default_context(cadata=self.ca_pem)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS, context=context) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            why = "the credentials were refused" if error.code == 401 else f"HTTP {error.code}"
            return [failed(name, f"{url}: {why}")]
        except (urllib.error.URLError, OSError) as error:
            return [failed(name, f"{url} unreachable: {getattr(error, 'reason', error)}")]
        # A registry creates repositories on first push: there is nothing per repository to look up.
        return [passed(name, f"{url} answered {status} to the configured credentials")]
