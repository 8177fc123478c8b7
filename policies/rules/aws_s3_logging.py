"""S3 server access logging and event notifications, and what an access-log destination bucket may differ in.

A bucket named as `targetBucket` by a BucketLogging of the stack is an access-log destination. Two deviations are
pinned to exactly those buckets (docs/policies.md): S3 delivers access logs only into SSE-S3 buckets, and a log
bucket does not log its own access (into itself, or into another log bucket, the deliveries feed each other
without end). Everywhere else the rules below and `aws-s3-kms-encryption` apply in full.
"""

from __future__ import annotations

from typing import Any

from policies.core.context import region_of
from policies.core.props import get, known, truthy
from policies.core.rule import Report, stack_rule
from policies.core.stack import StackView
from policies.rules.tokens import S3_BUCKETS, S3_LOGGING, S3_NOTIFICATION


def bucket_name(bucket: Any) -> str | None:
    name = known(bucket.props, "bucket")
    return name if isinstance(name, str) and name else None


def access_log_destinations(view: StackView) -> set[str]:
    """Names of the buckets some BucketLogging of the stack delivers into."""
    return {target for logging in view.of_type(*S3_LOGGING)
            if isinstance(target := known(logging.props, "targetBucket"), str) and target}


def is_access_log_destination(view: StackView, bucket: Any) -> bool:
    """Only a bucket that receives access logs and is not itself logged: a data bucket always is logged, so it
    cannot claim the log bucket's exemptions by also being named as a target."""
    name = bucket_name(bucket)
    return (name is not None and name in access_log_destinations(view)
            and not view.attached_to(bucket, S3_LOGGING, key="bucket"))


@stack_rule(
    name="aws-s3-access-logging",
    summary="Every S3 bucket sends its server access logs (BucketLogging) to another bucket of the stack in the "
    "same region; only access-log destinations themselves are exempt.",
    control="CKV_AWS_18, AWS FSBP S3.9",
)
def s3_access_logging(args: Any, report: Report) -> None:
    view = StackView(args.resources)
    for bucket in view.of_type(*S3_BUCKETS):
        if is_access_log_destination(view, bucket):
            continue
        loggings = view.attached_to(bucket, S3_LOGGING, key="bucket")
        if not loggings:
            report("no BucketLogging for this bucket; send its server access logs to the region's access-log "
                   "bucket.", bucket.urn)
            continue
        for logging in loggings:
            target = known(logging.props, "targetBucket")
            if target is not None and target == bucket_name(bucket):
                report("the bucket logs its access into itself; every log delivery would log again. Use the "
                       "region's access-log bucket.", bucket.urn)
                continue
            destinations = view.find_by(S3_BUCKETS, "bucket", target)
            if destinations and region_of(destinations[0]) != region_of(bucket):
                report(f"access logs go to {target} in {region_of(destinations[0])}; S3 delivers only to a bucket "
                       f"in the source bucket's region ({region_of(bucket)}).", bucket.urn)


@stack_rule(
    name="aws-s3-event-notifications",
    summary="Every S3 bucket publishes its object events (a BucketNotification to EventBridge or to a queue, "
    "topic or function), so tooling can react to writes and deletes without touching the bucket.",
    control="CKV2_AWS_62",
)
def s3_event_notifications(args: Any, report: Report) -> None:
    view = StackView(args.resources)
    for bucket in view.of_type(*S3_BUCKETS):
        notifications = view.attached_to(bucket, S3_NOTIFICATION, key="bucket")
        if not any(truthy(get(n.props, "eventbridge")) or get(n.props, "queues") or get(n.props, "topics")
                   or get(n.props, "lambdaFunctions") for n in notifications):
            report("no BucketNotification with a destination for this bucket; enable eventbridge.", bucket.urn)
