"""Gitpod maintenance mode as a lease on ws-manager-mk2's maintenance ConfigMap.

ws-manager-mk2 reads `config.json` = `{"enabledUntil": "<RFC3339>"}` from the ConfigMap
`ws-manager-mk2-maintenance-mode` in namespace `default` — a hard-coded key in its maintenance controller
(components/ws-manager-mk2/controllers/maintenance_controller.go), whatever namespace Gitpod runs in — and newer
versions only watch ConfigMaps labelled `gitpod.io/maintenanceConfig: "true"`. It refuses to start workspaces while
that time is in the future. Entering maintenance therefore never sets an open-ended flag: it sets
`enabledUntil = now + lease`, so a rollout that crashes half-way leaves a cell that leaves maintenance by itself.
Exiting sets `enabledUntil = now`.

Two ways to enter and exit: the operator's (`enter` replaces any lease, `exit` ends any lease) and the rollout
hooks' (`extend` never shortens a lease someone else set, `end_if_unchanged` ends only the lease the rollout wrote).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from contract.cluster import (
    DEFAULT_GITPOD_NAMESPACE,
    MK2_MAINTENANCE_CONFIG_MAP,
    MK2_MAINTENANCE_KEY,
    MK2_MAINTENANCE_LABEL,
    MK2_MAINTENANCE_NAMESPACE,
)
from contract.rollout import MAX_FORCED_LEASE_MINUTES, MIN_OPERATOR_LEASE_MINUTES
from ops.cluster.kube import KubeApi, KubeConflict, KubeNotFound
from ops.common.timestamps import format_rfc3339, parse_rfc3339, require_aware

MAINTENANCE_CONFIG_MAP = MK2_MAINTENANCE_CONFIG_MAP
MAINTENANCE_CONFIG_KEY = MK2_MAINTENANCE_KEY
# Where ws-manager-mk2 looks, independent of the Gitpod namespace.
MAINTENANCE_NAMESPACE = MK2_MAINTENANCE_NAMESPACE
MAINTENANCE_LABEL = MK2_MAINTENANCE_LABEL
# The Gitpod namespace (the `gitpod-installation` record lives there), not the lease's.
DEFAULT_NAMESPACE = DEFAULT_GITPOD_NAMESPACE
MIN_LEASE_MINUTES = MIN_OPERATOR_LEASE_MINUTES
MAX_LEASE_MINUTES = MAX_FORCED_LEASE_MINUTES
# Set on every write: without it newer ws-manager-mk2 versions never see the ConfigMap.
WATCHED_LABELS = {MAINTENANCE_LABEL: "true"}
MANAGED_BY_LABELS = {"app.kubernetes.io/managed-by": "gitpod-cell-ops", **WATCHED_LABELS}
# Compare-and-swap attempts before giving up when others keep changing the ConfigMap.
_CAS_ATTEMPTS = 5


class MaintenanceError(ValueError):
    """A lease request that cannot be honoured (e.g. a lease length outside the accepted range)."""


@dataclass(frozen=True)
class LeaseChange:
    """What a hook's `extend` or `end_if_unchanged` did. `written`: the `enabledUntil` this call wrote, None when it
    left the ConfigMap as it was; `note`: why it left it (someone else's lease), for the log."""

    status: MaintenanceStatus
    written: datetime | None
    note: str | None = None


@dataclass(frozen=True)
class MaintenanceStatus:
    namespace: str
    config_map: str
    enabled: bool
    until: datetime | None
    remaining: timedelta
    # Why the state could not be read cleanly (ConfigMap absent, config.json unreadable), else None.
    problem: str | None = None

    def describe(self) -> str:
        location = f"{self.namespace}/{self.config_map}"
        if self.enabled and self.until is not None:
            minutes = math.ceil(self.remaining.total_seconds() / 60)
            return f"maintenance ON until {format_rfc3339(self.until)} ({minutes} min left) [{location}]"
        ended = f" (lease ended {format_rfc3339(self.until)})" if self.until is not None else ""
        problem = f"; {self.problem}" if self.problem else ""
        return f"maintenance OFF{ended} [{location}]{problem}"

    def to_dict(self) -> dict[str, object]:
        return {
            "namespace": self.namespace,
            "configMap": self.config_map,
            "enabled": self.enabled,
            "enabledUntil": format_rfc3339(self.until) if self.until else None,
            "remainingSeconds": int(self.remaining.total_seconds()),
            "problem": self.problem,
        }


def validate_lease_minutes(lease_minutes: int) -> int:
    if isinstance(lease_minutes, bool) or not isinstance(lease_minutes, int):
        raise MaintenanceError(f"lease must be a whole number of minutes, got {lease_minutes!r}")
    if not MIN_LEASE_MINUTES <= lease_minutes <= MAX_LEASE_MINUTES:
        raise MaintenanceError(
            f"lease of {lease_minutes} minutes is outside {MIN_LEASE_MINUTES}-{MAX_LEASE_MINUTES} minutes"
        )
    return lease_minutes


class MaintenanceLease:
    """Enter, exit and read the maintenance lease of one Gitpod installation."""

    def __init__(
        self, kube: KubeApi, namespace: str = MAINTENANCE_NAMESPACE, config_map: str = MAINTENANCE_CONFIG_MAP
    ) -> None:
        self.kube = kube
        self.namespace = namespace
        self.config_map = config_map

    def enter(self, lease_minutes: int, now: datetime) -> MaintenanceStatus:
        """Maintenance until `now + lease`, replacing any earlier lease; creates the ConfigMap if absent."""
        until = require_aware(now, "now") + timedelta(minutes=validate_lease_minutes(lease_minutes))
        self._write_until(until, create_if_absent=True)
        return self._status_for(_whole_seconds(until), now)

    def exit(self, now: datetime) -> MaintenanceStatus:
        """End maintenance now. With no ConfigMap there is no maintenance to end, so nothing is created."""
        until = _whole_seconds(require_aware(now, "now"))
        if not self._write_until(until, create_if_absent=False):
            return self._status_for(None, now, problem="maintenance ConfigMap does not exist")
        return self._status_for(until, now)

    def extend(self, lease_minutes: int, now: datetime) -> LeaseChange:
        """The hooks' enter: maintenance until `max(current enabledUntil, now + lease)`. A longer lease already in
        place (an operator's) is kept as it is; a shorter or absent one is replaced. Compare-and-swap on the
        ConfigMap's resourceVersion, so a concurrent write is never overwritten unseen."""
        wanted = _whole_seconds(require_aware(now, "now") + timedelta(minutes=validate_lease_minutes(lease_minutes)))
        for _ in range(_CAS_ATTEMPTS):
            try:
                current = self.kube.get_config_map(self.namespace, self.config_map)
            except KubeNotFound:
                try:
                    self.kube.create_config_map(self.namespace, self.config_map, _lease_data(wanted),
                                                labels=MANAGED_BY_LABELS)
                except KubeConflict:
                    continue
                return LeaseChange(self._status_for(wanted, now), wanted)
            existing = _readable_until(current.data.get(MAINTENANCE_CONFIG_KEY))
            if existing is not None and existing >= wanted:
                if current.labels.get(MAINTENANCE_LABEL) != WATCHED_LABELS[MAINTENANCE_LABEL]:
                    try:
                        self._patch(current.resource_version, {}, labels=WATCHED_LABELS)
                    except KubeConflict:
                        continue  # written in between: read it again, as for the lease itself
                note = (f"kept the longer lease already in place until {format_rfc3339(existing)} "
                        f"(this rollout asked for {format_rfc3339(wanted)})")
                return LeaseChange(self._status_for(existing, now), None, note)
            try:
                self._patch(current.resource_version, _lease_data(wanted), labels=WATCHED_LABELS)
            except KubeConflict:
                continue
            return LeaseChange(self._status_for(wanted, now), wanted)
        raise KubeConflict("PATCH", f"{self.namespace}/{self.config_map}", 409, "Conflict",
                           f"the maintenance ConfigMap changed on each of {_CAS_ATTEMPTS} attempts")

    def end_if_unchanged(self, written: datetime | None, now: datetime) -> LeaseChange:
        """The hooks' exit: end maintenance only if the ConfigMap still holds `written` (what this rollout's
        `extend` wrote). Anything else is someone else's lease (an operator entered maintenance meanwhile, or held a
        longer one before the rollout): it is left as it is, and the note says so."""
        now_utc = require_aware(now, "now")
        for _ in range(_CAS_ATTEMPTS):
            try:
                current = self.kube.get_config_map(self.namespace, self.config_map)
            except KubeNotFound:
                return LeaseChange(self._status_for(None, now, problem="maintenance ConfigMap does not exist"), None)
            raw = current.data.get(MAINTENANCE_CONFIG_KEY)
            existing = _readable_until(raw)
            if written is None or existing is None or existing != _whole_seconds(written):
                held = format_rfc3339(existing) if existing is not None else repr(raw)
                ours = format_rfc3339(written) if written is not None else "nothing (a longer lease was in place)"
                note = (f"left maintenance as it is: the ConfigMap holds enabledUntil {held}, this rollout wrote "
                        f"{ours}; someone else's lease is theirs to end (`python -m ops maintenance exit`)")
                return LeaseChange(self._status_for(existing, now), None, note)
            until = _whole_seconds(now_utc)
            try:
                self._patch(current.resource_version, _lease_data(until), labels=WATCHED_LABELS)
            except KubeConflict:
                continue
            return LeaseChange(self._status_for(until, now), until)
        raise KubeConflict("PATCH", f"{self.namespace}/{self.config_map}", 409, "Conflict",
                           f"the maintenance ConfigMap changed on each of {_CAS_ATTEMPTS} attempts")

    def status(self, now: datetime) -> MaintenanceStatus:
        try:
            config_map = self.kube.get_config_map(self.namespace, self.config_map)
        except KubeNotFound:
            return self._status_for(None, now, problem="maintenance ConfigMap does not exist")
        raw = config_map.data.get(MAINTENANCE_CONFIG_KEY)
        if raw is None:
            return self._status_for(None, now, problem=f"ConfigMap has no {MAINTENANCE_CONFIG_KEY} key")
        try:
            until = _enabled_until(raw)
        except ValueError as error:
            return self._status_for(None, now, problem=f"{MAINTENANCE_CONFIG_KEY} is unreadable: {error}")
        return self._status_for(until, now)

    def _patch(self, resource_version: str | None, data: dict[str, str], *,
               labels: dict[str, str] | None = None) -> None:
        self.kube.patch_config_map_data(self.namespace, self.config_map, data, labels=labels,
                                        resource_version=resource_version)

    def _write_until(self, until: datetime, *, create_if_absent: bool) -> bool:
        data = _lease_data(until)
        try:
            self.kube.patch_config_map_data(self.namespace, self.config_map, data, labels=WATCHED_LABELS)
            return True
        except KubeNotFound:
            if not create_if_absent:
                return False
        try:
            self.kube.create_config_map(self.namespace, self.config_map, data, labels=MANAGED_BY_LABELS)
        except KubeConflict:
            # Created by someone else between our patch and create: patch theirs.
            self.kube.patch_config_map_data(self.namespace, self.config_map, data, labels=WATCHED_LABELS)
        return True

    def _status_for(self, until: datetime | None, now: datetime, problem: str | None = None) -> MaintenanceStatus:
        now_utc = require_aware(now, "now")
        enabled = until is not None and until > now_utc
        remaining = (until - now_utc) if until is not None and enabled else timedelta(0)
        return MaintenanceStatus(self.namespace, self.config_map, enabled, until, remaining, problem)


def _lease_data(until: datetime) -> dict[str, str]:
    return {MAINTENANCE_CONFIG_KEY: json.dumps({"enabledUntil": format_rfc3339(until)})}


def _readable_until(raw: str | None) -> datetime | None:
    """The lease in `raw`, None when absent or unreadable (ws-manager-mk2 treats both as maintenance off)."""
    if raw is None:
        return None
    try:
        return _enabled_until(raw)
    except ValueError:
        return None


def _enabled_until(raw: str) -> datetime | None:
    document = json.loads(raw)
    if not isinstance(document, dict):
        raise ValueError("expected a JSON object with enabledUntil")
    value = document.get("enabledUntil")
    return None if value is None else parse_rfc3339(str(value))


def _whole_seconds(moment: datetime) -> datetime:
    # What is written is RFC3339 with whole seconds; report exactly what ws-manager-mk2 will read.
    return moment.replace(microsecond=0)
