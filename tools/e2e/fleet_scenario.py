"""`ops rollout` through the Automation API over two cells in a two-wave fleet, each cell on its own local API
server (a cluster holds one cell: the maintenance lease and keeper live at fixed places in it).

    1. both cells up at release-2022.11.2.16 (the CLI, with the policy pack)
    2. a rollout to release-2022.11.3: wave `first` (fleet-a), then wave `second` (fleet-b), each stack set,
       previewed with the policy pack, updated (the six hooks run) and health-checked on its cluster
    3. a rollout back to release-2022.11.2.16 while fleet-a's stand-in keeps a workload unready: fleet-a's health
       gate fails, the rollout halts, fleet-b is not started and keeps release-2022.11.3

The rollout code is ops.rollout.staged with ops.rollout.pulumi_automation.AutomationDriver, what `python -m ops
rollout` runs, over this run's project directory. The public-URL half of the health step cannot work here (no
proxy runs: Pods never start), so it is replaced by a probe that says so; the cluster half is the real
ops.cluster.cell_health check.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ops.cluster.cell_health import cluster_health_from_kubeconfig
from ops.rollout.fleet import parse_fleet
from ops.rollout.pulumi_automation import AutomationDriver
from ops.rollout.staged import RolloutReport, StepResult, format_report, plan_rollout, run_rollout
from tools.e2e.cluster import LocalCluster, point_stack_at
from tools.e2e.project import POLICY_PACK, Project
from tools.e2e.servers import Database, ObjectStore, RegistryRoot, Tls

FLEET_STACKS = ("fleet-a", "fleet-b")
FLEET_DATABASES = ("gitpod_fleet_a", "gitpod_fleet_b")
FLEET_BUCKETS = ("gitpod-fleet-a", "gitpod-fleet-b")
FROM_VERSION, TO_VERSION = "release-2022.11.2.16", "release-2022.11.3"
INSTALLER = "eu.gcr.io/gitpod-core-dev/build/installer"
CLUSTER_HEALTH_TIMEOUT_SECONDS = 30


def no_public_url_probe(url: str) -> StepResult:
    return StepResult(ok=True, summary=f"{url} not probed: on a local API server no pod runs, so no proxy answers "
                                       "(e2e stand-in; the cluster half of the gate is real)")


@contextmanager
def cli_environment(project: Project) -> Iterator[None]:
    """The Automation API runs the CLI with this process's environment: the project's, for the duration."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(project.env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _outcomes(report: RolloutReport) -> list[dict[str, Any]]:
    return [{"wave": o.wave, "stack": o.stack, "status": o.status.value, "failedStep": o.failed_step,
             "detail": o.detail.splitlines()[0][:300] if o.detail else ""} for o in report.outcomes]


def run_fleet(project: Project, directory: Path, database: Database, store: ObjectStore, registry: RegistryRoot,
              tls: Tls, cleanup: ExitStack) -> dict[str, Any]:
    echo = project.echo
    started = time.monotonic()
    clusters: dict[str, LocalCluster] = {}
    for stack, database_name, bucket in zip(FLEET_STACKS, FLEET_DATABASES, FLEET_BUCKETS, strict=True):
        clusters[stack] = LocalCluster.start(directory / f"kube-{stack}")
        cleanup.callback(clusters[stack].stop)
        project.add_stack(stack)
        point_stack_at(project, stack, clusters[stack], database, database_name, store, bucket, registry, tls)
        project.set_config(stack, {"gitpod-cell:gitpod.healthGateMinutes": 1})
        project.pulumi("up", "--yes", "--skip-preview", "--policy-pack", str(POLICY_PACK), stack=stack)
    echo(f"fleet: {', '.join(FLEET_STACKS)} up at {FROM_VERSION} in {time.monotonic() - started:.0f}s")

    fleet = parse_fleet({"waves": [{"name": "first", "stage": "staging", "stacks": [FLEET_STACKS[0]]},
                                   {"name": "second", "stage": "production", "stacks": [FLEET_STACKS[1]]}]},
                        source="e2e fleet", stack_has_file=lambda name: (project.stacks /
                                                                         f"Pulumi.{name}.yaml").is_file())
    log = project.log.open("a")
    cleanup.callback(log.close)

    def cluster_check(stack: str, kubeconfig: str, context: str | None) -> StepResult:
        health = cluster_health_from_kubeconfig(stack, kubeconfig, "gitpod", datetime.now(UTC), context=context,
                                                timeout_seconds=CLUSTER_HEALTH_TIMEOUT_SECONDS)
        return StepResult(ok=health.healthy, summary=health.summary())

    driver = AutomationDriver(project.root, health_probe=no_public_url_probe, cluster_check=cluster_check,
                              on_output=lambda stack, line: log.write(f"[{stack}] {line}\n"))
    images = {stack: f"{INSTALLER}:{FROM_VERSION}" for stack in FLEET_STACKS}

    def rollout(version: str) -> RolloutReport:
        with cli_environment(project):
            return run_rollout(plan_rollout(fleet, version, current_images=images), driver, POLICY_PACK,
                               log=lambda line: echo(f"fleet: {line}"))

    started = time.monotonic()
    upgrade = rollout(TO_VERSION)
    upgrade_seconds = time.monotonic() - started
    echo(format_report(upgrade))
    versions = {stack: cluster.installation_record().get("version") for stack, cluster in clusters.items()}
    images = {stack: f"{INSTALLER}:{TO_VERSION}" for stack in FLEET_STACKS}

    clusters[FLEET_STACKS[0]].standin.unready.add("server")
    started = time.monotonic()
    halted = rollout(FROM_VERSION)
    halt_seconds = time.monotonic() - started
    clusters[FLEET_STACKS[0]].standin.unready.clear()
    echo(format_report(halted))
    after_halt = {stack: cluster.installation_record().get("version") for stack, cluster in clusters.items()}
    ok = (upgrade.ok and all(v == TO_VERSION for v in versions.values()) and not halted.ok
          and [o.stack for o in halted.failed] == [FLEET_STACKS[0]]
          and [o.stack for o in halted.not_started] == [FLEET_STACKS[1]]
          and after_halt[FLEET_STACKS[1]] == TO_VERSION)
    with cli_environment(project):
        for stack in FLEET_STACKS:
            project.pulumi("destroy", "--yes", "--skip-preview", stack=stack)
    return {
        "ok": ok,
        "upgrade": {"version": TO_VERSION, "ok": upgrade.ok, "seconds": round(upgrade_seconds, 1),
                    "outcomes": _outcomes(upgrade), "recordedVersions": versions},
        "halt": {"version": FROM_VERSION, "ok": halted.ok, "seconds": round(halt_seconds, 1),
                 "outcomes": _outcomes(halted), "recordedVersions": after_halt},
    }
