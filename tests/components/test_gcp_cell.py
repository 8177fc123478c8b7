"""The GCP reference architecture, asserted on what the real program registers under the mock engine."""

from __future__ import annotations

import json

import pytest

from components.gcp.ranges import plan_ranges
from tests.components.gcp_plan import PROJECT, Registered, inputs_of
from tests.conftest import with_changes


def test_one_gcp_provider_with_project_and_region(registered: Registered) -> None:
    plan = registered("prod-gcp")
    provider = inputs_of(plan, "pulumi:providers:gcp")
    assert (provider["project"], provider["region"]) == (PROJECT, "europe-west1")
    # Providers receive structured inputs as JSON strings.
    default_labels = provider["defaultLabels"]
    labels = json.loads(default_labels) if isinstance(default_labels, str) else default_labels
    assert labels["environment"] == "prod"
    gcp_resources = [r for r in plan.resources if r["type"].startswith("gcp:")]
    assert gcp_resources
    assert all(r["provider"] and r["provider"].startswith(plan.one("pulumi:providers:gcp")["urn"])
               for r in gcp_resources)
    assert not [r for r in plan.resources if r["type"].startswith("aws:")]


def test_network_has_secondary_ranges_nat_private_google_access_and_flow_logs(registered: Registered) -> None:
    plan = registered("prod-gcp")
    network = inputs_of(plan, "gcp:compute/network:Network")
    assert network["autoCreateSubnetworks"] is False
    subnet = inputs_of(plan, "gcp:compute/subnetwork:Subnetwork")
    ranges = plan_ranges("10.52.0.0/16")
    assert subnet["ipCidrRange"] == ranges.nodes
    assert {r["rangeName"]: r["ipCidrRange"] for r in subnet["secondaryIpRanges"]} == {
        "pods": ranges.pods, "services": ranges.services}
    assert subnet["privateIpGoogleAccess"] is True
    assert subnet["logConfig"]["metadata"] == "INCLUDE_ALL_METADATA"
    assert subnet["network"] == f"projects/{PROJECT}/global/networks/gitpod-prod-gcp"
    nat = inputs_of(plan, "gcp:compute/routerNat:RouterNat")
    assert nat["router"] == "gitpod-prod-gcp-router"
    assert nat["sourceSubnetworkIpRangesToNat"] == "LIST_OF_SUBNETWORKS"
    assert nat["subnetworks"][0]["name"].endswith("/subnetworks/gitpod-prod-gcp-nodes")
    assert nat["logConfig"]["enable"] is True


@pytest.mark.parametrize("cidr", ["10.52.0.0/16", "10.56.0.0/17", "10.58.0.0/18", "10.59.0.0/19", "10.60.0.0/20"])
def test_ranges_never_overlap(cidr: str) -> None:
    import ipaddress

    plan = plan_ranges(cidr)
    blocks = [ipaddress.ip_network(b) for b in (plan.nodes, plan.pods, plan.services, plan.control_plane,
                                                 plan.private_services)]
    assert all(not a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1:])
    assert all(block.subnet_of(ipaddress.ip_network(cidr)) for block in blocks)
    # Cloud SQL's private services range: at most a /20, never under Google's /24 minimum.
    assert 20 <= ipaddress.ip_network(plan.private_services).prefixlen <= 24


@pytest.mark.parametrize(("stack", "cidr"), [("prod-gcp", "10.52.0.0/16"), ("dev-gcp", "10.60.0.0/20")])
def test_private_services_range_is_reserved_explicitly_from_the_vpc_cidr(registered: Registered, stack_variant,
                                                                          stack: str, cidr: str) -> None:
    import ipaddress

    from ops.plan.runner import run_program

    if stack == "prod-gcp":
        resources = registered(stack).resources
    else:
        resources, _ = run_program(stack_variant(stack, {"gitpod-cell:network.vpcCidr": cidr}))
    address = next(r for r in resources if r["type"] == "gcp:compute/globalAddress:GlobalAddress")["inputs"]
    reserved = ipaddress.ip_network(f"{address['address']}/{address['prefixLength']}")
    ranges = plan_ranges(cidr)
    assert str(reserved) == ranges.private_services
    cluster = next(r for r in resources if r["type"] == "gcp:container/cluster:Cluster")["inputs"]
    control_plane = ipaddress.ip_network(cluster["privateClusterConfig"]["masterIpv4CidrBlock"])
    subnet = next(r for r in resources if r["type"] == "gcp:compute/subnetwork:Subnetwork")["inputs"]
    used = [control_plane, ipaddress.ip_network(subnet["ipCidrRange"]),
            *(ipaddress.ip_network(r["ipCidrRange"]) for r in subnet["secondaryIpRanges"])]
    assert not [block for block in used if block.overlaps(reserved)]


def test_pods_per_node_fit_the_pod_range(registered: Registered) -> None:
    from components.gcp.ranges import MAX_PODS_PER_NODE, node_capacity, pod_range_per_node

    plan = registered("prod-gcp")
    assert inputs_of(plan, "gcp:container/cluster:Cluster")["defaultMaxPodsPerNode"] == MAX_PODS_PER_NODE == 64
    assert {p["inputs"]["maxPodsPerNode"] for p in plan.by_type("gcp:container/nodePool:NodePool")} == {64}
    assert (pod_range_per_node(110), pod_range_per_node(64), pod_range_per_node(32)) == (24, 25, 26)
    assert (node_capacity("10.52.0.0/16"), node_capacity("10.60.0.0/20")) == (256, 16)


def test_node_pools_that_outgrow_the_pod_range_are_rejected() -> None:
    from components.config import CellConfig, CellConfigError
    from components.gcp.ranges import pod_capacity_issues
    from tests.config_helpers import shipped

    prod_pools = {"services": 6, "regular-workspaces": 50, "headless-workspaces": 20}
    assert pod_capacity_issues("10.52.0.0/16", prod_pools, zones=3) == []
    [(key, message)] = pod_capacity_issues("10.60.0.0/20", prod_pools, zones=3)
    assert key == "gitpod-cell:network.vpcCidr"
    assert "gitpod-cell:cluster.nodePools" in message
    assert "16 GKE nodes" in message
    assert "85 nodes" in message
    # A dev cell's default pools (9 nodes at most, 3 surge nodes in one zone) fit a /20.
    assert pod_capacity_issues("10.60.0.0/20", {"services": 3, "regular-workspaces": 4,
                                                "headless-workspaces": 2}, zones=1) == []
    raw = with_changes(shipped("prod-gcp"), {"gitpod-cell:network.vpcCidr": "10.60.0.0/20"})
    with pytest.raises(CellConfigError, match=r"gitpod-cell:network\.vpcCidr.*gitpod-cell:cluster\.nodePools"):
        CellConfig.from_stack_config("prod-gcp", raw)
    CellConfig.from_stack_config("prod-gcp", shipped("prod-gcp"))


def test_gke_cluster_is_regional_private_and_hardened_in_prod(registered: Registered) -> None:
    plan = registered("prod-gcp")
    cluster = plan.one("gcp:container/cluster:Cluster")
    inputs = cluster["inputs"]
    assert inputs["location"] == "europe-west1"
    assert inputs["privateClusterConfig"]["enablePrivateNodes"] is True
    assert inputs["privateClusterConfig"]["enablePrivateEndpoint"] is False
    authorized = inputs["masterAuthorizedNetworksConfig"]
    assert [b["cidrBlock"] for b in authorized["cidrBlocks"]] == ["203.0.113.0/24"]
    assert authorized["gcpPublicCidrsAccessEnabled"] is False
    assert inputs["releaseChannel"]["channel"] == "REGULAR"
    assert inputs["workloadIdentityConfig"]["workloadPool"] == f"{PROJECT}.svc.id.goog"
    assert inputs["enableShieldedNodes"] is True
    assert inputs["networkPolicy"] == {"enabled": True, "provider": "CALICO"}
    assert inputs["addonsConfig"]["networkPolicyConfig"]["disabled"] is False
    assert inputs["databaseEncryption"]["state"] == "ENCRYPTED"
    assert inputs["databaseEncryption"]["keyName"].endswith("/keyRings/gitpod-prod-gcp/cryptoKeys/gke-secrets")
    assert inputs["enableIntranodeVisibility"] is True
    assert inputs["masterAuth"]["clientCertificateConfig"]["issueClientCertificate"] is False
    assert inputs["enableLegacyAbac"] is False
    assert inputs["removeDefaultNodePool"] is True
    assert inputs["deletionProtection"] is True
    assert inputs["ipAllocationPolicy"] == {"clusterSecondaryRangeName": "pods",
                                            "servicesSecondaryRangeName": "services"}
    assert inputs["maintenancePolicy"]["recurringWindow"]["recurrence"] == "FREQ=WEEKLY;BYDAY=SA,SU"
    # The temporary default pool never runs as the Compute default service account.
    assert inputs["nodeConfig"]["serviceAccount"].startswith("gitpod-prod-gcp-nodes@")
    assert cluster["options"]["protect"] is True
    # The GKE service agent may use the key before the cluster is created.
    grant = next(r for r in plan.by_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
                 if r["inputs"]["cryptoKeyId"].endswith("/gke-secrets"))
    assert grant["inputs"]["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    assert grant["inputs"]["member"] == \
        "serviceAccount:service-210987654321@container-engine-robot.iam.gserviceaccount.com"
    assert grant["urn"] in cluster["options"]["dependsOn"]


def test_dev_may_run_a_zonal_cluster_with_a_private_endpoint(registered: Registered, stack_variant) -> None:
    from ops.plan.runner import run_program

    public = inputs_of(registered("dev-gcp"), "gcp:container/cluster:Cluster")
    assert public["location"] == "europe-west1-b"
    resources, _ = run_program(stack_variant("dev-gcp", {"gitpod-cell:cluster.publicAccessCidrs": []}))
    cluster = next(r for r in resources if r["type"] == "gcp:container/cluster:Cluster")["inputs"]
    assert cluster["privateClusterConfig"]["enablePrivateEndpoint"] is True
    assert cluster["masterAuthorizedNetworksConfig"].get("cidrBlocks", []) == []
    # Decided (docs/gcp.md): global access stays off either way; only the node subnet reaches a private endpoint.
    for inputs in (public, cluster):
        assert inputs["privateClusterConfig"]["masterGlobalAccessConfig"] == {"enabled": False}


def test_kubernetes_provider_uses_gke_auth_plugin(registered: Registered) -> None:
    from components.gcp.cluster import build_kubeconfig

    kubeconfig = json.loads(build_kubeconfig("c", "172.16.0.2", "Q0E="))
    user = kubeconfig["users"][0]["user"]
    assert user["exec"]["command"] == "gke-gcloud-auth-plugin"
    assert "token" not in user
    assert "client-certificate-data" not in user
    assert kubeconfig["clusters"][0]["cluster"]["server"] == "https://172.16.0.2"
    provider = inputs_of(registered("prod-gcp"), "pulumi:providers:kubernetes")
    assert provider["kubeconfig"] == "[secret]"


def test_node_pools_carry_gitpod_labels_and_are_hardened(registered: Registered) -> None:
    plan = registered("prod-gcp")
    pools = {p["inputs"]["name"]: p["inputs"] for p in plan.by_type("gcp:container/nodePool:NodePool")}
    assert set(pools) == {"services", "regular-workspaces", "headless-workspaces"}
    labels = set().union(*(p["nodeConfig"]["labels"] for p in pools.values()))
    assert labels == {"gitpod.io/workload_meta", "gitpod.io/workload_ide", "gitpod.io/workload_workspace_services",
                      "gitpod.io/workload_services", "gitpod.io/workload_workspace_regular",
                      "gitpod.io/workload_workspace_headless"}
    assert pools["regular-workspaces"]["autoscaling"]["totalMinNodeCount"] == 3
    assert pools["regular-workspaces"]["autoscaling"]["totalMaxNodeCount"] == 50
    assert pools["regular-workspaces"]["nodeConfig"]["machineType"] == "n2-standard-16"
    for pool in pools.values():
        assert pool["management"] == {"autoRepair": True, "autoUpgrade": True}
        node = pool["nodeConfig"]
        assert node["shieldedInstanceConfig"] == {"enableSecureBoot": True, "enableIntegrityMonitoring": True}
        assert node["workloadMetadataConfig"]["mode"] == "GKE_METADATA"
        assert node["serviceAccount"] == f"gitpod-prod-gcp-nodes@{PROJECT}.iam.gserviceaccount.com"
        assert "compute@developer" not in node["serviceAccount"]


def test_node_service_account_is_least_privilege(registered: Registered) -> None:
    plan = registered("prod-gcp")
    node_member = f"serviceAccount:gitpod-prod-gcp-nodes@{PROJECT}.iam.gserviceaccount.com"
    roles = {r["inputs"]["role"] for r in plan.by_type("gcp:projects/iAMMember:IAMMember")
             if r["inputs"]["member"] == node_member}
    assert roles == {"roles/logging.logWriter", "roles/monitoring.metricWriter", "roles/monitoring.viewer",
                     "roles/stackdriver.resourceMetadata.writer", "roles/autoscaling.metricsWriter"}
    readers = [r["inputs"] for r in plan.by_type("gcp:artifactregistry/repositoryIamMember:RepositoryIamMember")
               if r["inputs"]["member"] == node_member]
    assert [(r["role"], r["repository"]) for r in readers] == [("roles/artifactregistry.reader", "gitpod-prod-gcp")]


@pytest.mark.parametrize(("stack", "availability", "retained", "log_days", "location"),
                         [("prod-gcp", "REGIONAL", 14, 7, "europe-west4"), ("dev-gcp", "ZONAL", 7, 3, None)])
def test_cloud_sql_is_private_tls_only_and_recoverable(registered: Registered, stack: str, availability: str,
                                                       retained: int, log_days: int, location: str | None) -> None:
    plan = registered(stack)
    instance = plan.one("gcp:sql/databaseInstance:DatabaseInstance")
    db = instance["inputs"]
    settings = db["settings"]
    assert db["databaseVersion"] == "MYSQL_8_0"
    assert settings["availabilityType"] == availability
    backups = settings["backupConfiguration"]
    assert backups["enabled"] is True
    assert backups["binaryLogEnabled"] is True
    assert backups["backupRetentionSettings"] == {"retainedBackups": retained, "retentionUnit": "COUNT"}
    assert backups["transactionLogRetentionDays"] == log_days
    assert backups.get("location") == location
    ip = settings["ipConfiguration"]
    assert ip["ipv4Enabled"] is False
    assert ip["privateNetwork"].endswith("/global/networks/gitpod-" + stack)
    assert ip["sslMode"] == "ENCRYPTED_ONLY"
    assert db["deletionProtection"] is True
    assert settings["deletionProtectionEnabled"] is True
    assert settings["retainBackupsOnDelete"] is True
    assert {f["name"]: f["value"] for f in settings["databaseFlags"]} == {"explicit_defaults_for_timestamp": "off"}
    assert settings["maintenanceWindow"]["day"] == 7
    assert settings["maintenanceWindow"]["hour"] == 4
    assert db["encryptionKeyName"].endswith("/cryptoKeys/cloudsql")
    # Private services access exists before the instance.
    connection = plan.one("gcp:servicenetworking/connection:Connection")
    assert connection["inputs"]["service"] == "servicenetworking.googleapis.com"
    address = inputs_of(plan, "gcp:compute/globalAddress:GlobalAddress")
    assert (address["purpose"], address["addressType"]) == ("VPC_PEERING", "INTERNAL")
    assert connection["urn"] in instance["options"]["dependsOn"]
    # Autoresize grows the disk: a later `up` must not try to shrink it back (the provider would replace the
    # instance); the clone source only matters at creation.
    assert settings["diskAutoresize"] is True
    assert {"settings.diskSize", "clone"} <= set(instance["options"]["ignoreChanges"])
    assert "encryptionKeyName" not in instance["options"]["ignoreChanges"]


def test_database_password_is_random_secret_and_user_and_schema_exist(registered: Registered) -> None:
    plan = registered("prod-gcp")
    password = plan.one("random:index/randomPassword:RandomPassword")
    user = plan.one("gcp:sql/user:User")
    assert user["inputs"]["name"] == "gitpod"
    assert user["inputs"]["password"] == "[secret]"
    assert password["urn"] in user["dependencies"]
    database = inputs_of(plan, "gcp:sql/database:Database")
    assert (database["name"], database["charset"]) == ("gitpod", "utf8mb4")
    assert "offline-" not in json.dumps(plan.document)


def test_bucket_is_multi_region_versioned_private_and_keeps_live_objects(registered: Registered) -> None:
    plan = registered("prod-gcp")
    bucket = inputs_of(plan, "gcp:storage/bucket:Bucket", "gitpod-prod-gcp-workspaces")
    assert bucket["name"] == f"gitpod-prod-gcp-{PROJECT}"
    assert bucket["location"] == "EU"
    assert bucket["versioning"] == {"enabled": True}
    assert bucket["uniformBucketLevelAccess"] is True
    assert bucket["publicAccessPrevention"] == "enforced"
    assert bucket["forceDestroy"] is False
    for rule in bucket["lifecycleRules"]:
        if rule["action"]["type"] == "Delete":
            assert rule["condition"]["withState"] == "ARCHIVED", "live objects must never be deleted"
            assert rule["condition"]["daysSinceNoncurrentTime"] == 30
            assert "age" not in rule["condition"]


def test_custom_dual_region_bucket(stack_variant) -> None:
    from ops.plan.runner import run_program

    resources, _ = run_program(stack_variant("prod-gcp", {"gitpod-cell:gcp.storageLocation":
                                                          "europe-west1+europe-west4"}))
    buckets = {r["name"]: r["inputs"] for r in resources if r["type"] == "gcp:storage/bucket:Bucket"}
    bucket = next(b for name, b in buckets.items() if name.endswith("-workspaces"))
    assert bucket["location"] == "EU"
    assert bucket["customPlacementConfig"]["dataLocations"] == ["EUROPE-WEST1", "EUROPE-WEST4"]
    # The usage-log bucket sits in the same location as the data it logs.
    logs = next(b for name, b in buckets.items() if name.endswith("-usage-logs"))
    assert logs["customPlacementConfig"] == bucket["customPlacementConfig"]


def test_registry_deletes_only_untagged_images(registered: Registered) -> None:
    repository = inputs_of(registered("prod-gcp"), "gcp:artifactregistry/repository:Repository")
    assert (repository["format"], repository["location"]) == ("DOCKER", "europe-west1")
    assert repository["kmsKeyName"].endswith("/cryptoKeys/artifact-registry")
    assert repository["cleanupPolicyDryRun"] is False
    policies = {p["id"]: p for p in repository["cleanupPolicies"]}
    assert policies["keep-tagged"]["action"] == "KEEP"
    assert policies["keep-tagged"]["condition"]["tagState"] == "TAGGED"
    for policy in policies.values():
        if policy["action"] == "DELETE":
            assert policy["condition"]["tagState"] == "UNTAGGED"


def test_dns_zone_with_dnssec_or_adopted(registered: Registered, stack_variant) -> None:
    from ops.plan.runner import run_program

    zone = inputs_of(registered("prod-gcp"), "gcp:dns/managedZone:ManagedZone")
    assert zone["dnsName"] == "gitpod.example.com."
    assert zone["dnssecConfig"]["state"] == "on"
    assert zone["visibility"] == "public"
    resources, outputs = run_program(stack_variant("dev-gcp", {"gitpod-cell:gcp.existingZoneName": "acme-dev"}))
    assert not [r for r in resources if r["type"] == "gcp:dns/managedZone:ManagedZone"]
    assert outputs["dnsZoneId"] == "acme-dev"
    zone_iam = "gcp:dns/dnsManagedZoneIamMember:DnsManagedZoneIamMember"
    bindings = [r["inputs"] for r in resources if r["type"] == zone_iam]
    assert {b["managedZone"] for b in bindings} == {"acme-dev"}
