"""The single-cell scenario of `make e2e`: preview with the policy pack, `pulumi up` of the local stack with the six
rollout hooks running under the engine, a rollout whose health gate fails, and `pulumi destroy`."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from contract.rollout import ALL_STEPS
from ops.cluster.cell_health import check_cell_health
from ops.cluster.kube import KubeClient
from tools.e2e.cluster import LocalCluster
from tools.e2e.project import POLICY_PACK, Project
from tools.e2e.servers import ObjectStore

STACK = "local"
BUCKET = "gitpod-local"
POLICY_PACK_NAME = "gitpod-cell"
_CREATED = re.compile(r"\+\s*(\d+)\s+created")


class ScenarioFailed(Exception):
    pass


@dataclass
class CellReport:
    resources_created: int = 0
    hooks_run: list[str] = field(default_factory=list)
    maintenance_during_installer: bool = False
    maintenance_after: bool = True
    policy_pack_ran: bool = False
    policy_venv_created: bool = False
    first_preview_seconds: float = 0.0
    later_preview_seconds: float = 0.0
    # When the first preview created policies/venv: its time less a later preview's, i.e. the venv's creation.
    policy_venv_seconds: float | None = None
    up_seconds: float = 0.0
    destroy_seconds: float = 0.0
    restore_point: dict[str, Any] | None = None
    config_backup: dict[str, Any] | None = None
    failing_health_gate: dict[str, Any] = field(default_factory=dict)


def steps_seen(record_before: dict[str, str], record: dict[str, str], output: str) -> list[str]:
    """Which hooks ran in one `pulumi up`, from what each leaves behind (the record, the lease) and what it
    printed; in the order they run."""
    evidence = {
        "preflight": "preflight passed:" in output,
        "enter-maintenance": record.get("rolloutMaintenanceUntil") not in (None, record_before.get(
            "rolloutMaintenanceUntil")),
        "record-restore-point": record.get("restorePoint") not in (None, record_before.get("restorePoint")),
        "health-gate": "workloads in " in output and " ready after " in output,
        "backup-config": record.get("lastConfigBackup") not in (None, record_before.get("lastConfigBackup")),
        "exit-maintenance": record.get("lastRolloutFinishedAt") not in (None, record_before.get(
            "lastRolloutFinishedAt")),
    }
    return [step for step in ALL_STEPS if evidence[step]]


def _policy_pack_ran(output: str) -> bool:
    return "Policies:" in output or (POLICY_PACK_NAME in output and "policy" in output.lower())


def run_cell(project: Project, cluster: LocalCluster, store: ObjectStore, report: CellReport) -> None:
    echo = project.echo
    venv_existed = (POLICY_PACK / "venv").is_dir()
    started = time.monotonic()
    preview = project.pulumi("preview", "--policy-pack", str(POLICY_PACK), "--diff", stack=STACK)
    report.first_preview_seconds = time.monotonic() - started
    report.policy_venv_created = not venv_existed and (POLICY_PACK / "venv").is_dir()
    report.policy_pack_ran = _policy_pack_ran(preview.stdout)
    echo(f"preview with the policy pack: {report.first_preview_seconds:.1f}s "
         f"(policy venv {'created' if report.policy_venv_created else 'reused'}); policy pack ran: "
         f"{report.policy_pack_ran}")
    if not report.policy_pack_ran:
        raise ScenarioFailed("the preview output shows no policy pack run")

    before = cluster.installation_record()
    started = time.monotonic()
    up = project.pulumi("up", "--yes", "--skip-preview", "--policy-pack", str(POLICY_PACK), stack=STACK)
    report.up_seconds = time.monotonic() - started
    created = _CREATED.search(up.stdout)
    report.resources_created = int(created.group(1)) if created else 0
    record = cluster.installation_record()
    report.hooks_run = steps_seen(before, record, up.stdout)
    observations = [o for o in cluster.standin.installer_observations if o.namespace == "gitpod"]
    report.maintenance_during_installer = bool(observations) and all(o.maintenance_on for o in observations)
    report.maintenance_after = cluster.standin.maintenance_on()
    report.restore_point = json.loads(record["restorePoint"]) if record.get("restorePoint") else None
    report.config_backup = json.loads(record["lastConfigBackup"]) if record.get("lastConfigBackup") else None
    echo(f"pulumi up: {report.resources_created} resources created in {report.up_seconds:.1f}s; hooks run: "
         f"{', '.join(report.hooks_run)}; maintenance during the installer: {report.maintenance_during_installer}, "
         f"after: {report.maintenance_after}")
    if report.config_backup:
        key = report.config_backup.get("key")
        stored = store.client().head_object(Bucket=BUCKET, Key=key, VersionId=report.config_backup.get("versionId"))
        echo(f"config backup in the store: s3://{BUCKET}/{key} ({stored['ContentLength']} bytes)")

    started = time.monotonic()
    project.pulumi("preview", "--policy-pack", str(POLICY_PACK), stack=STACK)
    report.later_preview_seconds = time.monotonic() - started
    if report.policy_venv_created:
        report.policy_venv_seconds = round(report.first_preview_seconds - report.later_preview_seconds, 1)

    failing_health_gate(project, cluster, report)

    started = time.monotonic()
    project.pulumi("destroy", "--yes", "--skip-preview", stack=STACK)
    report.destroy_seconds = time.monotonic() - started
    echo(f"pulumi destroy: {report.destroy_seconds:.1f}s")


def failing_health_gate(project: Project, cluster: LocalCluster, report: CellReport) -> None:
    """A config change rolled out while the stand-in keeps one workload unready: the health gate fails, the steps
    after it do not run, and maintenance stays on until its lease ends (docs/operations.md)."""
    echo = project.echo
    cluster.standin.unready.add("server")
    project.set_config(STACK, {"gitpod-cell:gitpod.workspace.timeoutDefault": "45m"})
    before = cluster.installation_record()
    started = time.monotonic()
    up = project.pulumi("up", "--yes", "--skip-preview", "--policy-pack", str(POLICY_PACK), stack=STACK, check=False)
    seconds = time.monotonic() - started
    record = cluster.installation_record()
    output = up.stdout + up.stderr
    health = check_cell_health(KubeClient.from_kubeconfig(cluster.kube.kubeconfig_path), STACK, "gitpod",
                               datetime.now(UTC), timeout_seconds=1, poll_seconds=1)
    result = {
        "pulumiExitCode": up.returncode,
        "seconds": round(seconds, 1),
        "hooksRun": steps_seen(before, record, output),
        "healthGateFailed": "rollout step 'health-gate' failed" in output,
        "maintenanceAfter": cluster.standin.maintenance_on(),
        "cellHealthProblems": list(health.problems),
    }
    report.failing_health_gate = result
    echo(f"rollout with an unready workload: pulumi exit {up.returncode} in {seconds:.1f}s; health gate failed: "
         f"{result['healthGateFailed']}; hooks run: {', '.join(result['hooksRun'])}; maintenance still on: "
         f"{result['maintenanceAfter']}; fleet health: {'; '.join(health.problems) or 'healthy'}")
    cluster.standin.unready.clear()
