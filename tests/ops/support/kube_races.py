"""Races against the real API server: a KubeApi that records the calls the code under test makes and can let
someone else write, once, just before a chosen call. The competing write really happens on the server, so the code
under test meets the server's own answer (409 Conflict on a stale resourceVersion, AlreadyExists on a create)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ops.cluster.kube import ConfigMap, KubeApi, KubeError, WorkloadStatus


@dataclass
class KubeRecorder:
    kube: KubeApi
    calls: list[str] = field(default_factory=list)
    # (call, HTTP status) of every call the server refused.
    refused: list[tuple[str, int | None]] = field(default_factory=list)
    _before: str | None = None
    _competing_write: Callable[[], object] | None = None

    def interleave(self, before: str, competing_write: Callable[[], object]) -> KubeRecorder:
        """Run `competing_write` once, right before the next call named `before` (e.g. "patch_config_map_data")."""
        self._before, self._competing_write = before, competing_write
        return self

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if name == self._before and self._competing_write is not None:
            write, self._competing_write = self._competing_write, None
            write()
        self.calls.append(name)
        try:
            return getattr(self.kube, name)(*args, **kwargs)
        except KubeError as error:
            self.refused.append((name, error.status))
            raise

    def __getattr__(self, name: str) -> Any:
        # Calls this recorder does not know yet are passed through, unrecorded.
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.kube, name)

    def get_config_map(self, namespace: str, name: str) -> ConfigMap:
        return self._call("get_config_map", namespace, name)  # type: ignore[no-any-return]

    def create_config_map(self, namespace: str, name: str, data: Mapping[str, str],
                          labels: Mapping[str, str] | None = None) -> ConfigMap:
        return self._call("create_config_map", namespace, name, data, labels)  # type: ignore[no-any-return]

    def patch_config_map_data(self, namespace: str, name: str, data: Mapping[str, str], *,
                              labels: Mapping[str, str] | None = None,
                              resource_version: str | None = None) -> ConfigMap:
        return self._call("patch_config_map_data", namespace, name, data,  # type: ignore[no-any-return]
                          labels=labels, resource_version=resource_version)

    def list_deployments(self, namespace: str, label_selector: str | None = None) -> list[WorkloadStatus]:
        return self._call("list_deployments", namespace, label_selector)  # type: ignore[no-any-return]

    def list_stateful_sets(self, namespace: str, label_selector: str | None = None) -> list[WorkloadStatus]:
        return self._call("list_stateful_sets", namespace, label_selector)  # type: ignore[no-any-return]
