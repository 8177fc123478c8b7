"""GCS for Gitpod's workspace content: one bucket in a multi-region or dual-region location (survives a regional
outage without replication), versioned, uniform access, never public, and only noncurrent versions expire."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_gcp import storage

from components.component import stateful
from components.config import default_storage_location

SOFT_DELETE_SECONDS = 7 * 86400


def bucket_location(location: str) -> tuple[str, list[str] | None]:
    """(location, data locations) for the API: a custom dual-region `r1+r2` is its continent's multi-region
    with two data locations."""
    if "+" not in location:
        return location, None
    regions = location.split("+")
    return default_storage_location(regions[0]) or location, [region.upper() for region in regions]


def private_bucket_settings(location: str) -> dict[str, object]:
    """What every bucket of the cell has, data or logs: its location, STANDARD class, versioning, uniform access
    and public access prevention."""
    location, data_locations = bucket_location(location)
    return {
        "location": location,
        "custom_placement_config": (
            storage.BucketCustomPlacementConfigArgs(data_locations=data_locations) if data_locations else None
        ),
        "storage_class": "STANDARD",
        "versioning": storage.BucketVersioningArgs(enabled=True),
        "uniform_bucket_level_access": True,
        "public_access_prevention": "enforced",
    }


@dataclass(frozen=True)
class BucketArgs:
    bucket_name: str
    location: str
    noncurrent_version_retention_days: int
    protect: bool
    labels: Mapping[str, str]
    provider: pulumi.ProviderResource
    # The bucket receiving this bucket's usage (access) logs.
    log_bucket: pulumi.Input[str] | None = None


class WorkspaceBucket(pulumi.ComponentResource):
    bucket: storage.Bucket

    def __init__(self, name: str, args: BucketArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gitpod-cell:gcp:WorkspaceBucket", name, None, opts)
        self.bucket = storage.Bucket(
            name,
            name=args.bucket_name,
            **private_bucket_settings(args.location),
            soft_delete_policy=storage.BucketSoftDeletePolicyArgs(retention_duration_seconds=SOFT_DELETE_SECONDS),
            # Only noncurrent (overwritten or deleted) versions expire: a live object, such as a pinned
            # workspace's backup, is never deleted by a lifecycle rule.
            lifecycle_rules=[
                storage.BucketLifecycleRuleArgs(
                    action=storage.BucketLifecycleRuleActionArgs(type="Delete"),
                    condition=storage.BucketLifecycleRuleConditionArgs(
                        with_state="ARCHIVED",
                        days_since_noncurrent_time=args.noncurrent_version_retention_days,
                    ),
                )
            ],
            logging=storage.BucketLoggingArgs(log_bucket=args.log_bucket, log_object_prefix=args.bucket_name)
            if args.log_bucket is not None else None,
            force_destroy=False,
            labels=dict(args.labels),
            opts=stateful(self, args.protect, provider=args.provider),
        )
        self.register_outputs({"bucket": self.bucket.name, "url": self.bucket.url})


# Cloud Storage writes usage logs as this Google group (GCS docs, "Usage logs & storage logs").
USAGE_LOG_WRITER = "group:cloud-storage-analytics@google.com"
NONCURRENT_LOG_DAYS = 7


@dataclass(frozen=True)
class LogBucketArgs:
    bucket_name: str
    location: str
    retention_days: int
    protect: bool
    labels: Mapping[str, str]
    provider: pulumi.ProviderResource


class UsageLogBucket(pulumi.ComponentResource):
    """The destination of the cell's bucket usage logs: versioned, uniform access, never public, in the same
    location as the data. Its own access is not logged (a log bucket logging into itself never stops), and its
    objects expire after the retention: logs are not workspace content (documented deviations,
    docs/policies.md)."""

    bucket: storage.Bucket

    def __init__(self, name: str, args: LogBucketArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gitpod-cell:gcp:UsageLogBucket", name, None, opts)
        self.bucket = storage.Bucket(
            name,
            name=args.bucket_name,
            **private_bucket_settings(args.location),
            lifecycle_rules=[
                storage.BucketLifecycleRuleArgs(
                    action=storage.BucketLifecycleRuleActionArgs(type="Delete"),
                    condition=storage.BucketLifecycleRuleConditionArgs(age=args.retention_days, with_state="LIVE")),
                storage.BucketLifecycleRuleArgs(
                    action=storage.BucketLifecycleRuleActionArgs(type="Delete"),
                    condition=storage.BucketLifecycleRuleConditionArgs(
                        with_state="ARCHIVED", days_since_noncurrent_time=NONCURRENT_LOG_DAYS)),
            ],
            force_destroy=False,
            labels={**args.labels, "purpose": "usage-logs"},
            opts=stateful(self, args.protect, provider=args.provider),
        )
        storage.BucketIAMMember(
            f"{name}-usage-log-writer", bucket=self.bucket.name, role="roles/storage.objectCreator",
            member=USAGE_LOG_WRITER, opts=pulumi.ResourceOptions(parent=self, provider=args.provider),
        )
        self.register_outputs({"bucket": self.bucket.name})



class AdoptedBucket(pulumi.ComponentResource):
    """A restore's bucket: the old cell's bucket used as it is (its multi-region location survives a regional
    outage). Looked up, never created, changed or deleted by this cell."""

    bucket_name: pulumi.Output[str]

    def __init__(self, name: str, bucket_name: str, provider: pulumi.ProviderResource,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gitpod-cell:gcp:AdoptedBucket", name, None, opts)
        found = storage.get_bucket_output(name=bucket_name, opts=pulumi.InvokeOutputOptions(parent=self,
                                                                                            provider=provider))
        self.bucket_name = found.name
        self.register_outputs({"bucket": self.bucket_name})
