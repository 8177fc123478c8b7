"""Pausing the workspace manager: maintenance on Gitpod builds without ws-manager-mk2.

ws-manager-mk2 reads the maintenance lease itself. Builds without it (contract.gitpod_builds `scale-ws-manager`,
e.g. release-2022.11.x, whose ws-manager is mk1) have no maintenance mode, so maintenance holds their ws-manager
Deployment at zero replicas: the server can then neither start nor stop workspaces and no snapshot is taken, while
running workspaces keep running. The replicas it gets back are kept in an annotation on the Deployment
(contract.cluster.REPLICAS_AFTER_MAINTENANCE), which the installer Job's apply step and the in-cluster maintenance
keeper (components/gitpod/maintenance_keeper.py) read and write too. The keeper is what ends the pause when the lease
passes if nobody else does; `pause` and `resume` here only make it immediate.
"""

from __future__ import annotations

from dataclasses import dataclass

from contract.cluster import REPLICAS_AFTER_MAINTENANCE
from contract.gitpod_builds import MaintenanceMechanism
from ops.cluster.kube import KubeApi, KubeNotFound


@dataclass(frozen=True)
class WorkspaceManager:
    """The Deployment that starts and stops workspaces, and how maintenance pauses it."""

    kube: KubeApi
    namespace: str
    deployment: str
    mechanism: MaintenanceMechanism

    @property
    def pauses(self) -> bool:
        return self.mechanism == "scale-ws-manager"

    def pause(self) -> str:
        """Zero replicas, remembering the current ones (unless already remembered). What it did, in words."""
        if not self.pauses:
            return f"{self.deployment} reads the maintenance lease itself"
        try:
            current = self.kube.get_deployment_scale(self.namespace, self.deployment)
        except KubeNotFound:
            return f"no {self.namespace}/{self.deployment} yet: nothing runs that could start a workspace"
        recorded = current.annotations.get(REPLICAS_AFTER_MAINTENANCE)
        if current.replicas == 0 and recorded is not None:
            return f"{self.deployment} already paused (back to {recorded} replicas after maintenance)"
        back_to = recorded if recorded is not None else str(max(current.replicas, 1))
        self.kube.scale_deployment(self.namespace, self.deployment, 0, {REPLICAS_AFTER_MAINTENANCE: back_to})
        return f"{self.deployment} paused: 0 replicas (back to {back_to} after maintenance)"

    def resume(self) -> str:
        """The remembered replicas back, and the annotation gone; nothing when there is nothing remembered."""
        if not self.pauses:
            return f"{self.deployment} reads the maintenance lease itself"
        try:
            current = self.kube.get_deployment_scale(self.namespace, self.deployment)
        except KubeNotFound:
            return f"no {self.namespace}/{self.deployment}: nothing to resume"
        recorded = current.annotations.get(REPLICAS_AFTER_MAINTENANCE)
        if recorded is None:
            return f"{self.deployment} was not paused by maintenance ({current.replicas} replicas)"
        replicas = int(recorded) if recorded.isdigit() else 1
        self.kube.scale_deployment(self.namespace, self.deployment, replicas, {REPLICAS_AFTER_MAINTENANCE: None})
        return f"{self.deployment} resumed: {replicas} replicas"

    def state(self) -> dict[str, object] | None:
        """{name, replicas, paused} for the JSON status; None when maintenance does not pause it."""
        if not self.pauses:
            return None
        try:
            current = self.kube.get_deployment_scale(self.namespace, self.deployment)
        except KubeNotFound:
            return {"name": self.deployment, "replicas": None, "paused": False}
        return {"name": self.deployment, "replicas": current.replicas,
                "paused": REPLICAS_AFTER_MAINTENANCE in current.annotations}

    def describe(self) -> str:
        if not self.pauses:
            return ""
        try:
            current = self.kube.get_deployment_scale(self.namespace, self.deployment)
        except KubeNotFound:
            return f"; no {self.deployment} yet"
        recorded = current.annotations.get(REPLICAS_AFTER_MAINTENANCE)
        paused = f" (paused; back to {recorded} after maintenance)" if recorded is not None else ""
        return f"; {self.deployment}: {current.replicas} replicas{paused}"
