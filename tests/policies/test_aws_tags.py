"""The required AWS tags, from the resource or from its provider's default tags."""

from __future__ import annotations

import json

from tests.policies.records import aws_tags, provider, resource

VPC = "aws:ec2/vpc:Vpc"
RULE = "aws-required-tags"


def test_passes_with_resource_tags(check):
    assert check(RULE, resource(VPC, "vpc", {"tags": aws_tags("dev")})) == []


def test_passes_with_provider_default_tags_as_json(check):
    primary = provider("primary", region="eu-west-1", defaultTags=json.dumps({"tags": aws_tags("staging")}))
    assert check(RULE, primary, resource(VPC, "vpc", {}, provider=primary)) == []


def test_passes_with_provider_default_tags_as_object(check):
    primary = provider("primary", region="eu-west-1", defaultTags={"tags": aws_tags("prod")})
    assert check(RULE, primary, resource(VPC, "vpc", {}, provider=primary)) == []


def test_resource_tags_override_provider_defaults(check):
    primary = provider("primary", defaultTags={"tags": aws_tags("prod")})
    vpc = resource(VPC, "vpc", {"tags": {"Environment": "qa"}}, provider=primary)
    assert check(RULE, primary, vpc) == [
        (vpc["urn"], "Environment is 'qa' (expected one of dev, staging, prod).")
    ]


def test_fails_when_absent(check):
    vpc = resource(VPC, "vpc", {})
    assert check(RULE, vpc) == [
        (vpc["urn"], "Environment is missing (expected one of dev, staging, prod); Cell is missing; ManagedBy is "
                     "missing (expected 'pulumi').")
    ]


def test_fails_for_wrong_manager(check):
    vpc = resource(VPC, "vpc", {"tags": {**aws_tags(), "ManagedBy": "terraform"}})
    assert check(RULE, vpc) == [(vpc["urn"], "ManagedBy is 'terraform' (expected 'pulumi').")]


def test_ignores_untaggable_types(check):
    assert check(RULE, resource("aws:s3/bucketVersioning:BucketVersioning", "v", {"bucket": "b"})) == []
