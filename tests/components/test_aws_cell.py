"""The AWS reference architecture, asserted on what the real program registers under the mock engine."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from components.aws.network import plan_subnets
from ops.common.stackfile import load_stack
from ops.plan.runner import PlanDocument, run_program
from tests.conftest import recorded_run

Registered = Callable[[str], PlanDocument]
STATEFUL_TYPES = (
    "aws:rds/instance:Instance",
    "aws:s3/bucket:Bucket",
    "aws:ecr/repository:Repository",
    "aws:route53/zone:Zone",
    "aws:kms/key:Key",
    "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication",
)


def provider_region(plan: PlanDocument, resource: dict) -> str:
    urn = resource["provider"].rsplit("::", 1)[0]
    return next(r for r in plan.resources if r["urn"] == urn)["inputs"]["region"]


def keyless_prod(stack_variant: Callable[..., Any]) -> PlanDocument:
    """prod pinned to the keyless build (as stack `prod-variant`): its storage users reach S3 with IRSA roles. One
    run per process, shared by the tests that ask."""
    gitpod = {**load_stack("prod").config["gitpod-cell:gitpod"], "version": "main-gha.13463",
              "installerImage": "eu.gcr.io/gitpod-core-dev/build/installer:main-gha.13463"}
    gitpod.pop("staticStorageKey")
    resources, outputs, _warnings = recorded_run(stack_variant("prod", {"gitpod-cell:gitpod": gitpod}))
    return PlanDocument({"stack": "prod-variant", "resources": resources, "outputs": outputs})


def test_the_only_static_key_is_the_buckets_and_only_where_the_build_needs_it(
        registered: Registered, stack_variant: Callable[..., Any]) -> None:
    for stack in ("dev", "staging", "prod"):
        plan = registered(stack)
        (user,) = plan.by_type("aws:iam/user:User")
        assert user["inputs"]["tags"]["gitpod-cell-purpose"] == "object-storage-static-key"
        assert user["inputs"]["path"] == "/gitpod-cell/"
        (key,) = plan.by_type("aws:iam/accessKey:AccessKey")
        assert key["name"] == f"gitpod-{stack}-object-storage-initial"  # the rotation label names the key
        assert user["urn"] in key["dependencies"]
        (policy,) = plan.by_type("aws:iam/userPolicy:UserPolicy")
        statements = json.loads(policy["inputs"]["policy"])["Statement"]
        resources = {resource for statement in statements for resource in statement["Resource"]}
        bucket = f"arn:aws:s3:::gitpod-{stack}-123456789012-eu-west-1"
        assert {resource for resource in resources if resource.startswith("arn:aws:s3")} == {bucket, f"{bucket}/*"}
        assert not {r["type"] for r in plan.resources} & {"aws:iam/userLoginProfile:UserLoginProfile",
                                                          "aws:iam/userPolicyAttachment:UserPolicyAttachment"}
    types = {r["type"] for r in keyless_prod(stack_variant).resources}
    assert not types & {"aws:iam/user:User", "aws:iam/accessKey:AccessKey"}


@pytest.mark.parametrize(("stack", "zones", "nat_gateways"), [("dev", 2, 1), ("staging", 2, 1), ("prod", 3, 3)])
def test_network_spans_zones_with_private_nodes_and_database(registered: Registered, stack: str, zones: int,
                                                             nat_gateways: int) -> None:
    plan = registered(stack)
    subnets = plan.by_type("aws:ec2/subnet:Subnet")
    assert len({s["inputs"]["availabilityZone"] for s in subnets}) == zones
    assert not any(s["inputs"]["mapPublicIpOnLaunch"] for s in subnets)
    assert len(plan.by_type("aws:ec2/natGateway:NatGateway")) == nat_gateways
    flow_log = plan.one("aws:ec2/flowLog:FlowLog")
    assert flow_log["inputs"]["trafficType"] == "ALL"
    assert flow_log["inputs"]["logDestination"].startswith("arn:aws:logs:")
    # Nodes live in the private subnets: the node groups' subnets are exactly those routed through NAT.
    private_ids = {s["name"] for s in subnets if "-private-" in s["name"]}
    assert len(private_ids) == zones
    default_sg = plan.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert "ingress" not in default_sg["inputs"]
    assert "egress" not in default_sg["inputs"]


def test_subnet_plan_never_overlaps() -> None:
    import ipaddress

    plan = plan_subnets("10.42.0.0/16", 3)
    blocks = [ipaddress.ip_network(b) for b in plan.private + plan.public + plan.database]
    assert all(not a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1:])


def test_eks_control_plane(registered: Registered) -> None:
    plan = registered("prod")
    cluster = plan.one("aws:eks/cluster:Cluster")["inputs"]
    assert cluster["version"] == "1.34"
    assert cluster["vpcConfig"]["endpointPrivateAccess"] is True
    # Prod is private by default: the shipped stack deploys from a runner inside the VPC.
    assert cluster["vpcConfig"]["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in cluster["vpcConfig"]
    assert "PublicEndpoint" not in cluster["tags"]
    assert sorted(cluster["enabledClusterLogTypes"]) == sorted(
        ["api", "audit", "authenticator", "controllerManager", "scheduler"])
    assert cluster["encryptionConfig"]["resources"] == ["secrets"]
    assert cluster["encryptionConfig"]["provider"]["keyArn"].startswith("arn:aws:kms:eu-west-1:")
    oidc = plan.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider")["inputs"]
    assert oidc["clientIdLists"] == ["sts.amazonaws.com"]
    assert oidc["url"].startswith("https://oidc.eks.eu-west-1.amazonaws.com/id/")


def test_private_only_endpoint_when_no_cidrs(registered: Registered, stack_variant) -> None:
    resources, _ = run_program(stack_variant("dev", {"gitpod-cell:cluster.publicAccessCidrs": []}))
    cluster = next(r for r in resources if r["type"] == "aws:eks/cluster:Cluster")["inputs"]["vpcConfig"]
    assert cluster["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in cluster


def test_node_groups_carry_gitpod_labels_autoscaler_tags_and_hardened_templates(registered: Registered) -> None:
    plan = registered("prod")
    groups = {g["name"]: g["inputs"] for g in plan.by_type("aws:eks/nodeGroup:NodeGroup")}
    assert set(groups) == {"gitpod-prod-services", "gitpod-prod-regular-workspaces",
                           "gitpod-prod-headless-workspaces"}
    labels = set().union(*(g["labels"] for g in groups.values()))
    assert labels == {"gitpod.io/workload_meta", "gitpod.io/workload_ide", "gitpod.io/workload_workspace_services",
                      "gitpod.io/workload_services", "gitpod.io/workload_workspace_regular",
                      "gitpod.io/workload_workspace_headless"}
    regular = groups["gitpod-prod-regular-workspaces"]
    assert regular["scalingConfig"] == {"minSize": 2, "maxSize": 50, "desiredSize": 2}
    assert regular["tags"]["k8s.io/cluster-autoscaler/enabled"] == "true"
    assert regular["tags"]["k8s.io/cluster-autoscaler/gitpod-prod"] == "owned"
    assert regular["tags"]["k8s.io/cluster-autoscaler/node-template/label/gitpod.io/workload_workspace_regular"]
    for group in plan.by_type("aws:eks/nodeGroup:NodeGroup"):
        assert "scalingConfig.desiredSize" in group["options"]["ignoreChanges"]
    for template in plan.by_type("aws:ec2/launchTemplate:LaunchTemplate"):
        inputs = template["inputs"]
        assert inputs["metadataOptions"]["httpTokens"] == "required"
        assert inputs["metadataOptions"]["httpPutResponseHopLimit"] == 1
        ebs = inputs["blockDeviceMappings"][0]["ebs"]
        assert (ebs["volumeType"], ebs["encrypted"]) == ("gp3", "true")
        assert ebs["kmsKeyId"].startswith("arn:aws:kms:")


@pytest.mark.parametrize(("stack", "multi_az", "retention"), [("dev", False, 7), ("staging", True, 7),
                                                              ("prod", True, 14)])
def test_rds_mysql_is_private_encrypted_and_recoverable(registered: Registered, stack: str, multi_az: bool,
                                                        retention: int) -> None:
    plan = registered(stack)
    db = plan.one("aws:rds/instance:Instance")["inputs"]
    assert (db["engine"], db["engineVersion"]) == ("mysql", "8.0")
    assert db["multiAz"] is multi_az
    assert db["backupRetentionPeriod"] == retention
    assert db["publiclyAccessible"] is False
    assert db["storageEncrypted"] is True
    assert db["kmsKeyId"].startswith("arn:aws:kms:")
    assert db["skipFinalSnapshot"] is False
    assert db["finalSnapshotIdentifier"]
    assert db["copyTagsToSnapshot"]
    assert db["iamDatabaseAuthenticationEnabled"]
    assert db["performanceInsightsEnabled"]
    assert db["autoMinorVersionUpgrade"] is True
    assert set(db["enabledCloudwatchLogsExports"]) >= {"error", "slowquery"}
    assert db["password"] == "[secret]"
    assert db["tags"]["Environment"] == stack
    parameters = {p["name"]: p["value"] for p in plan.one("aws:rds/parameterGroup:ParameterGroup")["inputs"]
                  ["parameters"]}
    assert parameters["explicit_defaults_for_timestamp"] == "0"
    assert parameters["require_secure_transport"] == "1"
    assert db["parameterGroupName"].startswith("gitpod-")


def test_database_only_reachable_from_the_cluster(registered: Registered) -> None:
    plan = registered("prod")
    rules = plan.by_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    db_rule = next(r for r in rules if r["name"].endswith("db-from-cluster"))["inputs"]
    cluster_sg = plan.one("aws:eks/cluster:Cluster")
    assert db_rule["fromPort"] == db_rule["toPort"] == 3306
    assert "cidrIpv4" not in db_rule
    assert db_rule["referencedSecurityGroupId"].startswith("sg-")
    assert cluster_sg["urn"] in next(r for r in rules if r["name"].endswith("db-from-cluster"))["dependencies"]


def test_prod_replicates_automated_backups_to_the_replica_region(registered: Registered) -> None:
    plan = registered("prod")
    replication = plan.one("aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication")
    assert provider_region(plan, replication) == "eu-central-1"
    assert replication["inputs"]["sourceDbInstanceArn"] == "arn:aws:rds:eu-west-1:123456789012:db:gitpod-prod-db"
    assert replication["inputs"]["kmsKeyId"].startswith("arn:aws:kms:eu-central-1:")
    assert replication["inputs"]["retentionPeriod"] == 14
    assert not registered("dev").by_type(replication["type"])


def test_password_comes_from_pulumi_random_and_stays_secret(registered: Registered) -> None:
    plan = registered("prod")
    password = plan.one("random:index/randomPassword:RandomPassword")
    assert password["inputs"]["length"] >= 32
    db = plan.one("aws:rds/instance:Instance")
    assert password["urn"] in db["dependencies"]
    assert "offline-" not in json.dumps(plan.document)


def test_buckets_are_private_versioned_encrypted_and_replicated_cross_region(registered: Registered) -> None:
    plan = registered("prod")
    # The access-log buckets (test_aws_cell_security.py) are checked on their own.
    buckets = {b["inputs"]["bucket"]: b for b in plan.by_type("aws:s3/bucket:Bucket")
               if not b["inputs"]["bucket"].endswith("-logs")}
    primary, replica = "gitpod-prod-123456789012-eu-west-1", "gitpod-prod-123456789012-eu-central-1"
    assert set(buckets) == {primary, replica}
    assert provider_region(plan, buckets[primary]) == "eu-west-1"
    assert provider_region(plan, buckets[replica]) == "eu-central-1"
    for bucket in (primary, replica):
        def sub(resource_type: str, name: str = bucket) -> dict:
            return next(r["inputs"] for r in plan.by_type(resource_type) if r["inputs"]["bucket"] == name)

        assert sub("aws:s3/bucketVersioning:BucketVersioning")["versioningConfiguration"]["status"] == "Enabled"
        sse = sub("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
        assert sse["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
        block = sub("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
        assert all(block[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                      "restrictPublicBuckets"))
        ownership = sub("aws:s3/bucketOwnershipControls:BucketOwnershipControls")
        assert ownership["rule"]["objectOwnership"] == "BucketOwnerEnforced"
        policy = json.loads(sub("aws:s3/bucketPolicy:BucketPolicy")["policy"])
        assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert policy["Statement"][0]["Effect"] == "Deny"
        lifecycle = sub("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
        for rule in lifecycle["rules"]:
            assert "expiration" not in rule, "current objects must never expire"
            assert rule["noncurrentVersionExpiration"]["noncurrentDays"] == 30
    replication = plan.one("aws:s3/bucketReplicationConfig:BucketReplicationConfig",
                           "gitpod-prod-replication")["inputs"]
    assert replication["bucket"] == primary
    assert replication["rules"][0]["destination"]["bucket"] == f"arn:aws:s3:::{replica}"
    assert replication["rules"][0]["status"] == "Enabled"
    assert replication["role"].startswith("arn:aws:iam::")


def test_registry_scans_on_push_with_kms(registered: Registered) -> None:
    repositories = registered("prod").by_type("aws:ecr/repository:Repository")
    assert {r["inputs"]["name"] for r in repositories} == {"gitpod-prod/base-images", "gitpod-prod/workspace-images"}
    for repository in repositories:
        assert repository["inputs"]["imageScanningConfiguration"]["scanOnPush"] is True
        assert repository["inputs"]["encryptionConfigurations"][0]["encryptionType"] == "KMS"


def test_dns_zone_created_or_adopted(registered: Registered, stack_variant) -> None:
    assert registered("prod").one("aws:route53/zone:Zone")["inputs"]["name"] == "gitpod.example.com"
    # The same variant as test_aws_cell_security's adopted-zone test: one run per process.
    resources, outputs, _warnings = recorded_run(
        stack_variant("dev", {"gitpod-cell:dns": {"zoneId": "Z0123456789ABC"}}))
    assert not [r for r in resources if r["type"] == "aws:route53/zone:Zone"]
    assert outputs["dnsZoneId"] == "Z0123456789ABC"


def test_irsa_roles_trust_exactly_one_service_account(stack_variant: Callable[..., Any]) -> None:
    plan = keyless_prod(stack_variant)
    expected = {
        "cert-manager": "system:serviceaccount:cert-manager:cert-manager",
        "external-dns": "system:serviceaccount:external-dns:external-dns",
        "cluster-autoscaler": "system:serviceaccount:kube-system:cluster-autoscaler",
        "ebs-csi": "system:serviceaccount:kube-system:ebs-csi-controller-sa",
        "gitpod-content-service-storage": "system:serviceaccount:gitpod:content-service",
        "gitpod-ws-daemon-storage": "system:serviceaccount:gitpod:ws-daemon",
        "gitpod-ws-manager-mk2-storage": "system:serviceaccount:gitpod:ws-manager-mk2",
        "gitpod-image-builder-registry": "system:serviceaccount:gitpod:image-builder-mk3",
    }
    roles = {r["name"]: json.loads(r["inputs"]["assumeRolePolicy"]) for r in plan.by_type("aws:iam/role:Role")}
    for workload, subject in expected.items():
        trust = roles[f"gitpod-prod-variant-{workload}"]["Statement"]
        assert len(trust) == 1
        (condition,) = [v for k, v in trust[0]["Condition"]["StringEquals"].items() if k.endswith(":sub")]
        assert condition == subject
    for policy in plan.by_type("aws:iam/rolePolicy:RolePolicy"):
        for statement in json.loads(policy["inputs"]["policy"])["Statement"]:
            assert not ("*" in statement["Action"] and "*" in statement["Resource"])


def test_storage_roles_exist_only_on_keyless_builds_and_reach_only_the_cell_bucket(
        registered: Registered, stack_variant: Callable[..., Any]) -> None:
    assert not [r for r in registered("prod").by_type("aws:iam/role:Role") if r["name"].endswith("-storage")]
    plan = keyless_prod(stack_variant)
    policy = next(json.loads(p["inputs"]["policy"]) for p in plan.by_type("aws:iam/rolePolicy:RolePolicy")
                  if p["name"] == "gitpod-prod-variant-gitpod-ws-daemon-storage")
    resources = {r for s in policy["Statement"] for r in s["Resource"]}
    assert "arn:aws:s3:::gitpod-prod-variant-123456789012-eu-west-1/*" in resources
    assert not any(r == "*" for r in resources)


def test_prod_protects_and_retains_every_stateful_resource(registered: Registered) -> None:
    for stack, protected in (("prod", True), ("dev", False)):
        plan = registered(stack)
        stateful = [r for r in plan.resources if r["type"] in STATEFUL_TYPES]
        assert len(stateful) >= 8
        for resource in stateful:
            assert resource["options"]["protect"] is protected, resource["urn"]
            assert resource["options"]["retainOnDelete"] is True, resource["urn"]


def test_every_taggable_aws_resource_is_tagged_with_its_environment(registered: Registered) -> None:
    plan = registered("staging")
    tagged = [r for r in plan.resources if r["type"].startswith("aws:") and "tags" in r["inputs"]]
    assert len(tagged) > 40
    for resource in tagged:
        assert resource["inputs"]["tags"]["Environment"] == "staging", resource["urn"]
        assert resource["inputs"]["tags"]["Cell"] == "staging"


def test_components_follow_pulumi_style(registered: Registered) -> None:
    plan = registered("dev")
    components = [r for r in plan.resources if not r["custom"] and not r["type"].startswith("pulumi:")]
    assert components
    assert all(r["type"].startswith("gitpod-cell:") for r in components)
    urns = {r["urn"] for r in plan.resources}
    custom = [r for r in plan.resources if r["custom"]]
    assert all(r["parent"] in urns for r in custom), "every resource lives under a component"


def test_both_regional_providers_use_the_stacks_aws_profile(stack_variant) -> None:
    resources, _ = run_program(stack_variant("dev", {"aws:profile": "gitpod-dev-admin"}))
    providers = [r for r in resources if r["type"] == "pulumi:providers:aws"]
    # us-east-1: Route53's DNSSEC key and query logs live there whatever the cell's region.
    assert {p["inputs"]["region"] for p in providers} == {"eu-west-1", "eu-central-1", "us-east-1"}
    assert {p["inputs"].get("profile") for p in providers} == {"gitpod-dev-admin"}


def test_cell_never_lands_in_a_local_or_wavelength_zone(registered: Registered) -> None:
    # The offline plan's account has opted into a Local Zone (eu-west-1-lax-1a, which sorts first by name).
    for stack, zones in (("dev", ["eu-west-1a", "eu-west-1b"]), ("prod", ["eu-west-1a", "eu-west-1b", "eu-west-1c"])):
        subnets = registered(stack).by_type("aws:ec2/subnet:Subnet")
        assert sorted({s["inputs"]["availabilityZone"] for s in subnets}) == zones


def test_node_groups_come_before_the_addons_that_run_pods_and_after_networking(registered: Registered) -> None:
    plan = registered("prod")
    groups = {g["urn"] for g in plan.by_type("aws:eks/nodeGroup:NodeGroup")}
    addons = {a["inputs"]["addonName"]: a for a in plan.by_type("aws:eks/addon:Addon")}
    assert set(addons) == {"vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver"}
    for name in ("coredns", "aws-ebs-csi-driver"):
        assert groups <= set(addons[name]["dependencies"]), name
    for name in ("vpc-cni", "kube-proxy"):
        assert not groups & set(addons[name]["dependencies"]), name
        for group in plan.by_type("aws:eks/nodeGroup:NodeGroup"):
            assert addons[name]["urn"] in group["dependencies"]
    role_arn = addons["aws-ebs-csi-driver"]["inputs"]["serviceAccountRoleArn"]
    assert role_arn.startswith("arn:aws:iam::123456789012:role/gitpod-prod-ebs-csi-")


def test_platform_cluster_ready_holds_node_groups_and_addons() -> None:
    from unittest import mock

    from components import cells
    from ops.common.stackfile import load_stack

    platforms = []
    build = cells.build_platform

    def spy(config):
        platforms.append(build(config))
        return platforms[-1]

    with mock.patch.object(cells, "build_platform", spy):
        run_program(load_stack("dev"))
    (platform,) = platforms
    types = sorted(type(resource).__name__ for resource in platform.cluster.ready)
    assert types == ["Addon"] * 4 + ["NodeGroup"] * 3


def test_gitpod_workloads_wait_for_nodes(registered: Registered) -> None:
    plan = registered("prod")
    groups = {g["urn"] for g in plan.by_type("aws:eks/nodeGroup:NodeGroup")}
    coredns = next(a["urn"] for a in plan.by_type("aws:eks/addon:Addon") if a["inputs"]["addonName"] == "coredns")
    waiting = [r for r in plan.resources if r["type"].startswith("kubernetes:") and groups & set(r["dependencies"])]
    assert waiting
    assert all(coredns in r["dependencies"] for r in waiting)


def test_managed_addons_follow_the_clusters_kubernetes_version(registered: Registered, stack_variant) -> None:
    addons = {a["inputs"]["addonName"]: a["inputs"] for a in registered("prod").by_type("aws:eks/addon:Addon")}
    assert addons["kube-proxy"]["addonVersion"].startswith("v1.34.")
    assert all(a["addonVersion"].endswith(tuple(f"eksbuild.{n}" for n in range(1, 10))) for a in addons.values())
    resources, _ = run_program(stack_variant("dev", {"gitpod-cell:cluster.kubernetesVersion": "1.35"}))
    kube_proxy = next(r for r in resources if r["type"] == "aws:eks/addon:Addon"
                      and r["inputs"]["addonName"] == "kube-proxy")
    assert kube_proxy["inputs"]["addonVersion"].startswith("v1.35.")


def test_ebs_key_policy_names_no_role_that_may_not_exist(registered: Registered) -> None:
    plan = registered("prod")
    key = next(k for k in plan.by_type("aws:kms/key:Key") if k["name"] == "gitpod-prod-ebs")
    policy = json.loads(key["inputs"]["policy"])
    principals = json.dumps([s["Principal"] for s in policy["Statement"]])
    assert "AWSServiceRoleForAutoScaling" not in principals
    assert "aws-service-role" not in principals
    for statement in policy["Statement"]:
        if statement["Principal"] == {"AWS": "*"}:
            assert statement["Condition"]["StringEquals"] == {"kms:CallerAccount": "123456789012",
                                                              "kms:ViaService": "ec2.eu-west-1.amazonaws.com"}
    assert {s["Sid"] for s in policy["Statement"]} == {"AccountAdministers", "AccountUsesKeyThroughEc2",
                                                      "AccountGrantsForVolumesThroughEc2"}


def test_nodes_read_only_this_cells_repositories_in_the_account(registered: Registered) -> None:
    plan = registered("prod")
    scope = next(json.loads(p["inputs"]["policy"]) for p in plan.by_type("aws:iam/rolePolicy:RolePolicy")
                 if p["name"] == "gitpod-prod-node-registry-scope")
    (deny,) = scope["Statement"]
    assert deny["Effect"] == "Deny"
    assert "ecr:BatchGetImage" in deny["Action"]
    assert deny["Resource"] == ["arn:aws:ecr:*:123456789012:repository/*"]
    assert deny["Condition"] == {"StringNotEquals": {"aws:ResourceTag/Cell": "prod"}}
    for repository in plan.by_type("aws:ecr/repository:Repository"):
        assert repository["inputs"]["tags"]["Cell"] == "prod"


def test_service_roles_trust_only_this_account(registered: Registered) -> None:
    plan = registered("prod")
    roles = {r["name"]: json.loads(r["inputs"]["assumeRolePolicy"]) for r in plan.by_type("aws:iam/role:Role")}
    for name in ("gitpod-prod-flow-logs", "gitpod-prod-replication"):
        (statement,) = roles[name]["Statement"]
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}, name


def test_database_keeps_the_key_it_was_created_with(registered: Registered) -> None:
    db = registered("prod").one("aws:rds/instance:Instance")
    assert {"kmsKeyId", "performanceInsightsKmsKeyId"} <= set(db["options"]["ignoreChanges"])
    assert db["inputs"]["storageEncrypted"] is True
    assert db["inputs"]["kmsKeyId"].startswith("arn:aws:kms:")


def test_longest_accepted_stack_name_fits_every_derived_name(tmp_path) -> None:
    import yaml

    from components.config import MAX_STACK_NAME_LENGTH
    from ops.common.stackfile import STACKS_DIR, load_stack_file

    stack = "prod-" + "x" * (MAX_STACK_NAME_LENGTH["aws"] - len("prod-"))
    path = tmp_path / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump(yaml.safe_load((STACKS_DIR / "Pulumi.prod.yaml").read_text())))
    resources, _ = run_program(load_stack_file(path))
    for resource in resources:
        inputs, kind = resource["inputs"], resource["type"]
        if kind == "aws:iam/role:Role":  # auto-named: <name>-<7 hex>
            assert len(resource["name"]) + 8 <= 64, resource["name"]
        if kind == "kubernetes:batch/v1:Job" and "name" not in inputs.get("metadata", {}):  # <name>-<8 hex>
            assert len(resource["name"]) + 9 <= 63, resource["name"]
        if kind == "aws:s3/bucket:Bucket":
            assert len(inputs["bucket"].replace("eu-central-1", "ap-southeast-1")) <= 63, inputs["bucket"]
        if kind == "aws:rds/instance:Instance":
            assert len(inputs["identifier"]) <= 63
