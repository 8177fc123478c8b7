"""Preflight checks: database against real MariaDB, object storage and registry against moto, cluster against the
real local API server (Nodes created as kubelets register them: labels, kernel and runtime in status.nodeInfo); and
the command line end to end."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ops import cli
from ops.checks import cli as checks_cli
from ops.checks.mysql import ServerVersionRequirement, run_database_checks, tls_connector
from ops.checks.preflight import (
    GITPOD_WORKLOAD_LABELS,
    PreflightClients,
    PreflightFailed,
    PreflightSettings,
    check_cluster,
    preflight,
    probe_object_storage,
)
from ops.clouds.aws.ecr import EcrRegistry
from ops.clouds.aws.s3 import S3ObjectStore
from ops.cluster.kube import KubeClient
from ops.cluster.nodes import KubeNodes
from ops.common import stackfile
from tests.ops.support.cli import run_command
from tests.ops.support.kube_cluster import KubeCluster
from tests.ops.support.mariadb import (
    ACCEPT_MARIADB,
    ROOT_PASSWORD,
    PitrScenario,
    changed_globals,
    endpoint_for,
    scenario,  # noqa: F401 (a fixture)
)
from tests.ops.support.stacks import stack_text
from tests.ops.support.values import START

REPOSITORIES = ("gitpod-dev/base-images", "gitpod-dev/workspace-images")
ALL_LABELS = dict.fromkeys(GITPOD_WORKLOAD_LABELS, "true")


def results_by_name(results: list[Any]) -> dict[str, Any]:
    return {result.name: result for result in results}


# -- database -----------------------------------------------------------------------------------------------------


def test_a_well_configured_database_passes_every_check(scenario: PitrScenario):  # noqa: F811
    results = run_database_checks(tls_connector(endpoint_for(scenario.source)), "gitpod", ACCEPT_MARIADB)

    assert [result.name for result in results] == ["database reachable", "database TLS", "database version",
                                                   "explicit_defaults_for_timestamp", "binary logging", "utf8mb4"]
    assert all(result.passed for result in results), [result.line() for result in results]
    assert "TLS_" in results_by_name(results)["database TLS"].reason


def test_mariadb_is_not_the_mysql_8_gitpod_requires(scenario):  # noqa: F811
    results = results_by_name(run_database_checks(tls_connector(endpoint_for(scenario.source)), "gitpod",
                                                  ServerVersionRequirement()))
    version = results["database version"]
    assert not version.passed
    assert "MariaDB 10." in version.reason
    assert "is not MySQL 8.0" in version.reason


def test_binary_logging_off_fails(scenario):  # noqa: F811
    results = results_by_name(run_database_checks(tls_connector(endpoint_for(scenario.restored)), "gitpod",
                                                  ACCEPT_MARIADB))
    assert not results["binary logging"].passed
    assert "no point-in-time recovery" in results["binary logging"].reason


@pytest.fixture
def global_variable(scenario: PitrScenario) -> Iterator[Callable[[str, str], None]]:  # noqa: F811
    """Change a dynamic global variable on the restored server for one test, then put it back."""
    with changed_globals(scenario.restored) as set_variable:
        yield set_variable


def test_explicit_defaults_for_timestamp_on_fails(scenario, global_variable):  # noqa: F811
    global_variable("explicit_defaults_for_timestamp", "ON")
    results = results_by_name(run_database_checks(tls_connector(endpoint_for(scenario.restored)), "gitpod",
                                                  ACCEPT_MARIADB))
    assert not results["explicit_defaults_for_timestamp"].passed
    assert "is ON; Gitpod needs it OFF" in results["explicit_defaults_for_timestamp"].reason


def test_a_server_that_accepts_plaintext_fails_the_tls_check(scenario, global_variable):  # noqa: F811
    global_variable("require_secure_transport", "OFF")
    results = results_by_name(run_database_checks(tls_connector(endpoint_for(scenario.restored)), "gitpod",
                                                  ACCEPT_MARIADB))
    assert not results["database TLS"].passed
    assert "accepts unencrypted connections" in results["database TLS"].reason


def test_an_unencrypted_connection_fails_the_tls_check(scenario, global_variable):  # noqa: F811
    global_variable("require_secure_transport", "OFF")
    results = results_by_name(run_database_checks(lambda: scenario.restored.connect(database="gitpod", tls=False),
                                                  "gitpod", ACCEPT_MARIADB))
    assert not results["database TLS"].passed
    assert "not encrypted" in results["database TLS"].reason


def test_wrong_credentials_are_one_clear_failure(scenario):  # noqa: F811
    endpoint = endpoint_for(scenario.source)
    from dataclasses import replace

    results = run_database_checks(tls_connector(replace(endpoint, password="wrong")), "gitpod", ACCEPT_MARIADB)
    assert [(result.name, result.passed) for result in results] == [("database reachable", False)]
    assert "Access denied" in results[0].reason


def test_a_certificate_from_another_ca_is_refused(scenario):  # noqa: F811
    from dataclasses import replace

    endpoint = replace(endpoint_for(scenario.source), ca_pem=None)  # the system trust store does not know it
    (result,) = run_database_checks(tls_connector(endpoint), "gitpod", ACCEPT_MARIADB)
    assert not result.passed
    assert "CERTIFICATE_VERIFY_FAILED" in result.reason


# -- object storage and registry ----------------------------------------------------------------------------------


def test_object_storage_probe_leaves_nothing_behind(aws, versioned_bucket):
    s3 = aws("s3")
    result = probe_object_storage(S3ObjectStore(s3, versioned_bucket), "dev", START)
    assert result.passed, result.reason
    listing = s3.list_object_versions(Bucket=versioned_bucket)
    assert not listing.get("Versions")
    assert not listing.get("DeleteMarkers")


def test_object_storage_probe_names_the_bucket_it_cannot_write(aws):
    result = probe_object_storage(S3ObjectStore(aws("s3"), "no-such-bucket"), "dev", START)
    assert not result.passed
    assert "cannot write s3://no-such-bucket/gitpod-cell/dev/preflight/probe-20250314T092653Z-" in result.reason
    assert "NoSuchBucket" in result.reason


def test_registry_credentials_and_repositories(aws):
    ecr = aws("ecr")
    for name in REPOSITORIES:
        ecr.create_repository(repositoryName=name)
    assert all(result.passed for result in EcrRegistry(ecr).check(REPOSITORIES))


def test_a_missing_repository_is_named(aws):
    ecr = aws("ecr")
    ecr.create_repository(repositoryName=REPOSITORIES[0])
    credentials, repositories = EcrRegistry(ecr).check(REPOSITORIES)
    assert credentials.passed
    assert not repositories.passed
    assert repositories.reason == f"missing: {REPOSITORIES[1]}"


# -- cluster ------------------------------------------------------------------------------------------------------


def cluster_settings() -> PreflightSettings:
    return PreflightSettings(stack="dev", bucket="b", repositories=REPOSITORIES)


def test_a_cluster_with_every_label_a_recent_kernel_and_containerd_passes(cluster: KubeCluster, kube: KubeClient):
    services = {key: "true" for key in GITPOD_WORKLOAD_LABELS[:4]}
    cluster.put_node("services-1", labels=services)
    cluster.put_node("regular-1", labels={"gitpod.io/workload_workspace_regular": "true"})
    cluster.put_node("headless-1", labels={"gitpod.io/workload_workspace_headless": "true"},
                     kernel_version="5.4.0-1103-aws")

    nodes = KubeNodes(kube).list_nodes()
    results = check_cluster(KubeNodes(kube), cluster_settings())

    assert all(result.passed for result in results), [result.line() for result in results]
    assert sorted(node.name for node in nodes) == ["headless-1", "regular-1", "services-1"]
    headless = next(node for node in nodes if node.name == "headless-1")
    assert (headless.kernel_version, headless.container_runtime_version, headless.kubelet_version) == (
        "5.4.0-1103-aws", "containerd://1.7.22", "v1.33.5-eks-113cf36")


def test_listing_nodes_needs_cluster_wide_rights(cluster: KubeCluster):
    """RBAC is the server's: Nodes are cluster-scoped, so a namespaced Role cannot grant the list."""
    from ops.cluster.kube import KubeError

    cluster.put_node("services-1", labels=ALL_LABELS)
    token = cluster.service_account_token("preflight", rules=[
        {"apiGroups": [""], "resources": ["nodes"], "verbs": ["list"]}])
    kube = KubeClient.from_kubeconfig_text(json.dumps(cluster.token_kubeconfig(token)))

    with pytest.raises(KubeError) as forbidden:
        KubeNodes(kube).list_nodes()

    assert forbidden.value.status == 403
    assert 'cannot list resource "nodes" in API group "" at the cluster scope' in forbidden.value.message


def test_cluster_failures_name_the_nodes_and_labels(cluster: KubeCluster, kube: KubeClient):
    cluster.put_node("old-kernel", labels={"gitpod.io/workload_meta": "true"}, kernel_version="4.14.355-275")
    cluster.put_node("docker", labels={"gitpod.io/workload_ide": "false"},
                     container_runtime_version="docker://20.10.25", kubelet_version="v1.27.16-eks-a737599")

    results = results_by_name(check_cluster(KubeNodes(kube), cluster_settings()))

    labels = results["workload labels"]
    assert not labels.passed
    assert "gitpod.io/workload_ide=true" in labels.reason
    assert "gitpod.io/workload_meta=true" not in labels.reason
    assert results["kernel version"].reason == "below 5.4: old-kernel (4.14.355-275)"
    assert results["container runtime"].reason == "not containerd: docker (docker://20.10.25)"
    assert not results["Kubernetes version"].passed
    assert "docker (v1.27.16-eks-a737599)" in \
        results["Kubernetes version"].reason


def test_a_cluster_without_nodes_fails(cluster: KubeCluster, kube: KubeClient):
    cluster.delete_nodes()

    (result,) = check_cluster(KubeNodes(kube), cluster_settings())
    assert not result.passed
    assert result.reason == "the cluster has no nodes"


# -- the rollout step and the command line ------------------------------------------------------------------------


@pytest.fixture
def healthy_cell(aws, versioned_bucket, cluster: KubeCluster) -> dict[str, Any]:
    ecr = aws("ecr")
    for name in REPOSITORIES:
        ecr.create_repository(repositoryName=name)
    cluster.put_node("services-1", labels=ALL_LABELS)
    return {"s3": aws("s3"), "ecr": ecr, "bucket": versioned_bucket}


def test_the_preflight_step_raises_naming_every_failed_check(healthy_cell, scenario, kube):  # noqa: F811
    lines: list[str] = []
    clients = PreflightClients(connect_database=tls_connector(endpoint_for(scenario.restored)),
                               object_store=S3ObjectStore(healthy_cell["s3"], healthy_cell["bucket"]),
                               registry=EcrRegistry(healthy_cell["ecr"]), nodes=KubeNodes(kube),
                               progress=lines.append)
    settings = PreflightSettings(stack="dev", bucket=healthy_cell["bucket"], repositories=REPOSITORIES,
                                 version_requirement=ACCEPT_MARIADB)

    with pytest.raises(PreflightFailed, match=r"1 preflight check\(s\) failed: binary logging"):
        preflight(clients, settings)
    assert "[FAIL] binary logging: is off" in "\n".join(lines)
    assert sum(line.startswith("[PASS]") for line in lines) == 13


STACK = stack_text("dev")


def run_preflight_cli(argv: list[str], requirement: ServerVersionRequirement) -> int:
    return run_command(checks_cli, argv, version_requirement=requirement)


@pytest.fixture
def cli_argv(healthy_cell, scenario, cluster, tmp_path: Path, monkeypatch) -> Callable[[Any], list[str]]:  # noqa: F811
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    (stacks / "Pulumi.dev.yaml").write_text(STACK)
    monkeypatch.setattr(stackfile, "STACKS_DIR", stacks)
    kubeconfig = cluster.kubeconfig_path
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(scenario.source.ca_pem)
    monkeypatch.setenv("GITPOD_DB_PASSWORD", ROOT_PASSWORD)

    def argv(server: Any) -> list[str]:
        return ["preflight", "--stack", "dev", "--bucket", healthy_cell["bucket"], "--db-host", "127.0.0.1",
                "--db-port", str(server.port), "--db-user", "root", "--ca-file", str(ca_file),
                "--kubeconfig", str(kubeconfig)]

    return argv


def test_cli_passes_on_a_healthy_cell(cli_argv, scenario, capsys):  # noqa: F811
    assert run_preflight_cli(cli_argv(scenario.source), ACCEPT_MARIADB) == 0
    out = capsys.readouterr().out
    assert "[PASS] registry repositories: reachable: gitpod-dev/base-images, gitpod-dev/workspace-images" in out
    assert "preflight of 'dev' passed" in out


def test_cli_exits_non_zero_and_prints_each_failure(cli_argv, scenario, capsys):  # noqa: F811
    assert run_preflight_cli([*cli_argv(scenario.source), "--json"], ServerVersionRequirement()) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["passed"] is False
    assert [check["name"] for check in document["checks"] if not check["passed"]] == ["database version"]


def test_cli_without_a_password_is_a_config_error(cli_argv, scenario, monkeypatch, capsys):  # noqa: F811
    monkeypatch.delenv("GITPOD_DB_PASSWORD")
    assert run_preflight_cli(cli_argv(scenario.source), ACCEPT_MARIADB) == cli.EXIT_CONFIG_ERROR
    assert "set GITPOD_DB_PASSWORD" in capsys.readouterr().out
