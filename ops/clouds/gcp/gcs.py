"""The cell's GCS bucket as an ops.clouds.base.ObjectStore: an object's *generation* is its version. The client is
injected (a `google.cloud.storage.Client`), so tests point it at fake-gcs-server."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ops.clouds.base import BadVersion, ObjectNotFound, ObjectStore, ObjectStoreError, StoredObject

# (connect, read) per request, and retries of transient errors bounded at 30 s in all: the library's default
# retries for 120 s, which left `backup status` silent for minutes when Google was unreachable.
REQUEST_TIMEOUT_SECONDS = (5.0, 30.0)
RETRY_DEADLINE_SECONDS = 30.0


def bounded_retry() -> Any:
    from google.cloud.storage.retry import DEFAULT_RETRY

    return DEFAULT_RETRY.with_timeout(RETRY_DEADLINE_SECONDS)


def gcs_errors() -> tuple[type[BaseException], ...]:
    """What a failed GCS call raises: API errors (HTTP status), auth errors, transport errors."""
    import requests
    from google.api_core.exceptions import GoogleAPIError
    from google.auth.exceptions import GoogleAuthError

    return GoogleAPIError, GoogleAuthError, requests.exceptions.RequestException


class GcsObjectStore(ObjectStore):
    scheme = "gs"
    version_word = "generation"

    def __init__(self, client: Any, bucket: str) -> None:
        super().__init__(bucket)
        self.client = client

    def put(self, key: str, body: bytes, content_type: str, metadata: Mapping[str, str] | None = None
            ) -> str | None:
        blob = self.client.bucket(self.bucket).blob(key)
        if metadata:
            blob.metadata = dict(metadata)
        try:
            blob.upload_from_string(body, content_type=content_type, timeout=REQUEST_TIMEOUT_SECONDS)
        except gcs_errors() as error:
            raise ObjectStoreError(str(error)) from error
        return str(blob.generation) if blob.generation is not None else None

    def get(self, key: str, version_id: str | None = None) -> bytes:
        from google.api_core.exceptions import NotFound

        blob = self.client.bucket(self.bucket).blob(key, generation=_generation(version_id))
        try:
            return bytes(blob.download_as_bytes(timeout=REQUEST_TIMEOUT_SECONDS, retry=bounded_retry()))
        except NotFound as error:
            if self._bucket_missing():
                raise ObjectStoreError("the bucket does not exist") from error
            raise ObjectNotFound(str(error)) from error
        except gcs_errors() as error:
            raise ObjectStoreError(str(error)) from error

    def head(self, key: str, version_id: str | None = None) -> StoredObject:
        try:
            blob = self.client.bucket(self.bucket).get_blob(key, generation=_generation(version_id),
                                                            timeout=REQUEST_TIMEOUT_SECONDS, retry=bounded_retry())
        except gcs_errors() as error:
            raise ObjectStoreError(str(error)) from error
        if blob is None:
            raise ObjectNotFound("does not exist")
        generation = str(blob.generation) if blob.generation is not None else version_id
        return StoredObject(generation, dict(blob.metadata or {}), blob.time_created or blob.updated)

    def versions(self, key: str) -> list[str]:
        from google.api_core.exceptions import NotFound

        try:
            # `versions` is sent as the JSON API documents it, `true`: the client would send Python's `True`, which
            # fake-gcs-server does not take for true (GCS itself takes both).
            generations = sorted(int(blob.generation) for blob in self.client.list_blobs(
                self.bucket, prefix=key, versions="true", timeout=REQUEST_TIMEOUT_SECONDS,
                retry=bounded_retry()) if blob.name == key)
        except NotFound as error:
            raise ObjectStoreError("the bucket does not exist") from error
        except gcs_errors() as error:
            raise ObjectStoreError(str(error)) from error
        return [str(generation) for generation in generations]

    def delete(self, key: str, version_id: str | None = None) -> None:
        try:
            self.client.bucket(self.bucket).blob(key, generation=_generation(version_id)).delete(
                timeout=REQUEST_TIMEOUT_SECONDS, retry=bounded_retry())
        except gcs_errors() as error:
            raise ObjectStoreError(str(error)) from error

    def _bucket_missing(self) -> bool:
        try:
            return not self.client.bucket(self.bucket).exists(timeout=REQUEST_TIMEOUT_SECONDS, retry=bounded_retry())
        except gcs_errors():
            return False


def _generation(version_id: str | None) -> int | None:
    if version_id is None:
        return None
    if not version_id.isdigit():
        raise BadVersion("a GCS version is the object's generation, a number")
    return int(version_id)
