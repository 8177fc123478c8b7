"""What a recovery drill measured: each step, the checks of the restored copy, RTO and RPO; as JSON and Markdown,
both written to the cell's bucket (`gitpod-cell/<stack>/drills/<timestamp>.{json,md}`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ops.common.check_result import CheckResult
from ops.common.timestamps import format_rfc3339

BACKUP_ROOT = "gitpod-cell"


@dataclass
class StepRecord:
    name: str
    started_at: datetime
    finished_at: datetime | None = None
    passed: bool | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "startedAt": format_rfc3339(self.started_at),
                "finishedAt": format_rfc3339(self.finished_at) if self.finished_at else None,
                "passed": self.passed, "detail": self.detail}


@dataclass
class DrillReport:
    stack: str
    source_instance: str
    scratch_instance: str
    started_at: datetime
    source_now: datetime | None = None
    restore_time: datetime | None = None
    # False: the restore went to the source's latest position at a moment nobody reported (a Cloud SQL clone of
    # "latest"); restore_time is then None and RPO comes from the newest writes, or is not measured (rpo_note).
    restore_time_exact: bool = True
    rpo_note: str | None = None
    source_newest_write: datetime | None = None
    restored_newest_write: datetime | None = None
    restore_operation: dict[str, str] = field(default_factory=dict)
    verified_at: datetime | None = None
    finished_at: datetime | None = None
    failed_step: str | None = None
    error: str | None = None
    steps: list[StepRecord] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    source_counts: dict[str, int] = field(default_factory=dict)
    restored_counts: dict[str, int] = field(default_factory=dict)
    scratch_requested: bool = False
    scratch_deleted: bool = False
    report_keys: list[str] = field(default_factory=list)
    report_urls: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.failed_step is None

    @property
    def scratch_state(self) -> str:
        if not self.scratch_requested:
            return "never created"
        return "deleted" if self.scratch_deleted else "NOT deleted: delete it by hand"

    @property
    def rto_seconds(self) -> float | None:
        return (self.verified_at - self.started_at).total_seconds() if self.verified_at else None

    @property
    def rpo_seconds(self) -> float | None:
        if self.restore_time_exact:
            if self.source_now is None or self.restore_time is None:
                return None
            return (self.source_now - self.restore_time).total_seconds()
        if self.source_newest_write is None or self.restored_newest_write is None:
            return None
        return max(0.0, (self.source_newest_write - self.restored_newest_write).total_seconds())

    @property
    def rpo_method(self) -> str | None:
        if self.rpo_seconds is None:
            return None
        if self.restore_time_exact:
            return "source now minus restore time"
        return "newest write on the source when the drill began minus newest write in the restored copy"

    def rpo_text(self) -> str:
        if self.rpo_seconds is not None:
            return duration(self.rpo_seconds)
        if not self.restore_time_exact:
            return self.rpo_note or "not measured"
        return "not measured"

    def to_dict(self) -> dict[str, Any]:
        def moment(value: datetime | None) -> str | None:
            return format_rfc3339(value) if value else None

        return {
            "stack": self.stack,
            "outcome": "passed" if self.passed else "failed",
            "failedStep": self.failed_step,
            "error": self.error,
            "sourceInstance": self.source_instance,
            "scratchInstance": self.scratch_instance,
            "scratchRequested": self.scratch_requested,
            "scratchDeleted": self.scratch_deleted,
            "startedAt": moment(self.started_at),
            "sourceNow": moment(self.source_now),
            "restoreTime": moment(self.restore_time),
            "verifiedAt": moment(self.verified_at),
            "finishedAt": moment(self.finished_at),
            "restoreTimeExact": self.restore_time_exact,
            "restoreOperation": dict(self.restore_operation),
            "rtoSeconds": self.rto_seconds,
            "rpoSeconds": self.rpo_seconds,
            "rpoMethod": self.rpo_method,
            "rpoNote": None if self.rpo_seconds is not None else self.rpo_text(),
            "sourceNewestWrite": moment(self.source_newest_write),
            "restoredNewestWrite": moment(self.restored_newest_write),
            "sourceRowCounts": self.source_counts,
            "restoredRowCounts": self.restored_counts,
            "checks": [check.to_dict() for check in self.checks],
            "steps": [step.to_dict() for step in self.steps],
        }

    def to_markdown(self) -> str:
        outcome = "PASSED" if self.passed else f"FAILED at step `{self.failed_step}`"
        lines = [
            f"# Recovery drill of `{self.stack}`: {outcome}",
            "",
            f"- Source instance: `{self.source_instance}`; scratch instance: `{self.scratch_instance}` "
            f"({self.scratch_state})",
            f"- Started: {text(self.started_at)}; restore time: {self._restore_point_text()}; verified: "
            f"{text(self.verified_at)}",
            f"- RTO (start to verified): {duration(self.rto_seconds)}",
            f"- RPO{f' ({self.rpo_method})' if self.rpo_method else ''}: {self.rpo_text()}",
        ]
        if self.restore_operation:
            lines.append("- Restore operation: " + ", ".join(f"{key} {value}" for key, value
                                                             in self.restore_operation.items()))
        if self.error:
            lines.append(f"- Error: {self.error}")
        lines += ["", "| step | result | detail |", "|---|---|---|"]
        for step in self.steps:
            result = {True: "pass", False: "FAIL", None: "-"}[step.passed]
            lines.append(f"| {step.name} | {result} | {step.detail.replace('|', '/')} |")
        if self.checks:
            lines += ["", "| check | result | reason |", "|---|---|---|"]
            lines += [f"| {c.name} | {'pass' if c.passed else 'FAIL'} | {c.reason.replace('|', '/')} |"
                      for c in self.checks]
        if self.source_counts:
            lines += ["", "| table | source rows | restored rows |", "|---|---|---|"]
            lines += [f"| {table} | {count} | {self.restored_counts.get(table, '-')} |"
                      for table, count in self.source_counts.items()]
        return "\n".join(lines) + "\n"


    def _restore_point_text(self) -> str:
        if self.restore_time_exact:
            return text(self.restore_time)
        return "the source's latest position (not reported by the cloud)"


def report_key(stack: str, started_at: datetime, extension: str) -> str:
    return f"{BACKUP_ROOT}/{stack}/drills/{started_at:%Y%m%dT%H%M%SZ}.{extension}"


def text(moment: datetime | None) -> str:
    return format_rfc3339(moment) if moment else "-"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "not measured"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"
