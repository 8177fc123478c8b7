"""ops/cluster/kube.py against the real local API server: endpoints, errors, credentials (client certificate,
bearer token, exec plugin, in-cluster service account), RBAC. Faults the server cannot give on demand (a 5xx, a
call that hangs) come from the fault proxy in front of it, and say so."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from ops.cluster.kube import KubeClient, KubeConflict, KubeError, KubeNotFound, KubeUnavailable
from ops.cluster.kubeconfig import (
    ClusterConnection,
    ExecCredentialPlugin,
    KubeConfigError,
    in_cluster_connection,
    load_kubeconfig,
)
from tests.ops.support.kube_cluster import KubeCluster
from tests.ops.support.kube_faults import KubeFaultProxy
from tests.ops.support.values import write_kubeconfig
from tools.localkube import free_port

CONFIG_MAPS_RULE = {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "create", "patch"]}


def test_config_map_create_get_and_merge_patch_keep_other_keys(kube: KubeClient, cluster: KubeCluster):
    ns = cluster.namespace
    created = kube.create_config_map(ns, "example", {"a": "1", "b": "2"}, labels={"x": "y"})
    assert created.data == {"a": "1", "b": "2"}
    assert created.labels == {"x": "y"}
    assert created.resource_version

    patched = kube.patch_config_map_data(ns, "example", {"b": "20", "c": "3"}, labels={"z": "w"})

    assert patched.data == {"a": "1", "b": "20", "c": "3"}
    assert patched.labels == {"x": "y", "z": "w"}
    assert int(patched.resource_version or 0) > int(created.resource_version)
    assert kube.get_config_map(ns, "example").data == {"a": "1", "b": "20", "c": "3"}
    # The server recorded the patch as a merge patch by our field manager (fieldManager query parameter).
    stored = cluster.config_map(ns, "example")
    assert stored is not None
    ours = [entry for entry in stored["metadata"]["managedFields"] if entry["manager"] == "gitpod-cell-ops"]
    assert ours
    assert all(entry["operation"] == "Update" for entry in ours)
    assert any("f:c" in entry["fieldsV1"].get("f:data", {}) for entry in ours)


def test_a_patch_with_a_stale_resource_version_is_a_conflict(kube: KubeClient, cluster: KubeCluster):
    first = kube.create_config_map(cluster.namespace, "cas", {"k": "1"})
    kube.patch_config_map_data(cluster.namespace, "cas", {"k": "2"}, resource_version=first.resource_version)

    with pytest.raises(KubeConflict) as conflict:
        kube.patch_config_map_data(cluster.namespace, "cas", {"k": "3"}, resource_version=first.resource_version)

    assert conflict.value.status == 409
    assert conflict.value.reason == "Conflict"
    assert "the object has been modified" in conflict.value.message
    assert cluster.config_map_data(cluster.namespace, "cas") == {"k": "2"}


def test_typed_errors_carry_status_and_name_the_call(kube: KubeClient, cluster: KubeCluster):
    ns = cluster.namespace
    with pytest.raises(KubeNotFound) as missing:
        kube.get_config_map(ns, "absent")
    assert missing.value.status == 404
    assert f"GET /api/v1/namespaces/{ns}/configmaps/absent" in str(missing.value)
    assert 'configmaps "absent" not found' in str(missing.value)
    with pytest.raises(KubeNotFound):
        kube.patch_config_map_data(ns, "absent", {"k": "v"})

    kube.create_config_map(ns, "twice", {})
    with pytest.raises(KubeConflict) as conflict:
        kube.create_config_map(ns, "twice", {})
    assert conflict.value.status == 409
    assert conflict.value.reason == "AlreadyExists"

    with pytest.raises(KubeNotFound, match='namespaces "no-such-namespace" not found'):
        kube.create_config_map("no-such-namespace", "x", {})


def test_forbidden_is_a_client_error_not_a_transient_one(cluster: KubeCluster):
    token = cluster.service_account_token("no-rights")  # a ServiceAccount bound to nothing
    kube = KubeClient.from_kubeconfig_text(json.dumps(cluster.token_kubeconfig(token)))

    with pytest.raises(KubeError) as forbidden:
        kube.list_deployments(cluster.namespace)

    assert forbidden.value.status == 403
    assert forbidden.value.reason == "Forbidden"
    assert f"system:serviceaccount:{cluster.namespace}:no-rights" in forbidden.value.message
    assert not forbidden.value.is_transient


def test_server_error_is_transient(faults: KubeFaultProxy, faulty_kube: KubeClient, cluster: KubeCluster):
    """Fault proxy: the real server gives no 500 on demand."""
    faults.fail_next(status=500)
    with pytest.raises(KubeError) as server_error:
        faulty_kube.list_deployments(cluster.namespace)
    assert server_error.value.status == 500
    assert server_error.value.is_transient
    assert faulty_kube.list_deployments(cluster.namespace) == []  # the next call reaches the server


def test_a_hanging_server_becomes_unavailable_after_the_client_timeout(faults: KubeFaultProxy,
                                                                       cluster: KubeCluster):
    """Fault proxy: the real server does not hang on demand."""
    kube = KubeClient(ClusterConnection(server=faults.url), timeout_seconds=0.2)
    faults.hang_when("GET", "/configmaps/")
    started = time.monotonic()
    with pytest.raises(KubeUnavailable) as unavailable:
        kube.get_config_map(cluster.namespace, "anything")
    assert time.monotonic() - started < 2
    assert unavailable.value.status is None
    assert unavailable.value.is_transient
    assert "no response within 0.2s" in str(unavailable.value)


def test_connection_refused_is_unavailable():
    with pytest.raises(KubeUnavailable, match="ConnectionRefusedError"):
        KubeClient(ClusterConnection(server=f"https://127.0.0.1:{free_port()}"),
                   timeout_seconds=0.5).get_config_map("gitpod", "x")


def test_workload_lists_apply_kubernetes_defaults(kube: KubeClient, cluster: KubeCluster):
    ns = cluster.namespace
    cluster.put_deployment(ns, "server", replicas=None, ready=0, updated=0, labels={"app": "gitpod"})
    cluster.put_deployment(ns, "other", replicas=2, labels={"app": "other"})
    cluster.put_stateful_set(ns, "redis", replicas=3,
                             update_strategy={"type": "RollingUpdate", "rollingUpdate": {"partition": 2}})
    cluster.put_stateful_set(ns, "manual", replicas=2, update_strategy={"type": "OnDelete"})
    cluster.put_stateful_set(ns, "plain", replicas=2)

    (server,) = kube.list_deployments(ns, label_selector="app=gitpod")
    stateful_sets = {s.name: s for s in kube.list_stateful_sets(ns)}

    # spec.replicas left out: the server defaults it to 1; zero counts are omitted from the status it returns.
    assert (server.kind, server.namespace, server.desired_replicas, server.ready_replicas,
            server.updated_replicas, server.generation, server.observed_generation) == (
        "Deployment", ns, 1, 0, 0, 1, 1)
    assert {d.name for d in kube.list_deployments(ns)} == {"server", "other"}
    assert stateful_sets["redis"].expected_updated_replicas == 1
    assert stateful_sets["manual"].expected_updated_replicas == 0
    # No strategy given: the server's default is RollingUpdate with partition 0, so every replica must update.
    assert stateful_sets["plain"].expected_updated_replicas == 2
    assert kube.list_stateful_sets(ns, label_selector="app=none") == []


def test_the_admin_kubeconfig_authenticates_with_its_client_certificate(cluster: KubeCluster):
    document = json.loads(cluster.kubeconfig_text())
    assert set(document["users"][0]["user"]) == {"client-certificate-data", "client-key-data"}
    kube = KubeClient.from_kubeconfig(cluster.kubeconfig_path)
    kube.create_config_map(cluster.namespace, "mtls", {"k": "v"})
    assert cluster.config_map_data(cluster.namespace, "mtls") == {"k": "v"}


def test_kubeconfig_with_ca_data_and_bearer_token_over_tls(tmp_path: Path, cluster: KubeCluster):
    token = cluster.service_account_token("ops", rules=[CONFIG_MAPS_RULE])
    path = write_kubeconfig(tmp_path / "config", cluster.token_kubeconfig(token))
    kube = KubeClient.from_kubeconfig(path)
    kube.create_config_map(cluster.namespace, "over-tls", {"k": "v"})
    assert cluster.config_map_data(cluster.namespace, "over-tls") == {"k": "v"}

    # RBAC is the server's: the Role covers ConfigMaps, nothing else, and only in its namespace.
    with pytest.raises(KubeError) as forbidden:
        kube.list_deployments(cluster.namespace)
    assert forbidden.value.status == 403
    with pytest.raises(KubeError) as elsewhere:
        kube.get_config_map("default", "anything")
    assert elsewhere.value.status == 403

    wrong = KubeClient.from_kubeconfig_text(json.dumps(cluster.token_kubeconfig(token[:-4] + "AAAA")))
    with pytest.raises(KubeError) as unauthorized:
        wrong.get_config_map(cluster.namespace, "over-tls")
    assert unauthorized.value.status == 401

    untrusted = KubeClient.from_kubeconfig_text(json.dumps(cluster.token_kubeconfig(token, with_ca=False)))
    with pytest.raises(KubeUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
        untrusted.get_config_map(cluster.namespace, "over-tls")


def _exec_plugin_script(tmp_path: Path, tokens: list[str]) -> Path:
    """A credential plugin that hands out the given tokens in turn and logs what client-go would pass it."""
    state = tmp_path / "plugin-calls"
    script = tmp_path / "plugin.py"
    script.write_text(
        "import json, os, pathlib, sys\n"
        f"state = pathlib.Path({str(state)!r})\n"
        "calls = state.read_text().splitlines() if state.exists() else []\n"
        "calls.append(os.environ['KUBERNETES_EXEC_INFO'])\n"
        "state.write_text('\\n'.join(calls))\n"
        f"tokens = {tokens!r}\n"
        "token = tokens[min(len(calls), len(tokens)) - 1]\n"
        "print(json.dumps({'apiVersion': 'client.authentication.k8s.io/v1beta1', 'kind': 'ExecCredential',\n"
        "                  'status': {'token': token, 'expirationTimestamp': '2999-01-01T00:00:00Z'}}))\n"
    )
    return script


def test_exec_credential_plugin_token_is_cached_and_renewed_after_401(tmp_path: Path, cluster: KubeCluster):
    token = cluster.service_account_token("ops", rules=[CONFIG_MAPS_RULE])
    # The first token has lapsed (a forged signature: the server answers 401), the second is good.
    script = _exec_plugin_script(tmp_path, [token[:-4] + "AAAA", token])
    document = cluster.token_kubeconfig("unused")
    document["users"][0]["user"] = {"exec": {
        "apiVersion": "client.authentication.k8s.io/v1beta1", "command": sys.executable,
        "args": [str(script)], "env": [{"name": "AWS_REGION", "value": "eu-west-1"}],
        "provideClusterInfo": True,
    }}
    kube = KubeClient.from_kubeconfig_text(json.dumps(document))

    # The first token is refused with 401: the client asks the plugin again, once, and succeeds with the second.
    kube.create_config_map(cluster.namespace, "via-exec", {"k": "v"})
    kube.get_config_map(cluster.namespace, "via-exec")

    calls = (tmp_path / "plugin-calls").read_text().splitlines()
    assert len(calls) == 2  # cached after the renewal
    exec_info = json.loads(calls[0])
    assert exec_info["spec"]["interactive"] is False
    assert exec_info["spec"]["cluster"]["server"] == cluster.server_url
    assert cluster.config_map_data(cluster.namespace, "via-exec") == {"k": "v"}


def test_exec_credential_plugin_failure_is_a_config_error(tmp_path: Path):
    plugin = ExecCredentialPlugin(command=sys.executable, args=["-c", "import sys; sys.exit('no credentials')"])
    with pytest.raises(KubeConfigError, match="exited with 1: no credentials"):
        plugin.token()


def test_kubeconfig_env_files_are_merged_first_wins(tmp_path: Path, cluster: KubeCluster,
                                                    monkeypatch: pytest.MonkeyPatch):
    second = {"clusters": [{"name": "other", "cluster": {"server": "http://127.0.0.1:9"}}],
              "users": [{"name": "other", "user": {}}],
              "contexts": [{"name": "other", "context": {"cluster": "other", "user": "other"}}],
              "current-context": "other"}
    paths = [cluster.kubeconfig_path, write_kubeconfig(tmp_path / "b", second)]
    monkeypatch.setenv("KUBECONFIG", ":".join(str(p) for p in paths))

    assert load_kubeconfig().server == cluster.server_url
    KubeClient.from_environment().create_config_map(cluster.namespace, "from-env", {})
    assert load_kubeconfig(context="other").server == "http://127.0.0.1:9"
    with pytest.raises(KubeConfigError, match="no context named 'missing'"):
        load_kubeconfig(context="missing")


def test_unsupported_kubeconfig_features_are_named():
    document = {"clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
                "users": [{"name": "u", "user": {"auth-provider": {"name": "gcp"}}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}], "current-context": "x"}
    with pytest.raises(KubeConfigError, match="auth-provider"):
        KubeClient.from_kubeconfig_text(json.dumps(document))


def test_in_cluster_service_account(tmp_path: Path, cluster: KubeCluster, monkeypatch: pytest.MonkeyPatch):
    token = cluster.service_account_token("ops", rules=[CONFIG_MAPS_RULE])
    (tmp_path / "token").write_text(token + "\n")
    (tmp_path / "ca.crt").write_bytes(cluster.ca_pem)
    (tmp_path / "namespace").write_text(cluster.namespace)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", cluster.server_url.rsplit(":", 1)[1])

    connection = in_cluster_connection(tmp_path)
    KubeClient(connection).create_config_map(cluster.namespace, "in-cluster", {})

    assert connection.default_namespace == cluster.namespace
    assert cluster.config_map_data(cluster.namespace, "in-cluster") == {}
    # The token file is read on every request: a rotated token is used at once.
    (tmp_path / "token").write_text("rotated-but-wrong\n")
    with pytest.raises(KubeError) as unauthorized:
        KubeClient(connection).get_config_map(cluster.namespace, "in-cluster")
    assert unauthorized.value.status == 401
