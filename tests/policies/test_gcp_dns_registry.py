"""Cloud DNS zones are DNSSEC-signed; Artifact Registry keeps tagged images."""

from __future__ import annotations

from tests.policies.records import resource

ZONE = "gcp:dns/managedZone:ManagedZone"
REPOSITORY = "gcp:artifactregistry/repository:Repository"


class TestDnssec:
    rule = "gcp-dns-dnssec"

    def test_passes(self, check):
        assert check(self.rule, resource(ZONE, "z", {"dnssecConfig": {"state": "on"}})) == []

    def test_fails_when_off(self, check):
        zone = resource(ZONE, "z", {"dnssecConfig": {"state": "off"}})
        assert check(self.rule, zone) == [(zone["urn"], "dnssecConfig.state is 'off'; set it to 'on' and publish "
                                                        "the DS record.")]

    def test_fails_when_absent(self, check):
        assert len(check(self.rule, resource(ZONE, "z", {}))) == 1

    def test_private_zones_are_not_checked(self, check):
        assert check(self.rule, resource(ZONE, "z", {"visibility": "private"})) == []


class TestKeepTagged:
    rule = "gcp-artifact-registry-keep-tagged"

    def test_passes(self, check):
        repo = resource(REPOSITORY, "r", {"cleanupPolicies": [
            {"id": "keep-tagged", "action": "KEEP", "condition": {"tagState": "TAGGED"}},
            {"id": "delete-untagged", "action": "DELETE", "condition": {"tagState": "UNTAGGED"}}]})
        assert check(self.rule, repo) == []

    def test_fails_when_deleting_tagged(self, check):
        repo = resource(REPOSITORY, "r", {"cleanupPolicies": [{"id": "all", "action": "DELETE",
                                                               "condition": {"olderThan": "86400s"}}]})
        assert check(self.rule, repo) == [(repo["urn"], "cleanup policy 'all' deletes tagged images; restrict it "
                                                        "to tagState UNTAGGED.")]

    def test_absent_policies_pass(self, check):
        assert check(self.rule, resource(REPOSITORY, "r", {})) == []
