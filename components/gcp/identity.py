"""Workload Identity: one Google service account per workload, usable by exactly one Kubernetes service account,
with roles granted on the one resource it needs. No service-account keys: the GKE metadata server hands pods
short-lived tokens."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
from pulumi_gcp import artifactregistry, dns, projects, serviceaccount, storage

from components.component import child
from components.gcp.naming import custom_role_id, service_account_id
from components.platform import WorkloadIdentity

SERVICE_ACCOUNT_ANNOTATION = "iam.gke.io/gcp-service-account"
WORKLOAD_IDENTITY_USER = "roles/iam.workloadIdentityUser"

# Cloud DNS has no predefined role narrower than roles/dns.admin (every zone of the project, zone creation and
# deletion, DNSSEC keys). cert-manager (DNS01 TXT records) and external-dns (A/TXT records) only need to change
# records, so they get a custom role bound on the cell's zone alone, plus listing zone names on the project, the
# one permission Cloud DNS does not offer per zone (both tools look their zone up by name).
DNS_RECORD_PERMISSIONS: tuple[str, ...] = (
    "dns.changes.create",
    "dns.changes.get",
    "dns.changes.list",
    "dns.managedZones.get",
    "dns.resourceRecordSets.create",
    "dns.resourceRecordSets.delete",
    "dns.resourceRecordSets.get",
    "dns.resourceRecordSets.list",
    "dns.resourceRecordSets.update",
)
DNS_ZONE_LIST_PERMISSIONS: tuple[str, ...] = ("dns.managedZones.list",)


@dataclass(frozen=True)
class Grant:
    """One role on one resource: the project (custom roles only), a bucket, a repository or a DNS zone."""

    scope: Literal["project", "bucket", "repository", "dns-zone"]
    role: pulumi.Input[str]
    # Bucket name, repository id or managed zone name (unused for the project).
    target: pulumi.Input[str] = ""


@dataclass(frozen=True)
class WorkloadGrant:
    namespace: str
    service_account: str
    # Short name for the Google service account id (30 characters at most with the cell prefix).
    account_name: str
    grants: Sequence[Grant] = field(default_factory=tuple)


@dataclass(frozen=True)
class IdentityScope:
    prefix: str
    project: str
    region: str
    provider: pulumi.ProviderResource
    # The cluster's Workload Identity pool (`<project>.svc.id.goog`) as an output of the GKE cluster: binding a
    # Kubernetes service account fails with "Identity Pool does not exist" until a cluster with Workload Identity
    # exists, so every binding is built from (and so waits for) the cluster.
    workload_pool: pulumi.Input[str]


class WorkloadServiceAccount(pulumi.ComponentResource):
    account: serviceaccount.Account
    identity: WorkloadIdentity

    def __init__(self, name: str, scope: IdentityScope, grant: WorkloadGrant,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gitpod-cell:gcp:WorkloadServiceAccount", name, None, opts)
        on = child(self, provider=scope.provider)
        self.account = serviceaccount.Account(
            name,
            account_id=service_account_id(scope.prefix, grant.account_name),
            display_name=f"{grant.namespace}/{grant.service_account} in {scope.prefix}",
            description=f"Workload Identity for Kubernetes service account {grant.namespace}/"
                        f"{grant.service_account}",
            opts=on,
        )
        # Exactly one Kubernetes service account may act as this Google service account.
        serviceaccount.IAMMember(
            f"{name}-workload-identity",
            service_account_id=self.account.name,
            role=WORKLOAD_IDENTITY_USER,
            member=pulumi.Output.from_input(scope.workload_pool).apply(
                lambda pool: f"serviceAccount:{pool}[{grant.namespace}/{grant.service_account}]"
            ),
            opts=on,
        )
        member = self.account.email.apply(lambda email: f"serviceAccount:{email}")
        for index, resource_grant in enumerate(grant.grants):
            _bind(f"{name}-{resource_grant.scope}-{index}", scope, resource_grant, member, on)
        self.identity = WorkloadIdentity(
            namespace=grant.namespace,
            service_account=grant.service_account,
            annotations=self.account.email.apply(lambda email: {SERVICE_ACCOUNT_ANNOTATION: email}),
            via=f"Workload Identity: the {SERVICE_ACCOUNT_ANNOTATION} annotation",
        )
        self.register_outputs({"email": self.account.email})


def _bind(name: str, scope: IdentityScope, grant: Grant, member: pulumi.Output[str],
          opts: pulumi.ResourceOptions) -> None:
    if grant.scope == "project":
        projects.IAMMember(name, project=scope.project, role=grant.role, member=member, opts=opts)
    elif grant.scope == "bucket":
        storage.BucketIAMMember(name, bucket=grant.target, role=grant.role, member=member, opts=opts)
    elif grant.scope == "repository":
        artifactregistry.RepositoryIamMember(name, project=scope.project, location=scope.region,
                                             repository=grant.target, role=grant.role, member=member, opts=opts)
    else:
        dns.DnsManagedZoneIamMember(name, project=scope.project, managed_zone=grant.target, role=grant.role,
                                    member=member, opts=opts)


class DnsRoles(pulumi.ComponentResource):
    """The two custom roles DNS01 and external-dns need (see DNS_RECORD_PERMISSIONS)."""

    record_writer: projects.IAMCustomRole
    zone_lister: projects.IAMCustomRole

    def __init__(self, name: str, scope: IdentityScope, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gitpod-cell:gcp:DnsRoles", name, None, opts)
        on = child(self, provider=scope.provider)
        self.record_writer = projects.IAMCustomRole(
            f"{name}-dns-records",
            project=scope.project,
            role_id=custom_role_id(scope.prefix, "dns_records"),
            title=f"DNS record writer ({scope.prefix})",
            description="Change records in one Cloud DNS zone (bound on the zone, never on the project)",
            permissions=list(DNS_RECORD_PERMISSIONS),
            stage="GA",
            opts=on,
        )
        self.zone_lister = projects.IAMCustomRole(
            f"{name}-dns-zone-list",
            project=scope.project,
            role_id=custom_role_id(scope.prefix, "dns_zone_list"),
            title=f"DNS zone lister ({scope.prefix})",
            description="List Cloud DNS zone names, so cert-manager and external-dns can find their zone",
            permissions=list(DNS_ZONE_LIST_PERMISSIONS),
            stage="GA",
            opts=on,
        )
        self.register_outputs({"record_writer": self.record_writer.name, "zone_lister": self.zone_lister.name})


def workload_service_accounts(scope: IdentityScope, grants: Mapping[str, WorkloadGrant],
                              parent: pulumi.Resource) -> dict[str, WorkloadIdentity]:
    return {
        workload: WorkloadServiceAccount(
            f"{scope.prefix}-{workload}", scope, grant, pulumi.ResourceOptions(parent=parent)
        ).identity
        for workload, grant in grants.items()
    }


def kubernetes_principal(project_number: str, workload_pool: str, namespace: str, service_account: str) -> str:
    """The IAM principal of one Kubernetes service account under GKE Workload Identity Federation: a role granted
    to it reaches the pods that run as that account with no annotation and no Google service account, so it holds
    for every Gitpod build, whatever its installer does with ServiceAccounts."""
    return (f"principal://iam.googleapis.com/projects/{project_number}/locations/global/workloadIdentityPools/"
            f"{workload_pool}/subject/ns/{namespace}/sa/{service_account}")


@dataclass(frozen=True)
class PrincipalGrant:
    namespace: str
    service_account: str
    grants: Sequence[Grant] = field(default_factory=tuple)


class KubernetesPrincipalGrants(pulumi.ComponentResource):
    """Roles granted straight to a Kubernetes service account's principal (Gitpod's own workloads on GKE)."""

    identity: WorkloadIdentity

    def __init__(self, name: str, scope: IdentityScope, project_number: pulumi.Input[str], grant: PrincipalGrant,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gitpod-cell:gcp:KubernetesPrincipalGrants", name, None, opts)
        on = child(self, provider=scope.provider)
        member = pulumi.Output.all(project_number, scope.workload_pool).apply(
            lambda values: kubernetes_principal(str(values[0]), str(values[1]), grant.namespace,
                                                grant.service_account))
        for index, resource_grant in enumerate(grant.grants):
            _bind(f"{name}-{resource_grant.scope}-{index}", scope, resource_grant, member, on)
        self.identity = WorkloadIdentity(
            namespace=grant.namespace,
            service_account=grant.service_account,
            annotations=pulumi.Output.from_input({}),
            via="IAM granted to the Kubernetes service account's principal (GKE Workload Identity Federation)",
        )
        self.register_outputs({"member": member})
