"""Preflight's registry check on GCP: a Google access token can be obtained, and every Gitpod repository exists in
Artifact Registry as a DOCKER repository (its REST API through an injected ops.clouds.gcp.api.GoogleApi)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ops.clouds.gcp.api import GoogleApiError
from ops.common.check_result import CheckResult, failed, passed


@dataclass(frozen=True)
class ArtifactRegistry:
    """Artifact Registry as preflight checks it: its REST API (ops.clouds.gcp.api.GoogleApi), where the
    repositories live, and how an access token is obtained."""

    api: Any
    project: str
    location: str
    access_token: Callable[[], str]

    def check(self, repositories: Sequence[str]) -> list[CheckResult]:
        results = []
        try:
            token = self.access_token()
            results.append(passed("registry credentials", "a Google access token was issued") if token
                           else failed("registry credentials", "no Google access token was issued"))
        except Exception as error:  # google-auth raises several types; any of them means no credentials
            results.append(failed("registry credentials", f"cannot obtain a Google access token: "
                                                          f"{type(error).__name__}: {error}"))
        missing: list[str] = []
        other: list[str] = []
        for repository in repositories:
            path = f"projects/{self.project}/locations/{self.location}/repositories/{repository}"
            try:
                found = self.api.call("GET", path)
            except GoogleApiError as error:
                if error.status == 404:
                    missing.append(repository)
                else:
                    other.append(f"{repository}: {error}")
                continue
            if found.get("format") not in (None, "DOCKER"):
                other.append(f"{repository} is a {found.get('format')} repository, not DOCKER")
        if missing or other:
            reasons = ([f"missing: {', '.join(missing)}"] if missing else []) + other
            results.append(failed("registry repositories", "; ".join(reasons)))
        else:
            results.append(passed("registry repositories", f"reachable: {', '.join(repositories)} in "
                                                           f"{self.location}-docker.pkg.dev/{self.project}"))
        return results
