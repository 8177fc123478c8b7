"""Resource type tokens the rules match on (pulumi-aws 7, pulumi-gcp 10, pulumi-kubernetes 4)."""

from __future__ import annotations

# AWS
RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup"
RDS_BACKUP_REPLICATION = "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"
S3_BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
S3_VERSIONING = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")
S3_ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
S3_PUBLIC_ACCESS_BLOCK = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
S3_OWNERSHIP_CONTROLS = ("aws:s3/bucketOwnershipControls:BucketOwnershipControls",)
S3_POLICY = ("aws:s3/bucketPolicy:BucketPolicy",)
S3_REPLICATION = ("aws:s3/bucketReplicationConfig:BucketReplicationConfig",)
S3_LOGGING = ("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2")
S3_NOTIFICATION = ("aws:s3/bucketNotification:BucketNotification",)
S3_LIFECYCLE = (
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
)
VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
EKS_CLUSTER = "aws:eks/cluster:Cluster"
EKS_NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
IAM_ROLE = "aws:iam/role:Role"
IAM_POLICY_HOLDERS = {
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/policy:Policy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
}
# Managed-policy attachments: resource type -> the input holding the policy ARN (or a list of ARNs).
IAM_POLICY_ATTACHMENTS = {
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "policyArn",
    "aws:iam/policyAttachment:PolicyAttachment": "policyArn",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": "policyArn",
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": "policyArns",
}
IAM_USER_TYPES = (
    "aws:iam/user:User",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/userLoginProfile:UserLoginProfile",
    "aws:iam/userGroupMembership:UserGroupMembership",
)
IAM_ACCESS_KEY = "aws:iam/accessKey:AccessKey"
ECR_REPOSITORY = "aws:ecr/repository:Repository"
KMS_KEY = "aws:kms/key:Key"
ROUTE53_ZONE = "aws:route53/zone:Zone"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ROUTE53_KEY_SIGNING_KEY = "aws:route53/keySigningKey:KeySigningKey"
ROUTE53_DNSSEC = "aws:route53/hostedZoneDnsSec:HostedZoneDnsSec"
ROUTE53_QUERY_LOG = "aws:route53/queryLog:QueryLog"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
ROUTE_TABLE_ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
RDS_SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
EKS_ADDON = "aws:eks/addon:Addon"
OIDC_PROVIDER = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"

# GCP
SQL_INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"
GKE_CLUSTER = "gcp:container/cluster:Cluster"
GKE_NODE_POOL = "gcp:container/nodePool:NodePool"
GCS_BUCKET = "gcp:storage/bucket:Bucket"
SERVICE_ACCOUNT_KEY = "gcp:serviceaccount/key:Key"
SERVICE_ACCOUNT_IAM_MEMBER = "gcp:serviceaccount/iAMMember:IAMMember"
SERVICE_ACCOUNT_IAM_BINDING = "gcp:serviceaccount/iAMBinding:IAMBinding"
# IAM grants by shape: one member (`role`, `member`), one role's members (`role`, `members`), or a whole policy
# (`policyData`, a JSON `{"bindings": [{"role", "members"}]}`), on every scope basic roles can be granted at.
GCP_IAM_MEMBERS = (
    "gcp:projects/iAMMember:IAMMember",
    "gcp:folder/iAMMember:IAMMember",
    "gcp:organizations/iAMMember:IAMMember",
    SERVICE_ACCOUNT_IAM_MEMBER,
    "gcp:storage/bucketIAMMember:BucketIAMMember",
)
GCP_IAM_BINDINGS = (
    "gcp:projects/iAMBinding:IAMBinding",
    "gcp:folder/iAMBinding:IAMBinding",
    "gcp:organizations/iAMBinding:IAMBinding",
    SERVICE_ACCOUNT_IAM_BINDING,
    "gcp:storage/bucketIAMBinding:BucketIAMBinding",
)
GCP_IAM_POLICIES = (
    "gcp:projects/iAMPolicy:IAMPolicy",
    "gcp:folder/iAMPolicy:IAMPolicy",
    "gcp:organizations/iAMPolicy:IAMPolicy",
    "gcp:serviceaccount/iAMPolicy:IAMPolicy",
    "gcp:storage/bucketIAMPolicy:BucketIAMPolicy",
)
ARTIFACT_REPOSITORY = "gcp:artifactregistry/repository:Repository"
KMS_CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
DNS_MANAGED_ZONE = "gcp:dns/managedZone:ManagedZone"
GCP_NETWORK = "gcp:compute/network:Network"
GCP_SUBNETWORK = "gcp:compute/subnetwork:Subnetwork"
GCP_FIREWALL = "gcp:compute/firewall:Firewall"
BINARY_AUTHORIZATION_POLICY = "gcp:binaryauthorization/policy:Policy"

# Resources whose loss loses data or identity: protected in production.
STATEFUL_TYPES = (
    RDS_INSTANCE,
    *S3_BUCKETS,
    ECR_REPOSITORY,
    ROUTE53_ZONE,
    KMS_KEY,
    SQL_INSTANCE,
    GCS_BUCKET,
    ARTIFACT_REPOSITORY,
    KMS_CRYPTO_KEY,
    DNS_MANAGED_ZONE,
)

# AWS types the cell creates that accept tags.
AWS_TAGGABLE_TYPES = (
    VPC,
    SUBNET,
    "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/natGateway:NatGateway",
    "aws:ec2/eip:Eip",
    "aws:ec2/routeTable:RouteTable",
    FLOW_LOG,
    SECURITY_GROUP,
    SECURITY_GROUP_INGRESS_RULE,
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    DEFAULT_SECURITY_GROUP,
    EKS_CLUSTER,
    EKS_NODE_GROUP,
    LAUNCH_TEMPLATE,
    IAM_ROLE,
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
    RDS_INSTANCE,
    RDS_PARAMETER_GROUP,
    "aws:rds/subnetGroup:SubnetGroup",
    *S3_BUCKETS,
    ECR_REPOSITORY,
    KMS_KEY,
    ROUTE53_ZONE,
    LOG_GROUP,
)
