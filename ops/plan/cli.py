"""`python -m ops plan`: the offline plan of one cell (docs/architecture.md), with the policy pack run over it."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from ops.common.stackfile import StackFile, load_stack, load_stack_file
from ops.errors import EXIT_BAD_INPUT, EXIT_FAILED, OpsError
from ops.plan.text import render_text

OFFLINE_NOTICE = (
    "OFFLINE PLAN: the real program ran under Pulumi's mock engine. No cloud was contacted: provider defaults, "
    "cloud-side validation and computed values are not applied (ids, ARNs and endpoints shown are stand-ins)."
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "plan", help="plan a cell offline (no CLI, no credentials) and run the policy pack over it",
        description=OFFLINE_NOTICE,
    )
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--stack", help="stack name: plans stacks/Pulumi.<stack>.yaml")
    target.add_argument("--stack-file", type=Path, help="any stack file (the stack is named after the file)")
    parser.add_argument("--json", action="store_true", help="print the plan as one JSON document on stdout")
    parser.add_argument("--policy-pack-config", type=Path, metavar="PATH",
                        help="the policy pack's thresholds, as `pulumi preview --policy-pack-config` takes them")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    # Every local input first: a bad policy config is refused before the program runs.
    policy_config = load_policy_config(args.policy_pack_config) if args.policy_pack_config else None
    stack = load_stack(args.stack) if args.stack is not None else load_stack_file(args.stack_file)
    started = time.monotonic()
    plan = build_plan(stack, policy_config)
    if args.json:
        json.dump(plan, sys.stdout, indent=2, sort_keys=False)
        sys.stdout.write("\n")
    else:
        print(render_text(plan, time.monotonic() - started, OFFLINE_NOTICE))
    mandatory = [v for v in plan["policies"]["violations"] if v["enforcement"] == "mandatory"]
    if mandatory:
        print(f"plan failed: {len(mandatory)} mandatory policy violation(s)", file=sys.stderr)
        return EXIT_FAILED
    return 0


def load_policy_config(path: Path) -> dict[str, Any]:
    from ops.common.files import read_text

    text = read_text(path, "--policy-pack-config")
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        raise OpsError(f"--policy-pack-config {path}: not JSON: {error}", EXIT_BAD_INPUT) from None
    if not isinstance(document, dict):
        raise OpsError(f"--policy-pack-config {path}: expected a JSON object keyed by policy name",
                       EXIT_BAD_INPUT)
    from policies.core.config import PolicyConfigError, parse_pack_config
    from policies.offline import ALL_RULES

    try:  # checked now, so a typo costs no plan run
        parse_pack_config(ALL_RULES, document)
    except PolicyConfigError as error:
        raise OpsError(f"--policy-pack-config {path}: {error}", EXIT_BAD_INPUT) from None
    return document


def build_plan(stack: StackFile, policy_config: dict[str, Any] | None = None) -> dict[str, Any]:
    """Validate the config, run the program under mocks, run the policy pack: the docs/architecture.md document."""
    from ops.common.cell_config import validate

    config = validate(stack)

    from ops.plan.runner import run_program
    from policies.core.config import PolicyConfigError
    from policies.offline import evaluate

    warnings: list[str] = []
    resources, outputs = run_program(stack, warnings=warnings)
    try:
        report = evaluate(resources, policy_config)
    except PolicyConfigError as error:
        raise OpsError(f"policy pack config: {error}", EXIT_BAD_INPUT) from None
    return {
        "stack": stack.name,
        "offline": True,
        "config": config.redacted(),
        "resources": resources,
        "outputs": outputs,
        # What the program itself warns about (e.g. workspace garbage collection switched off).
        "warnings": warnings,
        "policies": report,
    }
