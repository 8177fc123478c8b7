"""The AWS cell's security controls, asserted on what the real program registers under the mock engine: encrypted
log groups, key policies, DNSSEC and query logging, RDS monitoring, access logs, notifications, a private prod API
endpoint, and IAM statements that name their resources."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from components.aws.cell import AUTOSCALER_DISCOVERY_ACTIONS
from components.config import CellConfigError
from ops.plan.runner import PlanDocument, run_program
from tests.conftest import recorded_run

Registered = Callable[[str], PlanDocument]
ACCOUNT = "123456789012"


def provider_region(plan: PlanDocument, resource: dict) -> str:
    urn = resource["provider"].rsplit("::", 1)[0]
    return next(r for r in plan.resources if r["urn"] == urn)["inputs"]["region"]


def key_policy(plan: PlanDocument, name: str) -> dict:
    return json.loads(plan.one("aws:kms/key:Key", name)["inputs"]["policy"])


@pytest.mark.parametrize(("stack", "days"), [("dev", 90), ("staging", 90), ("prod", 365)])
def test_every_log_group_is_encrypted_and_kept_per_environment(registered: Registered, stack: str, days: int
                                                               ) -> None:
    plan = registered(stack)
    groups = {g["inputs"]["name"]: g for g in plan.by_type("aws:cloudwatch/logGroup:LogGroup")}
    prefix = f"gitpod-{stack}"
    domain = "gitpod.example.com" if stack == "prod" else f"{stack}.gitpod.example.com"
    assert set(groups) == {f"/gitpod-cell/{prefix}/vpc-flow-logs", f"/aws/eks/{prefix}/cluster",
                           f"/aws/rds/instance/{prefix}-db/error", f"/aws/rds/instance/{prefix}-db/slowquery",
                           f"/aws/route53/{domain}"}
    for name, group in groups.items():
        assert group["inputs"]["retentionInDays"] == days, name
        region = provider_region(plan, group)
        assert group["inputs"]["kmsKeyId"].startswith(f"arn:aws:kms:{region}:"), name
    assert provider_region(plan, groups[f"/aws/route53/{domain}"]) == "us-east-1"


def test_logs_key_lets_cloudwatch_use_it_for_the_cells_groups_only(registered: Registered) -> None:
    plan = registered("prod")
    policy = key_policy(plan, "gitpod-prod-logs")
    root, logs = policy["Statement"]
    assert root["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert root["Action"] == "kms:*"
    assert logs["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    groups = logs["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"]
    assert f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/eks/gitpod-prod/cluster" in groups
    assert len(groups) == 4
    assert not any("*" in group for group in groups)


def test_every_key_has_an_explicit_policy_naming_its_users(registered: Registered) -> None:
    plan = registered("prod")
    for key in plan.by_type("aws:kms/key:Key"):
        statements = json.loads(key["inputs"]["policy"])["Statement"]
        assert statements[0]["Sid"] == "AccountAdministers", key["name"]
        for statement in statements[1:]:
            if statement["Principal"] in ({"AWS": "*"}, "*"):
                conditions = json.dumps(statement["Condition"])
                assert "kms:CallerAccount" in conditions or "aws:SourceAccount" in conditions, key["name"]
    secrets = key_policy(plan, "gitpod-prod-secrets")
    (cluster_role,) = {s["Principal"]["AWS"] for s in secrets["Statement"][1:]}
    assert cluster_role.startswith(f"arn:aws:iam::{ACCOUNT}:role/gitpod-prod-control-plane-")
    db = key_policy(plan, "gitpod-prod-db")
    assert db["Statement"][1]["Condition"]["StringEquals"]["kms:ViaService"] == "rds.eu-west-1.amazonaws.com"
    backups = key_policy(plan, "gitpod-prod-db-backups")
    assert backups["Statement"][1]["Condition"]["StringEquals"]["kms:ViaService"] == "rds.eu-central-1.amazonaws.com"
    replica = key_policy(plan, "gitpod-prod-replica-s3")
    replication = next(s for s in replica["Statement"] if s["Sid"] == "ReplicationRoleReplicates")
    assert replication["Action"] == ["kms:Encrypt", "kms:GenerateDataKey"]


def test_zone_is_dnssec_signed_with_a_p256_key_in_us_east_1(registered: Registered) -> None:
    plan = registered("prod")
    key = plan.one("aws:kms/key:Key", "gitpod-prod-dnssec")
    assert (key["inputs"]["customerMasterKeySpec"], key["inputs"]["keyUsage"]) == ("ECC_NIST_P256", "SIGN_VERIFY")
    assert key["inputs"]["enableKeyRotation"] is False
    assert provider_region(plan, key) == "us-east-1"
    assert key["options"]["protect"] is True
    statements = json.loads(key["inputs"]["policy"])["Statement"]
    signer = next(s for s in statements if s["Sid"] == "Route53DnssecSigns")
    assert signer["Principal"] == {"Service": "dnssec-route53.amazonaws.com"}
    assert signer["Condition"]["ArnLike"]["aws:SourceArn"].startswith("arn:aws:route53:::hostedzone/Z")
    ksk = plan.one("aws:route53/keySigningKey:KeySigningKey")
    zone_urn = plan.one("aws:route53/zone:Zone")["urn"]
    assert ksk["inputs"]["status"] == "ACTIVE"
    assert key["urn"] in ksk["dependencies"]
    signing = plan.one("aws:route53/hostedZoneDnsSec:HostedZoneDnsSec")
    assert signing["inputs"]["signingStatus"] == "SIGNING"
    assert zone_urn in signing["dependencies"]
    assert ksk["urn"] in signing["options"]["dependsOn"]


def test_zone_queries_are_logged_to_an_encrypted_group_route53_may_write(registered: Registered) -> None:
    plan = registered("prod")
    query_log = plan.one("aws:route53/queryLog:QueryLog")
    group = plan.one("aws:cloudwatch/logGroup:LogGroup", "gitpod-prod-query-logs")
    assert query_log["inputs"]["cloudwatchLogGroupArn"] == (
        f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/route53/gitpod.example.com")
    assert group["inputs"]["kmsKeyId"].startswith("arn:aws:kms:us-east-1:")
    resource_policy = plan.one("aws:cloudwatch/logResourcePolicy:LogResourcePolicy")
    assert resource_policy["urn"] in query_log["options"]["dependsOn"]
    (statement,) = json.loads(resource_policy["inputs"]["policyDocument"])["Statement"]
    assert statement["Principal"] == {"Service": "route53.amazonaws.com"}
    assert statement["Resource"] == f"{query_log['inputs']['cloudwatchLogGroupArn']}:*"
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}


def test_adopted_zone_is_used_as_is_and_the_plan_says_so(stack_variant) -> None:
    # The same variant as test_aws_cell's adopted-zone test: one run per process.
    resources, outputs, warnings = recorded_run(stack_variant("dev", {"gitpod-cell:dns": {"zoneId": "Z0123456789ABC"}}))
    types = {r["type"] for r in resources}
    assert not types & {"aws:route53/zone:Zone", "aws:route53/keySigningKey:KeySigningKey",
                        "aws:route53/queryLog:QueryLog", "aws:route53/hostedZoneDnsSec:HostedZoneDnsSec"}
    assert outputs.get("dnsDsRecord") is None
    assert any("Z0123456789ABC" in w and "does not sign it with DNSSEC" in w for w in warnings)


def test_rds_has_enhanced_monitoring_and_exports_into_precreated_groups(registered: Registered) -> None:
    plan = registered("prod")
    db = plan.one("aws:rds/instance:Instance")
    assert db["inputs"]["monitoringInterval"] == 60
    role = plan.one("aws:iam/role:Role", "gitpod-prod-db-monitoring")
    assert db["inputs"]["monitoringRoleArn"].startswith(f"arn:aws:iam::{ACCOUNT}:role/gitpod-prod-db-monitoring-")
    (trust,) = json.loads(role["inputs"]["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "monitoring.rds.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    attachment = plan.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "gitpod-prod-db-monitoring")
    assert attachment["inputs"]["policyArn"].endswith("service-role/AmazonRDSEnhancedMonitoringRole")
    exports = [g["urn"] for g in plan.by_type("aws:cloudwatch/logGroup:LogGroup") if "/aws/rds/" in g["inputs"]["name"]]
    assert len(exports) == 2
    assert set(exports) <= set(db["options"]["dependsOn"])


def test_monitoring_interval_is_a_config_key(stack_variant) -> None:
    resources, _ = run_program(stack_variant("dev", {"gitpod-cell:database.monitoringInterval": 15}))
    db = next(r for r in resources if r["type"] == "aws:rds/instance:Instance")
    assert db["inputs"]["monitoringInterval"] == 15
    with pytest.raises(CellConfigError, match=r"database\.monitoringInterval: got 20"):
        run_program(stack_variant("dev", {"gitpod-cell:database.monitoringInterval": 20}))


def test_every_bucket_logs_access_to_its_regions_log_bucket_and_publishes_events(registered: Registered) -> None:
    plan = registered("prod")
    buckets = {b["inputs"]["bucket"]: provider_region(plan, b) for b in plan.by_type("aws:s3/bucket:Bucket")}
    logs = {name for name in buckets if name.endswith("-logs")}
    assert {buckets[name] for name in logs} == {"eu-west-1", "eu-central-1"}
    loggings = {lg["inputs"]["bucket"]: lg["inputs"] for lg in plan.by_type("aws:s3/bucketLogging:BucketLogging")}
    assert set(loggings) == set(buckets) - logs
    for source, logging in loggings.items():
        assert buckets[logging["targetBucket"]] == buckets[source]
        assert logging["targetBucket"] in logs
        assert logging["targetObjectKeyFormat"] == {"partitionedPrefix": {"partitionDateSource": "EventTime"}}
    notified = {n["inputs"]["bucket"] for n in plan.by_type("aws:s3/bucketNotification:BucketNotification")
                if n["inputs"]["eventbridge"] is True}
    assert notified == set(buckets)


def test_log_buckets_are_sse_s3_private_versioned_expiring_and_cross_replicated(registered: Registered) -> None:
    plan = registered("prod")
    logs = [b for b in plan.by_type("aws:s3/bucket:Bucket") if b["inputs"]["bucket"].endswith("-logs")]
    for bucket in logs:
        name = bucket["inputs"]["bucket"]
        assert bucket["options"]["protect"] is True

        def sub(kind: str, bucket_name: str = name) -> dict:
            return next(r["inputs"] for r in plan.by_type(kind) if r["inputs"].get("bucket") == bucket_name)

        sse = sub("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
        assert sse["rules"][0]["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
        assert sub("aws:s3/bucketVersioning:BucketVersioning")["versioningConfiguration"]["status"] == "Enabled"
        block = sub("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
        assert all(block[flag] for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                            "restrictPublicBuckets"))
        (rule,) = sub("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")["rules"]
        assert rule["expiration"] == {"days": 365}
        statements = json.loads(sub("aws:s3/bucketPolicy:BucketPolicy")["policy"])["Statement"]
        delivery = next(s for s in statements if s["Sid"] == "S3ServerAccessLogDelivery")
        assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
        assert delivery["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
        assert all(arn.startswith("arn:aws:s3:::gitpod-prod-") and not arn.endswith("-logs")
                   for arn in delivery["Condition"]["ArnLike"]["aws:SourceArn"])
    replications = [r["inputs"] for r in plan.by_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
                    if r["inputs"]["bucket"].endswith("-logs")]
    assert sorted(r["rules"][0]["destination"]["bucket"].endswith("-logs") for r in replications) == [True, True]
    assert {r["bucket"] for r in replications} == {b["inputs"]["bucket"] for b in logs}


def test_prod_endpoint_is_public_only_by_stated_intent(stack_variant) -> None:
    with pytest.raises(CellConfigError, match=r"cluster\.publicAccessCidrs: opens the EKS API endpoint"):
        run_program(stack_variant("prod", {"gitpod-cell:cluster.publicAccessCidrs": ["203.0.113.0/24"]}))
    warnings: list[str] = []
    resources, _ = run_program(stack_variant("prod", {"gitpod-cell:cluster.publicAccessCidrs": ["203.0.113.0/24"],
                                                      "gitpod-cell:cluster.allowPublicEndpoint": True}),
                               warnings=warnings)
    cluster = next(r for r in resources if r["type"] == "aws:eks/cluster:Cluster")["inputs"]
    assert cluster["vpcConfig"]["endpointPublicAccess"] is True
    assert cluster["vpcConfig"]["publicAccessCidrs"] == ["203.0.113.0/24"]
    assert cluster["tags"]["PublicEndpoint"] == "allowed"
    assert any("EKS API endpoint is public" in w and "203.0.113.0/24" in w for w in warnings)


@pytest.mark.parametrize("days", [90, 364])
def test_prod_keeps_logs_at_least_a_year(stack_variant, days: int) -> None:
    with pytest.raises(CellConfigError, match=r"network\.logRetentionDays"):
        run_program(stack_variant("prod", {"gitpod-cell:network.logRetentionDays": days}))


def test_only_unscopable_actions_use_every_resource(registered: Registered) -> None:
    plan = registered("prod")
    unscopable = {*AUTOSCALER_DISCOVERY_ACTIONS, "route53:ListHostedZones", "route53:ListHostedZonesByName",
                  "ecr:GetAuthorizationToken"}
    for policy in plan.by_type("aws:iam/rolePolicy:RolePolicy"):
        for statement in json.loads(policy["inputs"]["policy"])["Statement"]:
            if statement["Effect"] == "Allow" and "*" in statement["Resource"]:
                assert set(statement["Action"]) <= unscopable, (policy["name"], statement)
    autoscaler = next(json.loads(p["inputs"]["policy"]) for p in plan.by_type("aws:iam/rolePolicy:RolePolicy")
                      if p["name"] == "gitpod-prod-cluster-autoscaler")
    scale = next(s for s in autoscaler["Statement"] if "autoscaling:SetDesiredCapacity" in s["Action"])
    assert scale["Resource"] == [f"arn:aws:autoscaling:eu-west-1:{ACCOUNT}:autoScalingGroup:*:"
                                 "autoScalingGroupName/eks-*"]
    assert scale["Condition"] == {"StringEquals": {"aws:ResourceTag/k8s.io/cluster-autoscaler/gitpod-prod": "owned"}}


def test_ecr_keeps_mutable_tags_for_gitpods_builder(registered: Registered) -> None:
    # A documented deviation: image-builder pushes the same tag again on a forced or retried build.
    for repository in registered("prod").by_type("aws:ecr/repository:Repository"):
        assert repository["inputs"]["imageTagMutability"] == "MUTABLE"
        assert repository["inputs"]["name"].rsplit("/", 1)[-1] in ("base-images", "workspace-images")
