"""RDS stack rules: TLS through the parameter group, cross-region backup replication in production."""

from __future__ import annotations

from tests.policies.records import aws_tags, provider, resource

RDS = "aws:rds/instance:Instance"
PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"
REPLICATION = "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"


def parameter_group(**parameters):
    return resource(PARAMETER_GROUP, "mysql", {
        "name": "cell-mysql", "family": "mysql8.0",
        "parameters": [{"name": k, "value": v} for k, v in parameters.items()],
    })


class TestTlsRequired:
    rule = "aws-rds-tls-required"

    def test_passes_with_require_secure_transport(self, check):
        group = parameter_group(require_secure_transport="1")
        instance = resource(RDS, "db", {"engine": "mysql", "parameterGroupName": "cell-mysql"})
        assert check(self.rule, group, instance) == []

    def test_fails_when_parameter_is_off(self, check):
        group = parameter_group(require_secure_transport="0")
        instance = resource(RDS, "db", {"engine": "mysql", "parameterGroupName": "cell-mysql"})
        assert check(self.rule, group, instance) == [
            (instance["urn"], "parameter group mysql has require_secure_transport '0'; set it to 1 so clients must "
                              "use TLS.")
        ]

    def test_fails_when_parameter_absent(self, check):
        group = parameter_group(explicit_defaults_for_timestamp="0")
        instance = resource(RDS, "db", {"engine": "mysql", "parameterGroupName": "cell-mysql"})
        assert check(self.rule, group, instance) == [
            (instance["urn"], "parameter group mysql has require_secure_transport not set; set it to 1 so clients "
                              "must use TLS.")
        ]

    def test_fails_without_parameter_group(self, check):
        instance = resource(RDS, "db", {"engine": "mysql"})
        assert check(self.rule, instance) == [
            (instance["urn"], "parameterGroupName is not set; the default parameter group does not set "
                              "require_secure_transport=1.")
        ]

    def test_fails_when_group_is_not_in_the_stack(self, check):
        instance = resource(RDS, "db", {"engine": "mysql", "parameterGroupName": "elsewhere"})
        assert check(self.rule, instance) == [
            (instance["urn"], "parameter group 'elsewhere' is not managed in this stack, so "
                              "require_secure_transport=1 cannot be verified.")
        ]

    def test_joins_by_dependency_when_name_unknown(self, check):
        group = parameter_group(require_secure_transport="ON")
        instance = resource(RDS, "db", {"engine": "mysql"}, dependencies=[group])
        assert check(self.rule, group, instance) == []

    def test_auto_named_group_matches_by_dependency(self, check):
        group = resource(PARAMETER_GROUP, "mysql", {"family": "mysql8.0", "parameters": [
            {"name": "require_secure_transport", "value": "1"}]})
        instance = resource(RDS, "db", {"engine": "mysql", "parameterGroupName": "mysql-1a2b3c"},
                            dependencies=[group])
        assert check(self.rule, group, instance) == []

    def test_postgres_uses_force_ssl(self, check):
        group = resource(PARAMETER_GROUP, "pg", {"name": "cell-pg", "family": "postgres16",
                                                 "parameters": [{"name": "rds.force_ssl", "value": "1"}]})
        instance = resource(RDS, "db", {"engine": "postgres", "parameterGroupName": "cell-pg"})
        assert check(self.rule, group, instance) == []


class TestCrossRegionBackupsProd:
    rule = "aws-rds-cross-region-backups-prod"

    def setup_method(self):
        self.primary = provider("primary", region="eu-west-1")
        self.replica = provider("replica", region="eu-central-1")

    def instance(self, environment="prod"):
        return resource(RDS, "db", {"identifier": "cell-db", "tags": aws_tags(environment)}, provider=self.primary)

    def replication(self, instance, region_provider, arn_region="eu-west-1"):
        return resource(REPLICATION, "db-backups", {
            "sourceDbInstanceArn": f"arn:aws:rds:{arn_region}:123456789012:db:cell-db",
        }, provider=region_provider, dependencies=[instance])

    def test_passes_with_replication_to_another_region(self, check):
        instance = self.instance()
        records = [self.primary, self.replica, instance, self.replication(instance, self.replica)]
        assert check(self.rule, *records) == []

    def test_fails_with_replication_to_the_same_region(self, check):
        instance = self.instance()
        replication = self.replication(instance, self.primary)
        assert check(self.rule, self.primary, instance, replication) == [
            (replication["urn"], "automated backups are replicated to eu-west-1, the database's own region; "
                                 "replicate to a different region.")
        ]

    def test_fails_without_replication(self, check):
        instance = self.instance()
        assert check(self.rule, self.primary, instance) == [
            (instance["urn"], "no InstanceAutomatedBackupsReplication replicates this production database's "
                              "backups to another region.")
        ]

    def test_fails_when_replica_region_unknown(self, check):
        instance = self.instance()
        replication = resource(REPLICATION, "db-backups", {}, dependencies=[instance])
        instance_without_region = dict(instance, provider=None)
        assert check(self.rule, instance_without_region, replication) == [
            (replication["urn"], "cannot tell which regions the backups are replicated from and to; give the "
                                 "database and the replication resource providers (or `region`) for their regions.")
        ]

    def test_ignores_dev(self, check):
        assert check(self.rule, self.primary, self.instance("dev")) == []

    def test_matches_by_arn_without_dependency(self, check):
        instance = self.instance()
        replication = resource(REPLICATION, "db-backups", {
            "sourceDbInstanceArn": "arn:aws:rds:eu-west-1:123456789012:db:cell-db"}, provider=self.replica)
        assert check(self.rule, self.primary, self.replica, instance, replication) == []

    def test_resource_region_input_counts(self, check):
        instance = self.instance()
        replication = resource(REPLICATION, "db-backups", {
            "sourceDbInstanceArn": "arn:aws:rds:eu-west-1:123456789012:db:cell-db", "region": "us-east-1"})
        assert check(self.rule, self.primary, instance, replication) == []
