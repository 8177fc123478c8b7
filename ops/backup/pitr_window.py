"""The point-in-time recovery window of a cell's database, and choosing a restore time inside it.

Each cloud reads its window (ops.clouds.aws.rds from RDS, ops.clouds.gcp.cloudsql from the Cloud SQL Admin API);
both give a PitrWindow. A time outside the window is refused here, with the window in the message, rather than by
the cloud halfway through a restore or a `pulumi up`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ops.common.timestamps import format_rfc3339, require_aware


class PitrWindowError(Exception):
    """No usable window, or a requested time outside it; the message names the instance and the window."""


@dataclass(frozen=True)
class PitrWindow:
    db_instance_id: str
    retention_days: int
    earliest: datetime | None
    latest: datetime | None

    @property
    def enabled(self) -> bool:
        return self.retention_days > 0 and self.latest is not None

    def describe(self) -> str:
        if not self.enabled:
            return f"{self.db_instance_id}: point-in-time recovery is OFF (backup retention {self.retention_days} days)"
        earliest = format_rfc3339(self.earliest) if self.earliest else "unknown"
        assert self.latest is not None
        return (f"{self.db_instance_id}: restorable from {earliest} to {format_rfc3339(self.latest)} "
                f"(retention {self.retention_days} days)")

    def to_dict(self) -> dict[str, Any]:
        return {
            "dbInstanceIdentifier": self.db_instance_id,
            "enabled": self.enabled,
            "retentionDays": self.retention_days,
            "earliestRestorableTime": format_rfc3339(self.earliest) if self.earliest else None,
            "latestRestorableTime": format_rfc3339(self.latest) if self.latest else None,
        }

    def restore_time(self, requested: datetime | None) -> datetime:
        """`requested`, checked against the window; None means the latest restorable time."""
        if not self.enabled or self.latest is None:
            raise PitrWindowError(f"{self.describe()}; no point-in-time restore is possible")
        if requested is None:
            return self.latest
        requested = require_aware(requested, "restore time")
        if self.earliest is not None and requested < self.earliest:
            raise PitrWindowError(
                f"restore time {format_rfc3339(requested)} is older than the point-in-time recovery window of "
                f"{self.describe()}; pick a time in the window or restore from a snapshot"
            )
        if requested > self.latest:
            raise PitrWindowError(
                f"restore time {format_rfc3339(requested)} is after the latest restorable time of "
                f"{self.describe()}; use 'latest' or an earlier time"
            )
        return requested
