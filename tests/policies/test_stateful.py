"""Production stateful resources are protected."""

from __future__ import annotations

import pytest

from tests.policies.records import aws_tags, gcp_labels, resource

RULE = "stateful-resources-protected-prod"
MESSAGE = "production stateful resource is not protected; set protect=True (and retain_on_delete=True)."


@pytest.mark.parametrize(("resource_type", "inputs"), [
    ("aws:rds/instance:Instance", {"tags": aws_tags("prod")}),
    ("aws:s3/bucket:Bucket", {"tags": aws_tags("prod")}),
    ("aws:ecr/repository:Repository", {"tags": aws_tags("prod")}),
    ("aws:route53/zone:Zone", {"tags": aws_tags("prod")}),
    ("aws:kms/key:Key", {"tags": aws_tags("prod")}),
    ("gcp:sql/databaseInstance:DatabaseInstance", {"settings": {"userLabels": gcp_labels("prod")}}),
    ("gcp:storage/bucket:Bucket", {"labels": gcp_labels("prod")}),
    ("gcp:artifactregistry/repository:Repository", {"labels": gcp_labels("prod")}),
    ("gcp:kms/cryptoKey:CryptoKey", {"labels": gcp_labels("prod")}),
    ("gcp:dns/managedZone:ManagedZone", {"labels": gcp_labels("prod")}),
])
def test_unprotected_in_prod_fails_and_protected_passes(check, resource_type, inputs):
    unprotected = resource(resource_type, "state", inputs)
    assert check(RULE, unprotected) == [(unprotected["urn"], MESSAGE)]
    assert check(RULE, resource(resource_type, "state", inputs, protect=True, retain_on_delete=True)) == []


def test_dev_does_not_need_protection(check):
    assert check(RULE, resource("aws:rds/instance:Instance", "db", {"tags": aws_tags("dev")})) == []


def test_untagged_is_left_to_the_tag_rule(check):
    assert check(RULE, resource("aws:rds/instance:Instance", "db", {})) == []


def test_stateless_resources_are_ignored(check):
    assert check(RULE, resource("aws:ec2/vpc:Vpc", "vpc", {"tags": aws_tags("prod")})) == []
