"""Break one promise at a time in the shipped prod and prod-gcp plans: the pack must name the promise's rule.

The plans are the real program's (ops.plan.runner under the mock engine); each mutation edits their records the
way a careless change to a component would.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable
from typing import Any

import pytest

from policies.offline import evaluate

Records = list[dict[str, Any]]
Mutation = Callable[[Records], None]


@functools.cache
def shipped(stack: str) -> tuple[dict[str, Any], ...]:
    from ops.common.stackfile import load_stack
    from tests.conftest import recorded_run

    resources, _outputs, _warnings = recorded_run(load_stack(stack))  # the run `registered` shares
    return tuple(resources)


def drop(resource_type: str, where: Callable[[dict], bool] = lambda r: True) -> Mutation:
    def mutate(records: Records) -> None:
        records[:] = [r for r in records if not (r["type"] == resource_type and where(r))]
    return mutate


def set_input(resource_type: str, path: str, value: Any, where: Callable[[dict], bool] = lambda r: True) -> Mutation:
    def mutate(records: Records) -> None:
        for record in records:
            if record["type"] == resource_type and where(record):
                target = record["inputs"]
                *parents, leaf = path.split(".")
                for key in parents:
                    target = target.setdefault(key, {})
                target[leaf] = value
    return mutate


def widen_external_dns(records: Records) -> None:
    for record in records:
        if record["type"] == "aws:iam/rolePolicy:RolePolicy" and record["name"].endswith("-external-dns"):
            document = json.loads(record["inputs"]["policy"])
            document["Statement"][0]["Resource"] = ["*"]
            record["inputs"]["policy"] = json.dumps(document)


def nodes_into_public_subnets(records: Records) -> None:
    public = next(r["inputs"]["subnetId"] for r in records
                  if r["type"] == "aws:ec2/routeTableAssociation:RouteTableAssociation" and "-public-" in r["name"])
    set_input("aws:eks/nodeGroup:NodeGroup", "subnetIds", [public])(records)


def route_database_subnet_out(records: Records) -> None:
    database = next(r for r in records if r["type"] == "aws:rds/subnetGroup:SubnetGroup")["inputs"]["subnetIds"][0]
    association = next(r for r in records if r["type"] == "aws:ec2/routeTableAssociation:RouteTableAssociation"
                       and "-private-" in r["name"])
    association["inputs"]["subnetId"] = database


def staging_ca(records: Records) -> None:
    set_input("kubernetes:cert-manager.io/v1:ClusterIssuer", "spec.acme.server",
              "https://acme-staging-v02.api.letsencrypt.org/directory")(records)


CLUSTER, NODE_POOL = "gcp:container/cluster:Cluster", "gcp:container/nodePool:NodePool"
BUCKET = "gcp:storage/bucket:Bucket"
CASES: list[tuple[str, str, Mutation, str]] = [
    ("prod", "no DNSSEC signing", drop("aws:route53/hostedZoneDnsSec:HostedZoneDnsSec"), "aws-route53-dnssec"),
    ("prod", "no key-signing key", drop("aws:route53/keySigningKey:KeySigningKey"), "aws-route53-dnssec"),
    ("prod", "no query logging", drop("aws:route53/queryLog:QueryLog"), "aws-route53-query-logging"),
    ("prod", "unencrypted log groups", set_input("aws:cloudwatch/logGroup:LogGroup", "kmsKeyId", None),
     "aws-log-group-kms"),
    ("prod", "90-day logs in prod", set_input("aws:cloudwatch/logGroup:LogGroup", "retentionInDays", 90),
     "aws-log-group-retention-prod"),
    ("prod", "public endpoint without opt-in",
     set_input("aws:eks/cluster:Cluster", "vpcConfig.endpointPublicAccess", True), "aws-eks-public-endpoint-prod"),
    ("prod", "no OIDC provider", drop("aws:iam/openIdConnectProvider:OpenIdConnectProvider"), "aws-eks-irsa-oidc"),
    ("prod", "aws-auth ConfigMap", set_input("aws:eks/cluster:Cluster", "accessConfig.authenticationMode",
                                             "API_AND_CONFIG_MAP"), "aws-eks-api-authentication"),
    ("prod", "EBS CSI on the node role", set_input("aws:eks/addon:Addon", "serviceAccountRoleArn", None),
     "aws-eks-ebs-csi-irsa"),
    ("prod", "no enhanced monitoring", set_input("aws:rds/instance:Instance", "monitoringInterval", 0),
     "aws-rds-enhanced-monitoring"),
    ("prod", "no Performance Insights", set_input("aws:rds/instance:Instance", "performanceInsightsEnabled", False),
     "aws-rds-performance-insights"),
    ("prod", "no log exports", set_input("aws:rds/instance:Instance", "enabledCloudwatchLogsExports", []),
     "aws-rds-log-exports"),
    ("prod", "no access logging", drop("aws:s3/bucketLogging:BucketLogging"), "aws-s3-access-logging"),
    ("prod", "no event notifications", drop("aws:s3/bucketNotification:BucketNotification"),
     "aws-s3-event-notifications"),
    ("prod", "default key policy",
     set_input("aws:kms/key:Key", "policy", None, lambda r: r["name"].endswith("-db")), "aws-kms-key-policy"),
    ("prod", "another mutable repository", set_input("aws:ecr/repository:Repository", "name", "gitpod-prod/tools"),
     "aws-ecr-immutable-tags"),
    ("prod", "SSE-S3 on the data bucket", set_input(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "rules",
        [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}],
        lambda r: r["name"] == "gitpod-prod-primary"), "aws-s3-kms-encryption"),
    ("prod", "external-dns on every zone", widen_external_dns, "aws-iam-wildcard-resource-unscopable-only"),
    ("prod", "nodes in public subnets", nodes_into_public_subnets, "aws-nodes-private-subnets"),
    ("prod", "database subnet routed out", route_database_subnet_out, "aws-database-subnets-no-route-out"),
    ("prod", "staging CA in prod", staging_ca, "gitpod-tls-certificate"),
    ("prod", "no certificate", drop("kubernetes:cert-manager.io/v1:Certificate"), "gitpod-tls-certificate"),
    ("prod-gcp", "legacy ABAC", set_input(CLUSTER, "enableLegacyAbac", True), "gcp-gke-no-legacy-abac"),
    ("prod-gcp", "client certificate", set_input(
        CLUSTER, "masterAuth.clientCertificateConfig.issueClientCertificate", True), "gcp-gke-no-client-certificate"),
    ("prod-gcp", "no intranode visibility", set_input(CLUSTER, "enableIntranodeVisibility", False),
     "gcp-gke-intranode-visibility"),
    ("prod-gcp", "zonal prod cluster", set_input(CLUSTER, "location", "europe-west1-b"), "gcp-gke-regional-prod"),
    ("prod-gcp", "no Binary Authorization", set_input(CLUSTER, "binaryAuthorization", None),
     "gcp-gke-binary-authorization"),
    ("prod-gcp", "admit every image", set_input("gcp:binaryauthorization/policy:Policy",
                                                "defaultAdmissionRule.evaluationMode", "ALWAYS_ALLOW"),
     "gcp-binary-authorization-allowlist"),
    ("prod-gcp", "no Google Groups", set_input(CLUSTER, "authenticatorGroupsConfig", None),
     "gcp-gke-google-groups-rbac"),
    ("prod-gcp", "no default deny", drop("gcp:compute/firewall:Firewall", lambda r: "deny" in r["name"]),
     "gcp-vpc-firewall-default-deny"),
    ("prod-gcp", "health checks from anywhere", set_input("gcp:compute/firewall:Firewall", "sourceRanges",
                                                          ["0.0.0.0/0"], lambda r: "health" in r["name"]),
     "gcp-firewall-no-public-ingress"),
    ("prod-gcp", "no private Google access", set_input("gcp:compute/subnetwork:Subnetwork", "privateIpGoogleAccess",
                                                       False), "gcp-subnet-private-google-access"),
    ("prod-gcp", "no flow logs", set_input("gcp:compute/subnetwork:Subnetwork", "logConfig", None),
     "gcp-subnet-flow-logs"),
    ("prod-gcp", "auto-mode VPC", set_input("gcp:compute/network:Network", "autoCreateSubnetworks", True),
     "gcp-vpc-custom-mode"),
    ("prod-gcp", "no usage logs", set_input(BUCKET, "logging", None, lambda r: r["name"].endswith("-workspaces")),
     "gcp-storage-access-logging"),
    ("prod-gcp", "default node account", set_input(NODE_POOL, "nodeConfig.serviceAccount", None),
     "gcp-gke-node-service-account"),
    ("prod-gcp", "unsigned zone", set_input("gcp:dns/managedZone:ManagedZone", "dnssecConfig.state", "off"),
     "gcp-dns-dnssec"),
    ("prod-gcp", "tagged images cleaned up", set_input(
        "gcp:artifactregistry/repository:Repository", "cleanupPolicies",
        [{"id": "all", "action": "DELETE", "condition": {"tagState": "ANY"}}]), "gcp-artifact-registry-keep-tagged"),
]


@pytest.mark.parametrize("stack", ["prod", "prod-gcp"])
def test_shipped_plan_is_clean(stack: str) -> None:
    assert evaluate(list(copy.deepcopy(shipped(stack))))["violations"] == []


@pytest.mark.parametrize(("stack", "change", "mutate", "rule"), CASES, ids=[case[1] for case in CASES])
def test_breaking_a_promise_fails_its_rule(stack: str, change: str, mutate: Mutation, rule: str) -> None:
    records = list(copy.deepcopy(shipped(stack)))
    before = {v["policy"] for v in evaluate(records)["violations"]}
    assert rule not in before
    mutate(records)
    assert rule in {v["policy"] for v in evaluate(records)["violations"]}, change
