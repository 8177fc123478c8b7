"""A restore point: where a restore of the cell's database would start from, recorded before a rollout changes
anything (in the `gitpod-installation` record).

With point-in-time recovery on, the restore point is a moment (kind "pitr"): no snapshot, no wait. Without it, an
on-demand snapshot or backup is taken (kind "snapshot") and waited for, because a restore point that may still
fail is not one. Each cloud takes them its own way (ops.clouds.aws.restore_points for RDS,
ops.clouds.gcp.restore_points for Cloud SQL) behind RestorePointSource.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from ops.common.timestamps import format_rfc3339, parse_rfc3339, require_aware

# binlog: a MySQL server the cell did not create (an existing cluster's): the binary-log position (and GTID set)
# at the moment, a restore point only as long as the operator keeps the binary logs and a base backup before it.
RestorePointKind = Literal["pitr", "snapshot", "binlog"]


class RestorePointError(Exception):
    """No restore point could be recorded; the message says which call failed and why."""


@dataclass(frozen=True)
class RestorePoint:
    """Where a restore of this rollout's database would start from.

    `time` is the restorable moment: the latest restorable time for "pitr", the snapshot's creation time for
    "snapshot". `recorded_at` is when the rollout asked; for "pitr" a restore to any moment up to `recorded_at`
    becomes possible once RDS has shipped the transaction logs (normally within five minutes).
    """

    kind: RestorePointKind
    db_instance_id: str
    time: datetime
    recorded_at: datetime
    snapshot_id: str | None = None
    # kind "binlog": `<binary log file>:<position>`, then ` gtid <set>` when the server runs with GTIDs.
    binlog_position: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("pitr", "snapshot", "binlog"):
            raise ValueError(f"restore point kind must be 'pitr', 'snapshot' or 'binlog', got {self.kind!r}")
        if (self.kind == "snapshot") != bool(self.snapshot_id):
            raise ValueError("a snapshot restore point needs a snapshot id, and only a snapshot one has it")
        if (self.kind == "binlog") != bool(self.binlog_position):
            raise ValueError("a binlog restore point needs a binary-log position, and only a binlog one has it")
        # Whole seconds in UTC, as stored: a restore point read back equals the one recorded. Truncating a PITR
        # time moves it earlier, which is still restorable.
        object.__setattr__(self, "time", require_aware(self.time, "restore point time").replace(microsecond=0))
        object.__setattr__(self, "recorded_at",
                           require_aware(self.recorded_at, "restore point recorded_at").replace(microsecond=0))

    def to_dict(self) -> dict[str, str | None]:
        data = {
            "kind": self.kind,
            "dbInstanceIdentifier": self.db_instance_id,
            "time": format_rfc3339(self.time),
            "recordedAt": format_rfc3339(self.recorded_at),
            "snapshotId": self.snapshot_id,
        }
        if self.binlog_position:
            data["binlogPosition"] = self.binlog_position
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RestorePoint:
        try:
            return cls(
                kind=data["kind"],
                db_instance_id=str(data["dbInstanceIdentifier"]),
                time=parse_rfc3339(data["time"]),
                recorded_at=parse_rfc3339(data["recordedAt"]),
                snapshot_id=data.get("snapshotId"),
                binlog_position=data.get("binlogPosition"),
            )
        except KeyError as error:
            raise ValueError(f"restore point is missing {error.args[0]!r}") from error

    @classmethod
    def from_json(cls, text: str) -> RestorePoint:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("restore point must be a JSON object")
        return cls.from_dict(data)


class RestorePointSource(Protocol):
    def capture(self, now: datetime) -> RestorePoint: ...
