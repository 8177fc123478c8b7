"""CloudWatch Logs of the cell: every log group is created by the cell (never left to the service that writes it,
which would create it unencrypted and kept forever), encrypted with the region's logs key, with a retention."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
from pulumi_aws import cloudwatch, kms

from components.aws.key_policies import logs_key_policy
from components.aws.kms import encryption_key
from components.component import child

# RDS exports these MySQL logs (components/aws/database.py).
RDS_LOG_EXPORTS: tuple[str, ...] = ("error", "slowquery")


def flow_logs_group(name: str) -> str:
    return f"/gitpod-cell/{name}/vpc-flow-logs"


def control_plane_group(cluster_name: str) -> str:
    # EKS writes here and nowhere else; the name is fixed by EKS.
    return f"/aws/eks/{cluster_name}/cluster"


def rds_export_group(instance_identifier: str, log: str) -> str:
    # RDS writes exports here and nowhere else; the name is fixed by RDS.
    return f"/aws/rds/instance/{instance_identifier}/{log}"


def query_log_group(domain: str) -> str:
    # Route53's documented convention; any name under /aws/route53/ matches the cell's resource policy.
    return f"/aws/route53/{domain}"


def primary_region_groups(prefix: str, database_identifier: str) -> list[str]:
    """The log groups the cell keeps in its primary region."""
    return [flow_logs_group(prefix), control_plane_group(prefix),
            *(rds_export_group(database_identifier, log) for log in RDS_LOG_EXPORTS)]


def logs_key(name: str, region: str, account_id: pulumi.Input[str], group_names: Sequence[str],
             parent: pulumi.Resource, tags: Mapping[str, str], protect: bool,
             provider: pulumi.ProviderResource) -> kms.Key:
    """The key CloudWatch Logs encrypts `group_names` with, in `region`; no other log group may use it."""
    return encryption_key(
        name, f"CloudWatch Logs of {name} in {region}", parent, tags, protect, provider=provider,
        policy=pulumi.Output.from_input(account_id).apply(lambda account: logs_key_policy(account, region,
                                                                                          group_names)),
    )


def encrypted_log_group(resource_name: str, group_name: str, retention_days: int, key_arn: pulumi.Input[str],
                        tags: Mapping[str, str], parent: pulumi.Resource,
                        provider: pulumi.ProviderResource | None = None) -> cloudwatch.LogGroup:
    return cloudwatch.LogGroup(
        resource_name,
        name=group_name,
        retention_in_days=retention_days,
        kms_key_id=key_arn,
        tags=dict(tags),
        opts=child(parent, provider=provider) if provider is not None else child(parent),
    )
