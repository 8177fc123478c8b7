"""Kubernetes object rules: no `default` namespace, pinned Helm chart versions."""

from __future__ import annotations

import pytest

from tests.policies.records import provider, resource

SECRET = "kubernetes:core/v1:Secret"
RELEASE = "kubernetes:helm.sh/v3:Release"


class TestNoDefaultNamespace:
    rule = "k8s-no-default-namespace"

    def test_passes(self, check):
        assert check(self.rule, resource(SECRET, "db", {"metadata": {"namespace": "gitpod"}})) == []

    def test_fails_for_default(self, check):
        secret = resource(SECRET, "db", {"metadata": {"namespace": "default"}})
        assert check(self.rule, secret) == [(secret["urn"], "metadata.namespace is 'default'; use the cell's own "
                                                            "namespace.")]

    def test_fails_when_absent(self, check):
        secret = resource(SECRET, "db", {"metadata": {}})
        assert check(self.rule, secret) == [
            (secret["urn"], "metadata.namespace is not set (nor a provider namespace), so the object lands in "
                            "'default'.")
        ]

    def test_provider_namespace_counts(self, check):
        cluster = provider("cluster", package="kubernetes", namespace="gitpod")
        assert check(self.rule, cluster, resource(SECRET, "db", {"metadata": {}}, provider=cluster)) == []

    def test_helm_release_uses_top_level_namespace(self, check):
        release = resource(RELEASE, "cert-manager", {"chart": "cert-manager", "version": "v1.16.1"})
        assert check(self.rule, release) == [
            (release["urn"], "namespace is not set (nor a provider namespace), so the object lands in 'default'.")
        ]

    def test_only_a_reader_of_the_maintenance_lease_may_live_in_default(self, check):
        role_type = "kubernetes:rbac.authorization.k8s.io/v1:Role"
        binding_type = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
        reader = resource(role_type, "lease", {"metadata": {"namespace": "default"}, "rules": [
            {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["ws-manager-mk2-maintenance-mode"],
             "verbs": ["get"]}]})
        writer = resource(role_type, "writer", {"metadata": {"namespace": "default"}, "rules": [
            {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["ws-manager-mk2-maintenance-mode"],
             "verbs": ["get", "patch"]}]})
        anything = resource(role_type, "any", {"metadata": {"namespace": "default"}, "rules": [
            {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]})
        empty = resource(role_type, "empty", {"metadata": {"namespace": "default"}})
        to_role = resource(binding_type, "to-role", {"metadata": {"namespace": "default"},
                                                     "roleRef": {"kind": "Role", "name": "lease"}})
        to_cluster_role = resource(binding_type, "to-admin", {"metadata": {"namespace": "default"},
                                                              "roleRef": {"kind": "ClusterRole", "name": "admin"}})
        found = {urn for urn, _ in check(self.rule, reader, writer, anything, empty, to_role, to_cluster_role)}
        assert found == {writer["urn"], anything["urn"], empty["urn"], to_cluster_role["urn"]}

    @pytest.mark.parametrize("resource_type", ["kubernetes:core/v1:Namespace",
                                               "kubernetes:cert-manager.io/v1:ClusterIssuer"])
    def test_cluster_scoped_objects_are_ignored(self, check, resource_type):
        assert check(self.rule, resource(resource_type, "x", {"metadata": {"name": "x"}})) == []


class TestHelmChartVersionPinned:
    rule = "k8s-helm-chart-version-pinned"

    def test_passes(self, check):
        assert check(self.rule, resource(RELEASE, "cm", {"chart": "cert-manager", "version": "v1.16.1"})) == []

    @pytest.mark.parametrize("version", ["^1.16", "~1.16.0", ">=1.0.0", "1.x", "latest"])
    def test_fails_for_ranges(self, check, version):
        release = resource(RELEASE, "cm", {"chart": "cert-manager", "version": version})
        assert check(self.rule, release) == [
            (release["urn"], f"chart 'cert-manager' version {version!r} is a range; pin an exact version.")
        ]

    def test_fails_when_absent(self, check):
        release = resource(RELEASE, "cm", {"chart": "cert-manager"})
        assert check(self.rule, release) == [
            (release["urn"], "chart 'cert-manager' has no version; the release would follow whatever the repository "
                             "serves.")
        ]

    def test_local_charts_are_pinned_by_the_repository(self, check):
        assert check(self.rule, resource(RELEASE, "local", {"chart": "./charts/gitpod-extras"})) == []
