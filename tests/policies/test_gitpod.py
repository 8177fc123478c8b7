"""Gitpod rules: installer image pinned, rollout hooks bound, workspace timeouts and maintenance lease bounded."""

from __future__ import annotations

import pytest

from tests.policies.k8s_objects import container, installation_config_map, installer, job
from tests.policies.records import resource


class TestInstallerImagePinned:
    rule = "gitpod-installer-image-pinned"

    @pytest.mark.parametrize("image", [
        "eu.gcr.io/gitpod-io/installer:release-2024.01.1",
        "registry.local:5000/gitpod/installer@sha256:" + "a" * 64,
        "ghcr.io/gitpod/installer:2024.1.0",
    ])
    def test_pinned_images_pass(self, check, image):
        assert check(self.rule, installer(container(image=image))) == []

    @pytest.mark.parametrize(("image", "problem"), [
        ("eu.gcr.io/gitpod-io/installer:latest", "uses the moving tag 'latest'"),
        ("eu.gcr.io/gitpod-io/installer:main", "uses the moving tag 'main'"),
        ("registry.local:5000/gitpod/installer", "has no tag (it resolves to 'latest')"),
    ])
    def test_unpinned_images_fail(self, check, image, problem):
        record = installer(container(image=image))
        assert check(self.rule, record) == [
            (record["urn"], f"container installer image {image!r} {problem}; pin a release version or a digest.")
        ]

    def test_fails_when_image_absent(self, check):
        bare = container()
        del bare["image"]
        record = installer(bare)
        assert check(self.rule, record) == [
            (record["urn"], "container installer has no image; pin a release version or a digest.")
        ]

    def test_other_jobs_are_ignored(self, check):
        assert check(self.rule, job(container(image="busybox:latest"), name="other")) == []


class TestInstallerHooks:
    rule = "gitpod-installer-hooks"

    def test_passes_with_all_hooks(self, check):
        assert check(self.rule, installer()) == []

    def test_update_hooks_count_too(self, check):
        hooks = {"beforeUpdate": ["preflight", "enter-maintenance", "record-restore-point"],
                 "afterUpdate": ["health-gate", "backup-config", "exit-maintenance"]}
        assert check(self.rule, installer(hooks=hooks)) == []

    def test_fails_with_some_missing(self, check):
        record = installer(hooks={"beforeCreate": ["enter-maintenance"], "afterCreate": ["health-gate"]})
        assert check(self.rule, record) == [
            (record["urn"], "hooks not bound: preflight (before create/update), record-restore-point (before "
                            "create/update), backup-config (after create/update), exit-maintenance (after "
                            "create/update).")
        ]

    def test_fails_when_absent(self, check):
        record = installer(hooks={})
        assert check(self.rule, record) == [
            (record["urn"], "hooks not bound: preflight (before create/update), enter-maintenance (before "
                            "create/update), record-restore-point "
                            "(before create/update), health-gate (after create/update), backup-config (after "
                            "create/update), exit-maintenance (after create/update).")
        ]


class TestWorkspaceTimeouts:
    rule = "gitpod-workspace-timeouts"

    def config_map(self, **data):
        values = {"timeoutDefault": "30m", "timeoutExtended": "3h", "timeoutAfterClose": "2m",
                  "maxLifetime": "36h", "maintenanceLeaseMinutes": "30", **data}
        return installation_config_map({k: v for k, v in values.items() if v is not None})

    def test_passes(self, check):
        assert check(self.rule, self.config_map()) == []

    def test_passes_at_the_maxima(self, check):
        assert check(self.rule, self.config_map(timeoutDefault="24h", timeoutExtended="24h",
                                                timeoutAfterClose="24h", maxLifetime="36h")) == []

    def test_fails_beyond_the_maxima(self, check):
        record = self.config_map(timeoutDefault="4h", timeoutExtended="25h", timeoutAfterClose="5h",
                                 maxLifetime="48h")
        assert check(self.rule, record) == [
            (record["urn"], "maxLifetime (48h) exceeds the 36h maximum."),
            (record["urn"], "timeoutAfterClose (5h) exceeds timeoutDefault (4h)."),
            (record["urn"], "timeoutExtended (25h) exceeds the 24h maximum."),
        ]

    def test_fails_when_default_exceeds_extended(self, check):
        record = self.config_map(timeoutDefault="2h", timeoutExtended="1h30m")
        assert check(self.rule, record) == [
            (record["urn"], "timeoutDefault (2h) exceeds timeoutExtended (1h30m).")
        ]

    def test_fails_when_not_a_duration(self, check):
        record = self.config_map(timeoutDefault="thirty minutes")
        assert check(self.rule, record) == [
            (record["urn"], "data.timeoutDefault 'thirty minutes' is not a Go duration (e.g. '30m', '24h').")
        ]

    def test_fails_when_absent(self, check):
        record = self.config_map(timeoutExtended=None, maxLifetime=None)
        assert check(self.rule, record) == [(record["urn"], "data is missing timeoutExtended, maxLifetime.")]

    def test_maxima_are_configurable(self, check):
        record = self.config_map(timeoutExtended="12h")
        assert check(self.rule, record, config={"maxTimeoutExtended": "8h"}) == [
            (record["urn"], "timeoutExtended (12h) exceeds the 8h maximum.")
        ]

    def test_other_config_maps_are_ignored(self, check):
        assert check(self.rule, installation_config_map({}, name="something-else")) == []


class TestMaintenanceLease:
    rule = "gitpod-maintenance-lease"

    @pytest.mark.parametrize("minutes", ["5", "240"])
    def test_bounds_pass(self, check, minutes):
        assert check(self.rule, installation_config_map({"maintenanceLeaseMinutes": minutes})) == []

    @pytest.mark.parametrize("minutes", ["4", "241", "0"])
    def test_out_of_bounds_fails(self, check, minutes):
        record = installation_config_map({"maintenanceLeaseMinutes": minutes})
        assert check(self.rule, record) == [
            (record["urn"], f"data.maintenanceLeaseMinutes is {minutes}; the lease must be 5-240 minutes.")
        ]

    def test_fails_when_not_a_number(self, check):
        record = installation_config_map({"maintenanceLeaseMinutes": "1h"})
        assert check(self.rule, record) == [
            (record["urn"], "data.maintenanceLeaseMinutes '1h' is not a whole number of minutes.")
        ]

    def test_fails_when_absent(self, check):
        record = installation_config_map({})
        assert check(self.rule, record) == [
            (record["urn"], "data.maintenanceLeaseMinutes is not set; set a lease of 5-240 minutes.")
        ]

    def test_bounds_are_configurable(self, check):
        record = installation_config_map({"maintenanceLeaseMinutes": "200"})
        assert check(self.rule, record, config={"maxMinutes": 120}) == [
            (record["urn"], "data.maintenanceLeaseMinutes is 200; the lease must be 5-120 minutes.")
        ]

    def test_auto_named_config_map_is_matched_by_resource_name(self, check):
        record = resource("kubernetes:core/v1:ConfigMap", "gitpod-installation",
                          {"metadata": {"namespace": "gitpod"}, "data": {"maintenanceLeaseMinutes": "1000"}})
        assert check(self.rule, record) == [
            (record["urn"], "data.maintenanceLeaseMinutes is 1000; the lease must be 5-240 minutes.")
        ]


class TestInstallationConfigMapPresent:
    rule = "gitpod-installation-configmap-present"

    def test_passes(self, check):
        assert check(self.rule, installer(), installation_config_map()) == []

    def test_fails_when_absent(self, check):
        record = installer()
        assert check(self.rule, record) == [
            (record["urn"], "no ConfigMap named gitpod-installation accompanies the installer Job.")
        ]

    def test_stack_without_installer_passes(self, check):
        assert check(self.rule, job(container(), name="migrations")) == []
