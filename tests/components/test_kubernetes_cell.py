"""A cell on an existing cluster (stacks/Pulumi.local.yaml), asserted on what the real program registers under the
mock engine: one explicit provider, nothing in any cloud, no add-ons the cluster already has, the given secrets."""

from __future__ import annotations

from collections.abc import Callable

from components.config.kubernetes import SECRET_PLACEHOLDER
from components.gitpod.certificates import EXTERNAL_ISSUER_ANNOTATION, EXTERNAL_ISSUER_VALUE
from components.kubernetes.cell import docker_config
from ops.plan.runner import PlanDocument

Registered = Callable[[str], PlanDocument]


def test_one_explicit_kubernetes_provider_and_nothing_in_any_cloud(registered: Registered) -> None:
    plan = registered("local")

    providers = plan.by_type("pulumi:providers:kubernetes")
    assert len(providers) == 1
    assert "kubeconfig" in providers[0]["inputs"], "never the ambient kubeconfig"
    assert providers[0]["inputs"].get("deleteUnreachable") in (False, "false")
    packages = {resource["type"].split(":")[0] for resource in plan.resources if resource["custom"]}
    assert packages <= {"kubernetes", "random", "pulumi"}, packages
    # Every Kubernetes object is on that provider.
    objects = [r for r in plan.resources if r["type"].startswith("kubernetes:") and r["custom"]]
    assert objects
    assert all(providers[0]["urn"] in str(r["provider"]) for r in objects)

def test_no_cert_manager_external_dns_or_autoscaler_and_the_clusters_own_issuer(registered: Registered) -> None:
    plan = registered("local")

    assert plan.by_type("kubernetes:helm.sh/v3:Release") == []
    assert plan.by_type("kubernetes:cert-manager.io/v1:ClusterIssuer") == []
    certificate = plan.one("kubernetes:cert-manager.io/v1:Certificate")
    assert certificate["inputs"]["spec"]["issuerRef"] == {"name": "cell-issuer", "kind": "ClusterIssuer",
                                                           "group": "cert-manager.io"}
    assert certificate["inputs"]["metadata"]["annotations"] == {EXTERNAL_ISSUER_ANNOTATION: EXTERNAL_ISSUER_VALUE}


def test_the_registry_secret_is_the_cells_own_and_stays_in_sync(registered: Registered) -> None:
    secret = next(r for r in registered("local").by_type("kubernetes:core/v1:Secret")
                  if r["inputs"]["metadata"]["name"] == "gitpod-registry")

    assert secret["inputs"]["type"] == "kubernetes.io/dockerconfigjson"
    assert secret["options"]["ignoreChanges"] == []


def test_the_docker_config_names_the_server_with_basic_auth() -> None:
    import base64
    import json

    config = json.loads(docker_config("registry.example.com:5000", "gitpod", "s3cret"))

    entry = config["auths"]["registry.example.com:5000"]
    assert base64.b64decode(entry["auth"]).decode() == "gitpod:s3cret"


def test_the_installer_config_reaches_the_store_at_its_endpoint(registered: Registered) -> None:
    import yaml

    config_map = next(r for r in registered("local").by_type("kubernetes:core/v1:ConfigMap")
                      if r["inputs"]["metadata"]["name"] == "gitpod-installer-config")
    rendered = yaml.safe_load(config_map["inputs"]["data"]["config.yaml"])

    assert rendered["objectStorage"]["s3"] == {"endpoint": "127.0.0.1:9000", "bucket": "gitpod-local",
                                               "credentials": {"kind": "secret", "name": "gitpod-object-storage"}}
    assert rendered["containerRegistry"]["external"]["url"] == "127.0.0.1:5000/gitpod"


def test_the_plans_outputs_keep_every_secret_secret(registered: Registered) -> None:
    outputs = registered("local").document["outputs"]

    assert outputs["kubeconfig"] == "[secret]"
    assert outputs["databasePassword"] == "[secret]"
    assert SECRET_PLACEHOLDER not in str(outputs)
    assert outputs["databaseRestoreTarget"]["kind"] == "mysql-binlog"
