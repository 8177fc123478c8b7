"""explicit_defaults_for_timestamp=OFF, on RDS parameter groups and Cloud SQL flags."""

from __future__ import annotations

from tests.policies.records import resource

RULE = "gitpod-mysql-explicit-defaults-for-timestamp"
PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"
SQL = "gcp:sql/databaseInstance:DatabaseInstance"


def group(family="mysql8.0", **parameters):
    return resource(PARAMETER_GROUP, "mysql", {"family": family, "parameters": [
        {"name": name, "value": value} for name, value in parameters.items()]})


def cloud_sql(version="MYSQL_8_0", **flags):
    return resource(SQL, "db", {"databaseVersion": version, "settings": {"databaseFlags": [
        {"name": name, "value": value} for name, value in flags.items()]}})


def test_parameter_group_passes(check):
    assert check(RULE, group(explicit_defaults_for_timestamp="0", require_secure_transport="1")) == []


def test_parameter_group_fails_when_on(check):
    pg = group(explicit_defaults_for_timestamp="1")
    assert check(RULE, pg) == [
        (pg["urn"], "parameters sets explicit_defaults_for_timestamp to '1'; Gitpod needs it OFF (0).")
    ]


def test_parameter_group_fails_when_absent(check):
    pg = group()
    assert check(RULE, pg) == [
        (pg["urn"], "parameters does not set explicit_defaults_for_timestamp (MySQL 8.0 defaults to ON); Gitpod needs "
                    "it OFF (0).")
    ]


def test_postgres_parameter_group_is_ignored(check):
    assert check(RULE, group(family="postgres16")) == []


def test_cloud_sql_passes(check):
    assert check(RULE, cloud_sql(explicit_defaults_for_timestamp="off")) == []


def test_cloud_sql_fails_when_on(check):
    db = cloud_sql(explicit_defaults_for_timestamp="on")
    assert check(RULE, db) == [
        (db["urn"], "settings.databaseFlags sets explicit_defaults_for_timestamp to 'on'; Gitpod needs it OFF (0).")
    ]


def test_cloud_sql_fails_when_absent(check):
    db = cloud_sql()
    assert check(RULE, db) == [
        (db["urn"], "settings.databaseFlags does not set explicit_defaults_for_timestamp (MySQL 8.0 defaults to ON); "
                    "Gitpod needs it OFF (0).")
    ]


def test_cloud_sql_postgres_is_ignored(check):
    assert check(RULE, cloud_sql(version="POSTGRES_16")) == []
