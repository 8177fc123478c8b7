"""Route53 hosted zones the stack creates: DNSSEC signing and query logging."""

from __future__ import annotations

from typing import Any

from policies.core.props import get, known
from policies.core.rule import Report, stack_rule
from policies.core.stack import StackView
from policies.rules.tokens import ROUTE53_DNSSEC, ROUTE53_KEY_SIGNING_KEY, ROUTE53_QUERY_LOG, ROUTE53_ZONE


def public_zones(view: StackView) -> list[Any]:
    # A private zone (associated with VPCs) cannot be signed and is resolved only inside them.
    return [zone for zone in view.of_type(ROUTE53_ZONE) if not get(zone.props, "vpcs")]


def attached(view: StackView, zone: Any, types: tuple[str, ...], key: str) -> list[Any]:
    """Resources naming the zone by id (`zoneId` is an output of the zone), else depending on it."""
    zone_id = known(zone.props, "zoneId") or known(zone.props, "id")
    by_id = view.find_by(types, key, zone_id) if zone_id else []
    return by_id or view.attached_to(zone, types, key=key, target_key="zoneId")


@stack_rule(
    name="aws-route53-dnssec",
    summary="Every public Route53 zone the stack creates is DNSSEC-signed: an ACTIVE key-signing key backed by "
    "KMS and HostedZoneDnsSec with signingStatus SIGNING.",
    control="CKV2_AWS_38",
)
def route53_dnssec(args: Any, report: Report) -> None:
    view = StackView(args.resources)
    for zone in public_zones(view):
        signing = attached(view, zone, (ROUTE53_DNSSEC,), "hostedZoneId")
        keys = attached(view, zone, (ROUTE53_KEY_SIGNING_KEY,), "hostedZoneId")
        if not any(get(s.props, "signingStatus", "SIGNING") == "SIGNING" for s in signing):
            report("the zone is not DNSSEC-signed; add HostedZoneDnsSec (signingStatus SIGNING).", zone.urn)
        if not any(get(k.props, "status", "ACTIVE") == "ACTIVE" and get(k.props, "keyManagementServiceArn")
                   for k in keys):
            report("the zone has no ACTIVE key-signing key backed by a KMS key (ECC_NIST_P256 in us-east-1).",
                   zone.urn)


@stack_rule(
    name="aws-route53-query-logging",
    summary="Every public Route53 zone the stack creates logs its DNS queries (QueryLog) to CloudWatch Logs.",
    control="CKV2_AWS_39",
)
def route53_query_logging(args: Any, report: Report) -> None:
    view = StackView(args.resources)
    for zone in public_zones(view):
        logs = attached(view, zone, (ROUTE53_QUERY_LOG,), "zoneId")
        if not any(get(log.props, "cloudwatchLogGroupArn") for log in logs):
            report("the zone's queries are not logged; add a QueryLog to a log group in us-east-1.", zone.urn)
