"""The cell's Route53 zone: created for the domain, or an existing zone adopted by id."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_aws import route53

from components.component import stateful


@dataclass(frozen=True)
class DnsArgs:
    domain: str
    existing_zone_id: str | None
    protect: bool
    tags: Mapping[str, str]


class DnsZone(pulumi.ComponentResource):
    zone_id: pulumi.Output[str]
    zone_arn: pulumi.Output[str]
    name_servers: pulumi.Output[list[str]]

    def __init__(self, name: str, args: DnsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gitpod-cell:aws:DnsZone", name, None, opts)
        if args.existing_zone_id:
            existing = route53.get_zone_output(zone_id=args.existing_zone_id,
                                               opts=pulumi.InvokeOutputOptions(parent=self))
            self.zone_id = existing.zone_id
            self.name_servers = existing.name_servers
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
        self.register_outputs({"zone_id": self.zone_id, "name_servers": self.name_servers})
