"""Gitpod's TLS certificate: cert-manager, ACME with DNS01, trusted in production."""

from __future__ import annotations

from tests.policies.records import aws_tags, resource

ISSUER = "kubernetes:cert-manager.io/v1:ClusterIssuer"
CERTIFICATE = "kubernetes:cert-manager.io/v1:Certificate"
JOB = "kubernetes:batch/v1:Job"
PRODUCTION_ACME = "https://acme-v02.api.letsencrypt.org/directory"
STAGING_ACME = "https://acme-staging-v02.api.letsencrypt.org/directory"


def cell(server=PRODUCTION_ACME, solver=None, environment="prod", certificate=True):
    records = [
        resource("aws:s3/bucket:Bucket", "b", {"bucket": "b", "tags": aws_tags(environment)}),
        resource(JOB, "installer", {"metadata": {"name": "gitpod-installer-1-abc"}}),
        resource(ISSUER, "le", {"metadata": {"name": "letsencrypt"}, "spec": {"acme": {
            "server": server, "solvers": [solver or {"dns01": {"route53": {"region": "eu-west-1"}}}]}}}),
    ]
    if certificate:
        records.append(resource(CERTIFICATE, "https", {"metadata": {"name": "https-certificates"}, "spec": {
            "issuerRef": {"kind": "ClusterIssuer", "name": "letsencrypt"}}}))
    return records


class TestTlsCertificate:
    rule = "gitpod-tls-certificate"

    def test_passes(self, check):
        assert check(self.rule, *cell()) == []

    def test_fails_without_a_certificate(self, check):
        records = cell(certificate=False)
        assert check(self.rule, *records) == [(records[1]["urn"], "no cert-manager Certificate: Gitpod's proxy "
                                                                  "would have no TLS certificate.")]

    def test_fails_without_dns01(self, check):
        records = cell(solver={"http01": {"ingress": {}}})
        assert check(self.rule, *records) == [(records[2]["urn"], "the ClusterIssuer is not ACME with a DNS01 "
                                                                  "solver (wildcard names need DNS01).")]

    def test_staging_ca_fails_only_in_prod(self, check):
        assert len(check(self.rule, *cell(server=STAGING_ACME))) == 1
        assert check(self.rule, *cell(server=STAGING_ACME, environment="dev")) == []

    def test_no_installer_no_check(self, check):
        assert check(self.rule, resource(ISSUER, "le", {})) == []
