"""The GCP cell's identities, keys, labels, protection, outputs and restores, asserted on what the real program
registers under the mock engine (the network, cluster, database and storage: test_gcp_cell.py)."""

from __future__ import annotations

import pytest

from components.gcp.naming import service_account_id
from ops.plan.mocks import GCP_PROJECT_NUMBER as PROJECT_NUMBER
from tests.components.gcp_plan import LABEL_PATHS, PROJECT, STATEFUL_TYPES, Registered, inputs_of


def principal(ksa: str) -> str:
    namespace, account = ksa.split("/")
    return (f"principal://iam.googleapis.com/projects/{PROJECT_NUMBER}/locations/global/workloadIdentityPools/"
            f"{PROJECT}.svc.id.goog/subject/ns/{namespace}/sa/{account}")


def test_add_ons_use_workload_identity_and_gitpod_workloads_their_own_principals(registered: Registered) -> None:
    for stack in ("prod-gcp", "dev-gcp"):
        types = {r["type"] for r in registered(stack).resources}
        assert "gcp:serviceaccount/key:Key" not in types
    plan = registered("prod-gcp")
    bindings = {r["name"].removesuffix("-workload-identity"): r
                for r in plan.by_type("gcp:serviceaccount/iAMMember:IAMMember")}
    cluster = plan.one("gcp:container/cluster:Cluster")["urn"]
    # The add-ons this program installs carry the annotation in their charts: Google service accounts.
    for workload, ksa in {"cert-manager": "cert-manager/cert-manager",
                          "external-dns": "external-dns/external-dns",
                          "gitpod-registry-credentials": "gitpod/registry-credentials"}.items():
        binding = bindings[f"gitpod-prod-gcp-{workload}"]
        assert binding["inputs"]["role"] == "roles/iam.workloadIdentityUser"
        assert binding["inputs"]["member"] == f"serviceAccount:{PROJECT}.svc.id.goog[{ksa}]"
        # The identity pool exists only once a Workload Identity cluster does: every binding waits for it.
        assert cluster in binding["dependencies"], workload
    assert all(cluster in b["dependencies"] for b in bindings.values())
    # Gitpod's own workloads: IAM straight on their Kubernetes principals, no Google service account to annotate.
    repository_members = {r["inputs"]["member"]: r["inputs"]["role"]
                          for r in plan.by_type("gcp:artifactregistry/repositoryIamMember:RepositoryIamMember")}
    assert repository_members[principal("gitpod/image-builder-mk3")] == "roles/artifactregistry.writer"
    assert repository_members[principal("gitpod/registry-facade")] == "roles/artifactregistry.reader"
    outputs = plan.document["outputs"]["gitpodIdentities"]
    assert "principal" in outputs["image-builder-mk3"]
    assert "static key" in outputs["ws-daemon"]
    for account in plan.by_type("gcp:serviceaccount/account:Account"):
        assert 6 <= len(account["inputs"]["accountId"]) <= 30


def test_the_bucket_key_is_an_hmac_key_of_an_account_that_reaches_only_the_bucket(registered: Registered) -> None:
    plan = registered("prod-gcp")
    (hmac,) = plan.by_type("gcp:storage/hmacKey:HmacKey")
    holder = next(a for a in plan.by_type("gcp:serviceaccount/account:Account")
                  if "object-storage-static-key" in a["inputs"]["description"])
    email = f"{holder['inputs']['accountId']}@{PROJECT}.iam.gserviceaccount.com"
    assert hmac["inputs"]["serviceAccountEmail"] == email
    assert hmac["name"].endswith("-initial")
    grants = [r["inputs"] for r in plan.resources if (r["type"].startswith("gcp:") and "IAMMember" in r["type"])
              or r["type"].endswith("IamMember")]
    holder_grants = {(g["role"], g.get("bucket")) for g in grants if g.get("member") == f"serviceAccount:{email}"}
    bucket = f"gitpod-prod-gcp-{PROJECT}"
    assert holder_grants == {("roles/storage.objectAdmin", bucket), ("roles/storage.legacyBucketReader", bucket)}


def test_workload_roles_are_scoped_to_one_resource(registered: Registered) -> None:
    plan = registered("prod-gcp")

    def member(workload: str) -> str:
        return f"serviceAccount:{service_account_id('gitpod-prod-gcp', workload)}@{PROJECT}.iam.gserviceaccount.com"

    bucket = f"gitpod-prod-gcp-{PROJECT}"
    bucket_grants = {(r["inputs"]["member"].split(":", 1)[0], r["inputs"]["role"], r["inputs"]["bucket"])
                     for r in plan.by_type("gcp:storage/bucketIAMMember:BucketIAMMember")}
    # The bucket key's account on the workspace bucket; Cloud Storage writes usage logs as its analytics group,
    # into the log bucket only.
    assert bucket_grants == {("serviceAccount", "roles/storage.objectAdmin", bucket),
                             ("serviceAccount", "roles/storage.legacyBucketReader", bucket),
                             ("group", "roles/storage.objectCreator", f"{bucket}-logs")}
    # No predefined DNS admin role anywhere: custom roles, record changes bound on the zone only.
    project_roles = [r["inputs"] for r in plan.by_type("gcp:projects/iAMMember:IAMMember")]
    assert not [r for r in project_roles if r["role"] in ("roles/dns.admin", "roles/owner", "roles/editor")]
    records = inputs_of(plan, "gcp:projects/iAMCustomRole:IAMCustomRole", "gitpod-prod-gcp-dns-records")
    assert "dns.managedZones.create" not in records["permissions"]
    assert "dns.resourceRecordSets.update" in records["permissions"]
    zone_bindings = [r["inputs"] for r in plan.by_type("gcp:dns/dnsManagedZoneIamMember:DnsManagedZoneIamMember")]
    assert {b["member"] for b in zone_bindings} == {member("cert-manager"), member("external-dns")}
    assert {b["role"] for b in zone_bindings} == {f"projects/{PROJECT}/roles/gitpod_prod_gcp_dns_records"}
    lister = inputs_of(plan, "gcp:projects/iAMCustomRole:IAMCustomRole", "gitpod-prod-gcp-dns-zone-list")
    assert lister["permissions"] == ["dns.managedZones.list"]


def test_kms_keys_rotate_and_service_agents_can_use_them(registered: Registered) -> None:
    plan = registered("prod-gcp")
    keys = {k["inputs"]["name"]: k for k in plan.by_type("gcp:kms/cryptoKey:CryptoKey")}
    assert set(keys) == {"gke-secrets", "cloudsql", "artifact-registry"}
    assert all(k["inputs"]["rotationPeriod"] == "7776000s" for k in keys.values())
    members = {r["inputs"]["cryptoKeyId"].rsplit("/", 1)[-1]: r["inputs"]["member"]
               for r in plan.by_type("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")}
    assert members["cloudsql"].endswith("@gcp-sa-cloud-sql.iam.gserviceaccount.com")
    assert members["artifact-registry"].endswith("@gcp-sa-artifactregistry.iam.gserviceaccount.com")


@pytest.mark.parametrize("stack", ["prod-gcp", "dev-gcp"])
def test_every_labelled_resource_carries_cell_labels(registered: Registered, stack: str) -> None:
    plan = registered(stack)
    labelled = [r for r in plan.resources if r["type"] in LABEL_PATHS]
    assert len(labelled) >= 10
    for resource in labelled:
        labels = resource["inputs"]
        for key in LABEL_PATHS[resource["type"]]:
            labels = labels[key]
        assert labels["environment"] == stack.removesuffix("-gcp"), resource["urn"]
        assert labels["cell"] == stack
        assert labels["managed-by"] == "pulumi"
        assert all(k == k.lower() and str(v) == str(v).lower() for k, v in labels.items())


def test_prod_protects_and_retains_every_stateful_resource(registered: Registered) -> None:
    for stack, protected in (("prod-gcp", True), ("dev-gcp", False)):
        plan = registered(stack)
        stateful = [r for r in plan.resources if r["type"] in STATEFUL_TYPES]
        assert {r["type"] for r in stateful} == set(STATEFUL_TYPES)
        for resource in stateful:
            assert resource["options"]["protect"] is protected, resource["urn"]
            assert resource["options"]["retainOnDelete"] is True, resource["urn"]


def test_platform_outputs_describe_the_gcp_cell(registered: Registered) -> None:
    outputs = registered("prod-gcp").document["outputs"]
    assert outputs["cloud"] == "gcp"
    assert outputs["databaseRestoreTarget"] == {"kind": "cloudsql", "instanceId": "gitpod-prod-gcp-db",
                                                "region": "europe-west1", "backupReplicaRegion": "europe-west4"}
    assert outputs["bucket"] == f"gitpod-prod-gcp-{PROJECT}"
    assert outputs["replicaBucket"] is None
    assert outputs["registryUrl"] == f"europe-west1-docker.pkg.dev/{PROJECT}/gitpod-prod-gcp"
    assert outputs["dnsZoneId"] == "gitpod-prod-gcp"
    assert outputs["databaseHost"].startswith("10.")


def test_components_follow_pulumi_style(registered: Registered) -> None:
    plan = registered("dev-gcp")
    cell = [r for r in plan.resources if r["type"].startswith("gitpod-cell:gcp:")]
    assert {r["type"] for r in cell} >= {"gitpod-cell:gcp:GcpCell", "gitpod-cell:gcp:GkeCluster",
                                         "gitpod-cell:gcp:CloudSqlDatabase", "gitpod-cell:gcp:Network"}
    urns = {r["urn"] for r in plan.resources}
    assert all(r["parent"] in urns for r in plan.resources if r["custom"])


def test_gcp_restore_keeps_the_clone_and_sets_a_fresh_password(stack_variant) -> None:
    from components.gcp.database import restored_username
    from ops.plan.runner import run_program

    restore = {"sourceDbInstance": "gitpod-prod-gcp-db", "pointInTime": "latest",
               "adoptBucket": f"gitpod-prod-gcp-{PROJECT}"}
    resources, outputs = run_program(stack_variant("prod-gcp", {"gitpod-cell:restore": restore}))
    instance = next(r for r in resources if r["type"] == "gcp:sql/databaseInstance:DatabaseInstance")
    # The clone keeps the source's key, network and (grown) disk: none of them may force a replacement, and the
    # disk size is not sent (a clone cannot shrink).
    assert {"clone", "settings.diskSize", "encryptionKeyName",
            "settings.ipConfiguration.privateNetwork"} <= set(instance["options"]["ignoreChanges"])
    assert "diskSize" not in instance["inputs"]["settings"]
    # The clone already holds the `gitpod` database and the source's `gitpod` user: nothing creates them again.
    assert not [r for r in resources if r["type"] == "gcp:sql/database:Database"]
    [user] = [r for r in resources if r["type"] == "gcp:sql/user:User"]
    assert user["inputs"]["name"] == restored_username(instance["inputs"]["name"]) != "gitpod"
    assert restored_username("gitpod-a-db") != restored_username("gitpod-b-db")
    assert len(user["inputs"]["name"]) <= 32
    assert user["inputs"]["password"] == "[secret]"
    password = next(r for r in resources if r["type"] == "random:index/randomPassword:RandomPassword")
    assert password["urn"] in user["dependencies"]
    assert outputs["databasePassword"] == "[secret]"


def test_platform_cluster_ready_is_the_node_pools(stack_variant, tmp_path) -> None:
    from ops.common.stackfile import load_stack
    from ops.plan.runner import run_program

    program = tmp_path / "probe.py"
    program.write_text(
        "import pulumi\n"
        "from components.cells import build_platform\n"
        "from components.config import load_from_pulumi\n"
        "platform = build_platform(load_from_pulumi())\n"
        "pulumi.export('ready', [r.urn for r in platform.cluster.ready])\n"
    )
    resources, outputs = run_program(load_stack("prod-gcp"), program)
    pools = {r["urn"] for r in resources if r["type"] == "gcp:container/nodePool:NodePool"}
    assert len(pools) == 3
    assert set(outputs["ready"]) == pools


def test_the_signed_zones_ds_record_is_an_output(registered: Registered) -> None:
    record = registered("prod-gcp").document["outputs"]["dnsDsRecord"]
    key_tag, algorithm, digest_type, digest = record.split()
    assert (algorithm, digest_type) == ("8", "2")
    assert key_tag.isdigit()
    assert len(digest) == 64
