"""`python -m ops rollout` and `python -m ops fleet ...`: staged rollouts and fleet checks from the command line.

rollout --version V [--installer-image IMAGE] [--dry-run] [--parallelism N] [--fleet PATH] [--policy-pack PATH]
fleet show [--json]                          the waves, for people and for the workflows' job matrices
fleet status [--max-age-days N] [--json]     deployed version and update age per cell; exit 1 if any is overdue
fleet health (--stack S ... | --wave W)      the health gate the deploy workflow runs after `pulumi up`: the
                                             public URL, and on the cluster (stack output `kubeconfig`, or
                                             --kubeconfig) workloads ready, the installation record showing the
                                             rollout finished and its config backed up, maintenance off
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import threading
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from ops.common.stackfile import REPO_ROOT, STACKS_DIR, load_stack, shipped_stacks, stack_path
from ops.common.timestamps import utc_now
from ops.errors import EXIT_BAD_INPUT, EXIT_CANNOT_CHECK, EXIT_FAILED, OpsError
from ops.rollout.fleet import DEFAULT_FLEET_PATH, Fleet, load_fleet
from ops.rollout.fleet_status import DEFAULT_MAX_AGE_DAYS, collect_update_ages, format_update_ages
from ops.rollout.staged import (
    GITPOD_CONFIG_KEY,
    GITPOD_VERSION_FIELD,
    INSTALLER_IMAGE_FIELD,
    PulumiDriver,
    StackStatus,
    describe_plan,
    format_report,
    plan_rollout,
    run_rollout,
)

DEFAULT_POLICY_PACK = REPO_ROOT / "policies"

_print_lock = threading.Lock()


def register(subparsers: Any) -> None:
    _register_rollout(subparsers)
    _register_storage_key(subparsers)
    fleet = subparsers.add_parser("fleet", help="the cells in stacks/fleet.yaml: waves, update age, health")
    fleet_commands = fleet.add_subparsers(dest="fleet_command", required=True, metavar="FLEET_COMMAND")
    _register_fleet_show(fleet_commands)
    _register_fleet_status(fleet_commands)
    _register_fleet_health(fleet_commands)


def _register_storage_key(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "storage-key", help="rotate the static object-storage key of builds that need one",
        description="The bucket-scoped static key some Gitpod builds need (README: Supported Gitpod builds).")
    actions = parser.add_subparsers(dest="storage_key_action", required=True, metavar="ACTION")
    rotate = actions.add_parser(
        "rotate", help="write a new rotation label into the stack file; the next `pulumi up` rolls the new key out",
        description="Write a new gitpod.staticStorageKey.rotation label into the stack file (that one line). The next "
                    "`pulumi up` creates the new key, restarts the storage users with it under the maintenance lease, "
                    "and deletes the old key at the end of the same update.")
    rotate.add_argument("--stack", required=True, help="stack name (stacks/Pulumi.<stack>.yaml)")
    rotate.add_argument("--stack-file", type=Path, default=None, help="this stack file instead")
    rotate.set_defaults(handler=_rotate_storage_key, stacks_dir=STACKS_DIR, clock=utc_now)


def _rotate_storage_key(args: argparse.Namespace) -> int:
    from ops.common.stackfile import stack_name_problem, stack_path
    from ops.rollout.storage_key import rotate

    problem = stack_name_problem(args.stack)
    if problem:
        raise OpsError(problem, EXIT_BAD_INPUT)
    path = args.stack_file or stack_path(args.stack, args.stacks_dir)
    old, new = rotate(path, args.clock())
    print(f"{path}: gitpod.staticStorageKey.rotation {old or '(none)'} -> {new}")
    print(f"next: `pulumi up --stack {args.stack} --policy-pack policies` creates the new key, rolls it out to the "
          "storage users under the maintenance lease and deletes the old one; commit the stack file")
    return 0


def _add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fleet", type=Path, default=DEFAULT_FLEET_PATH, metavar="PATH", help="fleet file (default: stacks/fleet.yaml)"
    )
    # Seams for tests and for other callers; not command-line options.
    parser.set_defaults(stacks_dir=STACKS_DIR, make_driver=make_automation_driver, clock=utc_now)


def _register_rollout(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "rollout",
        help="set a Gitpod version on every cell of the fleet, wave by wave, halting on the first failure",
        description="Set the Gitpod version in each wave's stack files, preview with the policy pack, up, and run "
        "the health gate; one wave at a time, halting on the first failure. Commit the changed stack files.",
    )
    parser.add_argument("--version", required=True,
                        help=f"the Gitpod build to roll out, one of the supported builds: {_supported()}")
    parser.add_argument(
        "--installer-image", default=None, metavar="IMAGE",
        help="installer image for every stack, e.g. a mirror's, tagged with --version (default: each stack's "
             "current installer repository tagged with --version; required when a stack pins its installer by "
             "digest)",
    )
    parser.add_argument("--allow-downgrade", action="store_true",
                        help="allow a build released before a stack's current one (Gitpod's database migrations "
                             "only go forward: restore a backup instead where you can)")
    parser.add_argument("--dry-run", action="store_true", help="print the waves and change nothing")
    parser.add_argument("--parallelism", type=int, metavar="N", help="stacks at once inside a wave (overrides fleet)")
    parser.add_argument(
        "--policy-pack", type=Path, default=DEFAULT_POLICY_PACK, metavar="PATH", help="default: policies/"
    )
    _add_common_arguments(parser)
    parser.set_defaults(handler=run_rollout_command)


def _register_fleet_show(subparsers: Any) -> None:
    parser = subparsers.add_parser("show", help="the rollout waves of the fleet file")
    parser.add_argument("--json", action="store_true", help="one JSON document (used by the workflows)")
    _add_common_arguments(parser)
    parser.set_defaults(handler=show_fleet_command)


def _register_fleet_status(subparsers: Any) -> None:
    parser = subparsers.add_parser("status", help="deployed Gitpod version and age of the last successful update")
    parser.add_argument(
        "--max-age-days",
        type=int,
        default=DEFAULT_MAX_AGE_DAYS,
        metavar="N",
        help=f"flag cells not updated for more than N days (default: {DEFAULT_MAX_AGE_DAYS})",
    )
    parser.add_argument("--json", action="store_true", help="one JSON document")
    _add_common_arguments(parser)
    parser.set_defaults(handler=fleet_status_command)


def _register_fleet_health(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "health", help="the deploy health gate: public endpoint, workloads, installation record, maintenance off")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--stack", action="append", metavar="STACK", help="a stack to check (repeatable)")
    target.add_argument("--wave", metavar="WAVE", help="every stack of this wave")
    parser.add_argument("--kubeconfig", type=Path, default=None, metavar="PATH",  # checked before use
                        help="kubeconfig of the cell's cluster (one --stack only); default: the stack output "
                             "'kubeconfig'")
    parser.add_argument("--context", default=None, help="kubeconfig context (with --kubeconfig)")
    _add_common_arguments(parser)
    parser.set_defaults(handler=fleet_health_command)


def _supported() -> str:
    from contract.gitpod_builds import SUPPORTED_BUILDS

    return ", ".join(SUPPORTED_BUILDS)


def run_rollout_command(args: argparse.Namespace) -> int:
    from ops.rollout.checks import check_rollout

    policy_pack: Path = args.policy_pack
    if not args.dry_run and not (policy_pack / "PulumiPolicy.yaml").is_file():
        raise OpsError(f"--policy-pack {policy_pack}: no PulumiPolicy.yaml there", EXIT_BAD_INPUT)
    fleet = load_fleet(args.fleet, args.stacks_dir)
    plan = plan_rollout(fleet, args.version, args.parallelism,
                        current_images=configured_installer_images(fleet.stacks, args.stacks_dir),
                        installer_image=args.installer_image)
    # Every stack validated with the new build, as its `pulumi preview` would, before anything changes.
    for note in check_rollout(plan, args.stacks_dir, allow_downgrade=args.allow_downgrade):
        print(f"note: {note}")
    print(describe_plan(plan, configured_gitpod_versions(fleet.stacks, args.stacks_dir)))
    if args.dry_run:
        print("dry run: nothing was changed")
        return 0
    driver: PulumiDriver = args.make_driver()
    report = run_rollout(plan, driver, policy_pack, log=locked_print,
                         snapshot=lambda stack: snapshot_stack_file(stack_path(stack, args.stacks_dir)))
    print(format_report(report))
    succeeded = [outcome.stack for outcome in report.outcomes if outcome.status is StackStatus.SUCCEEDED]
    failed = [outcome for outcome in report.outcomes if outcome.status is StackStatus.FAILED]
    if succeeded:
        files = " ".join(_display_path(stack_path(stack, args.stacks_dir)) for stack in succeeded)
        print(f"commit these: the new version is in these stack files, and their cells run it: {files}")
    if failed:
        reverted = " ".join(_display_path(stack_path(o.stack, args.stacks_dir)) for o in failed if o.reverted)
        kept = " ".join(_display_path(stack_path(o.stack, args.stacks_dir)) for o in failed
                        if not o.reverted and o.failed_step != "set version")
        if reverted:
            print(f"do not commit these: their stacks failed, and their stack files were reverted: {reverted}")
        if kept:
            print(f"do not commit these: their stacks failed and the stack files could not be reverted; restore "
                  f"them with `git checkout --`: {kept}")
    return 0 if report.ok else EXIT_FAILED


def snapshot_stack_file(path: Path) -> Any:
    """A copy of the stack file now, and what puts it back (see ops.rollout.StackFileSnapshot)."""
    original = path.read_bytes() if path.is_file() else None

    def restore() -> None:
        if original is None:
            path.unlink(missing_ok=True)
        else:
            path.write_bytes(original)

    return restore


def show_fleet_command(args: argparse.Namespace) -> int:
    fleet = load_fleet(args.fleet, args.stacks_dir)
    if args.json:
        print(json.dumps(fleet_as_json(fleet, shipped_stacks(args.stacks_dir)), indent=2))
        return 0
    for number, wave in enumerate(fleet.waves, start=1):
        print(f"wave {number}: {wave.name} ({wave.stage}, parallelism {wave.parallelism}): {', '.join(wave.stacks)}")
    outside = [stack for stack in shipped_stacks(args.stacks_dir) if stack not in fleet.stacks]
    if outside:
        print(f"not rolled out (no wave): {', '.join(outside)}")
    return 0


def fleet_status_command(args: argparse.Namespace) -> int:
    if args.max_age_days < 1:
        raise OpsError(f"--max-age-days must be at least 1 (got {args.max_age_days})", EXIT_BAD_INPUT)
    fleet = load_fleet(args.fleet, args.stacks_dir)
    max_age = timedelta(days=args.max_age_days)
    ages = collect_update_ages(fleet.stacks, args.make_driver(), max_age, clock=args.clock)
    if args.json:
        document = {"maxAgeDays": args.max_age_days, "cells": [cell.as_json() for cell in ages]}
        print(json.dumps(document, indent=2))
    else:
        print(format_update_ages(ages, max_age))
    return EXIT_FAILED if any(cell.overdue for cell in ages) else 0


def fleet_health_command(args: argparse.Namespace) -> int:
    fleet = load_fleet(args.fleet, args.stacks_dir)
    stacks: Sequence[str] = args.stack or fleet.wave(args.wave).stacks
    unknown = [stack for stack in stacks if stack not in fleet.stacks]
    if unknown:
        raise OpsError(f"not in {fleet.source}: {', '.join(unknown)}", EXIT_BAD_INPUT)
    overrides: dict[str, Any] = {}
    if args.kubeconfig is not None:
        from ops.common.files import read_text

        read_text(args.kubeconfig, "--kubeconfig")
    if args.kubeconfig is not None or args.context is not None:
        if len(stacks) != 1:
            raise OpsError("--kubeconfig/--context name one cluster: pass exactly one --stack", EXIT_BAD_INPUT)
        overrides = {"kubeconfig": args.kubeconfig, "kube_context": args.context}
    driver: PulumiDriver = args.make_driver(**overrides) if overrides else args.make_driver()
    unhealthy = 0
    for stack in stacks:
        result = driver.health(stack)
        print(f"{stack}: {'healthy' if result.ok else 'UNHEALTHY'}: {result.summary}")
        unhealthy += not result.ok
    return EXIT_FAILED if unhealthy else 0


def fleet_as_json(fleet: Fleet, all_stacks: Sequence[str]) -> dict[str, Any]:
    return {
        "source": fleet.source,
        "waves": [
            {"name": wave.name, "stage": wave.stage, "stacks": list(wave.stacks), "parallelism": wave.parallelism}
            for wave in fleet.waves
        ],
        "fleetStacks": fleet.stacks,
        "allStacks": list(all_stacks),
    }


def configured_gitpod_versions(stacks: Sequence[str], stacks_dir: Path) -> dict[str, str | None]:
    """The Gitpod version each stack file asks for now (read-only: safe for a dry run)."""
    versions: dict[str, str | None] = {}
    for stack in stacks:
        gitpod = load_stack(stack, stacks_dir).config.get(GITPOD_CONFIG_KEY)
        version = gitpod.get(GITPOD_VERSION_FIELD) if isinstance(gitpod, dict) else None
        versions[stack] = str(version) if version is not None else None
    return versions


def configured_installer_images(stacks: Sequence[str], stacks_dir: Path) -> dict[str, str | None]:
    """The installer image each stack file pins now."""
    images: dict[str, str | None] = {}
    for stack in stacks:
        gitpod = load_stack(stack, stacks_dir).config.get(GITPOD_CONFIG_KEY)
        image = gitpod.get(INSTALLER_IMAGE_FIELD) if isinstance(gitpod, dict) else None
        images[stack] = str(image) if image is not None else None
    return images


def _display_path(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def locked_print(line: str) -> None:
    with _print_lock:
        print(line, flush=True)


def make_automation_driver(kubeconfig: Path | None = None, kube_context: str | None = None) -> PulumiDriver:
    from ops.rollout.pulumi_automation import AutomationDriver

    if shutil.which("pulumi") is None:
        raise OpsError("the Pulumi CLI is not on PATH: install it and log in to the backend (pulumi login)",
                       EXIT_CANNOT_CHECK)
    return AutomationDriver(
        organization=os.environ.get("PULUMI_ORG") or None,
        on_output=lambda stack, line: locked_print(f"[{stack}] {line}"),
        kubeconfig=kubeconfig,
        kube_context=kube_context,
    )
