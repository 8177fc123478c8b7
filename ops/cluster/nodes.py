"""Listing the cluster's nodes: the one Kubernetes read preflight needs beyond ops/cluster/kube.py's KubeApi.

`KubeNodes` reuses KubeClient's connection and authentication (kubeconfig, exec plugins, in-cluster) through its
request method, so preflight needs no second client; RBAC: nodes list (cluster-scoped).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class NodeInfo:
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    kernel_version: str = ""
    container_runtime_version: str = ""
    kubelet_version: str = ""


class NodeSource(Protocol):
    def list_nodes(self) -> list[NodeInfo]: ...


@dataclass
class KubeNodes:
    """NodeSource over an ops.cluster.kube.KubeClient."""

    client: Any

    def list_nodes(self) -> list[NodeInfo]:
        listing = self.client._request("GET", "/api/v1/nodes")
        return [node_info(item) for item in listing.get("items") or []]


def node_info(item: Mapping[str, Any]) -> NodeInfo:
    metadata = item.get("metadata") or {}
    info = (item.get("status") or {}).get("nodeInfo") or {}
    return NodeInfo(
        name=str(metadata.get("name", "")),
        labels={str(k): str(v) for k, v in (metadata.get("labels") or {}).items()},
        kernel_version=str(info.get("kernelVersion", "")),
        container_runtime_version=str(info.get("containerRuntimeVersion", "")),
        kubelet_version=str(info.get("kubeletVersion", "")),
    )
