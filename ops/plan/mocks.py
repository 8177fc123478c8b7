"""The offline plan's mock engine: records every registration and answers with realistic cloud outputs.

Outputs matter: an input built from an output the mocks do not return is unknown and vanishes from the record,
so each type answers with the ids, ARNs, names and endpoints the real cloud would, and the plan shows the wiring.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs

ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"
GCP_PROJECT = "offline-project"
GCP_PROJECT_NUMBER = "210987654321"
GCP_DEFAULT_REGION = "us-central1"
# Provider types whose `region` input is the region of the resources they manage.
_REGIONAL_PROVIDERS = {"pulumi:providers:aws": DEFAULT_REGION, "pulumi:providers:gcp": GCP_DEFAULT_REGION}
SECRET = "[secret]"
# Markers in the engine's wire format (pulumi/sdk rpc.py).
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
_OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
_SPECIAL_SIG_KEY = "4dabf18193072939515e22adb298388d"
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
_HOOK_EVENTS = {
    "before_create": "beforeCreate", "after_create": "afterCreate", "before_update": "beforeUpdate",
    "after_update": "afterUpdate", "before_delete": "beforeDelete", "after_delete": "afterDelete",
    "on_error": "onError",
}


def _digest(*parts: str, length: int = 17) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def wire_to_plain(value: Any) -> Any:
    """Engine wire values to plan JSON: secrets redacted, unknowns dropped, resource references as URNs."""
    if isinstance(value, dict):
        signature = value.get(_SPECIAL_SIG_KEY)
        if signature == _SECRET_SIG:
            return SECRET
        if signature == _RESOURCE_SIG:
            return value.get("urn")
        if signature == _OUTPUT_SIG:
            return SECRET if value.get("secret") else wire_to_plain(value.get("value"))
        return {key: wire_to_plain(item) for key, item in value.items() if item != _UNKNOWN}
    if isinstance(value, list):
        return [wire_to_plain(item) for item in value if item != _UNKNOWN]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class RecordingMonitor(MockMonitor):
    """The SDK's mock monitor, keeping the full registration request of every resource (options included)."""

    def __init__(self, mocks: PlanMocks) -> None:
        super().__init__(mocks)
        self.records: list[dict[str, Any]] = []
        self.provider_regions: dict[str, str] = {}
        self.provider_projects: dict[str, str] = {}
        mocks.monitor = self

    def RegisterResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        inputs = wire_to_plain(json_format.MessageToDict(request.object)) if request.HasField("object") else {}
        if request.type in _REGIONAL_PROVIDERS:
            self.provider_regions[urn] = inputs.get("region", _REGIONAL_PROVIDERS[request.type])
        if request.type == "pulumi:providers:gcp":
            self.provider_projects[urn] = inputs.get("project", GCP_PROJECT)
        self.records.append(_record(urn, request, inputs))
        return super().RegisterResource(request)

    def region_of(self, provider_ref: str | None) -> str:
        # A provider reference is "<provider urn>::<provider id>".
        urn = provider_ref.rsplit("::", 1)[0] if provider_ref else ""
        return self.provider_regions.get(urn, DEFAULT_REGION)

    def project_of(self, provider_ref: str | None) -> str:
        urn = provider_ref.rsplit("::", 1)[0] if provider_ref else ""
        return self.provider_projects.get(urn, GCP_PROJECT)


def _record(urn: str, request: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    property_urns = {u for deps in request.propertyDependencies.values() for u in deps.urns}
    explicit = [u for u in request.dependencies if u not in property_urns]
    hooks = {
        camel: list(getattr(request.hooks, field))
        for field, camel in _HOOK_EVENTS.items()
        if getattr(request.hooks, field)
    }
    timeouts = {k: v for k, v in json_format.MessageToDict(request.customTimeouts).items() if v}
    return {
        "urn": urn,
        "type": request.type,
        "name": request.name,
        "parent": request.parent or None,
        "provider": request.provider or None,
        "custom": bool(request.custom),
        "inputs": inputs,
        "options": {
            "protect": bool(request.protect),
            "retainOnDelete": bool(request.retainOnDelete),
            "dependsOn": sorted(explicit),
            "ignoreChanges": list(request.ignoreChanges),
            "customTimeouts": timeouts or None,
            "hooks": hooks,
        },
        "dependencies": sorted(set(request.dependencies) | property_urns),
    }


class PlanMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.monitor: RecordingMonitor | None = None

    def _region(self, args: MockResourceArgs) -> str:
        if args.typ in _REGIONAL_PROVIDERS:
            return args.inputs.get("region", _REGIONAL_PROVIDERS[args.typ])
        return self.monitor.region_of(args.provider) if self.monitor else DEFAULT_REGION

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        region = self._region(args)
        state = dict(args.inputs)
        builder = _OUTPUTS.get(args.typ)
        physical_id = f"{args.name}-{_digest(args.typ, args.name, length=7)}"
        builder_inputs = args.inputs
        if args.typ.startswith("gcp:") and "project" not in args.inputs:
            # GCP ids name the project; a resource without one lives in its provider's project.
            project = self.monitor.project_of(args.provider) if self.monitor else GCP_PROJECT
            builder_inputs = {**args.inputs, "_project": project}
        if builder is not None:
            physical_id, extra = builder(args.name, builder_inputs, region)
            state.update(extra)
        elif args.typ.startswith("aws:"):
            service, kind = args.typ.split(":")[1].split("/")[0], args.typ.rsplit(":", 1)[-1].lower()
            state.setdefault("arn", f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{kind}/{physical_id}")
        state.setdefault("name", args.inputs.get("name", physical_id))
        return physical_id, state

    def call(self, args: MockCallArgs) -> dict[str, Any]:
        region = self.monitor.region_of(args.provider) if self.monitor else DEFAULT_REGION
        answer = _CALLS.get(args.token)
        if answer is None:
            raise NotImplementedError(f"the offline plan has no answer for data source {args.token}")
        call_args = args.args
        if args.token.startswith("gcp:") and self.monitor is not None:
            call_args = {**args.args, "_project": self.monitor.project_of(args.provider)}
        return answer(call_args, region)


def _vpc_scoped(prefix: str) -> Callable[[str, dict[str, Any], str], tuple[str, dict[str, Any]]]:
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


def _random_password(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    return name, {"result": f"offline-{_digest(name, length=24)}", "bcryptHash": "offline"}


def _random_bytes(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    material = hashlib.sha256(name.encode()).digest()[: int(inputs.get("length", 32))]
    return name, {"base64": base64.b64encode(material).decode(), "hex": material.hex()}


_OUTPUTS: dict[str, Callable[[str, dict[str, Any], str], tuple[str, dict[str, Any]]]] = {
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
    "random:index/randomPassword:RandomPassword": _random_password,
    "random:index/randomBytes:RandomBytes": _random_bytes,
}


def _availability_zones(args: dict[str, Any], region: str) -> dict[str, Any]:
    return {"names": [f"{region}{s}" for s in "abc"], "zoneIds": [f"{region[:3]}-az{n}" for n in (1, 2, 3)],
            "id": region}


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


_CALLS: dict[str, Callable[[dict[str, Any], str], dict[str, Any]]] = {
    "aws:s3/getBucket:getBucket": _s3_get_bucket,
    "aws:index/getAvailabilityZones:getAvailabilityZones": _availability_zones,
    "aws:index/getCallerIdentity:getCallerIdentity": _caller_identity,
    "aws:route53/getZone:getZone": _route53_get_zone,
}


# GCP (pulumi-gcp 10): ids are resource paths that name the project, as the real provider returns them.
def _project(inputs: dict[str, Any]) -> str:
    return str(inputs.get("project") or inputs.get("_project") or GCP_PROJECT)


def _gcp_network(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    network = inputs.get("name", name)
    path = f"projects/{_project(inputs)}/global/networks/{network}"
    return path, {"id": path, "name": network, "selfLink": f"https://www.googleapis.com/compute/v1/{path}",
                  "networkId": _digest(path, length=12)}


def _gcp_subnetwork(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    subnetwork = inputs.get("name", name)
    path = f"projects/{_project(inputs)}/regions/{inputs.get('region', region)}/subnetworks/{subnetwork}"
    return path, {"id": path, "name": subnetwork, "selfLink": f"https://www.googleapis.com/compute/v1/{path}",
                  "gatewayAddress": "10.0.0.1"}


def _gcp_regional(collection: str) -> Callable[[str, dict[str, Any], str], tuple[str, dict[str, Any]]]:
    def build(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
        resource = inputs.get("name", name)
        path = f"projects/{_project(inputs)}/regions/{inputs.get('region', region)}/{collection}/{resource}"
        return path, {"id": path, "name": resource}

    return build


def _gcp_global_address(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    address = inputs.get("name", name)
    path = f"projects/{_project(inputs)}/global/addresses/{address}"
    return path, {"id": path, "name": address, "address": "10.200.0.0",
                  "selfLink": f"https://www.googleapis.com/compute/v1/{path}"}


def _gcp_service_account(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    project = _project(inputs)
    email = f"{inputs.get('accountId', name)}@{project}.iam.gserviceaccount.com"
    path = f"projects/{project}/serviceAccounts/{email}"
    return path, {"id": path, "name": path, "email": email, "member": f"serviceAccount:{email}",
                  "uniqueId": str(int(_digest(email, length=15), 16))}


_SERVICE_AGENTS = {"sqladmin.googleapis.com": "gcp-sa-cloud-sql",
                   "artifactregistry.googleapis.com": "gcp-sa-artifactregistry",
                   "container.googleapis.com": "container-engine-robot"}


def _gcp_service_identity(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    service = str(inputs.get("service", "unknown.googleapis.com"))
    agent = _SERVICE_AGENTS.get(service, f"gcp-sa-{service.split('.')[0]}")
    email = f"service-{GCP_PROJECT_NUMBER}@{agent}.iam.gserviceaccount.com"
    return f"projects/{_project(inputs)}/services/{service}", {"email": email, "member": f"serviceAccount:{email}"}


def _gcp_key_ring(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    path = f"projects/{_project(inputs)}/locations/{inputs.get('location', region)}/keyRings/{inputs.get('name', name)}"
    return path, {"id": path, "name": inputs.get("name", name)}


def _gcp_crypto_key(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    key_ring = inputs.get("keyRing", f"projects/{_project(inputs)}/locations/{region}/keyRings/offline")
    path = f"{key_ring}/cryptoKeys/{inputs.get('name', name)}"
    return path, {"id": path, "name": inputs.get("name", name)}


def _gke_cluster(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    cluster = inputs.get("name", name)
    location = inputs.get("location", region)
    path = f"projects/{_project(inputs)}/locations/{location}/clusters/{cluster}"
    endpoint = f"172.16.{int(_digest(cluster, length=2), 16) % 250}.2"
    ca = base64.b64encode(f"offline-plan CA for {cluster}".encode()).decode()
    master_auth = {**dict(inputs.get("masterAuth", {})), "clusterCaCertificate": ca}
    return path, {"id": path, "name": cluster, "endpoint": endpoint, "masterAuth": master_auth,
                  "selfLink": f"https://container.googleapis.com/v1/{path}", "masterVersion": "1.33.5-gke.1000",
                  "location": location}


def _gcp_node_pool(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    pool = inputs.get("name", name)
    path = f"projects/{_project(inputs)}/locations/{inputs.get('location', region)}/clusters/" \
           f"{inputs.get('cluster', 'cluster')}/nodePools/{pool}"
    return path, {"id": path, "name": pool}


def _cloud_sql_instance(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    instance = inputs.get("name", name)
    project = _project(inputs)
    region = inputs.get("region", region)
    pem = "-----BEGIN CERTIFICATE-----\nb2ZmbGluZS1wbGFu\n-----END CERTIFICATE-----\n"
    return instance, {
        "name": instance, "connectionName": f"{project}:{region}:{instance}",
        "privateIpAddress": f"10.200.{int(_digest(instance, length=2), 16) % 250}.3", "publicIpAddress": "",
        "selfLink": f"https://sqladmin.googleapis.com/sql/v1beta4/projects/{project}/instances/{instance}",
        "serverCaCerts": [{"cert": pem, "commonName": "C=US,O=Google\\, Inc,CN=Google Cloud SQL Server CA",
                           "sha1Fingerprint": _digest(instance, length=40)}],
        "serviceAccountEmailAddress": f"p{GCP_PROJECT_NUMBER}-offline@gcp-sa-cloud-sql.iam.gserviceaccount.com",
        "dnsName": f"{_digest(instance, length=12)}.{region}.sql.goog.",
    }


def _cloud_sql_user(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    user = inputs.get("name", name)
    return f"{user}/{inputs.get('host', '%')}/{inputs.get('instance', '')}", {"name": user}


def _gcs_bucket(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    bucket = inputs.get("name", name)
    return bucket, {"name": bucket, "url": f"gs://{bucket}",
                    "selfLink": f"https://www.googleapis.com/storage/v1/b/{bucket}"}


def _artifact_repository(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    repository = inputs.get("repositoryId", name)
    location = inputs.get("location", region)
    path = f"projects/{_project(inputs)}/locations/{location}/repositories/{repository}"
    return path, {"id": path, "name": repository, "repositoryId": repository,
                  "registryUri": f"{location}-docker.pkg.dev/{_project(inputs)}/{repository}"}


def _cloud_dns_zone(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    zone = inputs.get("name", name)
    return f"projects/{_project(inputs)}/managedZones/{zone}", {
        "name": zone, "managedZoneId": int(_digest(zone, length=12), 16),
        "nameServers": [f"ns-cloud-a{n}.googledomains.com." for n in (1, 2, 3, 4)],
    }


def _gcp_custom_role(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    path = f"projects/{_project(inputs)}/roles/{inputs.get('roleId', name)}"
    return path, {"id": path, "name": path}


_OUTPUTS.update({
    "gcp:compute/network:Network": _gcp_network,
    "gcp:compute/subnetwork:Subnetwork": _gcp_subnetwork,
    "gcp:compute/router:Router": _gcp_regional("routers"),
    "gcp:compute/globalAddress:GlobalAddress": _gcp_global_address,
    "gcp:serviceaccount/account:Account": _gcp_service_account,
    "gcp:projects/serviceIdentity:ServiceIdentity": _gcp_service_identity,
    "gcp:projects/iAMCustomRole:IAMCustomRole": _gcp_custom_role,
    "gcp:kms/keyRing:KeyRing": _gcp_key_ring,
    "gcp:kms/cryptoKey:CryptoKey": _gcp_crypto_key,
    "gcp:container/cluster:Cluster": _gke_cluster,
    "gcp:container/nodePool:NodePool": _gcp_node_pool,
    "gcp:sql/databaseInstance:DatabaseInstance": _cloud_sql_instance,
    "gcp:sql/user:User": _cloud_sql_user,
    "gcp:storage/bucket:Bucket": _gcs_bucket,
    "gcp:artifactregistry/repository:Repository": _artifact_repository,
    "gcp:dns/managedZone:ManagedZone": _cloud_dns_zone,
})


def _static_key(id_key: str) -> Callable[[str, dict[str, Any], str], tuple[str, dict[str, Any]]]:
    """Keys (AWS access keys, GCS HMAC keys): an id and a secret that only say they are the plan's placeholders."""
    def build(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
        key_id = f"OFFLINEPLAN{_digest(name, length=9).upper()}"
        return key_id, {id_key: key_id, "secret": f"offline-plan-secret-{_digest(name)}"}

    return build


_OUTPUTS.update({
    "aws:iam/accessKey:AccessKey": _static_key("id"),
    "gcp:storage/hmacKey:HmacKey": _static_key("accessId"),
})


def _gcp_get_project(args: dict[str, Any], region: str) -> dict[str, Any]:
    project = str(args.get("projectId") or args.get("_project") or GCP_PROJECT)
    return {"projectId": project, "number": GCP_PROJECT_NUMBER, "name": project, "id": f"projects/{project}"}


def _gcp_get_managed_zone(args: dict[str, Any], region: str) -> dict[str, Any]:
    zone = args.get("name", "existing-zone")
    return {"name": zone, "id": f"projects/{args.get('project') or args.get('_project')}/managedZones/{zone}",
            "dnsName": "existing.example.com.", "visibility": "public",
            "nameServers": [f"ns-cloud-b{n}.googledomains.com." for n in (1, 2, 3, 4)]}


_CALLS.update({
    "gcp:organizations/getProject:getProject": _gcp_get_project,
    "gcp:dns/getManagedZone:getManagedZone": _gcp_get_managed_zone,
})


def _gcs_get_bucket(args: dict[str, Any], region: str) -> dict[str, Any]:
    bucket = args.get("name", "existing-bucket")
    return {"name": bucket, "id": bucket, "url": f"gs://{bucket}", "selfLink": f"https://www.googleapis.com/storage/v1/b/{bucket}",
            "location": "EU", "project": GCP_PROJECT}


_CALLS["gcp:storage/getBucket:getBucket"] = _gcs_get_bucket


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


_CALLS.update({
    "aws:index/getAvailabilityZones:getAvailabilityZones": _availability_zones_with_opt_in,
    "aws:eks/getAddonVersion:getAddonVersion": _eks_addon_version,
})
