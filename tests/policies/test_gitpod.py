"""Gitpod rules: installer image pinned, rollout hooks bound, workspace timeouts and maintenance lease bounded."""

from __future__ import annotations

import pytest

from tests.policies.k8s_objects import (
    container,
    installation_config_map,
    installer,
    installer_config_map,
    job,
    rendered_config,
)
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
                  "maxLifetime": "36h", "maintenanceLeaseMinutes": "60", **data}
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


class TestRenderedWorkspaceTimeouts:
    """gitpod-workspace-timeouts on what the installer reads: `workspace.*` in gitpod-installer-config's config.yaml."""

    rule = "gitpod-workspace-timeouts"

    def config_map(self, **workspace):
        values = {"timeoutDefault": "30m", "timeoutExtended": "180m", "timeoutAfterClose": "5m",
                  "maxLifetime": "8h", **workspace}
        return installer_config_map(rendered_config({k: v for k, v in values.items() if v is not None}))

    def test_passes(self, check):
        assert check(self.rule, self.config_map()) == []

    def test_fails_beyond_the_maxima(self, check):
        record = self.config_map(timeoutDefault="4h", timeoutExtended="25h", timeoutAfterClose="5h",
                                 maxLifetime="48h")
        assert check(self.rule, record) == [
            (record["urn"], "config.yaml: workspace.maxLifetime (48h) exceeds the 36h maximum."),
            (record["urn"], "config.yaml: workspace.timeoutAfterClose (5h) exceeds workspace.timeoutDefault (4h)."),
            (record["urn"], "config.yaml: workspace.timeoutExtended (25h) exceeds the 24h maximum."),
        ]

    def test_fails_when_default_exceeds_extended(self, check):
        record = self.config_map(timeoutDefault="4h", timeoutExtended="3h")
        assert check(self.rule, record) == [
            (record["urn"], "config.yaml: workspace.timeoutDefault (4h) exceeds workspace.timeoutExtended (3h).")
        ]

    def test_fails_when_not_a_duration(self, check):
        record = self.config_map(maxLifetime="forever")
        assert check(self.rule, record) == [
            (record["urn"], "config.yaml: workspace.maxLifetime 'forever' is not a Go duration (e.g. '30m', '24h').")
        ]

    def test_fails_when_keys_absent(self, check):
        record = self.config_map(timeoutAfterClose=None, maxLifetime=None)
        assert check(self.rule, record) == [
            (record["urn"], "config.yaml: workspace is missing timeoutAfterClose, maxLifetime.")
        ]

    def test_fails_when_workspace_section_absent(self, check):
        record = installer_config_map("apiVersion: v1\nkind: Full\n")
        assert check(self.rule, record) == [
            (record["urn"], "config.yaml: workspace is missing timeoutDefault, timeoutExtended, timeoutAfterClose, "
                            "maxLifetime.")
        ]

    def test_fails_when_not_yaml(self, check):
        record = installer_config_map("workspace:\n  timeoutDefault: [30m\n")
        assert check(self.rule, record) == [
            (record["urn"], "data.config.yaml is not valid YAML (expected ',' or ']', but got '<stream end>' at "
                            "line 3).")
        ]

    def test_fails_when_not_a_mapping(self, check):
        record = installer_config_map("- workspace\n")
        assert check(self.rule, record) == [
            (record["urn"], "data.config.yaml is not a YAML mapping (the installer config).")
        ]

    @pytest.mark.parametrize("data", [{"config.yaml": "[secret]"}, {}, {"config.yaml": ""}])
    def test_not_applicable_when_secret_or_absent(self, check, data):
        assert check(self.rule, installer_config_map(data=data)) == []

    def test_the_record_is_still_checked_when_the_config_is_secret(self, check):
        record = installation_config_map({"timeoutDefault": "30m", "timeoutExtended": "48h",
                                          "timeoutAfterClose": "2m", "maxLifetime": "36h"})
        assert check(self.rule, record, installer_config_map("[secret]")) == [
            (record["urn"], "timeoutExtended (48h) exceeds the 24h maximum.")
        ]

    def test_maxima_are_configurable(self, check):
        record = self.config_map(maxLifetime="12h")
        assert check(self.rule, record, config={"maxLifetime": "10h"}) == [
            (record["urn"], "config.yaml: workspace.maxLifetime (12h) exceeds the 10h maximum.")
        ]


class TestInstallationRecordMatchesConfig:
    rule = "gitpod-installation-record-matches-config"

    @staticmethod
    def message(key, recorded, rendered):
        return (f"gitpod-installation records {key} {recorded} but the installer renders workspace.{key} {rendered} "
                "(gitpod-installer-config config.yaml); record what the installer applies.")

    def test_passes_when_they_agree(self, check):
        assert check(self.rule, installation_config_map(), installer_config_map()) == []

    def test_equal_durations_in_other_units_agree(self, check):
        rendered = installer_config_map(rendered_config({"timeoutDefault": "0.5h", "timeoutExtended": "180m",
                                                         "timeoutAfterClose": "120s", "maxLifetime": "2160m"}))
        assert check(self.rule, installation_config_map(), rendered) == []

    def test_fails_when_they_diverge(self, check):
        record = installation_config_map()
        rendered = installer_config_map(rendered_config({"timeoutDefault": "30m", "timeoutExtended": "3h",
                                                         "timeoutAfterClose": "2m", "maxLifetime": "72h"}))
        assert check(self.rule, record, rendered) == [
            (record["urn"], self.message("maxLifetime", "'36h'", "'72h'"))
        ]

    def test_fails_when_the_rendered_config_lacks_a_key(self, check):
        record = installation_config_map()
        rendered = installer_config_map(rendered_config({"timeoutDefault": "30m", "timeoutExtended": "3h",
                                                         "timeoutAfterClose": "2m"}))
        assert check(self.rule, record, rendered) == [
            (record["urn"], self.message("maxLifetime", "'36h'", "nothing"))
        ]

    def test_fails_when_the_record_lacks_a_key(self, check):
        record = installation_config_map({"timeoutDefault": "30m", "timeoutExtended": "3h", "maxLifetime": "36h"})
        assert check(self.rule, record, installer_config_map()) == [
            (record["urn"], self.message("timeoutAfterClose", "nothing", "'2m'"))
        ]

    @pytest.mark.parametrize("data", [{"config.yaml": "[secret]"}, {}])
    def test_not_applicable_when_the_config_is_secret_or_absent(self, check, data):
        record = installation_config_map({"timeoutDefault": "1h", "timeoutExtended": "3h",
                                          "timeoutAfterClose": "2m", "maxLifetime": "36h"})
        assert check(self.rule, record, installer_config_map(data=data)) == []

    def test_other_namespaces_are_not_compared(self, check):
        rendered = installer_config_map(rendered_config({"timeoutDefault": "1h", "timeoutExtended": "3h",
                                                         "timeoutAfterClose": "2m", "maxLifetime": "36h"}),
                                        namespace="staging")
        assert check(self.rule, installation_config_map(), rendered) == []


class TestMaintenanceLease:
    rule = "gitpod-maintenance-lease"

    @pytest.mark.parametrize("minutes", ["60", "240"])
    def test_bounds_pass(self, check, minutes):
        assert check(self.rule, installation_config_map({"maintenanceLeaseMinutes": minutes})) == []

    @pytest.mark.parametrize("minutes", ["59", "241", "0"])
    def test_out_of_bounds_fails(self, check, minutes):
        record = installation_config_map({"maintenanceLeaseMinutes": minutes})
        assert check(self.rule, record) == [
            (record["urn"], f"data.maintenanceLeaseMinutes is {minutes}; the lease must be 60-240 minutes.")
        ]

    def test_fails_when_not_a_number(self, check):
        record = installation_config_map({"maintenanceLeaseMinutes": "1h"})
        assert check(self.rule, record) == [
            (record["urn"], "data.maintenanceLeaseMinutes '1h' is not a whole number of minutes.")
        ]

    def test_fails_when_absent(self, check):
        record = installation_config_map({})
        assert check(self.rule, record) == [
            (record["urn"], "data.maintenanceLeaseMinutes is not set; set a lease of 60-240 minutes.")
        ]

    def test_bounds_are_configurable(self, check):
        record = installation_config_map({"maintenanceLeaseMinutes": "200"})
        assert check(self.rule, record, config={"maxMinutes": 120}) == [
            (record["urn"], "data.maintenanceLeaseMinutes is 200; the lease must be 60-120 minutes.")
        ]

    def test_auto_named_config_map_is_matched_by_resource_name(self, check):
        record = resource("kubernetes:core/v1:ConfigMap", "gitpod-installation",
                          {"metadata": {"namespace": "gitpod"}, "data": {"maintenanceLeaseMinutes": "1000"}})
        assert check(self.rule, record) == [
            (record["urn"], "data.maintenanceLeaseMinutes is 1000; the lease must be 60-240 minutes.")
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
