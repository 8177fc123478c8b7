"""DNSSEC signing and query logging for the cell's Route53 zone. Both live in us-east-1, whatever the cell's region:
Route53 signs only with a KMS key there, and writes query logs only to log groups there."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_aws import cloudwatch, route53

from components.aws.key_policies import dnssec_key_policy, log_group_arn
from components.aws.kms import encryption_key
from components.aws.logs import encrypted_log_group, logs_key, query_log_group
from components.aws.policy_documents import document
from components.component import child, stateful

ROUTE53_REGION = "us-east-1"


@dataclass(frozen=True)
class ZoneSecurityArgs:
    name: str
    domain: str
    zone_id: pulumi.Output[str]
    zone_arn: pulumi.Output[str]
    account_id: pulumi.Input[str]
    log_retention_days: int
    protect: bool
    tags: Mapping[str, str]
    # An AWS provider for us-east-1.
    provider: pulumi.ProviderResource


def key_signing_key_name(name: str) -> str:
    # Route53: 3-128 letters, digits and underscores, unique in the zone.
    return f"{name.replace('-', '_')}_ksk"


def query_log_resource_policy(account_id: str, group_arn: str, zone_arn: str) -> str:
    """Route53 may write the cell's zone's query logs into its log group, and nothing else."""
    return document([{
        "Sid": "Route53WritesTheCellsQueryLogs", "Effect": "Allow", "Principal": {"Service": "route53.amazonaws.com"},
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": f"{group_arn}:*",
        "Condition": {"StringEquals": {"aws:SourceAccount": account_id}, "ArnLike": {"aws:SourceArn": zone_arn}},
    }])


class ZoneSecurity(pulumi.ComponentResource):
    """A key-signing key backed by an ECC_NIST_P256 KMS key, DNSSEC signing on the zone, and query logs to an
    encrypted log group. `ds_record` is what the parent zone must publish before resolvers validate the zone."""

    ds_record: pulumi.Output[str]

    def __init__(self, name: str, args: ZoneSecurityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gitpod-cell:aws:ZoneSecurity", name, None, opts)
        tags = dict(args.tags)
        on = child(self, provider=args.provider)
        account = pulumi.Output.from_input(args.account_id)
        # Losing this key (or disabling it) while the parent zone still has the DS record takes the domain off
        # the internet for validating resolvers: protected and retained like the zone.
        signing_key = encryption_key(
            f"{name}-dnssec", f"Route53 DNSSEC key-signing key of {args.domain}", self, tags, args.protect,
            provider=args.provider, signing=True,
            policy=pulumi.Output.all(account, args.zone_arn).apply(lambda v: dnssec_key_policy(v[0], v[1])),
        )
        ksk = route53.KeySigningKey(
            f"{name}-ksk", hosted_zone_id=args.zone_id, key_management_service_arn=signing_key.arn,
            name=key_signing_key_name(name), status="ACTIVE",
            opts=stateful(self, args.protect, provider=args.provider),
        )
        route53.HostedZoneDnsSec(
            f"{name}-dnssec", hosted_zone_id=args.zone_id, signing_status="SIGNING",
            opts=child(self, provider=args.provider, depends_on=[ksk]),
        )
        self.ds_record = ksk.ds_record

        group_name = query_log_group(args.domain)
        key = logs_key(f"{name}-dns-logs", ROUTE53_REGION, account, [group_name], self, tags, args.protect,
                       args.provider)
        group = encrypted_log_group(f"{name}-query-logs", group_name, args.log_retention_days, key.arn, tags, self,
                                    provider=args.provider)
        resource_policy = cloudwatch.LogResourcePolicy(
            f"{name}-query-logs", policy_name=f"{name}-route53-query-logs",
            policy_document=pulumi.Output.all(account, args.zone_arn).apply(
                lambda v: query_log_resource_policy(v[0], log_group_arn(ROUTE53_REGION, v[0], group_name), v[1])),
            opts=on,
        )
        route53.QueryLog(
            f"{name}-query-logs", zone_id=args.zone_id, cloudwatch_log_group_arn=group.arn,
            opts=child(self, provider=args.provider, depends_on=[resource_policy]),
        )
        self.register_outputs({"ds_record": self.ds_record})
