"""Fixtures for the rollout tests: a live cell for the steps (moto, the real local Kubernetes API server), a fake
PulumiDriver that records and measures, and throwaway stack folders."""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from ops.checks.preflight import GITPOD_WORKLOAD_LABELS
from ops.rollout import cli as rollout_cli
from ops.rollout.staged import LastUpdate, StepResult
from tests.ops.support.kube_cluster import KubeCluster
from tests.ops.support.values import PROD_REPOSITORIES, create_rds_instance


class FakeDriver:
    """A PulumiDriver that records every call, can be told to fail a step, and measures concurrency.

    `max_concurrent_calls` is the largest number of driver calls that were in flight at one moment; each call
    holds for `step_seconds`, so stacks that run in parallel overlap and stacks that do not, don't. With
    `rendezvous=N` the first calls wait (up to 5 s) until N are in flight at once, then every call runs freely:
    proof that N stacks really ran in parallel, without relying on sleeps overlapping. `health` (a callable per
    stack) replaces the health step, e.g. with the real cluster check.
    """

    def __init__(
        self,
        *,
        failures: dict[tuple[str, str], str] | None = None,
        exceptions: dict[tuple[str, str], Exception] | None = None,
        step_seconds: float = 0.0,
        updates: dict[str, LastUpdate] | None = None,
        rendezvous: int | None = None,
        health: Callable[[str], StepResult] | None = None,
        write_to: Path | None = None,
    ) -> None:
        self.failures = failures or {}
        self.exceptions = exceptions or {}
        self.step_seconds = step_seconds
        self.updates = updates or {}
        self.calls: list[tuple[str, str]] = []
        self.versions_set: dict[str, str] = {}
        self.policy_packs: set[Path] = set()
        self.images_set: dict[str, str] = {}
        self.max_concurrent_calls = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        self._rendezvous = rendezvous
        self._met = threading.Condition(self._lock)
        self.rendezvous_reached = rendezvous is None
        self._health = health
        # Like Pulumi's `config set`: write the values into <write_to>/Pulumi.<stack>.yaml.
        self._write_to = write_to

    def _call(self, step: str, stack: str) -> StepResult:
        with self._lock:
            self.calls.append((step, stack))
            self._in_flight += 1
            self.max_concurrent_calls = max(self.max_concurrent_calls, self._in_flight)
            if not self.rendezvous_reached:
                assert self._rendezvous is not None
                if self._in_flight >= self._rendezvous:
                    self.rendezvous_reached = True
                    self._met.notify_all()
                else:
                    self._met.wait_for(lambda: self.rendezvous_reached, timeout=5)
        try:
            if self.step_seconds:
                time.sleep(self.step_seconds)
            if (stack, step) in self.exceptions:
                raise self.exceptions[(stack, step)]
            if (stack, step) in self.failures:
                return StepResult(ok=False, summary=self.failures[(stack, step)])
            return StepResult(ok=True, summary=f"{step} of {stack}")
        finally:
            with self._lock:
                self._in_flight -= 1

    def set_gitpod_version(self, stack: str, version: str, installer_image: str) -> None:
        result = self._call("set version", stack)
        if not result.ok:
            raise RuntimeError(result.summary)
        self.versions_set[stack] = version
        self.images_set[stack] = installer_image
        if self._write_to is not None:
            path = self._write_to / f"Pulumi.{stack}.yaml"
            document = yaml.safe_load(path.read_text())
            document["config"]["gitpod-cell:gitpod"].update(version=version, installerImage=installer_image)
            path.write_text(yaml.safe_dump(document))

    def preview(self, stack: str, policy_pack: Path) -> StepResult:
        self.policy_packs.add(policy_pack)
        return self._call("preview", stack)

    def up(self, stack: str, policy_pack: Path) -> StepResult:
        self.policy_packs.add(policy_pack)
        return self._call("up", stack)

    def health(self, stack: str) -> StepResult:
        result = self._call("health", stack)
        return self._health(stack) if self._health is not None and result.ok else result

    def last_update(self, stack: str) -> LastUpdate:
        self._call("last update", stack)
        return self.updates.get(stack, LastUpdate(finished_at=None, gitpod_version=None))

    def stacks_called(self) -> list[str]:
        return [stack for _, stack in self.calls]


@pytest.fixture
def fake_driver_factory() -> Callable[..., FakeDriver]:
    return FakeDriver


def write_stack_files(stacks_dir: Path, stacks: Iterable[str], version: str = "2024.08.0") -> None:
    stacks_dir.mkdir(parents=True, exist_ok=True)
    for stack in stacks:
        document = {"config": {"gitpod-cell:gitpod": {"version": version, "installerImage": f"installer:{version}"}}}
        (stacks_dir / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(document))


@pytest.fixture
def stacks_dir(tmp_path: Path) -> Path:
    """A stacks folder with the usual cells plus two regional prod cells."""
    directory = tmp_path / "stacks"
    write_stack_files(directory, ["dev", "staging", "staging-2", "prod", "prod-eu", "prod-us", "prod-us-2"])
    return directory


@pytest.fixture
def write_fleet(stacks_dir: Path) -> Callable[[Any], Path]:
    def write(document: Any) -> Path:
        path = stacks_dir / "fleet.yaml"
        path.write_text(document if isinstance(document, str) else yaml.safe_dump(document, sort_keys=False))
        return path

    return write


@pytest.fixture
def three_waves() -> dict[str, Any]:
    """A fleet document: two staging cells, then prod-eu, then two prod-us cells."""
    return {
        "parallelism": 2,
        "waves": [
            {"name": "staging", "stage": "staging", "stacks": ["staging", "staging-2"]},
            {"name": "prod-eu", "stage": "production", "stacks": ["prod-eu"]},
            {"name": "prod-us", "stage": "production", "stacks": ["prod-us", "prod-us-2"]},
        ],
    }


@pytest.fixture
def fixed_clock() -> Callable[[], datetime]:
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    return lambda: now


@pytest.fixture
def ops_parser() -> argparse.ArgumentParser:
    """A parser with only this feature's commands: the tests do not depend on other command modules."""
    parser = argparse.ArgumentParser(prog="python -m ops")
    rollout_cli.register(parser.add_subparsers(dest="command", required=True))
    return parser


@pytest.fixture
def run_command(
    ops_parser: argparse.ArgumentParser, stacks_dir: Path, fixed_clock: Callable[[], datetime]
) -> Callable[..., int]:
    """Parse and run one command against the temporary stacks folder, with an injected driver."""

    def run(argv: list[str], driver: Any = None) -> int:
        args = ops_parser.parse_args(argv)
        args.stacks_dir = stacks_dir
        args.clock = fixed_clock

        def make_driver() -> Any:
            if driver is None:
                pytest.fail("this command must not create a Pulumi driver")
            return driver

        args.make_driver = make_driver
        return int(args.handler(args))

    return run


@pytest.fixture
def live_cell(aws: Callable[[str], Any], versioned_bucket: str, cluster: KubeCluster) -> dict[str, Any]:
    """Everything preflight looks at, healthy: repositories, a versioned bucket, a node with every label."""
    ecr = aws("ecr")
    for name in PROD_REPOSITORIES:
        ecr.create_repository(repositoryName=name)
    create_rds_instance(aws("rds"), "gitpod-prod-db", backup_retention_days=7)
    cluster.put_node("services-1", labels=dict.fromkeys(GITPOD_WORKLOAD_LABELS, "true"))
    return {"s3": aws("s3"), "ecr": ecr, "rds": aws("rds"), "bucket": versioned_bucket}
