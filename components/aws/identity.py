"""IRSA: one IAM role per Kubernetes service account, trusted only by that service account, least privilege."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_aws import iam

from components.aws.policy_documents import Statement, document, service_account_trust
from components.platform import WorkloadIdentity

ROLE_ARN_ANNOTATION = "eks.amazonaws.com/role-arn"


@dataclass(frozen=True)
class OidcIssuer:
    provider_arn: pulumi.Output[str]
    issuer_url: pulumi.Output[str]


@dataclass(frozen=True)
class WorkloadGrant:
    """What one workload may do: its service account, and its statements (built from resolved ARNs)."""

    namespace: str
    service_account: str
    statements: pulumi.Input[Sequence[Statement]] | None = None
    managed_policy_arns: Sequence[str] = ()


class WorkloadRole(pulumi.ComponentResource):
    role: iam.Role
    identity: WorkloadIdentity

    def __init__(
        self,
        name: str,
        issuer: OidcIssuer,
        grant: WorkloadGrant,
        tags: Mapping[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("gitpod-cell:aws:WorkloadRole", name, None, opts)
        trust = pulumi.Output.all(issuer.provider_arn, issuer.issuer_url).apply(
            lambda values: service_account_trust(values[0], values[1], grant.namespace, grant.service_account)
        )
        self.role = iam.Role(
            name,
            assume_role_policy=trust,
            description=f"IRSA role for {grant.namespace}/{grant.service_account}",
            tags={**tags, "Name": name},
            opts=pulumi.ResourceOptions(parent=self),
        )
        if grant.statements is not None:
            iam.RolePolicy(
                name,
                role=self.role.id,
                policy=pulumi.Output.from_input(grant.statements).apply(document),
                opts=pulumi.ResourceOptions(parent=self),
            )
        for index, policy_arn in enumerate(grant.managed_policy_arns):
            iam.RolePolicyAttachment(
                f"{name}-managed-{index}",
                role=self.role.name,
                policy_arn=policy_arn,
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.identity = WorkloadIdentity(
            namespace=grant.namespace,
            service_account=grant.service_account,
            annotations=self.role.arn.apply(lambda arn: {ROLE_ARN_ANNOTATION: arn}),
            via=f"IRSA: the {ROLE_ARN_ANNOTATION} annotation",
        )
        self.register_outputs({"role_arn": self.role.arn})


def workload_roles(
    name_prefix: str,
    issuer: OidcIssuer,
    grants: Mapping[str, WorkloadGrant],
    tags: Mapping[str, str],
    parent: pulumi.Resource,
) -> dict[str, WorkloadIdentity]:
    return {
        workload: WorkloadRole(
            f"{name_prefix}-{workload}", issuer, grant, tags, pulumi.ResourceOptions(parent=parent)
        ).identity
        for workload, grant in grants.items()
    }


def resolved(builder: Callable[..., Sequence[Statement]], *inputs: pulumi.Input[str]) -> pulumi.Output[list]:
    """Statements built once every ARN they name is known."""
    return pulumi.Output.all(*inputs).apply(lambda values: list(builder(*values)))
