"""The required GCP labels, from the type's label field or from the provider's default labels."""

from __future__ import annotations

import json

from tests.policies.records import gcp_labels, provider, resource

RULE = "gcp-required-labels"


def test_passes_on_bucket_labels(check):
    assert check(RULE, resource("gcp:storage/bucket:Bucket", "b", {"labels": gcp_labels("dev")})) == []


def test_passes_on_sql_user_labels(check):
    db = resource("gcp:sql/databaseInstance:DatabaseInstance", "db", {"settings": {"userLabels": gcp_labels()}})
    assert check(RULE, db) == []


def test_passes_with_provider_default_labels(check):
    google = provider("google", package="gcp", project="p", defaultLabels=json.dumps(gcp_labels("staging")))
    gke = resource("gcp:container/cluster:Cluster", "gke", {}, provider=google)
    assert check(RULE, google, gke) == []


def test_fails_with_wrong_values(check):
    pool = resource("gcp:container/nodePool:NodePool", "pool", {"nodeConfig": {"resourceLabels": {
        "environment": "production", "cell": "eu1", "managed-by": "terraform"}}})
    assert check(RULE, pool) == [
        (pool["urn"], "labels at nodeConfig.resourceLabels: environment is 'production' (expected one of dev, "
                      "staging, prod); managed-by is 'terraform' (expected 'pulumi').")
    ]


def test_fails_when_absent(check):
    key = resource("gcp:kms/cryptoKey:CryptoKey", "key", {})
    assert check(RULE, key) == [
        (key["urn"], "labels at labels: environment is missing (expected one of dev, staging, prod); cell is "
                     "missing; managed-by is missing (expected 'pulumi').")
    ]


def test_ignores_unlabelled_types(check):
    assert check(RULE, resource("gcp:serviceaccount/iAMMember:IAMMember", "m", {})) == []
