"""Binary Authorization for the cell's project: GKE admits only images from the places a cell runs images from.

The policy is a project singleton, so the cell owns its project's policy (one cell per project, as the shipped
stacks are). In `audit` mode (the default) a pod with any other image is admitted and logged (Cloud Audit Logs,
`binaryauthorization.googleapis.com/...`) so an operator can read what enforcement would block; `enforce` blocks it.
Google-maintained system images are admitted by the global policy either way."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
from pulumi_gcp import binaryauthorization

from components.component import child

ENFORCEMENT = {"audit": "DRYRUN_AUDIT_LOG_ONLY", "enforce": "ENFORCED_BLOCK_AND_AUDIT_LOG"}
# Images the cell itself deploys besides Gitpod's: the charts' controllers and the registry-token refresher.
PLATFORM_IMAGE_PATTERNS: tuple[str, ...] = (
    "quay.io/jetstack/**",  # cert-manager
    "registry.k8s.io/external-dns/**",  # external-dns
    "gcr.io/google.com/cloudsdktool/**",  # the registry credentials refresher (components/gcp/cell.py)
)
# Workspace pods pull their images through Gitpod's registry-facade on each node.
REGISTRY_FACADE_PORT = 20000


def image_patterns(project: str, region: str, repository: str, installer_image: str, domain: str,
                   extra: Sequence[str]) -> list[str]:
    """The cell's Artifact Registry repository, the registry path Gitpod's own images come from (the installer's),
    the platform images, workspace images served by registry-facade, and `extra` from the stack config."""
    gitpod_images = installer_image.split("@", 1)[0].rsplit(":", 1)[0].rsplit("/", 1)[0]
    return list(dict.fromkeys([
        f"{region}-docker.pkg.dev/{project}/{repository}/**",
        f"{gitpod_images}/**",
        *PLATFORM_IMAGE_PATTERNS,
        f"reg.{domain}:{REGISTRY_FACADE_PORT}/**",
        *extra,
    ]))


@dataclass(frozen=True)
class BinaryAuthorizationArgs:
    project: str
    mode: str
    patterns: Sequence[str]
    provider: pulumi.ProviderResource


class BinaryAuthorizationPolicy(pulumi.ComponentResource):
    policy: binaryauthorization.Policy

    def __init__(self, name: str, args: BinaryAuthorizationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gitpod-cell:gcp:BinaryAuthorizationPolicy", name, None, opts)
        self.policy = binaryauthorization.Policy(
            name,
            project=args.project,
            description=f"Gitpod cell {name}: only the cell's image sources ({args.mode})",
            global_policy_evaluation_mode="ENABLE",
            admission_whitelist_patterns=[binaryauthorization.PolicyAdmissionWhitelistPatternArgs(name_pattern=p)
                                          for p in args.patterns],
            default_admission_rule=binaryauthorization.PolicyDefaultAdmissionRuleArgs(
                evaluation_mode="ALWAYS_DENY", enforcement_mode=ENFORCEMENT[args.mode]),
            opts=child(self, provider=args.provider),
        )
        self.register_outputs({"policy": self.policy.id})
