"""KMS key policies, one per key: the account root administers it, and only the principals and AWS services that
use the key appear beside it. Pure functions over resolved ARNs, so tests read the documents directly.

Two ways a user is named, and why:
- A service principal (`logs.<region>.amazonaws.com`, `dnssec-route53.amazonaws.com`) where the service itself
  calls KMS, pinned to this account and (where the service sends one) the resource it acts for.
- `kms:ViaService` + `kms:CallerAccount` where a service calls KMS on behalf of the caller (RDS, S3, ECR, EC2):
  the key is usable only through that service in that region, by principals of this account, as the AWS-managed
  `aws/<service>` keys are. Naming those callers instead would tie each key to roles that do not exist yet when
  the key must (RDS and ECR need the key at creation) or that the service creates itself (EC2 Auto Scaling's
  service-linked role).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from components.aws.policy_documents import Statement, document

USE = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]


def administered_by_account(account_id: str) -> Statement:
    """IAM policies of this account may grant the key (the default key policy's root statement); without it a
    key whose other statements went wrong could never be managed again."""
    return {"Sid": "AccountAdministers", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
            "Action": "kms:*", "Resource": "*"}


def _key_policy(account_id: str, statements: Sequence[Statement]) -> str:
    return document([administered_by_account(account_id), *statements])


def via_service(account_id: str, service: str, region: str, grants: bool = True) -> list[Statement]:
    """Principals of this account may use the key only through `service` in `region`; with `grants`, the service
    may also create grants for its own resources (RDS, EBS and ECR keep one per volume, instance or repository)."""
    condition = {"kms:CallerAccount": account_id, "kms:ViaService": f"{service}.{region}.amazonaws.com"}
    sid = "".join(part.capitalize() for part in service.split("-"))
    statements: list[Statement] = [
        {"Sid": f"AccountUsesKeyThrough{sid}", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": USE,
         "Resource": "*", "Condition": {"StringEquals": condition}},
    ]
    if grants:
        statements.append({
            "Sid": f"{sid}GrantsForItsResources", "Effect": "Allow", "Principal": {"AWS": "*"},
            "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"], "Resource": "*",
            "Condition": {"StringEquals": condition, "Bool": {"kms:GrantIsForAWSResource": "true"}},
        })
    return statements


def service_key_policy(account_id: str, service: str, region: str, grants: bool = True) -> str:
    return _key_policy(account_id, via_service(account_id, service, region, grants))


def eks_secrets_key_policy(account_id: str, cluster_role_arn: str) -> str:
    """The EKS cluster role encrypts and decrypts Kubernetes secrets (envelope encryption) and creates the grant
    EKS keeps for the cluster; nobody else uses the key."""
    return _key_policy(account_id, [
        {"Sid": "ClusterRoleEncryptsSecrets", "Effect": "Allow", "Principal": {"AWS": cluster_role_arn},
         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"], "Resource": "*"},
        {"Sid": "ClusterRoleGrantsForEks", "Effect": "Allow", "Principal": {"AWS": cluster_role_arn},
         "Action": ["kms:CreateGrant", "kms:ListGrants"], "Resource": "*",
         "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}},
    ])


def bucket_key_policy(account_id: str, region: str, replication_role_arn: str | None, replica: bool) -> str:
    """Gitpod's storage workloads use the key through S3 (their IRSA roles also name it); the replication role
    decrypts in the source region and encrypts in the replica region."""
    statements: list[Statement] = via_service(account_id, "s3", region, grants=False)
    if replication_role_arn is not None:
        actions = ["kms:Encrypt", "kms:GenerateDataKey"] if replica else ["kms:Decrypt"]
        statements.append({"Sid": "ReplicationRoleReplicates", "Effect": "Allow",
                           "Principal": {"AWS": replication_role_arn}, "Action": actions, "Resource": "*"})
    return _key_policy(account_id, statements)


def log_group_arn(region: str, account_id: str, name: str) -> str:
    return f"arn:aws:logs:{region}:{account_id}:log-group:{name}"


def logs_key_policy(account_id: str, region: str, log_group_names: Sequence[str]) -> str:
    """CloudWatch Logs encrypts and decrypts these log groups' events, and only theirs: the encryption context
    names the log group (AWS's documented key policy for log group encryption)."""
    groups = [log_group_arn(region, account_id, name) for name in log_group_names]
    return _key_policy(account_id, [{
        "Sid": "CloudWatchLogsEncryptsTheCellsLogGroups", "Effect": "Allow",
        "Principal": {"Service": f"logs.{region}.amazonaws.com"},
        "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        "Resource": "*",
        "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": groups}},
    }])


def dnssec_key_policy(account_id: str, zone_arn: str | None) -> str:
    """Route53 DNSSEC signs with the key (AWS's documented policy for a key-signing key), for this account's
    hosted zones; `zone_arn` pins it to the cell's zone."""
    source: dict[str, Any] = {"StringEquals": {"aws:SourceAccount": account_id}}
    if zone_arn is not None:
        source["ArnLike"] = {"aws:SourceArn": zone_arn}
    route53 = {"Service": "dnssec-route53.amazonaws.com"}
    return _key_policy(account_id, [
        {"Sid": "Route53DnssecSigns", "Effect": "Allow", "Principal": route53,
         "Action": ["kms:DescribeKey", "kms:GetPublicKey", "kms:Sign"], "Resource": "*", "Condition": source},
        {"Sid": "Route53DnssecGrantsForItself", "Effect": "Allow", "Principal": route53,
         "Action": "kms:CreateGrant", "Resource": "*",
         "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}},
    ])
