"""The `kube_api` fixture is a real API server: objects persist, server-side apply tracks field managers, and the
project's own client (ops/kube.py) and kubectl both work with the kubeconfig it writes."""

from __future__ import annotations

import json

import pytest

from ops.cluster.kube import KubeClient, KubeConflict
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


def test_what_does_not_run_here(kube_api: KubeApiServer):
    """The limits tools/localkube.py documents: objects are stored and admitted, never acted on."""
    namespace = kube_api.create_namespace("limits")
    pod = kube_api.request("POST", f"/api/v1/namespaces/{namespace}/pods", {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "idle"},
        "spec": {"containers": [{"name": "app", "image": "registry.invalid/app:1"}]}})
    # Admitted without a `default` ServiceAccount (ServiceAccount admission is off, so no account or token volume
    # is filled in), defaulted by the API server, never scheduled.
    assert "serviceAccountName" not in pod["spec"]
    assert not pod["spec"].get("volumes")
    assert pod["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    assert "nodeName" not in pod["spec"]
    with pytest.raises(KubeApiError) as no_account:
        kube_api.get("v1", "ServiceAccount", "default", namespace)
    assert no_account.value.status == 404

    # PodSecurity admission is real: a namespace enforcing `restricted` refuses a root, privileged Pod.
    strict = kube_api.create_namespace("restricted")
    kube_api.request("PATCH", f"/api/v1/namespaces/{strict}",
                     {"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "restricted"}}},
                     content_type="application/merge-patch+json")
    with pytest.raises(KubeApiError) as refused:
        kube_api.request("POST", f"/api/v1/namespaces/{strict}/pods", {
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "root"},
            "spec": {"containers": [{"name": "app", "image": "registry.invalid/app:1",
                                     "securityContext": {"privileged": True}}]}})
    assert refused.value.status == 403
    assert "violates PodSecurity" in refused.value.message
    # ... while privileged Pods as such are allowed, as on EKS and GKE.
    privileged = kube_api.request("POST", f"/api/v1/namespaces/{namespace}/pods", {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "daemon"},
        "spec": {"containers": [{"name": "app", "image": "registry.invalid/app:1",
                                 "securityContext": {"privileged": True}}]}})
    assert privileged["spec"]["containers"][0]["securityContext"]["privileged"] is True

    # No namespace controller: a deleted namespace stays Terminating.
    kube_api.request("DELETE", f"/api/v1/namespaces/{namespace}")
    assert kube_api.get("v1", "Namespace", namespace)["status"]["phase"] == "Terminating"
