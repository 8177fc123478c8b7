"""One pass/fail line of a preflight or drill check, with the reason an operator can act on."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    reason: str

    def line(self) -> str:
        return f"[{'PASS' if self.passed else 'FAIL'}] {self.name}: {self.reason}"

    def to_dict(self) -> dict[str, str | bool]:
        return {"name": self.name, "passed": self.passed, "reason": self.reason}


def passed(name: str, reason: str) -> CheckResult:
    return CheckResult(name, True, reason)


def failed(name: str, reason: str) -> CheckResult:
    return CheckResult(name, False, reason)
