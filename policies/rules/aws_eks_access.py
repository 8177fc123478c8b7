"""EKS: who reaches the API (a public endpoint in production only by stated intent), how identities map into the
cluster (access entries, OIDC for IRSA), and the EBS CSI driver's own role."""

from __future__ import annotations

from typing import Any

from policies.core.context import PRODUCTION_SCHEMA, aws_tags, in_environments
from policies.core.props import as_list, get, is_false, known
from policies.core.rule import Report, configured, resource_rule, stack_rule
from policies.core.stack import StackView, dependency_urns
from policies.rules.tokens import EKS_ADDON, EKS_CLUSTER, OIDC_PROVIDER

PUBLIC_ENDPOINT_TAG = "PublicEndpoint"


@resource_rule(
    name="aws-eks-public-endpoint-prod",
    summary="A production EKS cluster keeps its API endpoint private, unless the stack opted in "
    "(cluster.allowPublicEndpoint, seen as the cluster tag PublicEndpoint=allowed).",
    types=[EKS_CLUSTER],
    control="CKV_AWS_39",
    config=PRODUCTION_SCHEMA,
)
def eks_public_endpoint_prod(args: Any, report: Report) -> None:
    if not in_environments(args, configured(args, PRODUCTION_SCHEMA)["environments"]):
        return
    if is_false(get(args.props, "vpcConfig.endpointPublicAccess")):
        return
    if aws_tags(args).get(PUBLIC_ENDPOINT_TAG) != "allowed":
        report("the API endpoint is public (endpointPublicAccess is not false) without the opt-in tag "
               f"{PUBLIC_ENDPOINT_TAG}=allowed; turn it off and deploy from inside the VPC, or set "
               "gitpod-cell:cluster.allowPublicEndpoint.")


@resource_rule(
    name="aws-eks-api-authentication",
    summary="EKS clusters authenticate through access entries only (accessConfig.authenticationMode API): no "
    "aws-auth ConfigMap that anyone with cluster access could edit to grant themselves more.",
    types=[EKS_CLUSTER],
)
def eks_api_authentication(args: Any, report: Report) -> None:
    mode = get(args.props, "accessConfig.authenticationMode")
    if mode != "API":
        shown = "not set (CONFIG_MAP)" if mode is None else repr(mode)
        report(f"accessConfig.authenticationMode is {shown}; set it to 'API' (access entries).")


@resource_rule(
    name="aws-eks-ebs-csi-irsa",
    summary="The EBS CSI driver add-on runs with its own IRSA role (serviceAccountRoleArn), not the node role.",
    types=[EKS_ADDON],
)
def eks_ebs_csi_irsa(args: Any, report: Report) -> None:
    if get(args.props, "addonName") != "aws-ebs-csi-driver":
        return
    if not get(args.props, "serviceAccountRoleArn"):
        report("serviceAccountRoleArn is not set; the driver would use the node role's permissions.")


@stack_rule(
    name="aws-eks-irsa-oidc",
    summary="Every EKS cluster has an IAM OIDC provider for its issuer with the STS audience, so workloads get "
    "IRSA roles instead of the node role.",
)
def eks_irsa_oidc(args: Any, report: Report) -> None:
    view = StackView(args.resources)
    providers = [p for p in view.of_type(OIDC_PROVIDER)
                 if "sts.amazonaws.com" in [str(c) for c in as_list(get(p.props, "clientIdLists"))]]
    for cluster in view.of_type(EKS_CLUSTER):
        issuer = known(cluster.props, "identities")
        linked = [p for p in providers if cluster.urn in dependency_urns(p)
                  or (issuer and str(get(p.props, "url")) in str(issuer))]
        if not linked:
            report("no IAM OIDC provider (client sts.amazonaws.com) for this cluster's issuer; workloads would "
                   "need the node role or static keys.", cluster.urn)
