"""Gitpod's TLS certificate on a cell whose ClusterIssuer is the cluster's own (gitpod-cell:cloud: kubernetes)."""

from __future__ import annotations

import pytest

from policies.core.rule import NotApplicableError
from policies.offline import OfflineStackArgs, build_resources
from policies.rules.tls import EXTERNAL_ISSUER_ANNOTATION, EXTERNAL_ISSUER_VALUE, tls_certificate
from tests.policies.records import resource
from tests.policies.test_tls import CERTIFICATE, JOB, cell

RULE = "gitpod-tls-certificate"


def external_certificate(issuer="cell-issuer", annotated=True):
    metadata = {"name": "https-certificates"}
    if annotated:
        metadata["annotations"] = {EXTERNAL_ISSUER_ANNOTATION: EXTERNAL_ISSUER_VALUE}
    return resource(CERTIFICATE, "https", {"metadata": metadata, "spec": {
        "issuerRef": {"kind": "ClusterIssuer", "name": issuer}}})


def existing_cluster_cell(**certificate):
    return [resource(JOB, "installer", {"metadata": {"name": "gitpod-installer-1-abc"}}),
            external_certificate(**certificate)]


def run_rule(records):
    violations = []
    tls_certificate.validate(OfflineStackArgs(build_resources(records), {}),
                             lambda message, urn=None: violations.append((urn, message)))
    return violations


def test_an_issuer_declared_outside_the_stack_is_not_applicable_with_the_reason():
    with pytest.raises(NotApplicableError) as raised:
        run_rule(existing_cluster_cell())

    assert "cell-issuer is the cluster's own, not in this stack" in str(raised.value.reason)
    assert "cannot be checked here" in str(raised.value.reason)


def test_offline_an_external_issuer_is_no_violation(check):
    assert check(RULE, *existing_cluster_cell()) == []


def test_an_undeclared_missing_issuer_is_still_a_violation(check):
    records = existing_cluster_cell(annotated=False)

    assert check(RULE, *records) == [(records[1]["urn"], "the Certificate's issuerRef names no ClusterIssuer of "
                                                         "the stack.")]


def test_the_stacks_own_issuers_are_still_checked_beside_an_external_one(check):
    records = [*cell(solver={"http01": {"ingress": {}}}), external_certificate()]

    assert check(RULE, *records) == [(records[2]["urn"], "the ClusterIssuer is not ACME with a DNS01 solver "
                                                         "(wildcard names need DNS01).")]
