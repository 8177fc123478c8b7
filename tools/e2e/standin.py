"""TEST-ONLY STAND-IN for what a real cluster runs and the local API server does not (no kubelet, no
controller-manager: tools/localkube.py). Never used outside `make e2e`; nothing here is how a cell behaves.

A thread polls the API server and plays four parts:

- nodes: three Node objects with Gitpod's workload labels and a kubelet's status (kernel, containerd, version), so
  preflight's cluster checks have nodes to judge;
- the installer Job: the Job cannot run, so when the stand-in sees an installer Job it first notes whether the
  maintenance lease was on (`installer_observations`: the evidence for "maintenance during the installer"), then
  does what the installer's `apply` step would have done to the workloads the health gate reads (creates Gitpod's
  Deployments and StatefulSets, or stamps their pod templates with the new config hash, which bumps their
  generation), then marks the Job complete through its status subresource, as the Job controller would;
- the Deployment/StatefulSet controllers: workloads report the ready status of their spec through the status
  subresource, except those named in `unready` (how a failing health gate is staged);
- the garbage collector and the namespace controller: objects being deleted lose the `foregroundDeletion` /
  `orphan` finalizers, and a deleted namespace is emptied and finalized, so `pulumi destroy` can finish.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from contract.cluster import WORKLOAD_LABELS
from tools.e2e.kubeapi import Api, KubeRequestError

POLL_SECONDS = 0.5
INSTALLER_LABEL = "app.kubernetes.io/name=gitpod-installer"
KUBELET_VERSION = "v1.34.4"
# What the release-2022.11.x installer renders that the health gate reads (a representative set of its workloads).
GITPOD_DEPLOYMENTS = ("server", "proxy", "dashboard", "ws-manager", "ws-manager-bridge", "content-service",
                      "image-builder-mk3", "blobserve", "ide-proxy", "ws-proxy", "usage", "public-api-server")
GITPOD_STATEFULSETS = ("messagebus", "openvsx-proxy")
WORKSPACE_MANAGER = "ws-manager"
# Namespaced kinds whose deletion the stand-in garbage collector finishes, and the cluster-scoped ones.
_NAMESPACED = ("api/v1/configmaps", "api/v1/secrets", "api/v1/serviceaccounts", "apis/batch/v1/jobs",
               "apis/batch/v1/cronjobs", "apis/apps/v1/deployments", "apis/apps/v1/statefulsets",
               "apis/rbac.authorization.k8s.io/v1/roles", "apis/rbac.authorization.k8s.io/v1/rolebindings",
               "apis/cert-manager.io/v1/certificates")
_CLUSTER_SCOPED = ("apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
                   "apis/cert-manager.io/v1/clusterissuers", "api/v1/namespaces")
_GC_FINALIZERS = ("foregroundDeletion", "orphan")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class InstallerObservation:
    namespace: str
    job: str
    maintenance_on: bool
    seen_at: float


@dataclass
class StandIn:
    api: Api
    lease_namespace: str = "default"
    lease_config_map: str = "ws-manager-mk2-maintenance-mode"
    unready: set[str] = field(default_factory=set)
    installer_observations: list[InstallerObservation] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _handled_jobs: set[str] = field(default_factory=set)

    def start(self) -> StandIn:
        self.create_nodes()
        self._thread = threading.Thread(target=self._loop, name="e2e-stand-in", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            for part in (self._installer_jobs, self._workloads, self._garbage_collector):
                try:
                    part()
                except (KubeRequestError, OSError) as error:
                    message = f"{part.__name__}: {error}"
                    if not self.errors or self.errors[-1] != message:
                        self.errors.append(message)
            self._stop.wait(POLL_SECONDS)

    # -- nodes ----------------------------------------------------------------------------------------------------

    def create_nodes(self) -> None:
        for pool, labels in WORKLOAD_LABELS.items():
            name = f"e2e-{pool}"
            if self.api.get(f"/api/v1/nodes/{name}") is None:
                self.api.create("/api/v1/nodes", {"apiVersion": "v1", "kind": "Node", "metadata": {
                    "name": name, "labels": {**labels, "kubernetes.io/hostname": name}}})
            self.api.merge_patch(f"/api/v1/nodes/{name}/status", {"status": {
                "nodeInfo": {"kernelVersion": "6.1.0-e2e", "containerRuntimeVersion": "containerd://1.7.24",
                             "kubeletVersion": KUBELET_VERSION, "kubeProxyVersion": KUBELET_VERSION,
                             "operatingSystem": "linux", "architecture": "amd64", "osImage": "stand-in",
                             "machineID": name, "systemUUID": name, "bootID": name},
                "conditions": [{"type": "Ready", "status": "True", "reason": "StandIn",
                                "lastHeartbeatTime": _now(), "lastTransitionTime": _now()}]}})

    # -- the installer Job ----------------------------------------------------------------------------------------

    def maintenance_on(self) -> bool:
        config_map = self.api.get(f"/api/v1/namespaces/{self.lease_namespace}/configmaps/{self.lease_config_map}")
        if config_map is None:
            return False
        try:
            until = json.loads((config_map.get("data") or {}).get("config.json") or "{}").get("enabledUntil")
        except ValueError:
            return False
        return bool(until) and datetime.fromisoformat(str(until).replace("Z", "+00:00")) > datetime.now(UTC)

    def _installer_jobs(self) -> None:
        for job in self.api.items(f"/apis/batch/v1/jobs?labelSelector={INSTALLER_LABEL}"):
            metadata = job["metadata"]
            key = f"{metadata['namespace']}/{metadata['name']}/{metadata['uid']}"
            if key in self._handled_jobs or metadata.get("deletionTimestamp"):
                continue
            lease = self.maintenance_on()
            self.installer_observations.append(InstallerObservation(metadata["namespace"], metadata["name"], lease,
                                                                    time.monotonic()))
            config_hash = (metadata.get("annotations") or {}).get("gitpod-cell/config-hash", "")
            self._apply_workloads(metadata["namespace"], config_hash, lease)
            self._complete(job)
            self._handled_jobs.add(key)

    def _apply_workloads(self, namespace: str, config_hash: str, lease: bool) -> None:
        """What apply-gitpod.sh would leave: every workload on the new config; ws-manager at zero replicas while a
        lease runs (release-2022.11.x has no maintenance mode of its own)."""
        for kind, path, names in (("Deployment", "deployments", GITPOD_DEPLOYMENTS),
                                  ("StatefulSet", "statefulsets", GITPOD_STATEFULSETS)):
            for name in names:
                replicas = 0 if name == WORKSPACE_MANAGER and lease else 1
                template = {"metadata": {"labels": {"app": "gitpod", "component": name},
                                         "annotations": {"gitpod.io/config-hash": config_hash}},
                            "spec": {"containers": [{"name": name, "image": f"stand-in/{name}:e2e"}]}}
                base = f"/apis/apps/v1/namespaces/{namespace}/{path}"
                if self.api.get(f"{base}/{name}") is None:
                    spec: dict[str, Any] = {"replicas": replicas, "template": template,
                                            "selector": {"matchLabels": {"app": "gitpod", "component": name}}}
                    if kind == "StatefulSet":
                        spec["serviceName"] = name
                    self.api.create(base, {"apiVersion": "apps/v1", "kind": kind, "metadata": {
                        "name": name, "labels": {"app": "gitpod", "component": name}}, "spec": spec})
                else:
                    self.api.merge_patch(f"{base}/{name}", {"spec": {"replicas": replicas, "template": template}})

    def _complete(self, job: dict[str, Any]) -> None:
        metadata = job["metadata"]
        now = _now()
        condition = {"status": "True", "lastProbeTime": now, "lastTransitionTime": now,
                     "reason": "CompletionsReached", "message": "Reached expected number of succeeded pods"}
        self.api.merge_patch(
            f"/apis/batch/v1/namespaces/{metadata['namespace']}/jobs/{metadata['name']}/status",
            {"status": {"startTime": now, "completionTime": now, "succeeded": 1, "ready": 0, "terminating": 0,
                        "uncountedTerminatedPods": {},
                        "conditions": [{"type": "SuccessCriteriaMet", **condition},
                                       {"type": "Complete", **condition}]}})

    # -- the workload controllers ---------------------------------------------------------------------------------

    def _workloads(self) -> None:
        for path in ("apis/apps/v1/deployments", "apis/apps/v1/statefulsets"):
            for workload in self.api.items(f"/{path}"):
                metadata, spec = workload["metadata"], workload.get("spec") or {}
                desired = int(spec.get("replicas", 1))
                ready = 0 if metadata["name"] in self.unready else desired
                status = workload.get("status") or {}
                wanted = {"observedGeneration": metadata.get("generation", 1), "replicas": desired,
                          "readyReplicas": ready, "updatedReplicas": desired, "availableReplicas": ready}
                if path.endswith("statefulsets"):
                    wanted.update({"currentReplicas": desired, "currentRevision": "e2e", "updateRevision": "e2e"})
                if any(status.get(key, 0) != value for key, value in wanted.items()):
                    self.api.merge_patch(
                        f"/{path.rsplit('/', 1)[0]}/namespaces/{metadata['namespace']}/{path.rsplit('/', 1)[1]}/"
                        f"{metadata['name']}/status", {"status": wanted})

    # -- garbage collection and namespaces ------------------------------------------------------------------------

    def _garbage_collector(self) -> None:
        for path in (*_NAMESPACED, *_CLUSTER_SCOPED):
            for item in self.api.items(f"/{path}"):
                metadata = item["metadata"]
                finalizers = metadata.get("finalizers") or []
                if metadata.get("deletionTimestamp") and any(f in _GC_FINALIZERS for f in finalizers):
                    self.api.merge_patch(self._object_path(path, metadata), {"metadata": {
                        "finalizers": [f for f in finalizers if f not in _GC_FINALIZERS] or None}})
        for namespace in self.api.items("/api/v1/namespaces"):
            metadata = namespace["metadata"]
            if metadata.get("deletionTimestamp") and (namespace.get("spec") or {}).get("finalizers"):
                self._empty_and_finalize(namespace)

    def _empty_and_finalize(self, namespace: dict[str, Any]) -> None:
        name = namespace["metadata"]["name"]
        for path in _NAMESPACED:
            group, resource = path.rsplit("/", 1)
            for item in self.api.items(f"/{group}/namespaces/{name}/{resource}"):
                try:
                    self.api.request("DELETE", f"/{group}/namespaces/{name}/{resource}/{item['metadata']['name']}",
                                     {"propagationPolicy": "Background"})
                except KubeRequestError as error:
                    if error.status != 404:
                        raise
        self.api.request("PUT", f"/api/v1/namespaces/{name}/finalize", {
            "apiVersion": "v1", "kind": "Namespace", "metadata": namespace["metadata"], "spec": {"finalizers": []}})

    @staticmethod
    def _object_path(path: str, metadata: dict[str, Any]) -> str:
        group, resource = path.rsplit("/", 1)
        if metadata.get("namespace"):
            return f"/{group}/namespaces/{metadata['namespace']}/{resource}/{metadata['name']}"
        return f"/{group}/{resource}/{metadata['name']}"
