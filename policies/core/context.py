"""What a resource says about where it runs: environment (tags/labels, provider defaults merged) and region."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies.core.props import as_mapping, get, known

ENVIRONMENTS = ("dev", "staging", "prod")
AWS_ENVIRONMENT_TAG = "Environment"
GCP_ENVIRONMENT_LABEL = "environment"

# Where each labelled GCP type keeps its labels (pulumi-gcp 10 input names).
GCP_LABEL_PATHS: Mapping[str, str] = {
    "gcp:sql/databaseInstance:DatabaseInstance": "settings.userLabels",
    "gcp:container/cluster:Cluster": "resourceLabels",
    "gcp:container/nodePool:NodePool": "nodeConfig.resourceLabels",
    "gcp:storage/bucket:Bucket": "labels",
    "gcp:artifactregistry/repository:Repository": "labels",
    "gcp:kms/cryptoKey:CryptoKey": "labels",
    "gcp:dns/managedZone:ManagedZone": "labels",
}

PRODUCTION_SCHEMA: Mapping[str, Mapping[str, Any]] = {
    "environments": {
        "type": "array",
        "items": {"type": "string"},
        "default": ["prod"],
        "description": "Environment tag/label values this production-only rule applies to.",
    },
}

EXEMPTION_SCHEMA: Mapping[str, Mapping[str, Any]] = {
    "exemptEnvironments": {
        "type": "array",
        "items": {"type": "string"},
        "default": ["dev"],
        "description": "Environment tag/label values exempt from this rule (dev cells must be easy to tear down).",
    },
}


def provider_props(resource: Any) -> Mapping[str, Any]:
    provider = getattr(resource, "provider", None)
    props = getattr(provider, "props", None)
    return props if isinstance(props, Mapping) else {}


def aws_tags(resource: Any) -> dict[str, Any]:
    """Provider `defaultTags`, then `tagsAll` (CLI outputs, unknown during a first preview), then `tags`."""
    tags: dict[str, Any] = {}
    tags.update(as_mapping(as_mapping(get(provider_props(resource), "defaultTags")).get("tags")))
    tags.update(as_mapping(known(resource.props, "tagsAll")))
    tags.update(as_mapping(get(resource.props, "tags")))
    return tags


def gcp_labels(resource: Any) -> dict[str, Any]:
    """Provider `defaultLabels`, then `effectiveLabels` (CLI outputs), then the type's own label field."""
    labels: dict[str, Any] = {}
    labels.update(as_mapping(get(provider_props(resource), "defaultLabels")))
    labels.update(as_mapping(known(resource.props, "effectiveLabels")))
    path = GCP_LABEL_PATHS.get(resource.resource_type)
    if path:
        labels.update(as_mapping(get(resource.props, path)))
    return labels


def environment_of(resource: Any) -> str | None:
    resource_type = resource.resource_type
    if resource_type.startswith("aws:"):
        value = aws_tags(resource).get(AWS_ENVIRONMENT_TAG)
    elif resource_type.startswith("gcp:"):
        value = gcp_labels(resource).get(GCP_ENVIRONMENT_LABEL)
    else:
        value = None
    return value if isinstance(value, str) else None


def in_environments(resource: Any, environments: Any) -> bool:
    """True when the resource's environment is one of `environments`; an untagged resource is not production
    here (the required-tags rules fail it instead)."""
    environment = environment_of(resource)
    return environment is not None and environment in list(environments or [])


def is_exempt(resource: Any, environments: Any) -> bool:
    """True only for a resource tagged with one of `environments`; an untagged resource is never exempt."""
    environment = environment_of(resource)
    return environment is not None and environment in list(environments or [])


def region_of(resource: Any) -> str | None:
    """The resource's own `region` (pulumi-aws 7 has one on most resources), else its provider's region."""
    region = get(resource.props, "region") or get(provider_props(resource), "region")
    return region if isinstance(region, str) and region else None


def arn_region(arn: Any) -> str | None:
    """The region field of an ARN (`arn:partition:service:region:account:...`)."""
    if not isinstance(arn, str) or not arn.startswith("arn:"):
        return None
    parts = arn.split(":")
    return (parts[3] or None) if len(parts) > 3 else None


def identity_problems(values: Mapping[str, Any], environment_key: str, cell_key: str, managed_by_key: str
                      ) -> list[str]:
    """What is wrong with the tags (AWS) or labels (GCP) that say which cell and environment a resource is in."""
    problems = []
    environment = values.get(environment_key)
    if environment not in ENVIRONMENTS:
        shown = "missing" if environment is None else repr(environment)
        problems.append(f"{environment_key} is {shown} (expected one of {', '.join(ENVIRONMENTS)})")
    if not values.get(cell_key):
        problems.append(f"{cell_key} is missing")
    managed_by = values.get(managed_by_key)
    if managed_by != "pulumi":
        shown = "missing" if managed_by is None else repr(managed_by)
        problems.append(f"{managed_by_key} is {shown} (expected 'pulumi')")
    return problems
