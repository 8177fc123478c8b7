"""How each of Gitpod's own workloads reaches the cloud on this cell, for the installer Job and for the plan.

Gitpod's installer renders the ServiceAccounts of its workloads and drops ServiceAccount customizations (it looks
them up under kind ConfigMap), so an identity that rides on an annotation is written by the installer Job onto the
rendered ServiceAccount (`installer.apply_settings`). Identities granted straight to the Kubernetes service
account's principal (GKE) need no annotation at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from components.gitpod.installer_config import REGISTRY_SECRET, STORAGE_SECRET
from components.platform import Platform, WorkloadIdentity
from contract.gitpod_builds import GitpodBuild
from contract.identities import SERVER_SERVICE_ACCOUNT, gitpod_accounts

ANNOTATED_BY_THE_JOB = "written onto the rendered ServiceAccount by the installer Job"


def gitpod_identities(platform: Platform, build: GitpodBuild) -> dict[str, WorkloadIdentity]:
    """The Platform's identities for Gitpod's own workloads on `build`, keyed by service account."""
    found: dict[str, WorkloadIdentity] = {}
    for workload, account in gitpod_accounts(build).items():
        identity = platform.identities.get(workload)
        if identity is None:
            raise ValueError(f"the Platform has no {workload!r} identity for {account.service_account} on "
                             f"{build.version}; identities: {', '.join(sorted(platform.identities))}")
        found[account.service_account] = identity
    return found


def identity_annotations(identities: Mapping[str, WorkloadIdentity]) -> pulumi.Output[dict[str, dict[str, str]]]:
    """{service account: annotations} for the installer Job to write (empty annotations are left out)."""
    accounts = sorted(identities)
    return pulumi.Output.all(*(identities[account].annotations for account in accounts)).apply(
        lambda values: {account: dict(annotations) for account, annotations in zip(accounts, values, strict=True)
                        if annotations})


def identity_summary(platform: Platform, build: GitpodBuild,
                     identities: Mapping[str, WorkloadIdentity]) -> pulumi.Output[dict[str, str]]:
    """One line per Gitpod workload that touches the cloud: how it gets there on this cell and build."""
    summary: dict[str, Any] = {}
    for account, identity in identities.items():
        summary[account] = identity.annotations.apply(
            lambda annotations, via=identity.via: f"{via}: " + ", ".join(f"{k}={v}" for k, v in annotations.items())
            + f" ({ANNOTATED_BY_THE_JOB})" if annotations else via)
    if platform.object_storage.static_key is not None:
        for account in build.storage_service_accounts:
            summary.setdefault(account, f"object storage with the static key in Secret {STORAGE_SECRET!r} "
                                        f"({build.version} reads object storage with nothing else)")
    for account in (build.registry_push_service_account, build.registry_pull_service_account):
        summary.setdefault(account, f"registry with the refreshed docker config in Secret {REGISTRY_SECRET!r}")
    summary.setdefault(SERVER_SERVICE_ACCOUNT, f"no cloud identity needed: on {build.version} it reaches object "
                                               "storage through content-service and the database through a Secret")
    return pulumi.Output.all(**summary).apply(dict)
