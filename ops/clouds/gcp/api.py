"""Google Cloud access for ops/ (GCP cells): credentials, REST calls to Google APIs, and the Cloud Storage client.

Credentials come from Application Default Credentials (`google.auth.default()`: GOOGLE_APPLICATION_CREDENTIALS,
`gcloud auth application-default login`, Workload Identity, the metadata server). REST APIs are called through an
injected HTTP session (`google.auth.transport.requests.AuthorizedSession` in real use, a plain `requests.Session`
against a local double in tests), so nothing here needs a Google client library beyond google-auth, and
google-cloud-storage for GCS. Every import of a Google package is lazy: commands on AWS cells never load them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
SQLADMIN_URL = "https://sqladmin.googleapis.com/v1/"
ARTIFACT_REGISTRY_URL = "https://artifactregistry.googleapis.com/v1/"
# (connect, read): an unreachable Google API fails in seconds, a slow one within half a minute.
REQUEST_TIMEOUT_SECONDS: tuple[float, float] = (5.0, 30.0)


class GoogleApiError(Exception):
    """A Google API call failed; the message names the call, the HTTP status and Google's error message."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@functools.cache
def google_credentials() -> tuple[Any, str | None]:
    """ADC credentials (cloud-platform scope) and the project they name, resolved once per process."""
    import google.auth

    credentials, project = google.auth.default(scopes=[CLOUD_PLATFORM_SCOPE])
    return credentials, project


def authorized_session() -> Any:
    """A requests session that adds (and refreshes) the ADC bearer token."""
    from google.auth.transport.requests import AuthorizedSession

    credentials, _project = google_credentials()
    # The token refresh gets the same bound (google-auth's default waits 120 s per attempt).
    return AuthorizedSession(credentials, refresh_timeout=REQUEST_TIMEOUT_SECONDS[1])


def access_token() -> str:
    """A fresh access token from ADC: the proof that credentials can be obtained."""
    from google.auth.transport.requests import Request

    credentials, _project = google_credentials()

    class BoundedRequest(Request):  # google-auth waits 120 s per token request unless told otherwise
        def __call__(self, *args: Any, timeout: float = REQUEST_TIMEOUT_SECONDS[1], **kwargs: Any) -> Any:
            return super().__call__(*args, timeout=timeout, **kwargs)

    credentials.refresh(BoundedRequest())
    return str(credentials.token)


def storage_client(project: str | None) -> Any:
    """A google-cloud-storage client. With STORAGE_EMULATOR_HOST set the library itself talks to that emulator
    with anonymous credentials; otherwise it uses ADC."""
    from google.cloud import storage

    return storage.Client(project=project)


@dataclass(frozen=True)
class GoogleApi:
    """One Google REST API: a base URL and the HTTP session that authenticates calls to it."""

    session: Any
    base_url: str
    timeout_seconds: float | tuple[float, float] = REQUEST_TIMEOUT_SECONDS

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        url = self.base_url.rstrip("/") + "/" + path.lstrip("/")
        try:
            response = self.session.request(method, url, json=body, timeout=self.timeout_seconds)
        except Exception as error:  # requests' and google-auth's transport errors alike
            raise GoogleApiError(f"{method} {url}: {type(error).__name__}: {error}") from error
        if response.status_code >= 400:
            raise GoogleApiError(f"{method} {url}: HTTP {response.status_code}: {_error_message(response)}",
                                 response.status_code)
        try:
            document = response.json() if response.content else {}
        except ValueError as error:
            raise GoogleApiError(f"{method} {url}: the answer is not JSON") from error
        if not isinstance(document, dict):
            raise GoogleApiError(f"{method} {url}: the answer is not a JSON object")
        return document


def _error_message(response: Any) -> str:
    try:
        error = response.json().get("error") or {}
        return str(error.get("message") or error.get("status") or response.text[:300])
    except (ValueError, AttributeError):
        return str(getattr(response, "text", ""))[:300]
