"""ops/cluster/kube.py against the local Kubernetes double: endpoints, errors, credentials."""

from __future__ import annotations

import base64
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
from tests.ops.support.kube_double import KubeDouble
from tests.ops.support.values import TlsMaterial, write_kubeconfig


def test_config_map_create_get_and_merge_patch_keep_other_keys(kube: KubeClient, kube_double: KubeDouble):
    created = kube.create_config_map("gitpod", "example", {"a": "1", "b": "2"}, labels={"x": "y"})
    assert created.data == {"a": "1", "b": "2"}
    assert created.resource_version

    patched = kube.patch_config_map_data("gitpod", "example", {"b": "20", "c": "3"})

    assert patched.data == {"a": "1", "b": "20", "c": "3"}
    assert kube.get_config_map("gitpod", "example").data == {"a": "1", "b": "20", "c": "3"}
    patch_request = kube_double.requests[-2]
    assert patch_request.method == "PATCH"
    assert patch_request.query == {"fieldManager": "gitpod-cell-ops"}
    assert patch_request.headers["content-type"] == "application/merge-patch+json"


def test_typed_errors_carry_status_and_name_the_call(kube: KubeClient):
    with pytest.raises(KubeNotFound) as missing:
        kube.get_config_map("gitpod", "absent")
    assert missing.value.status == 404
    assert "GET /api/v1/namespaces/gitpod/configmaps/absent" in str(missing.value)
    assert 'configmaps "absent" not found' in str(missing.value)

    kube.create_config_map("gitpod", "twice", {})
    with pytest.raises(KubeConflict) as conflict:
        kube.create_config_map("gitpod", "twice", {})
    assert conflict.value.status == 409
    assert conflict.value.reason == "AlreadyExists"

    with pytest.raises(KubeNotFound, match="namespaces"):
        kube.create_config_map("no-such-namespace", "x", {})


def test_server_error_is_transient_and_client_errors_are_not(kube: KubeClient, kube_double: KubeDouble):
    kube_double.fail_next(status=500)
    with pytest.raises(KubeError) as server_error:
        kube.list_deployments("gitpod")
    assert server_error.value.status == 500
    assert server_error.value.is_transient

    kube_double.fail_next(status=403)
    with pytest.raises(KubeError) as forbidden:
        kube.list_deployments("gitpod")
    assert forbidden.value.status == 403
    assert not forbidden.value.is_transient


def test_a_hanging_server_becomes_unavailable_after_the_client_timeout(kube_double: KubeDouble):
    kube = KubeClient(ClusterConnection(server=kube_double.url), timeout_seconds=0.2)
    kube_double.hang_when("GET", "/configmaps/")
    started = time.monotonic()
    with pytest.raises(KubeUnavailable) as unavailable:
        kube.get_config_map("gitpod", "anything")
    assert time.monotonic() - started < 2
    assert unavailable.value.status is None
    assert unavailable.value.is_transient
    assert "no response within 0.2s" in str(unavailable.value)


def test_connection_refused_is_unavailable():
    kube_double = KubeDouble().start()
    url = kube_double.url
    kube_double.stop()
    with pytest.raises(KubeUnavailable):
        KubeClient(ClusterConnection(server=url), timeout_seconds=0.5).get_config_map("gitpod", "x")


def test_workload_lists_apply_kubernetes_defaults(kube: KubeClient, kube_double: KubeDouble):
    kube_double.put_deployment("gitpod", "server", replicas=None, ready=0, updated=0, labels={"app": "gitpod"})
    kube_double.put_deployment("gitpod", "other", replicas=2, labels={"app": "other"})
    kube_double.put_stateful_set("gitpod", "redis", replicas=3,
                                 update_strategy={"type": "RollingUpdate", "rollingUpdate": {"partition": 2}})
    kube_double.put_stateful_set("gitpod", "manual", replicas=2, update_strategy={"type": "OnDelete"})

    (server,) = kube.list_deployments("gitpod", label_selector="app=gitpod")
    stateful_sets = {s.name: s for s in kube.list_stateful_sets("gitpod")}

    assert (server.kind, server.desired_replicas, server.ready_replicas, server.updated_replicas) == (
        "Deployment", 1, 0, 0)
    assert kube_double.requests[-2].query == {"labelSelector": "app=gitpod"}
    assert stateful_sets["redis"].expected_updated_replicas == 1
    assert stateful_sets["manual"].expected_updated_replicas == 0


def test_kubeconfig_with_ca_data_and_bearer_token_over_tls(tmp_path: Path, tls: TlsMaterial):
    double = KubeDouble(token="sesame", ssl_context=tls.server_context()).start()
    try:
        path = write_kubeconfig(tmp_path / "config", double.kubeconfig(token="sesame", ca_data=tls.ca_data))
        kube = KubeClient.from_kubeconfig(path)
        kube.create_config_map("gitpod", "over-tls", {"k": "v"})
        assert double.config_map_data("gitpod", "over-tls") == {"k": "v"}

        wrong = KubeClient.from_kubeconfig_text(json.dumps(double.kubeconfig(token="nope", ca_data=tls.ca_data)))
        with pytest.raises(KubeError) as unauthorized:
            wrong.get_config_map("gitpod", "over-tls")
        assert unauthorized.value.status == 401

        untrusted = KubeClient.from_kubeconfig_text(json.dumps(double.kubeconfig(token="sesame")))
        with pytest.raises(KubeUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
            untrusted.get_config_map("gitpod", "over-tls")
    finally:
        double.stop()


def test_kubeconfig_with_client_certificate_data(tmp_path: Path, tls: TlsMaterial):
    double = KubeDouble(ssl_context=tls.server_context(require_client_certificate=True)).start()
    try:
        document = double.kubeconfig(ca_data=tls.ca_data)
        document["users"][0]["user"] = {
            "client-certificate-data": base64.b64encode(tls.client_cert_pem).decode(),
            "client-key-data": base64.b64encode(tls.client_key_pem).decode(),
        }
        kube = KubeClient.from_kubeconfig(write_kubeconfig(tmp_path / "config", document))
        kube.create_config_map("gitpod", "mtls", {"k": "v"})
        assert double.config_map_data("gitpod", "mtls") == {"k": "v"}
    finally:
        double.stop()


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


def test_exec_credential_plugin_token_is_cached_and_renewed_after_401(tmp_path: Path):
    double = KubeDouble(token="second").start()
    try:
        script = _exec_plugin_script(tmp_path, ["first", "second"])
        document = double.kubeconfig()
        document["users"][0]["user"] = {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1", "command": sys.executable,
            "args": [str(script)], "env": [{"name": "AWS_REGION", "value": "eu-west-1"}],
            "provideClusterInfo": True,
        }}
        kube = KubeClient.from_kubeconfig_text(json.dumps(document))

        # "first" is refused with 401: the client asks the plugin again, once, and succeeds with "second".
        kube.create_config_map("gitpod", "via-exec", {"k": "v"})
        kube.get_config_map("gitpod", "via-exec")

        calls = (tmp_path / "plugin-calls").read_text().splitlines()
        assert len(calls) == 2  # cached after the renewal
        exec_info = json.loads(calls[0])
        assert exec_info["spec"]["interactive"] is False
        assert exec_info["spec"]["cluster"]["server"] == double.url
    finally:
        double.stop()


def test_exec_credential_plugin_failure_is_a_config_error(tmp_path: Path):
    plugin = ExecCredentialPlugin(command=sys.executable, args=["-c", "import sys; sys.exit('no credentials')"])
    with pytest.raises(KubeConfigError, match="exited with 1: no credentials"):
        plugin.token()


def test_kubeconfig_env_files_are_merged_first_wins(tmp_path: Path, kube_double: KubeDouble,
                                                    monkeypatch: pytest.MonkeyPatch):
    first = kube_double.kubeconfig(token="t")
    second = {"clusters": [{"name": "other", "cluster": {"server": "http://127.0.0.1:9"}}],
              "users": [{"name": "other", "user": {}}],
              "contexts": [{"name": "other", "context": {"cluster": "other", "user": "other"}}],
              "current-context": "other"}
    paths = [write_kubeconfig(tmp_path / "a", first), write_kubeconfig(tmp_path / "b", second)]
    monkeypatch.setenv("KUBECONFIG", ":".join(str(p) for p in paths))

    assert load_kubeconfig().server == kube_double.url
    assert load_kubeconfig(context="other").server == "http://127.0.0.1:9"
    with pytest.raises(KubeConfigError, match="no context named 'missing'"):
        load_kubeconfig(context="missing")


def test_unsupported_kubeconfig_features_are_named():
    document = {"clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
                "users": [{"name": "u", "user": {"auth-provider": {"name": "gcp"}}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}], "current-context": "x"}
    with pytest.raises(KubeConfigError, match="auth-provider"):
        KubeClient.from_kubeconfig_text(json.dumps(document))


def test_in_cluster_service_account(tmp_path: Path, tls: TlsMaterial, monkeypatch: pytest.MonkeyPatch):
    double = KubeDouble(token="sa-token", ssl_context=tls.server_context()).start()
    try:
        (tmp_path / "token").write_text("sa-token\n")
        (tmp_path / "ca.crt").write_bytes(tls.ca_pem)
        (tmp_path / "namespace").write_text("gitpod")
        monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(double.port))

        connection = in_cluster_connection(tmp_path)
        KubeClient(connection).create_config_map("gitpod", "in-cluster", {})

        assert connection.default_namespace == "gitpod"
        assert double.config_map_data("gitpod", "in-cluster") == {}
    finally:
        double.stop()
