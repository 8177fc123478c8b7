"""What the GCP cell tests share: the prod-gcp project, the stateful and labelled types, and plan lookups."""

from __future__ import annotations

from collections.abc import Callable

from ops.common.stackfile import load_stack
from ops.plan.runner import PlanDocument

Registered = Callable[[str], PlanDocument]

# The shipped prod-gcp stack's project: what its plan names everywhere.
PROJECT = str(load_stack("prod-gcp").config["gcp:project"])
STATEFUL_TYPES = (
    "gcp:sql/databaseInstance:DatabaseInstance",
    "gcp:storage/bucket:Bucket",
    "gcp:artifactregistry/repository:Repository",
    "gcp:dns/managedZone:ManagedZone",
    "gcp:kms/keyRing:KeyRing",
    "gcp:kms/cryptoKey:CryptoKey",
)
# Where each labelled type keeps its labels (pulumi-gcp 10 input names).
LABEL_PATHS = {
    "gcp:sql/databaseInstance:DatabaseInstance": ("settings", "userLabels"),
    "gcp:container/cluster:Cluster": ("resourceLabels",),
    "gcp:container/nodePool:NodePool": ("nodeConfig", "resourceLabels"),
    "gcp:storage/bucket:Bucket": ("labels",),
    "gcp:artifactregistry/repository:Repository": ("labels",),
    "gcp:kms/cryptoKey:CryptoKey": ("labels",),
    "gcp:dns/managedZone:ManagedZone": ("labels",),
    "gcp:compute/globalAddress:GlobalAddress": ("labels",),
}


def inputs_of(plan: PlanDocument, resource_type: str, name: str | None = None) -> dict:
    return plan.one(resource_type, name)["inputs"]


def by_urn(plan: PlanDocument, urn: str) -> dict:
    return next(r for r in plan.resources if r["urn"] == urn)
