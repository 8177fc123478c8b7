"""Update age per cell: infrastructure updates are due within a fixed number of days (14 by default).

A cell is overdue when its last successful `pulumi up` is older than the limit, or when it never had one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ops.common.timestamps import utc_now
from ops.rollout.staged import UpdateHistory

DEFAULT_MAX_AGE_DAYS = 14


@dataclass(frozen=True)
class CellUpdateAge:
    stack: str
    gitpod_version: str | None
    last_update_at: datetime | None
    age: timedelta | None
    overdue: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "gitpodVersion": self.gitpod_version,
            "lastUpdateAt": self.last_update_at.isoformat() if self.last_update_at else None,
            "ageDays": round(self.age.total_seconds() / 86400, 2) if self.age is not None else None,
            "overdue": self.overdue,
        }


def collect_update_ages(
    stacks: Sequence[str],
    history: UpdateHistory,
    max_age: timedelta,
    clock: Callable[[], datetime] = utc_now,
) -> list[CellUpdateAge]:
    now = _as_utc(clock())
    ages: list[CellUpdateAge] = []
    for stack in stacks:
        last = history.last_update(stack)
        finished_at = _as_utc(last.finished_at) if last.finished_at else None
        age = now - finished_at if finished_at else None
        ages.append(
            CellUpdateAge(
                stack=stack,
                gitpod_version=last.gitpod_version,
                last_update_at=finished_at,
                age=age,
                overdue=age is None or age > max_age,
            )
        )
    return ages


def format_update_ages(ages: Sequence[CellUpdateAge], max_age: timedelta) -> str:
    rows = [("CELL", "GITPOD VERSION", "LAST SUCCESSFUL UPDATE", "AGE", "")]
    for cell in ages:
        rows.append(
            (
                cell.stack,
                cell.gitpod_version or "unknown",
                cell.last_update_at.strftime("%Y-%m-%d %H:%M UTC") if cell.last_update_at else "never",
                _describe_age(cell.age),
                "OVERDUE" if cell.overdue else "ok",
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = ["  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    overdue = [cell.stack for cell in ages if cell.overdue]
    limit = f"{max_age.days} days" if max_age.days else str(max_age)
    if overdue:
        lines.append(f"{len(overdue)} cell(s) past the {limit} update limit: {', '.join(overdue)}")
    else:
        lines.append(f"every cell was updated within {limit}")
    return "\n".join(lines)


def _describe_age(age: timedelta | None) -> str:
    if age is None:
        return "-"
    days = age.total_seconds() / 86400
    return f"{days:.1f} days"


def _as_utc(moment: datetime) -> datetime:
    # The Automation API parses history timestamps as naive datetimes that are in UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
