"""The cell's Route53 zone: created for the domain (DNSSEC-signed, queries logged), or an existing zone adopted by
id (then used as it is: the cell neither signs it nor logs its queries, both are its owner's)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_aws import route53

from components.aws.dnssec import ZoneSecurity, ZoneSecurityArgs
from components.component import stateful


@dataclass(frozen=True)
class DnsArgs:
    domain: str
    existing_zone_id: str | None
    protect: bool
    tags: Mapping[str, str]
    account_id: pulumi.Input[str]
    log_retention_days: int
    # An AWS provider for us-east-1, where Route53 keeps DNSSEC keys and query logs.
    us_east_1: pulumi.ProviderResource


def adopted_zone_note(zone_id: str) -> str:
    return (f"dns.zoneId adopts Route53 zone {zone_id}: the cell writes its records (external-dns, cert-manager) "
            "but does not sign it with DNSSEC, log its queries or protect it; those stay with the zone's owner "
            "(docs/policies.md, 'Adopted DNS zones')")


class DnsZone(pulumi.ComponentResource):
    zone_id: pulumi.Output[str]
    zone_arn: pulumi.Output[str]
    name_servers: pulumi.Output[list[str]]
    # The DS record to publish in the parent zone; None for an adopted zone.
    ds_record: pulumi.Output[str] | None

    def __init__(self, name: str, args: DnsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gitpod-cell:aws:DnsZone", name, None, opts)
        self.ds_record = None
        if args.existing_zone_id:
            existing = route53.get_zone_output(zone_id=args.existing_zone_id,
                                               opts=pulumi.InvokeOutputOptions(parent=self))
            self.zone_id = existing.zone_id
            self.name_servers = existing.name_servers
            self.zone_arn = self.zone_id.apply(lambda zone_id: f"arn:aws:route53:::hostedzone/{zone_id}")
            pulumi.log.warn(adopted_zone_note(args.existing_zone_id), resource=self)
        else:
            zone = route53.Zone(
                name,
                name=args.domain,
                comment=f"Gitpod cell {args.domain}; records managed by external-dns and cert-manager",
                force_destroy=False,
                tags=dict(args.tags),
                opts=stateful(self, args.protect),
            )
            self.zone_id = zone.zone_id
            self.name_servers = zone.name_servers
            self.zone_arn = self.zone_id.apply(lambda zone_id: f"arn:aws:route53:::hostedzone/{zone_id}")
            self.ds_record = ZoneSecurity(name, ZoneSecurityArgs(
                name, args.domain, self.zone_id, self.zone_arn, args.account_id, args.log_retention_days,
                args.protect, args.tags, args.us_east_1), pulumi.ResourceOptions(parent=self)).ds_record
        self.register_outputs({"zone_id": self.zone_id, "name_servers": self.name_servers})
