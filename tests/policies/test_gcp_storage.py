"""Cloud Storage bucket rules (pulumi-gcp 10 input names)."""

from __future__ import annotations

import pytest

from tests.policies.records import resource

GCS = "gcp:storage/bucket:Bucket"
GOOD = {
    "name": "cell-workspaces",
    "location": "EU",
    "versioning": {"enabled": True},
    "publicAccessPrevention": "enforced",
    "uniformBucketLevelAccess": True,
    "lifecycleRules": [{"action": {"type": "Delete"}, "condition": {"daysSinceNoncurrentTime": 30}}],
}


def bucket(**changes):
    inputs = {**GOOD, **changes}
    return resource(GCS, "workspaces", {k: v for k, v in inputs.items() if v is not None})


@pytest.mark.parametrize("rule", ["gcp-storage-versioning", "gcp-storage-multi-region",
                                  "gcp-storage-public-access-prevention", "gcp-storage-uniform-access",
                                  "gcp-storage-keep-live-objects"])
def test_good_bucket_passes(check, rule):
    assert check(rule, bucket()) == []


class TestVersioning:
    rule = "gcp-storage-versioning"

    def test_fails(self, check):
        b = bucket(versioning={"enabled": False})
        assert check(self.rule, b) == [(b["urn"], "versioning.enabled must be true.")]

    def test_fails_when_absent(self, check):
        b = bucket(versioning=None)
        assert check(self.rule, b) == [(b["urn"], "versioning.enabled must be true.")]


class TestMultiRegion:
    rule = "gcp-storage-multi-region"

    @pytest.mark.parametrize("location", ["US", "eu", "NAM4", "EUR4"])
    def test_multi_and_dual_regions_pass(self, check, location):
        assert check(self.rule, bucket(location=location)) == []

    def test_custom_dual_region_passes(self, check):
        b = bucket(location="EU", customPlacementConfig={"dataLocations": ["EUROPE-WEST1", "EUROPE-WEST4"]})
        assert check(self.rule, b) == []

    def test_fails_for_single_region(self, check):
        b = bucket(location="europe-west1")
        assert check(self.rule, b) == [
            (b["urn"], "location is 'EUROPE-WEST1', a single region; use a multi-region or dual-region location.")
        ]

    def test_fails_when_absent(self, check):
        b = bucket(location=None)
        assert check(self.rule, b) == [
            (b["urn"], "location is not set, a single region; use a multi-region or dual-region location.")
        ]


class TestPublicAccessPrevention:
    rule = "gcp-storage-public-access-prevention"

    def test_fails_when_inherited(self, check):
        b = bucket(publicAccessPrevention="inherited")
        assert check(self.rule, b) == [(b["urn"], "publicAccessPrevention is 'inherited'; set it to 'enforced'.")]

    def test_fails_when_absent(self, check):
        b = bucket(publicAccessPrevention=None)
        assert check(self.rule, b) == [
            (b["urn"], "publicAccessPrevention is not set (inherited); set it to 'enforced'.")
        ]


class TestUniformAccess:
    rule = "gcp-storage-uniform-access"

    def test_fails(self, check):
        b = bucket(uniformBucketLevelAccess=False)
        assert check(self.rule, b) == [(b["urn"], "uniformBucketLevelAccess must be true.")]

    def test_fails_when_absent(self, check):
        b = bucket(uniformBucketLevelAccess=None)
        assert check(self.rule, b) == [(b["urn"], "uniformBucketLevelAccess must be true.")]


class TestKeepLiveObjects:
    rule = "gcp-storage-keep-live-objects"
    message = ("lifecycleRules[0] deletes live objects; restrict it to withState 'ARCHIVED' or a noncurrent-version "
               "condition.")

    def test_fails_for_age_based_delete(self, check):
        b = bucket(lifecycleRules=[{"action": {"type": "Delete"}, "condition": {"age": 30}}])
        assert check(self.rule, b) == [(b["urn"], self.message)]

    def test_fails_for_live_state(self, check):
        b = bucket(lifecycleRules=[{"action": {"type": "Delete"}, "condition": {"age": 1, "withState": "LIVE"}}])
        assert check(self.rule, b) == [(b["urn"], self.message)]

    def test_archived_only_and_storage_class_changes_pass(self, check):
        b = bucket(lifecycleRules=[
            {"action": {"type": "Delete"}, "condition": {"age": 30, "withState": "ARCHIVED"}},
            {"action": {"type": "SetStorageClass", "storageClass": "NEARLINE"}, "condition": {"age": 30}},
        ])
        assert check(self.rule, b) == []

    def test_passes_when_absent(self, check):
        assert check(self.rule, bucket(lifecycleRules=None)) == []

    def test_exempt_buckets_are_configurable(self, check):
        b = bucket(name="cell-logs", lifecycleRules=[{"action": {"type": "Delete"}, "condition": {"age": 30}}])
        assert check(self.rule, b, config={"exemptBuckets": ["*-logs"]}) == []


class TestAccessLogging:
    rule = "gcp-storage-access-logging"

    def test_passes_with_a_log_bucket(self, check):
        data = resource("gcp:storage/bucket:Bucket", "data", {"name": "data", "logging": {"logBucket": "logs"}})
        logs = resource("gcp:storage/bucket:Bucket", "logs", {"name": "logs"})
        assert check(self.rule, data, logs) == []

    def test_fails_when_absent(self, check):
        data = resource("gcp:storage/bucket:Bucket", "data", {"name": "data"})
        assert check(self.rule, data) == [(data["urn"], "logging.logBucket is not set; send the bucket's usage logs "
                                                        "to the cell's log bucket.")]

    def test_fails_into_itself(self, check):
        data = resource("gcp:storage/bucket:Bucket", "data", {"name": "data", "logging": {"logBucket": "data"}})
        assert check(self.rule, data) == [(data["urn"], "the bucket logs into itself; use the cell's log bucket.")]


def test_log_destination_may_delete_live_logs(check):
    data = resource("gcp:storage/bucket:Bucket", "data", {"name": "data", "logging": {"logBucket": "logs"}})
    logs = resource("gcp:storage/bucket:Bucket", "logs", {"name": "logs", "lifecycleRules": [
        {"action": {"type": "Delete"}, "condition": {"age": 365}}]})
    assert check("gcp-storage-keep-live-objects", data, logs) == []
    logs["inputs"]["logging"] = {"logBucket": "elsewhere"}
    assert [urn for urn, _ in check("gcp-storage-keep-live-objects", data, logs)] == [logs["urn"]]
