"""Pod-level rules for workloads the cell creates: resources, non-root, no escalation, read-only root, secrets."""

from __future__ import annotations

import pytest

from tests.policies.k8s_objects import container, job
from tests.policies.records import resource


def without(mapping, *keys):
    return {k: v for k, v in mapping.items() if k not in keys}


class TestContainerResources:
    rule = "k8s-container-resources"

    def test_passes(self, check):
        assert check(self.rule, job(container())) == []

    def test_fails_with_partial_resources(self, check):
        record = job(container(resources={"requests": {"cpu": "100m"}}))
        assert check(self.rule, record) == [
            (record["urn"], "container installer sets no resources.requests.memory, resources.limits.memory.")
        ]

    def test_fails_when_absent(self, check):
        record = job(without(container(), "resources"))
        assert check(self.rule, record) == [
            (record["urn"], "container installer sets no resources.requests.cpu, resources.requests.memory, "
                            "resources.limits.memory.")
        ]

    def test_cpu_limit_is_configurable(self, check):
        record = job(container())
        assert check(self.rule, record, config={"requireCpuLimit": True}) == [
            (record["urn"], "container installer sets no resources.limits.cpu.")
        ]

    def test_checks_init_containers_and_other_workloads(self, check):
        deployment = resource("kubernetes:apps/v1:Deployment", "proxy", {"metadata": {"namespace": "gitpod"},
                              "spec": {"template": {"spec": {
                                  "initContainers": [without(container(name="init"), "resources")],
                                  "containers": [container(name="proxy")]}}}})
        assert check(self.rule, deployment) == [
            (deployment["urn"], "container init sets no resources.requests.cpu, resources.requests.memory, "
                                "resources.limits.memory.")
        ]


class TestRunAsNonRoot:
    rule = "k8s-run-as-non-root"

    def test_passes_with_container_setting(self, check):
        assert check(self.rule, job(container())) == []

    def test_passes_with_pod_setting(self, check):
        bare = container(securityContext={"allowPrivilegeEscalation": False})
        assert check(self.rule, job(bare, pod={"securityContext": {"runAsNonRoot": True}})) == []

    def test_passes_with_non_zero_user(self, check):
        assert check(self.rule, job(container(securityContext={"runAsUser": 1000}))) == []

    def test_fails_for_root_user(self, check):
        record = job(container(securityContext={"runAsUser": 0, "runAsNonRoot": True}))
        assert check(self.rule, record) == [(record["urn"], "container installer runs as root (runAsUser 0).")]

    def test_container_overrides_pod(self, check):
        record = job(container(securityContext={"runAsNonRoot": False}),
                     pod={"securityContext": {"runAsNonRoot": True}})
        assert check(self.rule, record) == [
            (record["urn"], "container installer may run as root; set securityContext.runAsNonRoot: true.")
        ]

    def test_fails_when_absent(self, check):
        record = job(without(container(), "securityContext"))
        assert check(self.rule, record) == [
            (record["urn"], "container installer may run as root; set securityContext.runAsNonRoot: true.")
        ]


class TestNoPrivilegeEscalation:
    rule = "k8s-no-privilege-escalation"

    def test_passes(self, check):
        assert check(self.rule, job(container())) == []

    def test_fails_when_privileged(self, check):
        record = job(container(securityContext={"privileged": True, "allowPrivilegeEscalation": True}))
        assert check(self.rule, record) == [
            (record["urn"], "container installer does not set securityContext.allowPrivilegeEscalation: false."),
            (record["urn"], "container installer is privileged."),
        ]

    def test_fails_when_absent(self, check):
        record = job(without(container(), "securityContext"))
        assert check(self.rule, record) == [
            (record["urn"], "container installer does not set securityContext.allowPrivilegeEscalation: false.")
        ]


class TestReadOnlyRootFilesystem:
    rule = "k8s-read-only-root-filesystem"

    def test_passes(self, check):
        assert check(self.rule, job(container())) == []

    def test_fails(self, check):
        record = job(container(securityContext={"readOnlyRootFilesystem": False}))
        assert check(self.rule, record) == [
            (record["urn"], "container installer should set securityContext.readOnlyRootFilesystem: true.")
        ]

    def test_fails_when_absent(self, check):
        record = job(without(container(), "securityContext"))
        assert check(self.rule, record) == [
            (record["urn"], "container installer should set securityContext.readOnlyRootFilesystem: true.")
        ]


class TestNoPlainSecretEnv:
    rule = "k8s-no-plain-secret-env"

    def test_passes_with_secret_refs(self, check):
        env = [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
               {"name": "GITPOD_DOMAIN", "value": "gitpod.example.com"}]
        assert check(self.rule, job(container(env=env))) == []

    @pytest.mark.parametrize("name", ["DB_PASSWORD", "github_token", "AWS_SECRET_ACCESS_KEY", "API_KEY"])
    def test_fails_for_secret_named_plain_values(self, check, name):
        record = job(container(env=[{"name": name, "value": "hunter2"}]))
        assert check(self.rule, record) == [
            (record["urn"], f"container installer env {name} looks like a secret but is a plain value; use "
                            "valueFrom.secretKeyRef.")
        ]

    def test_fails_for_inlined_pulumi_secret(self, check):
        record = job(container(env=[{"name": "CONFIG", "value": "[secret]"}]))
        assert check(self.rule, record) == [
            (record["urn"], "container installer env CONFIG inlines a Pulumi secret as a plain value; use "
                            "valueFrom.secretKeyRef.")
        ]

    def test_passes_when_absent(self, check):
        assert check(self.rule, job(container())) == []
