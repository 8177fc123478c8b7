"""What every cloud hands ops/: the `CellClients` of one cell, its object store, and the adapter that builds them.

A command, a rollout hook or a drill asks `ops.clouds.cell_clients(target)` for the cell's clients and then only
talks to these interfaces; which SDK answers (boto3, Google's REST APIs and google-cloud-storage, ...) is the
adapter's business. A cloud is one folder under ops/clouds exposing `ADAPTER`, plus its line in
`ops.clouds.ADAPTERS`.

The object store is the one storage interface: a versioned bucket with put/get/head/delete of one object version
and the list of an object's versions. Everything built on it (config backups, drill reports, preflight's probe)
exists once, in the family that owns it.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ops.backup.restore_plan import RestoreSources
    from ops.backup.restore_point import RestorePointSource
    from ops.backup.status import StatusSource
    from ops.checks.drill import DrillBackend, DrillSettings
    from ops.checks.mysql import ServerIdentity
    from ops.common.cell_target import CellTarget
    from ops.common.check_result import CheckResult


# -- object storage -------------------------------------------------------------------------------------------------


class ObjectStoreError(Exception):
    """A call to the object store failed; the text is the store's own error (HTTP status, error code)."""


class ObjectNotFound(ObjectStoreError):
    """The object, or that version of it, is not stored (the text says how: absent, a delete marker)."""


class BadVersion(ObjectStoreError):
    """A version id that cannot be one of this store's versions (a GCS generation is a number)."""


@dataclass(frozen=True)
class StoredObject:
    version_id: str | None  # None: written while the bucket's versioning was off
    metadata: Mapping[str, str]
    written_at: datetime


class ObjectStore(abc.ABC):
    """One versioned bucket. Errors are ObjectStoreError (ObjectNotFound when an object or version is absent)."""

    scheme: str  # of the bucket's URLs: "s3", "gs"
    version_word: str = "version"  # what the store calls an object version ("generation" on GCS)

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    def url(self, key: str) -> str:
        return f"{self.scheme}://{self.bucket}/{key}"

    def location(self, key: str, version_id: str | None = None) -> str:
        """`s3://bucket/key version v`: how messages name one object version."""
        return self.url(key) + (f" {self.version_word} {version_id}" if version_id else "")

    @abc.abstractmethod
    def put(self, key: str, body: bytes, content_type: str, metadata: Mapping[str, str] | None = None
            ) -> str | None:
        """Write `key`; the new version's id (None when the bucket's versioning is off)."""

    @abc.abstractmethod
    def get(self, key: str, version_id: str | None = None) -> bytes:
        """The bytes of `key` at `version_id` (None: its current version)."""

    @abc.abstractmethod
    def head(self, key: str, version_id: str | None = None) -> StoredObject:
        """What is stored at `key` and `version_id` (None: its current version), without its bytes."""

    @abc.abstractmethod
    def versions(self, key: str) -> list[str]:
        """Every version id of `key` (never those of other keys under the same prefix), oldest first."""

    @abc.abstractmethod
    def delete(self, key: str, version_id: str | None = None) -> None:
        """Delete `key` at `version_id` (None: its current version; in a versioned bucket that leaves a marker)."""


# -- what a cell's clients offer --------------------------------------------------------------------------------


class DatabaseAddressError(Exception):
    """The database's address (or its CA) could not be read from the cloud's API."""


@dataclass(frozen=True)
class DatabaseAddress:
    host: str
    port: int
    # The CA that signed the server's certificate when the API gives it (a Cloud SQL instance's own); None: the
    # operator's --ca-file (RDS's published bundle) or the system trust store. On Cloud SQL it is an
    # ops.checks.mysql.PinnedCa carrying `server_identity`, so an endpoint built from it alone checks that identity.
    ca_pem: str | None = None
    # What the server's certificate names when that is not `host` (Cloud SQL: `<project>:<instance>`, which its
    # private IP is not); None: standard host name verification (RDS).
    server_identity: ServerIdentity | None = None


class RegistryProbe(Protocol):
    """Preflight's registry check: credentials obtainable, every repository reachable."""

    def check(self, repositories: Sequence[str]) -> list[CheckResult]: ...


class CellClients(Protocol):
    """One cell's clients on its cloud. Clients are built on first use, so a command loads only the SDK it calls
    and a rollout step only authenticates for what it touches."""

    target: CellTarget

    def object_store(self, bucket: str | None = None, region: str | None = None) -> ObjectStore:
        """The cell's bucket (or `bucket`, e.g. the replica a restore adopts, read in `region`)."""
        ...

    def database_address(self, host: str | None = None, port: int | None = None, *,
                         need_ca: bool = True) -> DatabaseAddress:
        """`host`/`port` as given, the rest from the cloud's API; with `need_ca`, the server's CA when the API
        has it. DatabaseAddressError when the API cannot say."""
        ...

    def registry_probe(self) -> RegistryProbe: ...

    def restore_points(self, snapshot_prefix: str, wait_seconds: float) -> RestorePointSource:
        """Restore points of the cell's database; an on-demand snapshot or backup waits at most `wait_seconds`."""
        ...

    def check_drill_settings(self, settings: DrillSettings) -> None:
        """ValueError (naming the flag) when the cloud cannot honour a drill setting; no API call."""
        ...

    def drill_backend(self, settings: DrillSettings, clock: Callable[[], datetime]) -> DrillBackend: ...

    def restore_sources(self, region: str | None) -> RestoreSources:
        """Where a restore plan reads the backups, for a new cell in `region` (None: the cell's own)."""
        ...

    def backup_status(self) -> StatusSource: ...


# -- the adapter ------------------------------------------------------------------------------------------------


class TargetResolver(Protocol):
    def __call__(self, stack: str, config: Mapping[str, Any], *, account_id: Callable[[], str] | None,
                 profile: str | None, db_instance: str | None, bucket: str | None, region: str | None
                 ) -> CellTarget: ...


class ClientsBuilder(Protocol):
    def __call__(self, target: CellTarget, *, profile: str | None, sleep: Callable[[float], None]
                 ) -> CellClients: ...


@dataclass(frozen=True)
class CloudAdapter:
    """Everything ops/ knows about one cloud, behind one name."""

    name: str  # the stack's `gitpod-cell:cloud`
    title: str  # for messages: "AWS", "GCP"
    restore_target_kind: str  # what the program's Platform calls its database (RestoreTarget.kind)
    object_storage_kind: str  # and its bucket (ObjectStorage.kind)
    # HookContext fields a cell of this cloud cannot run its rollout hooks without (beyond every cell's own); their
    # values reach the adapter as CellTarget.settings.
    hook_context_fields: tuple[str, ...]
    resolve_target: TargetResolver
    cell_clients: ClientsBuilder
