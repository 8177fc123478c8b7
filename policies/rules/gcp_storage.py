"""Cloud Storage buckets: versioning, location redundancy, public access, and no deletion of live objects."""

from __future__ import annotations

from fnmatch import fnmatch
from typing import Any

from policies.core.props import as_list, get, is_false, truthy
from policies.core.rule import Report, configured, resource_rule, stack_rule
from policies.core.stack import StackView
from policies.rules.tokens import GCS_BUCKET

MULTI_REGIONS = ("US", "EU", "ASIA")
DUAL_REGIONS = ("ASIA1", "EUR4", "EUR5", "EUR7", "EUR8", "NAM4")
_NONCURRENT_ONLY = ("daysSinceNoncurrentTime", "noncurrentTimeBefore", "numNewerVersions")
LIFECYCLE_SCHEMA = {
    "exemptBuckets": {
        "type": "array",
        "items": {"type": "string"},
        "default": [],
        "description": "Bucket-name globs allowed to delete live objects (e.g. log buckets).",
    },
}


def _first(value: Any) -> Any:
    items = as_list(value)
    return items[0] if items else None


@resource_rule(
    name="gcp-storage-versioning",
    summary="Cloud Storage buckets keep object versions.",
    types=[GCS_BUCKET],
    control="CKV_GCP_78",
)
def storage_versioning(args: Any, report: Report) -> None:
    if not truthy(get(_first(get(args.props, "versioning")), "enabled")):
        report("versioning.enabled must be true.")


@resource_rule(
    name="gcp-storage-multi-region",
    summary="Cloud Storage buckets live in a multi-region (US, EU, ASIA) or dual-region location, so a regional "
    "outage loses no data.",
    types=[GCS_BUCKET],
)
def storage_multi_region(args: Any, report: Report) -> None:
    location = str(get(args.props, "location") or "").upper()
    data_locations = as_list(get(_first(get(args.props, "customPlacementConfig")), "dataLocations"))
    if location in MULTI_REGIONS or location in DUAL_REGIONS or len(data_locations) >= 2:
        return
    shown = repr(location) if location else "not set"
    report(f"location is {shown}, a single region; use a multi-region or dual-region location.")


@resource_rule(
    name="gcp-storage-public-access-prevention",
    summary="Cloud Storage buckets enforce public access prevention.",
    types=[GCS_BUCKET],
    control="CKV_GCP_114",
)
def storage_public_access_prevention(args: Any, report: Report) -> None:
    value = get(args.props, "publicAccessPrevention")
    if value != "enforced":
        shown = "not set (inherited)" if value is None else repr(value)
        report(f"publicAccessPrevention is {shown}; set it to 'enforced'.")


@resource_rule(
    name="gcp-storage-uniform-access",
    summary="Cloud Storage buckets use uniform bucket-level access (no object ACLs).",
    types=[GCS_BUCKET],
    control="CKV_GCP_29",
)
def storage_uniform_access(args: Any, report: Report) -> None:
    if not truthy(get(args.props, "uniformBucketLevelAccess")):
        report("uniformBucketLevelAccess must be true.")


def deletes_live_objects(rule: Any) -> bool:
    if get(_first(get(rule, "action")), "type") != "Delete":
        return False
    condition = _first(get(rule, "condition")) or {}
    if get(condition, "withState") == "ARCHIVED" or is_false(get(condition, "isLive")):
        return False
    return not any(get(condition, key) is not None for key in _NONCURRENT_ONLY)


def log_destinations(view: StackView) -> set[str]:
    """Buckets another bucket of the stack sends its usage logs to (logging.logBucket), that log nowhere
    themselves: a data bucket always logs, so it cannot pass for a log bucket."""
    targets = {str(get(_first(get(b.props, "logging")), "logBucket")) for b in view.of_type(GCS_BUCKET)
               if get(_first(get(b.props, "logging")), "logBucket")}
    return {str(get(b.props, "name")) for b in view.of_type(GCS_BUCKET)
            if str(get(b.props, "name")) in targets and not get(_first(get(b.props, "logging")), "logBucket")}


@stack_rule(
    name="gcp-storage-keep-live-objects",
    summary="No Cloud Storage lifecycle rule deletes live objects (pinned workspaces must never lose data); "
    "delete only noncurrent versions. Only usage-log destinations (buckets that receive other buckets' logs and "
    "log nowhere themselves) may expire their logs.",
    config=LIFECYCLE_SCHEMA,
)
def storage_keep_live_objects(args: Any, report: Report) -> None:
    view = StackView(args.resources)
    exempt = configured(args, LIFECYCLE_SCHEMA)["exemptBuckets"]
    logs = log_destinations(view)
    for bucket in view.of_type(GCS_BUCKET):
        name = str(get(bucket.props, "name") or bucket.name)
        if name in logs or any(fnmatch(name, pattern) for pattern in exempt):
            continue
        for index, rule in enumerate(as_list(get(bucket.props, "lifecycleRules"))):
            if deletes_live_objects(rule):
                report(f"lifecycleRules[{index}] deletes live objects; restrict it to withState 'ARCHIVED' or a "
                       "noncurrent-version condition.", bucket.urn)


@stack_rule(
    name="gcp-storage-access-logging",
    summary="Every Cloud Storage bucket writes usage logs (logging.logBucket) to another bucket; "
    "only the log destinations themselves are exempt.",
    control="CKV_GCP_62",
)
def storage_access_logging(args: Any, report: Report) -> None:
    view = StackView(args.resources)
    logs = log_destinations(view)
    for bucket in view.of_type(GCS_BUCKET):
        name = str(get(bucket.props, "name") or bucket.name)
        if name in logs:
            continue
        target = get(_first(get(bucket.props, "logging")), "logBucket")
        if not target:
            report("logging.logBucket is not set; send the bucket's usage logs to the cell's log bucket.",
                   bucket.urn)
        elif str(target) == name:
            report("the bucket logs into itself; use the cell's log bucket.", bucket.urn)
