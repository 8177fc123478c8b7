"""The cell's S3 bucket as an ops.clouds.base.ObjectStore: object versions are S3 version ids (`null` for objects
written while versioning was off). The client is injected (a boto3 `s3` client), so tests use moto's server."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ops.clouds.base import ObjectNotFound, ObjectStore, ObjectStoreError, StoredObject

# HEAD has no body to carry an error code: a missing key or version shows only as the status.
_ABSENT_STATUSES = (400, 404, 405)
_ABSENT_CODES = ("404", "NoSuchKey", "NoSuchVersion", "InvalidArgument")


def _errors() -> tuple[type[BaseException], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return ClientError, BotoCoreError


def _code(error: BaseException) -> str:
    return str(getattr(error, "response", {}).get("Error", {}).get("Code"))


class S3ObjectStore(ObjectStore):
    scheme = "s3"

    def __init__(self, s3: Any, bucket: str) -> None:
        super().__init__(bucket)
        self.s3 = s3

    def put(self, key: str, body: bytes, content_type: str, metadata: Mapping[str, str] | None = None
            ) -> str | None:
        request: dict[str, Any] = {"Bucket": self.bucket, "Key": key, "Body": body, "ContentType": content_type}
        if metadata:
            request["Metadata"] = dict(metadata)
        try:
            written = self.s3.put_object(**request)
        except _errors() as error:
            raise ObjectStoreError(str(error)) from error
        return written.get("VersionId")

    def get(self, key: str, version_id: str | None = None) -> bytes:
        request = self._request(key, version_id)
        try:
            return bytes(self.s3.get_object(**request)["Body"].read())
        except _errors() as error:
            if _code(error) in ("NoSuchKey", "404"):
                raise ObjectNotFound(str(error)) from error
            raise ObjectStoreError(str(error)) from error

    def head(self, key: str, version_id: str | None = None) -> StoredObject:
        from botocore.exceptions import ClientError

        try:
            head = self.s3.head_object(**self._request(key, version_id))
        except ClientError as error:
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status in _ABSENT_STATUSES or _code(error) in _ABSENT_CODES:
                raise ObjectNotFound("does not exist (or is a delete marker)") from error
            raise ObjectStoreError(str(error)) from error
        except _errors() as error:
            raise ObjectStoreError(str(error)) from error
        if head.get("DeleteMarker"):
            raise ObjectNotFound("is a delete marker, not a config backup")
        stored_version = head.get("VersionId") or version_id
        if stored_version == "null" and not version_id:
            stored_version = None  # written while versioning was off: as put() reports it
        return StoredObject(stored_version, dict(head.get("Metadata") or {}), head["LastModified"])

    def versions(self, key: str) -> list[str]:
        found: list[str] = []
        try:
            for page in self.s3.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=key):
                found += [str(v["VersionId"]) for v in page.get("Versions") or [] if v.get("Key") == key]
        except _errors() as error:
            raise ObjectStoreError(str(error)) from error
        found.reverse()  # S3 lists one key's versions newest first
        return found

    def delete(self, key: str, version_id: str | None = None) -> None:
        try:
            self.s3.delete_object(**self._request(key, version_id))
        except _errors() as error:
            raise ObjectStoreError(str(error)) from error

    def _request(self, key: str, version_id: str | None) -> dict[str, str]:
        request = {"Bucket": self.bucket, "Key": key}
        if version_id:
            request["VersionId"] = version_id
        return request
