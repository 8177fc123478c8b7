"""The `kube_api` fixture is a real API server: objects persist, server-side apply tracks field managers, and the
project's own client (ops/kube.py) and kubectl both work with the kubeconfig it writes."""

from __future__ import annotations

import json

import pytest

from ops.kube import KubeClient, KubeConflict
from tests.kube_server import KubeApiError, KubeApiServer


def test_config_map_round_trip_and_server_side_apply(kube_api: KubeApiServer):
    namespace = kube_api.create_namespace("smoke")
    created = kube_api.request("POST", f"/api/v1/namespaces/{namespace}/configmaps", {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"colour": "blue"}})
    assert created["metadata"]["uid"]

    read = kube_api.get("v1", "ConfigMap", "settings", namespace)
    assert read["data"] == {"colour": "blue"}
    assert read["metadata"]["uid"] == created["metadata"]["uid"]

    applied = kube_api.apply({"apiVersion": "v1", "kind": "ConfigMap",
                              "metadata": {"name": "settings", "namespace": namespace},
                              "data": {"size": "large"}}, field_manager="smoke-test")
    assert applied["data"] == {"colour": "blue", "size": "large"}
    managers = {entry["manager"]: entry["operation"] for entry in applied["metadata"]["managedFields"]}
    assert managers["smoke-test"] == "Apply"

    # A second manager applying a field the first owns is a conflict, as on any cluster.
    with pytest.raises(KubeApiError) as conflict:
        kube_api.apply({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": "settings", "namespace": namespace},
                        "data": {"size": "small"}}, field_manager="another-manager")
    assert conflict.value.status == 409


def test_dry_run_changes_nothing(kube_api: KubeApiServer):
    namespace = kube_api.create_namespace("dryrun")
    manifest = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ghost", "namespace": namespace},
                "data": {"a": "b"}}
    assert kube_api.apply(manifest, field_manager="dry", dry_run=True)["data"] == {"a": "b"}
    with pytest.raises(KubeApiError) as missing:
        kube_api.get("v1", "ConfigMap", "ghost", namespace)
    assert missing.value.status == 404


def test_the_project_client_and_kubectl_use_the_kubeconfig(kube_api: KubeApiServer):
    namespace = kube_api.create_namespace("client")
    client = KubeClient.from_kubeconfig(kube_api.kubeconfig_path)
    client.create_config_map(namespace, "lease", {"enabledUntil": ""})
    with pytest.raises(KubeConflict):
        client.create_config_map(namespace, "lease", {"enabledUntil": ""})

    result = kube_api.kubectl("get", "configmap", "lease", "--namespace", namespace, "--output", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["data"] == {"enabledUntil": ""}

    version = kube_api.request("GET", "/version")
    assert version["gitVersion"] == "v1.34.4"


def test_service_account_tokens_are_issued_and_accepted(kube_api: KubeApiServer):
    """The run's signing key and issuer work: a TokenRequest token authenticates as its ServiceAccount, and RBAC
    (not the admin certificate) decides what it may do."""
    namespace = kube_api.create_namespace("tokens")
    # No controller-manager: nothing creates ServiceAccounts for us.
    kube_api.request("POST", f"/api/v1/namespaces/{namespace}/serviceaccounts",
                     {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "robot"}})
    issued = kube_api.request("POST", f"/api/v1/namespaces/{namespace}/serviceaccounts/robot/token",
                              {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                               "spec": {"expirationSeconds": 600}})
    token = issued["status"]["token"]

    review = kube_api.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                              {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}, token=token)
    assert review["status"]["userInfo"]["username"] == f"system:serviceaccount:{namespace}:robot"

    with pytest.raises(KubeApiError) as denied:
        kube_api.request("GET", f"/api/v1/namespaces/{namespace}/configmaps", token=token)
    assert denied.value.status == 403
    with pytest.raises(KubeApiError) as forged:
        kube_api.request("GET", f"/api/v1/namespaces/{namespace}/configmaps", token=token[:-4] + "AAAA")
    assert forged.value.status == 401
