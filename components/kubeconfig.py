"""Kubeconfigs whose credentials come from an exec plugin: short-lived tokens, never a static secret."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def exec_kubeconfig(cluster_name: str, server: str, ca_data: str, exec_plugin: Mapping[str, Any]) -> str:
    """One cluster, one user, one context, all named after the cluster; the user runs `exec_plugin`."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": cluster_name, "cluster": {"server": server, "certificate-authority-data": ca_data}}],
            "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
            "current-context": cluster_name,
            "users": [
                {
                    "name": cluster_name,
                    "user": {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", **exec_plugin}},
                }
            ],
        }
    )
