"""The offline plan's answers for AWS resources and data sources (pulumi-aws 7): ids, ARNs, endpoints and names
as the real provider returns them, in the plan's stand-in account."""

from __future__ import annotations

import base64
from typing import Any

from ops.plan.mock_values import CallAnswer, OutputBuilder, static_key
from ops.plan.mock_values import digest as _digest

ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"


def _vpc_scoped(prefix: str) -> OutputBuilder:
    def build(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
        resource_id = f"{prefix}-{_digest(name)}"
        return resource_id, {"id": resource_id, "arn": f"arn:aws:ec2:{region}:{ACCOUNT_ID}:{prefix}/{resource_id}"}

    return build


def _eks_cluster(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    cluster = inputs.get("name", name)
    issuer_id = _digest(cluster, length=32).upper()
    vpc_config = dict(inputs.get("vpcConfig", {}))
    vpc_config.update({"clusterSecurityGroupId": f"sg-{_digest(cluster, 'cluster-sg')}",
                       "vpcId": f"vpc-{_digest(cluster)}"})
    return cluster, {
        "arn": f"arn:aws:eks:{region}:{ACCOUNT_ID}:cluster/{cluster}",
        "endpoint": f"https://{issuer_id}.gr7.{region}.eks.amazonaws.com",
        "certificateAuthority": {"data": base64.b64encode(f"offline-plan CA for {cluster}".encode()).decode()},
        "identities": [{"oidcs": [{"issuer": f"https://oidc.eks.{region}.amazonaws.com/id/{issuer_id}"}]}],
        "vpcConfig": vpc_config,
        "status": "ACTIVE",
    }


def _iam_role(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    role = inputs.get("name") or f"{name}-{_digest(name, length=7)}"[:64]
    return role, {"name": role, "arn": f"arn:aws:iam::{ACCOUNT_ID}:role/{role}", "uniqueId": f"AROA{_digest(role)}"}


def _oidc_provider(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    host = str(inputs.get("url", f"oidc.eks.{region}.amazonaws.com/id/{name}")).removeprefix("https://")
    arn = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{host}"
    return arn, {"arn": arn}


def _rds_instance(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    identifier = inputs.get("identifier", name)
    address = f"{identifier}.c{_digest(identifier, length=11)}.{region}.rds.amazonaws.com"
    port = inputs.get("port", 3306)
    return identifier, {
        "identifier": identifier, "address": address, "endpoint": f"{address}:{port}", "port": port,
        "arn": f"arn:aws:rds:{region}:{ACCOUNT_ID}:db:{identifier}", "resourceId": f"db-{_digest(identifier)}",
        "username": inputs.get("username", "admin"),
    }


def _s3_bucket(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    bucket = inputs.get("bucket", name)
    return bucket, {
        "bucket": bucket, "arn": f"arn:aws:s3:::{bucket}", "region": region,
        "bucketRegionalDomainName": f"{bucket}.s3.{region}.amazonaws.com",
    }


def _kms_key(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    digest = _digest(name, length=32)
    key_id = f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
    return key_id, {"keyId": key_id, "arn": f"arn:aws:kms:{region}:{ACCOUNT_ID}:key/{key_id}"}


def _ecr_repository(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    repository = inputs.get("name", name)
    return repository, {
        "repositoryUrl": f"{ACCOUNT_ID}.dkr.ecr.{region}.amazonaws.com/{repository}",
        "arn": f"arn:aws:ecr:{region}:{ACCOUNT_ID}:repository/{repository}", "registryId": ACCOUNT_ID,
    }


def _route53_zone(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    zone_id = "Z" + _digest(name, length=20).upper()
    return zone_id, {"zoneId": zone_id, "nameServers": [f"ns-{n}.awsdns-{n}.org" for n in (1, 2, 3, 4)],
                     "arn": f"arn:aws:route53:::hostedzone/{zone_id}"}


def _launch_template(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    template_id = f"lt-{_digest(name)}"
    return template_id, {"id": template_id, "latestVersion": 1,
                         "arn": f"arn:aws:ec2:{region}:{ACCOUNT_ID}:launch-template/{template_id}"}


def _log_group(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    group = inputs.get("name", name)
    return group, {"arn": f"arn:aws:logs:{region}:{ACCOUNT_ID}:log-group:{group}"}


AWS_OUTPUTS: dict[str, OutputBuilder] = {
    "aws:iam/accessKey:AccessKey": static_key("id"),
    "aws:ec2/vpc:Vpc": _vpc_scoped("vpc"),
    "aws:ec2/subnet:Subnet": _vpc_scoped("subnet"),
    "aws:ec2/securityGroup:SecurityGroup": _vpc_scoped("sg"),
    "aws:ec2/internetGateway:InternetGateway": _vpc_scoped("igw"),
    "aws:ec2/natGateway:NatGateway": _vpc_scoped("nat"),
    "aws:ec2/eip:Eip": _vpc_scoped("eipalloc"),
    "aws:ec2/routeTable:RouteTable": _vpc_scoped("rtb"),
    "aws:ec2/launchTemplate:LaunchTemplate": _launch_template,
    "aws:eks/cluster:Cluster": _eks_cluster,
    "aws:iam/role:Role": _iam_role,
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": _oidc_provider,
    "aws:rds/instance:Instance": _rds_instance,
    "aws:s3/bucket:Bucket": _s3_bucket,
    "aws:kms/key:Key": _kms_key,
    "aws:ecr/repository:Repository": _ecr_repository,
    "aws:route53/zone:Zone": _route53_zone,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
}


def _caller_identity(args: dict[str, Any], region: str) -> dict[str, Any]:
    return {"accountId": ACCOUNT_ID, "arn": f"arn:aws:iam::{ACCOUNT_ID}:role/offline-plan", "userId": "AROAOFFLINE",
            "id": ACCOUNT_ID}


def _route53_get_zone(args: dict[str, Any], region: str) -> dict[str, Any]:
    zone_id = args.get("zoneId", "Z0FFLINE")
    return {"zoneId": zone_id, "id": zone_id, "name": args.get("name", "existing.example.com"),
            "nameServers": [f"ns-{n}.awsdns-{n}.org" for n in (1, 2, 3, 4)],
            "arn": f"arn:aws:route53:::hostedzone/{zone_id}"}


def _s3_get_bucket(args: dict[str, Any], region: str) -> dict[str, Any]:
    bucket = args.get("bucket", "existing-bucket")
    return {"bucket": bucket, "id": bucket, "arn": f"arn:aws:s3:::{bucket}", "region": region,
            "bucketRegionalDomainName": f"{bucket}.s3.{region}.amazonaws.com"}


def _availability_zones_with_opt_in(args: dict[str, Any], region: str) -> dict[str, Any]:
    """Like the real call in an account that opted into a Local Zone: it is listed (and sorts first) unless the
    caller filters on `opt-in-status`."""
    zones = [(f"{region}{s}", f"{region[:3]}-az{n}", "opt-in-not-required") for n, s in enumerate("abc", 1)]
    zones.insert(0, (f"{region}-lax-1a", f"{region[:3]}-lax1-az1", "opted-in"))
    for wanted in args.get("filters") or []:
        if wanted.get("name") == "opt-in-status":
            zones = [zone for zone in zones if zone[2] in wanted.get("values", [])]
    return {"names": [zone[0] for zone in zones], "zoneIds": [zone[1] for zone in zones], "id": region}


# Add-on versions as EKS lists them for a Kubernetes version (kube-proxy follows the Kubernetes minor).
_ADDON_VERSIONS = {"vpc-cni": "v1.20.4-eksbuild.1", "coredns": "v1.12.4-eksbuild.1",
                   "aws-ebs-csi-driver": "v1.50.1-eksbuild.1"}


def _eks_addon_version(args: dict[str, Any], region: str) -> dict[str, Any]:
    addon, kubernetes = str(args.get("addonName")), str(args.get("kubernetesVersion"))
    version = f"v{kubernetes}.3-eksbuild.2" if addon == "kube-proxy" else _ADDON_VERSIONS.get(addon,
                                                                                            "v1.0.0-eksbuild.1")
    return {"addonName": addon, "kubernetesVersion": kubernetes, "mostRecent": bool(args.get("mostRecent")),
            "version": version, "id": addon}


AWS_CALLS: dict[str, CallAnswer] = {
    "aws:s3/getBucket:getBucket": _s3_get_bucket,
    "aws:index/getAvailabilityZones:getAvailabilityZones": _availability_zones_with_opt_in,
    "aws:index/getCallerIdentity:getCallerIdentity": _caller_identity,
    "aws:route53/getZone:getZone": _route53_get_zone,
    "aws:eks/getAddonVersion:getAddonVersion": _eks_addon_version,
}
