"""Route53: DNSSEC signing and query logging of the zones a stack creates."""

from __future__ import annotations

from tests.policies.records import resource

ZONE = "aws:route53/zone:Zone"
KSK = "aws:route53/keySigningKey:KeySigningKey"
DNSSEC = "aws:route53/hostedZoneDnsSec:HostedZoneDnsSec"
QUERY_LOG = "aws:route53/queryLog:QueryLog"


def zone(**inputs):
    return resource(ZONE, "zone", {"name": "gitpod.example.com", **inputs})


def signed(z, status="SIGNING"):
    return [resource(KSK, "ksk", {"hostedZoneId": "Z1", "status": "ACTIVE",
                                  "keyManagementServiceArn": "arn:aws:kms:us-east-1:1:key/k"}, dependencies=[z]),
            resource(DNSSEC, "dnssec", {"hostedZoneId": "Z1", "signingStatus": status}, dependencies=[z])]


class TestDnssec:
    rule = "aws-route53-dnssec"

    def test_passes(self, check):
        z = zone()
        assert check(self.rule, z, *signed(z)) == []

    def test_fails_when_absent(self, check):
        z = zone()
        assert sorted(check(self.rule, z)) == [
            (z["urn"], "the zone has no ACTIVE key-signing key backed by a KMS key (ECC_NIST_P256 in us-east-1)."),
            (z["urn"], "the zone is not DNSSEC-signed; add HostedZoneDnsSec (signingStatus SIGNING)."),
        ]

    def test_fails_when_signing_is_off(self, check):
        z = zone()
        assert check(self.rule, z, *signed(z, "NOT_SIGNING")) == [
            (z["urn"], "the zone is not DNSSEC-signed; add HostedZoneDnsSec (signingStatus SIGNING).")]

    def test_private_zones_are_not_checked(self, check):
        assert check(self.rule, zone(vpcs=[{"vpcId": "vpc-1"}])) == []


class TestQueryLogging:
    rule = "aws-route53-query-logging"

    def test_passes(self, check):
        z = zone()
        log = resource(QUERY_LOG, "q", {"zoneId": "Z1", "cloudwatchLogGroupArn": "arn:aws:logs:us-east-1:1:x"},
                       dependencies=[z])
        assert check(self.rule, z, log) == []

    def test_fails_when_absent(self, check):
        z = zone()
        assert check(self.rule, z) == [
            (z["urn"], "the zone's queries are not logged; add a QueryLog to a log group in us-east-1.")]

    def test_a_query_log_of_another_zone_does_not_count(self, check):
        z, other = zone(), resource(ZONE, "other", {"name": "other.example.com"})
        log = resource(QUERY_LOG, "q", {"zoneId": "Z2", "cloudwatchLogGroupArn": "arn:x"}, dependencies=[other])
        assert [urn for urn, _ in check(self.rule, z, other, log)] == [z["urn"]]
