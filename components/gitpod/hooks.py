"""The rollout and maintenance hooks on the installer Job, as `pulumi.ResourceHook`s named after their steps.

    before the Job is created or updated:  preflight -> enter-maintenance -> record-restore-point
    after it completed:                     health-gate -> backup-config -> exit-maintenance

The installer Job's name carries the Gitpod version and the rollout hash, so a rollout *replaces* it (the new Job
is created): the steps are bound to create and to update alike.

The bodies live in `ops/rollout/steps.py` (run through `ops/rollout/hooks.py`) and are imported only when a hook
runs, so planning and previews never load them. Each run builds its own clients from what the hook context
resolves to. What they need, from whoever runs `pulumi up`:

- Network: the database is private, so whoever runs `pulumi up` must reach it (a runner inside the VPC, or a
  VPN) for `preflight`; it fails, before anything changes, when it cannot.
- AWS: the standard credential chain (env, profile, SSO, instance role) with rds:DescribeDBInstances,
  rds:CreateDBSnapshot (only when PITR is off), s3:PutObject/GetObject/ListBucketVersions on the cell's bucket.
- Kubernetes: the cell's own kubeconfig (the one the Kubernetes provider uses, handed over in `Platform`), whose
  exec plugin (`aws eks get-token` / `gke-gcloud-auth-plugin`) needs the cloud CLI and an identity allowed to
  get/create/patch ConfigMaps and list Deployments/StatefulSets in the Gitpod namespace, and get/create/patch the
  maintenance ConfigMap `default/ws-manager-mk2-maintenance-mode` (ws-manager-mk2 reads it from `default`).

Under the offline plan (the SDK mock engine) hooks register and never run.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi

from contract.rollout import AFTER_ROLLOUT_STEPS, ALL_STEPS, BEFORE_ROLLOUT_STEPS, HookContext

# The program's root (where `ops` is). The language host runs the program with runpy.run_path, which puts the
# program directory on sys.path only while the program's body runs: hooks run later, when it is gone again.
PROGRAM_ROOT = str(Path(__file__).absolute().parents[2])


def _step_callback(step: str, context: HookContext, ledgers: dict[str, Any]) -> Any:
    async def callback(args: pulumi.ResourceHookArgs) -> None:
        if PROGRAM_ROOT not in sys.path:
            sys.path.append(PROGRAM_ROOT)
        from ops.rollout.hooks import hook_callback

        await hook_callback(step, context, ledgers=ledgers)(args)

    callback.__name__ = f"gitpod_cell_{step.replace('-', '_')}"
    callback.__doc__ = f"gitpod-cell rollout step {step!r} (body: ops.rollout.steps)."
    return callback


def rollout_hooks(context: HookContext) -> dict[str, pulumi.ResourceHook]:
    """One hook per step. The steps share one ledger per resource, so an after-step refuses to run when the step
    before it failed (e.g. maintenance is not ended after a failed health gate: the lease ends it)."""
    ledgers: dict[str, Any] = {}
    return {step: pulumi.ResourceHook(step, _step_callback(step, context, ledgers)) for step in ALL_STEPS}


def rollout_binding(hooks: Mapping[str, pulumi.ResourceHook]) -> pulumi.ResourceHookBinding:
    before = [hooks[step] for step in BEFORE_ROLLOUT_STEPS]
    after = [hooks[step] for step in AFTER_ROLLOUT_STEPS]
    return pulumi.ResourceHookBinding(before_create=before, before_update=list(before),
                                      after_create=after, after_update=list(after))
