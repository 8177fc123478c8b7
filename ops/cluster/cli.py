"""`python -m ops maintenance status|enter|exit --stack NAME`: the maintenance lease, by hand.

The stack file supplies defaults (`gitpod-cell:gitpod.maintenanceLeaseMinutes`, `gitpod-cell:gitpod.namespace`);
the cluster is whatever `--kubeconfig`/`--context` point at, as with kubectl — so every action first reads the
`gitpod-installation` record in the Gitpod namespace and refuses when it names another cell than `--stack`.
The lease itself lives where ws-manager-mk2 reads it: `default/ws-manager-mk2-maintenance-mode`
(`--maintenance-namespace` to override). These are the operator's explicit semantics: `enter` replaces any lease,
`exit` ends any lease. A lease is capped at 240 minutes unless `--force-long-lease`. On builds without ws-manager-mk2
(the stack's `gitpod.version`, contract.gitpod_builds) `enter` also holds ws-manager at zero replicas and `exit` gives
its replicas back; the in-cluster maintenance keeper does the same when a lease passes.
"""

from __future__ import annotations

import argparse
import json
import re
from typing import Any

from contract.rollout import MAX_FORCED_LEASE_MINUTES, MAX_LEASE_MINUTES, MIN_OPERATOR_LEASE_MINUTES
from ops.errors import EXIT_BAD_INPUT, EXIT_CANNOT_CHECK, OpsError

_DNS_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# The longest lease an operator gets without saying --force-long-lease (the stack config's own maximum).
MAX_CLI_LEASE_MINUTES = MAX_LEASE_MINUTES


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "maintenance",
        help="show, enter or exit Gitpod maintenance mode (a lease that ends by itself)",
        description=__doc__.splitlines()[0],
    )
    actions = parser.add_subparsers(dest="maintenance_action", required=True, metavar="ACTION")
    for action, handler, help_text in (
        ("status", _status, "show whether maintenance is on and until when"),
        ("enter", _enter, "enter maintenance for --lease-minutes (replaces any current lease)"),
        ("exit", _exit, "end maintenance now"),
    ):
        action_parser = actions.add_parser(action, help=help_text, description=help_text)
        _add_common_arguments(action_parser)
        if action == "enter":
            action_parser.add_argument(
                "--lease-minutes", type=int, default=None,
                help="lease length; default: the stack's gitpod.maintenanceLeaseMinutes, else 60; "
                     f"{MIN_OPERATOR_LEASE_MINUTES}-{MAX_CLI_LEASE_MINUTES}, or up to {MAX_FORCED_LEASE_MINUTES} "
                     "with --force-long-lease",
            )
            action_parser.add_argument(
                "--force-long-lease", action="store_true",
                help=f"allow a lease longer than {MAX_CLI_LEASE_MINUTES} minutes (up to {MAX_FORCED_LEASE_MINUTES}: "
                     "24 hours)",
            )
        action_parser.set_defaults(handler=handler)


def _add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", required=True, help="stack name (stacks/Pulumi.<stack>.yaml)")
    parser.add_argument("--kubeconfig", default=None, help="kubeconfig path; default $KUBECONFIG or ~/.kube/config")
    parser.add_argument("--context", default=None, help="kubeconfig context; default its current-context")
    parser.add_argument(
        "--namespace", default=None,
        help="Gitpod namespace (where the gitpod-installation record is); default: the stack's gitpod.namespace, "
             "else gitpod",
    )
    parser.add_argument(
        "--maintenance-namespace", default=None,
        help="namespace of the ws-manager-mk2-maintenance-mode ConfigMap; default: default (where ws-manager-mk2 "
             "reads it)",
    )
    parser.add_argument("--json", action="store_true", help="print the resulting status as JSON")


def _check_inputs(args: argparse.Namespace) -> None:
    """Everything local, before the cluster is asked anything: the stack (validated as `ops plan` does), the
    kubeconfig file, and for `enter` the lease."""
    from ops.common.cell_config import load_cell
    from ops.common.files import read_text

    _stack, config = load_cell(args.stack)
    args.cell_config = config
    if args.kubeconfig is not None:
        from pathlib import Path

        read_text(Path(args.kubeconfig), "--kubeconfig")
    for flag in ("namespace", "maintenance_namespace"):
        value = getattr(args, flag)
        if value is not None and not _DNS_LABEL.match(value):
            raise OpsError(f"--{flag.replace('_', '-')} {value!r}: not a Kubernetes namespace name (lowercase "
                           "letters, digits and '-', at most 63)", EXIT_BAD_INPUT)
    if getattr(args, "maintenance_action", None) == "enter":
        args.lease_minutes = _lease_minutes(args)


def _lease_minutes(args: argparse.Namespace) -> int:
    minutes = args.lease_minutes
    if minutes is None:
        return int(args.cell_config.gitpod.maintenance_lease_minutes)
    limit = MAX_FORCED_LEASE_MINUTES if args.force_long_lease else MAX_CLI_LEASE_MINUTES
    if MIN_OPERATOR_LEASE_MINUTES <= minutes <= limit:
        return int(minutes)
    if minutes > MAX_CLI_LEASE_MINUTES and not args.force_long_lease and minutes <= MAX_FORCED_LEASE_MINUTES:
        raise OpsError(
            f"--lease-minutes {minutes}: longer than {MAX_CLI_LEASE_MINUTES} minutes; workspaces cannot start for "
            f"that long. Pass --force-long-lease if that is really meant (up to {MAX_FORCED_LEASE_MINUTES})",
            EXIT_BAD_INPUT,
        )
    raise OpsError(f"--lease-minutes {minutes}: accepted {MIN_OPERATOR_LEASE_MINUTES}-{MAX_CLI_LEASE_MINUTES} "
                   f"minutes, or up to {MAX_FORCED_LEASE_MINUTES} with --force-long-lease", EXIT_BAD_INPUT)


def _status(args: argparse.Namespace) -> int:
    _check_inputs(args)
    lease, now = _lease_for(args)
    return _report(args, _call(lambda: lease.status(now)), _workspace_manager(args, lease))


def _enter(args: argparse.Namespace) -> int:
    from ops.cluster.maintenance import MaintenanceError

    _check_inputs(args)
    lease, now = _lease_for(args)
    minutes = args.lease_minutes
    try:
        status = _call(lambda: lease.enter(minutes, now))
    except MaintenanceError as error:
        raise OpsError(f"--lease-minutes: {error}", EXIT_BAD_INPUT) from error
    manager = _workspace_manager(args, lease)
    _note(args, _call(manager.pause))
    return _report(args, status, manager)


def _exit(args: argparse.Namespace) -> int:
    _check_inputs(args)
    lease, now = _lease_for(args)
    status = _call(lambda: lease.exit(now))
    manager = _workspace_manager(args, lease)
    _note(args, _call(manager.resume))
    return _report(args, status, manager)


def _workspace_manager(args: argparse.Namespace, lease: Any) -> Any:
    """The stack's build's workspace manager, in the Gitpod namespace the lease's record was read from."""
    from contract.gitpod_builds import SUPPORTED_BUILDS
    from ops.cluster.workspace_manager import WorkspaceManager

    build = SUPPORTED_BUILDS.get(args.cell_config.gitpod.version)
    if build is None:
        return WorkspaceManager(lease.kube, args.gitpod_namespace, "ws-manager-mk2", "mk2-lease")
    return WorkspaceManager(lease.kube, args.gitpod_namespace, build.workspace_manager, build.maintenance)


def _note(args: argparse.Namespace, text: str) -> None:
    if not args.json:
        print(text)


def _lease_for(args: argparse.Namespace) -> tuple[Any, Any]:
    from ops.cluster.installation_record import CellMismatch, check_cell, read_installation_record
    from ops.cluster.kube import KubeClient, KubeConfigError
    from ops.cluster.maintenance import DEFAULT_NAMESPACE, MAINTENANCE_NAMESPACE, MaintenanceLease
    from ops.common.failures import LOGIN_HINTS
    from ops.common.timestamps import utc_now

    namespace = args.namespace or args.cell_config.gitpod.namespace or DEFAULT_NAMESPACE
    args.gitpod_namespace = str(namespace)
    try:
        kube = KubeClient.from_environment(args.kubeconfig, args.context)
    except KubeConfigError as error:
        raise OpsError(f"cannot reach the cluster of stack {args.stack!r}: {error} ({LOGIN_HINTS['kubernetes']})",
                       EXIT_CANNOT_CHECK) from error
    record = _call(lambda: read_installation_record(kube, str(namespace)))
    try:
        check_cell(record, args.stack)
    except CellMismatch as error:
        raise OpsError(f"refusing: {error}", EXIT_BAD_INPUT) from error
    return MaintenanceLease(kube, str(args.maintenance_namespace or MAINTENANCE_NAMESPACE)), utc_now()


def _call(action: Any) -> Any:
    from ops.cluster.kube import KubeConfigError, KubeError, KubeUnavailable
    from ops.common.failures import LOGIN_HINTS

    try:
        return action()
    except KubeConfigError as error:
        raise OpsError(f"kubeconfig: {error} ({LOGIN_HINTS['kubernetes']})", EXIT_CANNOT_CHECK) from error
    except KubeUnavailable as error:
        raise OpsError(f"Kubernetes API: {error} (check that the cluster's API endpoint is reachable from here: VPN, "
                       "bastion, --kubeconfig/--context)", EXIT_CANNOT_CHECK) from error
    except KubeError as error:
        hint = (" (check RBAC: configmaps get/create/patch in the Gitpod namespace and in `default`)"
                if error.status in (401, 403) else "")
        raise OpsError(f"Kubernetes API: {error}{hint}") from error


def _report(args: argparse.Namespace, status: Any, manager: Any) -> int:
    if args.json:
        document = status.to_dict()
        workspace_manager = _call(manager.state)
        if workspace_manager is not None:
            document["workspaceManager"] = workspace_manager
        print(json.dumps(document, sort_keys=True))
    else:
        print(status.describe() + _call(manager.describe))
    return 0
