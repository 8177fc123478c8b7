"""Run the real program (`__main__.py`) under the SDK's mock engine and collect the offline plan document."""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import runpy
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ops.common.stackfile import REPO_ROOT, StackFile

PROGRAM = REPO_ROOT / "__main__.py"
PROJECT = "gitpod-cell"


@dataclass(frozen=True)
class PlanDocument:
    """The offline plan (docs/architecture.md): JSON-ready, secrets redacted."""

    document: dict[str, Any]

    @property
    def resources(self) -> list[dict[str, Any]]:
        return self.document["resources"]

    @property
    def mandatory_violations(self) -> list[dict[str, Any]]:
        return [v for v in self.document["policies"]["violations"] if v["enforcement"] == "mandatory"]

    def by_type(self, resource_type: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["type"] == resource_type]

    def one(self, resource_type: str, name: str | None = None) -> dict[str, Any]:
        found = [r for r in self.by_type(resource_type) if name is None or r["name"] == name]
        if len(found) != 1:
            raise LookupError(f"expected one {resource_type} {name or ''}, found {len(found)}")
        return found[0]


def engine_config(stack: StackFile) -> dict[str, str]:
    """Stack-file values as the engine hands them to a program: strings, structured values as JSON."""
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in stack.config.items()}


def run_program(
    stack: StackFile, program: Path = PROGRAM, warnings: list[str] | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Register everything the program registers, in a fresh context and event loop so plans never leak into
    each other (or into whatever else the process runs). Warnings the program logs (`pulumi.log.warn`) are
    appended to `warnings` when given."""
    loop = asyncio.new_event_loop()
    previous = _current_loop()
    asyncio.set_event_loop(loop)
    try:
        return contextvars.Context().run(_run_program, stack, program, warnings)
    finally:
        asyncio.set_event_loop(previous)
        loop.close()


def _current_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        return None


class _WarningCollector(logging.Handler):
    def __init__(self, into: list[str]) -> None:
        super().__init__(level=logging.WARNING)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record.getMessage())


def _engine_logger(warnings: list[str] | None) -> logging.Logger:
    """The mock engine's log: warnings and errors the program logs are collected, nothing is printed."""
    logger = logging.getLogger(f"gitpod-cell.plan.{id(warnings)}")
    logger.propagate = False
    logger.handlers = [_WarningCollector(warnings)] if warnings is not None else [logging.NullHandler()]
    return logger


def _run_program(stack: StackFile, program: Path, warnings: list[str] | None
                 ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    import pulumi
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    from ops.plan.mocks import PlanMocks, RecordingMonitor

    pulumi.runtime.set_all_config(engine_config(stack), sorted(stack.secret_keys))
    mocks = PlanMocks()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack.name, preview=False, monitor=monitor,
                             logger=_engine_logger(warnings))
    _sync_await(run_pulumi_func(lambda: runpy.run_path(str(program), run_name="__main__")))
    root = pulumi.runtime.get_root_resource()
    outputs = {name: _sync_await(_resolve(value)) for name, value in getattr(root, "outputs", {}).items()}
    # Registration order depends on how the program's outputs resolved; URN order is stable run to run.
    return sorted(monitor.records, key=lambda record: record["urn"]), outputs


async def _resolve(value: Any) -> Any:
    import pulumi

    output = pulumi.Output.from_input(value)
    if await output.is_secret():
        return "[secret]"
    return _plain(await output.future())


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
