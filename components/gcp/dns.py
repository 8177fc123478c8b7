"""The cell's Cloud DNS zone: created for the domain with DNSSEC on, or an existing zone adopted by name."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_gcp import dns

from components.component import stateful


@dataclass(frozen=True)
class DnsArgs:
    zone_name: str
    domain: str
    existing_zone_name: str | None
    protect: bool
    labels: Mapping[str, str]
    provider: pulumi.ProviderResource


class CloudDnsZone(pulumi.ComponentResource):
    # The managed zone's name (Cloud DNS addresses zones by name; IAM on the zone uses it too).
    zone_name: pulumi.Output[str]
    name_servers: pulumi.Output[list[str]]
    # The DS record the parent zone must publish (None for an adopted zone, whose signing is its owner's).
    ds_record: pulumi.Output[str] | None

    def __init__(self, name: str, args: DnsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gitpod-cell:gcp:CloudDnsZone", name, None, opts)
        if args.existing_zone_name:
            # DNSSEC on an adopted zone is its owner's choice; docs/gcp.md says how to turn it on.
            existing = dns.get_managed_zone_output(
                name=args.existing_zone_name,
                opts=pulumi.InvokeOutputOptions(parent=self, provider=args.provider),
            )
            self.zone_name = existing.name
            self.name_servers = existing.name_servers
            self.ds_record = None
        else:
            zone = dns.ManagedZone(
                name,
                name=args.zone_name,
                dns_name=f"{args.domain}.",
                description=f"Gitpod cell {args.domain}; records managed by external-dns and cert-manager",
                visibility="public",
                dnssec_config=dns.ManagedZoneDnssecConfigArgs(state="on", non_existence="nsec3"),
                cloud_logging_config=dns.ManagedZoneCloudLoggingConfigArgs(enable_logging=False),
                force_destroy=False,
                labels=dict(args.labels),
                opts=stateful(self, args.protect, provider=args.provider),
            )
            self.zone_name = zone.name
            self.name_servers = zone.name_servers
            # Cloud DNS makes the key-signing key when DNSSEC is turned on; its DS record is read back.
            keys = dns.get_keys_output(managed_zone=zone.name,
                                       opts=pulumi.InvokeOutputOptions(parent=self, provider=args.provider))
            self.ds_record = keys.key_signing_keys.apply(lambda ksks: ksks[0].ds_record if ksks else "")
        self.register_outputs({"zone_name": self.zone_name, "name_servers": self.name_servers,
                               "ds_record": self.ds_record})
