"""ECR repositories: vulnerability scanning, KMS encryption, immutable tags where Gitpod allows."""

from __future__ import annotations

from fnmatch import fnmatch
from typing import Any

from policies.core.props import as_list, get, truthy
from policies.core.rule import Report, configured, resource_rule
from policies.rules.tokens import ECR_REPOSITORY


@resource_rule(
    name="aws-ecr-scan-on-push",
    summary="ECR repositories scan images for vulnerabilities on push.",
    types=[ECR_REPOSITORY],
    control="CKV_AWS_163, AWS FSBP ECR.1",
)
def ecr_scan_on_push(args: Any, report: Report) -> None:
    if not truthy(get(args.props, "imageScanningConfiguration.scanOnPush")):
        report("imageScanningConfiguration.scanOnPush must be true.")


@resource_rule(
    name="aws-ecr-kms-encryption",
    summary="ECR repositories are encrypted with a KMS key.",
    types=[ECR_REPOSITORY],
    control="CKV_AWS_136",
)
def ecr_kms_encryption(args: Any, report: Report) -> None:
    configs = as_list(get(args.props, "encryptionConfigurations"))
    kms = [c for c in configs if get(c, "encryptionType") in ("KMS", "KMS_DSSE")]
    if not kms:
        report("encryptionConfigurations does not use encryptionType 'KMS' (the default is AES256).")
    elif not any(get(c, "kmsKey") for c in kms):
        report("encryptionConfigurations.kmsKey is not set; use the cell's customer-managed key.")


MUTABILITY_SCHEMA = {
    "mutableRepositories": {
        "type": "array",
        "items": {"type": "string"},
        "default": ["*/base-images", "*/workspace-images"],
        "description": "Repository-name globs that may keep mutable tags: Gitpod's image-builder repositories, "
        "whose tags a forced or retried build pushes again.",
    },
}


@resource_rule(
    name="aws-ecr-immutable-tags",
    summary="ECR repositories have immutable tags, except the repositories Gitpod's image-builder pushes to "
    "(`mutableRepositories`: */base-images, */workspace-images; docs/policies.md, deviations).",
    types=[ECR_REPOSITORY],
    control="CKV_AWS_51",
    config=MUTABILITY_SCHEMA,
)
def ecr_immutable_tags(args: Any, report: Report) -> None:
    mutability = str(get(args.props, "imageTagMutability") or "MUTABLE")
    if mutability.startswith("IMMUTABLE"):
        return
    name = str(get(args.props, "name") or args.name)
    if not any(fnmatch(name, pattern) for pattern in configured(args, MUTABILITY_SCHEMA)["mutableRepositories"]):
        report(f"imageTagMutability is {mutability}; set IMMUTABLE (only Gitpod's image-builder repositories, "
               "mutableRepositories, may keep mutable tags).")
