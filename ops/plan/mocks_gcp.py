"""The offline plan's answers for GCP resources and data sources (pulumi-gcp 10): ids are resource paths that name
the project, as the real provider returns them, in the plan's stand-in project."""

from __future__ import annotations

import base64
from typing import Any

from ops.plan.mock_values import CallAnswer, OutputBuilder, static_key
from ops.plan.mock_values import digest as _digest

GCP_PROJECT = "offline-project"
GCP_PROJECT_NUMBER = "210987654321"
GCP_DEFAULT_REGION = "us-central1"


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


def _gcp_regional(collection: str) -> OutputBuilder:
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


GCP_OUTPUTS: dict[str, OutputBuilder] = {
    "gcp:storage/hmacKey:HmacKey": static_key("accessId"),
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
}


def _gcp_get_project(args: dict[str, Any], region: str) -> dict[str, Any]:
    project = str(args.get("projectId") or args.get("_project") or GCP_PROJECT)
    return {"projectId": project, "number": GCP_PROJECT_NUMBER, "name": project, "id": f"projects/{project}"}


def _gcp_get_managed_zone(args: dict[str, Any], region: str) -> dict[str, Any]:
    zone = args.get("name", "existing-zone")
    return {"name": zone, "id": f"projects/{args.get('project') or args.get('_project')}/managedZones/{zone}",
            "dnsName": "existing.example.com.", "visibility": "public",
            "nameServers": [f"ns-cloud-b{n}.googledomains.com." for n in (1, 2, 3, 4)]}


def _gcs_get_bucket(args: dict[str, Any], region: str) -> dict[str, Any]:
    bucket = args.get("name", "existing-bucket")
    return {"name": bucket, "id": bucket, "url": f"gs://{bucket}", "selfLink": f"https://www.googleapis.com/storage/v1/b/{bucket}",
            "location": "EU", "project": GCP_PROJECT}


def _gcp_get_keys(args: dict[str, Any], region: str) -> dict[str, Any]:
    """Cloud DNS's keys of a DNSSEC-signed zone: one key-signing key with a stand-in DS record."""
    zone = str(args.get("managedZone", "zone"))
    ds = f"{int(_digest(zone, length=4), 16)} 8 2 {_digest(zone, 'ksk', length=64).upper()}"
    return {"managedZone": zone, "id": zone, "keySigningKeys": [
        {"algorithm": "rsasha256", "dsRecord": ds, "isActive": True, "keyLength": 2048, "keyTag": 0,
         "digests": [], "creationTime": "", "description": "", "id": "1", "publicKey": ""}],
        "zoneSigningKeys": []}


GCP_CALLS: dict[str, CallAnswer] = {
    "gcp:dns/getKeys:getKeys": _gcp_get_keys,
    "gcp:organizations/getProject:getProject": _gcp_get_project,
    "gcp:dns/getManagedZone:getManagedZone": _gcp_get_managed_zone,
    "gcp:storage/getBucket:getBucket": _gcs_get_bucket,
}
