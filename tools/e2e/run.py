"""`make e2e`: start the local servers, run the scenarios, write `.e2e/report.json`, stop everything.

    1. a cell (stacks/Pulumi.local.yaml) on a local API server: preview with the policy pack, `pulumi up` with
       the six rollout hooks, a rollout whose health gate fails, `pulumi destroy` (cell_scenario.py)
    2. `ops rollout` through the Automation API over two cells on their own local API servers in a two-wave
       fleet: a version change rolled out wave by wave, then a rollout halted by the first wave's health gate
       (fleet_scenario.py)

What stands in for a real cluster is TEST-ONLY and says so (standin.py, servers.RegistryRoot).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import traceback
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tools.e2e.cell_scenario import BUCKET, STACK, CellReport, run_cell
from tools.e2e.cluster import LocalCluster, point_stack_at
from tools.e2e.project import REPO_ROOT, make_project
from tools.e2e.servers import DATABASE, Database, ObjectStore, RegistryRoot, make_tls

REPORT = REPO_ROOT / ".e2e" / "report.json"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.e2e", description=__doc__.splitlines()[0])
    parser.add_argument("--no-fleet", action="store_true", help="only the single-cell scenario")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, state)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    directory = Path(tempfile.mkdtemp(prefix="gitpod-cell-e2e-"))
    report: dict[str, Any] = {}
    cell = CellReport()
    ok = False
    try:
        with ExitStack() as cleanup:
            tls = make_tls(directory / "tls")
            from tools.e2e.fleet_scenario import FLEET_BUCKETS, FLEET_DATABASES

            database = Database.start(directory / "mariadb", tls, (DATABASE, *FLEET_DATABASES))
            cleanup.callback(database.stop)
            store = ObjectStore().start((BUCKET, *FLEET_BUCKETS))
            cleanup.callback(store.stop)
            registry = RegistryRoot().start()
            cleanup.callback(registry.stop)
            cluster = LocalCluster.start(directory / "kube")
            cleanup.callback(cluster.stop)
            print(f"e2e: servers up in {time.monotonic() - started:.1f}s (API server {cluster.kube.server_url}, "
                  f"MariaDB :{database.port}, S3 {store.endpoint}, registry stand-in {registry.server_address})")
            project = make_project(directory)
            print(f"e2e: pulumi output in {project.log}")
            project.add_stack(STACK)
            point_stack_at(project, STACK, cluster, database, DATABASE, store, BUCKET, registry, tls)
            run_cell(project, cluster, store, cell)
            report["standInErrors"] = list(cluster.standin.errors)
            if not args.no_fleet:
                from tools.e2e.fleet_scenario import run_fleet

                report["fleetRollout"] = run_fleet(project, directory, database, store, registry, tls, cleanup)
            ok = True
    except Exception as error:  # report what failed, then still clean up and write the report
        traceback.print_exc()
        report["error"] = f"{type(error).__name__}: {error}"
    finally:
        report = {**{_camel(k): v for k, v in asdict(cell).items()}, **report,
                  "seconds": round(time.monotonic() - started, 1)}
        REPORT.parent.mkdir(exist_ok=True)
        REPORT.write_text(json.dumps(report, indent=2) + "\n")
        if args.keep:
            print(f"e2e: kept {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)
    print(f"e2e: report in {REPORT}: {json.dumps({k: report[k] for k in ('resourcesCreated', 'hooksRun')})}")
    failures = problems(report) if ok else [report.get("error", "failed")]
    for failure in failures:
        print(f"e2e: FAILED: {failure}", file=sys.stderr)
    print(f"e2e: {'passed' if not failures else 'failed'} in {report['seconds']:.0f}s")
    return 0 if not failures else 1


def problems(report: dict[str, Any]) -> list[str]:
    """What the report must show for `make e2e` to pass."""
    found = []
    if report["resourcesCreated"] <= 20:
        found.append(f"only {report['resourcesCreated']} resources created")
    if len(report["hooksRun"]) != 6:
        found.append(f"hooks run: {report['hooksRun']}")
    if not report["maintenanceDuringInstaller"] or report["maintenanceAfter"]:
        found.append("maintenance was not on during the installer and off after it")
    if not report["policyPackRan"]:
        found.append("the policy pack did not run")
    failing = report["failingHealthGate"]
    if not failing.get("healthGateFailed") or "backup-config" in failing.get("hooksRun", []) \
            or not failing.get("maintenanceAfter") or not failing.get("cellHealthProblems"):
        found.append(f"the failing health gate did not fail the rollout as documented: {failing}")
    fleet = report.get("fleetRollout")
    if fleet is not None and not fleet.get("ok"):
        found.append(f"fleet rollout: {fleet}")
    return found
