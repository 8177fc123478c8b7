"""TLS to a Cloud SQL instance: its certificate names `<project>:<instance>`, never the private IP connected to.

A real MariaDB serves a certificate shaped as Cloud SQL's (GOOGLE_MANAGED_INTERNAL_CA: its own CA, CN `proj:inst`,
no subjectAltName). Standard host name verification (what RDS gets, and what every Cloud SQL connection got before)
must refuse it; the Cloud SQL identity check accepts it for the right instance and refuses it for any other.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any

import pymysql
import pytest

from ops.checks.mysql import (
    DatabaseEndpoint,
    PinnedCa,
    ServerIdentity,
    ServerVersionRequirement,
    run_database_checks,
    tls_connector,
)
from tests.ops.support.google_double import CloudSqlLikeServer, cloudsql_like_server
from tests.ops.support.mariadb import ROOT_PASSWORD

COMMON_NAME = "proj:inst"


@pytest.fixture(scope="package")
def cloudsql_server(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> CloudSqlLikeServer:
    return cloudsql_like_server(tmp_path_factory.mktemp("cloudsql-proj-inst"), COMMON_NAME,
                                request.config.add_cleanup)


def endpoint(server: CloudSqlLikeServer, identity: ServerIdentity | None) -> DatabaseEndpoint:
    return DatabaseEndpoint("127.0.0.1", server.port, "root", ROOT_PASSWORD, "gitpod", ca_pem=server.ca_pem,
                            server_identity=identity)


def cipher(connection: Any) -> str:
    with connection, connection.cursor() as cursor:
        cursor.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        return str(cursor.fetchone()[1])


def test_the_right_instance_name_is_accepted(cloudsql_server: CloudSqlLikeServer):
    assert cipher(tls_connector(endpoint(cloudsql_server, ServerIdentity.cloud_sql("proj", "inst")))())


def test_a_wrong_instance_name_is_refused_before_any_query(cloudsql_server: CloudSqlLikeServer):
    with pytest.raises(pymysql.err.OperationalError,
                       match=r"the server certificate names CN 'proj:inst', not CN 'proj:other-inst'"):
        tls_connector(endpoint(cloudsql_server, ServerIdentity.cloud_sql("proj", "other-inst")))()
    with pytest.raises(pymysql.err.OperationalError, match=r"not CN 'other-proj:inst'"):
        tls_connector(endpoint(cloudsql_server, ServerIdentity.cloud_sql("other-proj", "inst")))()


def test_host_name_verification_refuses_it_as_the_old_code_did(cloudsql_server: CloudSqlLikeServer):
    """No identity: the standard check (RDS's), which Cloud SQL's certificate, without an IP SAN, cannot pass."""
    with pytest.raises(pymysql.err.OperationalError, match=r"IP address mismatch|certificate verify failed"):
        tls_connector(endpoint(cloudsql_server, None))()
    results = run_database_checks(tls_connector(endpoint(cloudsql_server, None)), "gitpod",
                                  ServerVersionRequirement(accept_mariadb=True))
    assert [(result.name, result.passed) for result in results] == [("database reachable", False)]


def test_the_chain_is_still_verified(cloudsql_server: CloudSqlLikeServer, tls: Any):
    """The right name, but under another CA (here the other test servers'): refused."""
    other_ca = replace(endpoint(cloudsql_server, ServerIdentity.cloud_sql("proj", "inst")), ca_pem=tls.ca_pem.decode())
    with pytest.raises(pymysql.err.OperationalError, match="certificate verify failed"):
        tls_connector(other_ca)()


def test_a_pinned_ca_carries_the_identity_to_callers_that_know_nothing_of_cloud_sql(cloudsql_server):
    """preflight builds its endpoint from the address's host, port and CA only."""
    right = DatabaseEndpoint("127.0.0.1", cloudsql_server.port, "root", ROOT_PASSWORD, "gitpod",
                             ca_pem=PinnedCa(cloudsql_server.ca_pem, ServerIdentity.cloud_sql("proj", "inst")))
    results = run_database_checks(tls_connector(right), "gitpod", ServerVersionRequirement(accept_mariadb=True))
    assert all(result.passed for result in results), results
    wrong = replace(right, ca_pem=PinnedCa(cloudsql_server.ca_pem, ServerIdentity.cloud_sql("proj", "nope")))
    (failure,) = run_database_checks(tls_connector(wrong), "gitpod", ServerVersionRequirement(accept_mariadb=True))
    assert not failure.passed
    assert "not CN 'proj:nope'" in failure.reason


def test_the_drill_connectors_check_each_instance_name(cloudsql_server, monkeypatch):
    from ops.checks.cli import DatabaseCa, database_connectors

    monkeypatch.setenv("GITPOD_DB_PASSWORD", ROOT_PASSWORD)
    args = argparse.Namespace(db_password_env="GITPOD_DB_PASSWORD", db_user="root", database="gitpod", ca_file=None,
                              database_ca=DatabaseCa(cloudsql_server.ca_pem, lambda: cloudsql_server.ca_pem,
                                                     ServerIdentity.cloud_sql("proj", "inst"),
                                                     lambda: ServerIdentity.cloud_sql("proj", "inst-drill")))
    connect_source, connect_restored = database_connectors(args, "127.0.0.1", cloudsql_server.port)

    assert cipher(connect_source())
    with pytest.raises(pymysql.err.OperationalError, match="not CN 'proj:inst-drill'"):
        connect_restored("127.0.0.1", cloudsql_server.port)


def test_the_drill_connectors_check_the_name_with_a_ca_file_too(cloudsql_server, monkeypatch, tmp_path):
    from ops.checks.cli import DatabaseCa, database_connectors

    ca_file = tmp_path / "server-ca.pem"
    ca_file.write_text(cloudsql_server.ca_pem)
    monkeypatch.setenv("GITPOD_DB_PASSWORD", ROOT_PASSWORD)
    args = argparse.Namespace(db_password_env="GITPOD_DB_PASSWORD", db_user="root", database="gitpod",
                              ca_file=ca_file, database_ca=DatabaseCa(None, lambda: None,
                                                                      ServerIdentity.cloud_sql("proj", "inst")))
    assert cipher(database_connectors(args, "127.0.0.1", cloudsql_server.port)[0]())
    args.database_ca = DatabaseCa(None, lambda: None, ServerIdentity.cloud_sql("proj", "wrong"))
    with pytest.raises(pymysql.err.OperationalError, match="not CN 'proj:wrong'"):
        database_connectors(args, "127.0.0.1", cloudsql_server.port)[0]()


# -- the identity rule, as Google's connectors apply it ----------------------------------------------------------

LEGACY = {"subject": ((("countryName", "US"),), (("organizationName", "Google, Inc"),), (("commonName", "p:i"),))}
CAS = {"subject": ((("commonName", "some-ca-issued-name"),),),
       "subjectAltName": (("DNS", "abc123.europe-west1.sql.goog"), ("IP Address", "10.0.0.3"))}


def test_the_cn_names_a_legacy_instance():
    assert ServerIdentity.cloud_sql("p", "i").mismatch(LEGACY) is None
    assert ServerIdentity.cloud_sql("p", "j").mismatch(LEGACY) == "the server certificate names CN 'p:i', not CN 'p:j'"
    # An instance whose metadata has a DNS name its certificate does not carry yet: the CN still decides.
    assert ServerIdentity.cloud_sql("p", "i", "new.sql.goog").mismatch(LEGACY) is None


def test_a_san_dns_name_names_a_cas_instance():
    assert ServerIdentity.cloud_sql("p", "i", "abc123.europe-west1.sql.goog.").mismatch(CAS) is None
    reason = ServerIdentity.cloud_sql("p", "i", "other.sql.goog").mismatch(CAS)
    assert reason == ("the server certificate names CN 'some-ca-issued-name', DNS names abc123.europe-west1.sql.goog, "
                      "not CN 'p:i' or DNS name 'other.sql.goog'")
    assert ServerIdentity.cloud_sql("p", "i").mismatch({}) == "the server certificate names no CN, not CN 'p:i'"
