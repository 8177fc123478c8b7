"""A complete, policy-clean production AWS cell as plan records: the baseline that mutation tests break."""

from __future__ import annotations

import json
from typing import Any

from tests.policies.k8s_objects import (
    ALL_HOOKS,
    container,
    installation_config_map,
    installer,
    installer_config_map,
)
from tests.policies.records import aws_tags, provider, resource

OIDC = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC"
ISSUER = "oidc.eks.eu-west-1.amazonaws.com/id/ABC"
KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1234"
FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
KEY_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Sid": "AccountAdministers", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
    "Action": "kms:*", "Resource": "*"}]})
SERVICES_LABELS = {f"gitpod.io/workload_{name}": "true" for name in ("meta", "ide", "workspace_services", "services")}


def _bucket_family(name: str, region_provider: dict[str, Any], algorithm: str = "aws:kms",
                   access_logs: str | None = None) -> list[dict[str, Any]]:
    bucket = resource("aws:s3/bucket:Bucket", name, {"bucket": name}, provider=region_provider, protect=True,
                      retain_on_delete=True)
    tls_only = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})
    sub = {"provider": region_provider, "dependencies": [bucket]}
    logging = [resource("aws:s3/bucketLogging:BucketLogging", f"{name}-logging", {
        "bucket": name, "targetBucket": access_logs, "targetPrefix": "s3-access/"}, **sub)] if access_logs else []
    key = {"kmsMasterKeyId": KEY_ARN} if algorithm != "AES256" else {}
    return [
        *logging,
        resource("aws:s3/bucketNotification:BucketNotification", f"{name}-events",
                 {"bucket": name, "eventbridge": True}, **sub),
        bucket,
        resource("aws:s3/bucketVersioning:BucketVersioning", f"{name}-versioning",
                 {"bucket": name, "versioningConfiguration": {"status": "Enabled"}}, **sub),
        resource("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                 f"{name}-sse", {"bucket": name, "rules": [{"applyServerSideEncryptionByDefault": {
                     "sseAlgorithm": algorithm, **key}, "bucketKeyEnabled": True}]}, **sub),
        resource("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", f"{name}-pab",
                 {"bucket": name, **dict.fromkeys(FLAGS, True)}, **sub),
        resource("aws:s3/bucketOwnershipControls:BucketOwnershipControls", f"{name}-ownership",
                 {"bucket": name, "rule": {"objectOwnership": "BucketOwnerEnforced"}}, **sub),
        resource("aws:s3/bucketPolicy:BucketPolicy", f"{name}-policy", {"bucket": name, "policy": tls_only}, **sub),
    ]


def aws_prod_cell() -> list[dict[str, Any]]:
    tags = json.dumps({"tags": aws_tags("prod", "eu1")})
    primary = provider("primary", region="eu-west-1", defaultTags=tags)
    replica = provider("replica", region="eu-central-1", defaultTags=tags)
    cluster = provider("cluster", package="kubernetes")
    on_primary = {"provider": primary}

    vpc = resource("aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": "10.0.0.0/16"}, **on_primary)
    lb_group = resource("aws:ec2/securityGroup:SecurityGroup", "lb", {"vpcId": "vpc-1",
                        "tags": {"Role": "load-balancer"}}, **on_primary)
    network = [
        vpc,
        resource("aws:ec2/subnet:Subnet", "private-a", {"vpcId": "vpc-1", "mapPublicIpOnLaunch": False},
                 dependencies=[vpc], **on_primary),
        resource("aws:ec2/flowLog:FlowLog", "flow", {"vpcId": "vpc-1", "trafficType": "ALL"},
                 dependencies=[vpc], **on_primary),
        resource("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "default", {"vpcId": "vpc-1"},
                 **on_primary),
        lb_group,
        resource("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "lb-https", {
            "securityGroupId": "sg-1", "cidrIpv4": "0.0.0.0/0", "ipProtocol": "tcp", "fromPort": 443,
            "toPort": 443}, dependencies=[lb_group], **on_primary),
    ]
    key = resource("aws:kms/key:Key", "cell", {"enableKeyRotation": True, "policy": KEY_POLICY}, protect=True,
                   **on_primary)
    template = resource("aws:ec2/launchTemplate:LaunchTemplate", "nodes", {
        "metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 1},
        "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "volumeType": "gp3",
                                                                    "kmsKeyId": KEY_ARN}}]}, **on_primary)

    def node_group(name: str, labels: dict[str, str]) -> dict[str, Any]:
        return resource("aws:eks/nodeGroup:NodeGroup", name, {
            "labels": labels, "scalingConfig": {"minSize": 1, "maxSize": 3, "desiredSize": 1},
            "launchTemplate": {"id": "lt-1", "version": "1"}, "nodeRepairConfig": {"enabled": True}},
            **on_primary)

    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": OIDC}, "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{ISSUER}:sub": "system:serviceaccount:gitpod:registry-facade",
                                       f"{ISSUER}:aud": "sts.amazonaws.com"}}}]})
    eks = resource("aws:eks/cluster:Cluster", "eks", {
            "version": "1.35",
            "vpcConfig": {"endpointPrivateAccess": True, "endpointPublicAccess": False},
            "accessConfig": {"authenticationMode": "API"},
            "encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": KEY_ARN}},
            "enabledClusterLogTypes": ["api", "audit", "authenticator", "controllerManager", "scheduler"]},
            **on_primary)
    cluster_parts = [
        key,
        eks,
        template,
        node_group("services", SERVICES_LABELS),
        node_group("regular-workspaces", {"gitpod.io/workload_workspace_regular": "true"}),
        node_group("headless-workspaces", {"gitpod.io/workload_workspace_headless": "true"}),
        resource("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "oidc", {
            "url": f"https://{ISSUER}", "clientIdLists": ["sts.amazonaws.com"]}, dependencies=[eks], **on_primary),
        resource("aws:iam/role:Role", "registry-facade", {"assumeRolePolicy": trust}, **on_primary),
        resource("aws:iam/rolePolicy:RolePolicy", "registry-facade", {"policy": json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"],
                                                    "Resource": "*"}]})}, **on_primary),
        resource("aws:cloudwatch/logGroup:LogGroup", "eks", {"retentionInDays": 365, "kmsKeyId": KEY_ARN},
                 **on_primary),
    ]
    parameters = resource("aws:rds/parameterGroup:ParameterGroup", "mysql", {
        "name": "eu1-mysql", "family": "mysql8.0", "parameters": [
            {"name": "explicit_defaults_for_timestamp", "value": "0"},
            {"name": "require_secure_transport", "value": "1"}]}, **on_primary)
    database = resource("aws:rds/instance:Instance", "db", {
        "identifier": "eu1-db", "engine": "mysql", "engineVersion": "8.0", "backupRetentionPeriod": 14,
        "deletionProtection": True, "skipFinalSnapshot": False, "finalSnapshotIdentifier": "eu1-db-final",
        "copyTagsToSnapshot": True, "multiAz": True, "publiclyAccessible": False, "storageEncrypted": True,
        "kmsKeyId": KEY_ARN, "parameterGroupName": "eu1-mysql", "iamDatabaseAuthenticationEnabled": True,
        "monitoringInterval": 60, "monitoringRoleArn": "arn:aws:iam::123456789012:role/monitoring",
        "performanceInsightsEnabled": True, "performanceInsightsKmsKeyId": KEY_ARN,
        "enabledCloudwatchLogsExports": ["error", "slowquery"],
        "password": "[secret]"}, dependencies=[parameters], protect=True, retain_on_delete=True, **on_primary)
    database_parts = [
        parameters,
        database,
        resource("aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication", "db-backups",
                 {"sourceDbInstanceArn": "arn:aws:rds:eu-west-1:123456789012:db:eu1-db", "retentionPeriod": 14},
                 provider=replica, dependencies=[database]),
    ]
    zone = resource("aws:route53/zone:Zone", "zone", {"name": "eu1.gitpod.example.com"}, protect=True, **on_primary)
    storage = [
        *_bucket_family("eu1-workspaces", primary, access_logs="eu1-logs"),
        *_bucket_family("eu1-workspaces-replica", replica, access_logs="eu1-logs-replica"),
        *_bucket_family("eu1-logs", primary, algorithm="AES256"),
        *_bucket_family("eu1-logs-replica", replica, algorithm="AES256"),
        resource("aws:s3/bucketReplicationConfig:BucketReplicationConfig", "eu1-logs-replication", {
            "bucket": "eu1-logs", "role": "arn:aws:iam::123456789012:role/log-replication",
            "rules": [{"id": "all", "status": "Enabled", "destination": {
                "bucket": "arn:aws:s3:::eu1-logs-replica"}}]}, **on_primary),
        resource("aws:s3/bucketReplicationConfig:BucketReplicationConfig", "eu1-workspaces-replication", {
            "bucket": "eu1-workspaces", "role": "arn:aws:iam::123456789012:role/replication",
            "rules": [{"id": "all", "status": "Enabled", "destination": {
                "bucket": "arn:aws:s3:::eu1-workspaces-replica"}}]}, **on_primary),
        resource("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "eu1-workspaces-lifecycle", {
            "bucket": "eu1-workspaces", "rules": [{"id": "old-versions", "status": "Enabled",
                                                   "noncurrentVersionExpiration": {"noncurrentDays": 30}}]},
            **on_primary),
        resource("aws:ecr/repository:Repository", "registry", {
            "name": "eu1/tools", "imageTagMutability": "IMMUTABLE", "imageScanningConfiguration": {"scanOnPush": True},
            "encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": KEY_ARN}]}, protect=True, **on_primary),
        zone,
        resource("aws:route53/keySigningKey:KeySigningKey", "ksk", {
            "hostedZoneId": "Z1", "status": "ACTIVE", "keyManagementServiceArn": KEY_ARN}, dependencies=[zone]),
        resource("aws:route53/hostedZoneDnsSec:HostedZoneDnsSec", "dnssec", {
            "hostedZoneId": "Z1", "signingStatus": "SIGNING"}, dependencies=[zone]),
        resource("aws:route53/queryLog:QueryLog", "queries", {
            "zoneId": "Z1", "cloudwatchLogGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:/aws/route53/x"},
            dependencies=[zone]),
    ]
    on_cluster = {"provider": cluster}
    kubernetes = [
        resource("kubernetes:core/v1:Namespace", "gitpod", {"metadata": {"name": "gitpod"}}, **on_cluster),
        resource("kubernetes:core/v1:Secret", "database", {"metadata": {"name": "database", "namespace": "gitpod"},
                                                           "stringData": {"password": "[secret]"}}, **on_cluster),
        resource("kubernetes:core/v1:ServiceAccount", "installer",
                 {"metadata": {"name": "installer", "namespace": "gitpod"}}, **on_cluster),
        resource("kubernetes:helm.sh/v3:Release", "cert-manager", {
            "chart": "cert-manager", "version": "v1.16.1", "namespace": "cert-manager",
            "repositoryOpts": {"repo": "https://charts.jetstack.io"}}, **on_cluster),
        resource("kubernetes:cert-manager.io/v1:ClusterIssuer", "letsencrypt", {"metadata": {"name": "le"}},
                 **on_cluster),
        resource("kubernetes:cert-manager.io/v1:Certificate", "https", {
            "metadata": {"name": "https-certificates", "namespace": "gitpod"}}, **on_cluster),
        installation_config_map(),
        installer_config_map(),
        installer(container(env=[{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {
            "name": "database", "key": "password"}}}]), hooks=ALL_HOOKS),
    ]
    return [primary, replica, cluster, *network, *cluster_parts, *database_parts, *storage, *kubernetes]


def gcp_prod_cell() -> list[dict[str, Any]]:
    from tests.policies.records import gcp_labels

    google = provider("google", package="gcp", project="p", region="europe-west1",
                      defaultLabels=json.dumps(gcp_labels("prod", "eu1")))
    on_google = {"provider": google, "protect": True}
    key_name = "projects/p/locations/europe-west1/keyRings/eu1/cryptoKeys/cell"
    pool_config = {"shieldedInstanceConfig": {"enableSecureBoot": True},
                   "workloadMetadataConfig": {"mode": "GKE_METADATA"},
                   "serviceAccount": "eu1-nodes@p.iam.gserviceaccount.com"}
    return [
        google,
        resource("gcp:kms/cryptoKey:CryptoKey", "cell", {"keyRing": "eu1", "rotationPeriod": "7776000s"},
                 **on_google),
        resource("gcp:sql/databaseInstance:DatabaseInstance", "db", {
            "databaseVersion": "MYSQL_8_0", "encryptionKeyName": key_name, "settings": {
                "availabilityType": "REGIONAL", "deletionProtectionEnabled": True, "retainBackupsOnDelete": True,
                "backupConfiguration": {"enabled": True, "binaryLogEnabled": True,
                                        "backupRetentionSettings": {"retainedBackups": 14}},
                "ipConfiguration": {"ipv4Enabled": False, "privateNetwork": "projects/p/global/networks/eu1",
                                    "sslMode": "ENCRYPTED_ONLY"},
                "databaseFlags": [{"name": "explicit_defaults_for_timestamp", "value": "off"}]}}, **on_google),
        resource("gcp:container/cluster:Cluster", "gke", {
            "privateClusterConfig": {"enablePrivateNodes": True},
            "masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "203.0.113.0/24"}]},
            "databaseEncryption": {"state": "ENCRYPTED", "keyName": key_name},
            "releaseChannel": {"channel": "STABLE"}, "workloadIdentityConfig": {"workloadPool": "p.svc.id.goog"},
            "datapathProvider": "ADVANCED_DATAPATH", "location": "europe-west1", "enableIntranodeVisibility": True,
            "binaryAuthorization": {"evaluationMode": "PROJECT_SINGLETON_POLICY_ENFORCE"},
            "authenticatorGroupsConfig": {"securityGroup": "gke-security-groups@example.com"}}, provider=google),
        resource("gcp:container/nodePool:NodePool", "services", {"nodeConfig": {
            **pool_config, "labels": SERVICES_LABELS}}, provider=google),
        resource("gcp:container/nodePool:NodePool", "workspaces", {"nodeConfig": {**pool_config, "labels": {
            "gitpod.io/workload_workspace_regular": "true", "gitpod.io/workload_workspace_headless": "true"}}},
            provider=google),
        resource("gcp:storage/bucket:Bucket", "workspaces", {
            "name": "eu1-workspaces", "location": "EU", "versioning": {"enabled": True},
            "publicAccessPrevention": "enforced", "uniformBucketLevelAccess": True,
            "logging": {"logBucket": "eu1-logs"}}, **on_google),
        resource("gcp:storage/bucket:Bucket", "logs", {
            "name": "eu1-logs", "location": "EU", "versioning": {"enabled": True},
            "publicAccessPrevention": "enforced", "uniformBucketLevelAccess": True,
            "lifecycleRules": [{"action": {"type": "Delete"}, "condition": {"age": 365}}]}, **on_google),
        resource("gcp:artifactregistry/repository:Repository", "registry", {"format": "DOCKER",
                                                                            "kmsKeyName": key_name}, **on_google),
        resource("gcp:serviceaccount/iAMMember:IAMMember", "registry-facade", {
            "role": "roles/iam.workloadIdentityUser",
            "member": "serviceAccount:p.svc.id.goog[gitpod/registry-facade]"}, provider=google),
    ]
