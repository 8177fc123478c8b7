"""The `gitpod-cell:gitpod` section: which Gitpod build is installed and how, and the rules that keep the pin to
what that build can really do (contract/gitpod_builds.py)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pydantic import Field, field_validator, model_validator

from components.config.section import DNS_LABEL, NAMESPACE, Section, parse_duration
from contract.gitpod_builds import SUPPORTED_BUILDS, TOOLBOX_IMAGE, GitpodBuild, supported_versions
from contract.rollout import MAX_LEASE_MINUTES, MIN_ROLLOUT_LEASE_MINUTES

if TYPE_CHECKING:
    from components.config.model import CellConfig

_IMAGE_REF = re.compile(r"^[a-z0-9.\-/:]+(?::[A-Za-z0-9_.\-]{1,128}|@sha256:[a-f0-9]{64})$")
# An image reference split into repository, tag and digest.
_IMAGE_PARTS = re.compile(r"^(?P<repository>[a-z0-9.\-/:]+?)(?::(?P<tag>[A-Za-z0-9_.\-]{1,128}))?"
                          r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?$")
_ROTATION_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$")
# Gitpod's server deletes stopped workspaces this many days after their last start (its built-in
# `workspaceGarbageCollection.minAgeDays`); installer config v1 can switch collection off but not change the age.
GITPOD_GC_MIN_AGE_DAYS = 14
# The installer's `fqdn` check of blockNewUsers.passlist entries (go-playground/validator's RFC 1123 regex).
_PASSLIST_DOMAIN = re.compile(r"^([a-zA-Z0-9][a-zA-Z0-9-]{0,62})(\.[a-zA-Z0-9][a-zA-Z0-9-]{0,62})*?"
                              r"(\.[a-zA-Z][a-zA-Z0-9]{0,62})\.?$")


def image_tag(reference: str) -> str | None:
    match = _IMAGE_PARTS.match(reference)
    return match["tag"] if match else None


class GarbageCollectionConfig(Section):
    enabled: bool = True
    # Stopped workspaces are deleted this many days after their last start; pinned workspaces never are.
    min_age_days: int = Field(default=GITPOD_GC_MIN_AGE_DAYS, ge=1, le=3650)


class WorkspaceLifecycleConfig(Section):
    timeout_default: str = "30m"
    timeout_extended: str = "180m"
    timeout_after_close: str = "5m"
    max_lifetime: str = "36h"
    garbage_collection: GarbageCollectionConfig = GarbageCollectionConfig()

    @field_validator("timeout_default", "timeout_extended", "timeout_after_close", "max_lifetime")
    @classmethod
    def _duration(cls, value: str) -> str:
        if parse_duration(value) <= 0:
            raise ValueError("must be longer than zero")
        return value

    def seconds(self) -> dict[str, int]:
        return {
            "timeoutDefault": parse_duration(self.timeout_default),
            "timeoutExtended": parse_duration(self.timeout_extended),
            "timeoutAfterClose": parse_duration(self.timeout_after_close),
            "maxLifetime": parse_duration(self.max_lifetime),
        }


class LetsEncryptConfig(Section):
    email: str
    staging: bool = False

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not re.match(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", value):
            raise ValueError(f"{value!r} is not an e-mail address (Let's Encrypt sends expiry notices to it)")
        return value


class StaticStorageKeyConfig(Section):
    """Consent to the one static credential a cell may hold: a key that reaches only the cell's own bucket, for
    builds that read object storage with nothing else (contract.gitpod_builds: `s3-static-key`)."""

    accept: bool = False
    # Changing the label replaces the key (a new one is created and rolled out, then the old one is deleted);
    # `python -m ops storage-key rotate --stack <stack>` writes a new one.
    rotation: str = "initial"

    @field_validator("rotation")
    @classmethod
    def _rotation(cls, value: str) -> str:
        if not _ROTATION_LABEL.match(value):
            raise ValueError(f"{value!r} is not a rotation label: 1-32 lowercase letters, digits and hyphens, "
                             "such as 20261203t1412 (what `ops storage-key rotate` writes)")
        return value


class GitpodConfig(Section):
    version: str
    installer_image: str
    # A pinned image with bash, kubectl, jq, yq (v4) and curl: it applies what the installer rendered, and keeps
    # the maintenance lease on builds without ws-manager-mk2 (contract.gitpod_builds.TOOLBOX_IMAGE).
    toolbox_image: str = TOOLBOX_IMAGE
    namespace: str = "gitpod"
    block_new_users: bool = False
    # Domains whose users may still sign up while blockNewUsers is on (the installer requires at least one).
    block_new_users_passlist: list[str] = Field(default_factory=list)
    # At least a whole rollout: snapshot wait (15) + installer Job deadline (25) + health gate (15) + margin (5),
    # as ops' rollout steps check again when the hooks run.
    maintenance_lease_minutes: int = Field(default=MIN_ROLLOUT_LEASE_MINUTES, ge=MIN_ROLLOUT_LEASE_MINUTES,
                                           le=MAX_LEASE_MINUTES)
    # Required on AWS and GCP, where the cell creates its ACME issuer; a cell on an existing cluster uses the
    # cluster's own ClusterIssuer (kubernetes.clusterIssuer) instead.
    # How long the rollout's health gate waits for every workload to be ready (None: contract.rollout's 15 min);
    # the maintenance lease must still outlast the whole rollout, as the hooks check.
    health_gate_minutes: int | None = Field(default=None, ge=1, le=60)
    letsencrypt: LetsEncryptConfig | None = None
    workspace: WorkspaceLifecycleConfig = WorkspaceLifecycleConfig()
    static_storage_key: StaticStorageKeyConfig = StaticStorageKeyConfig()

    @field_validator("version")
    @classmethod
    def _supported(cls, value: str) -> str:
        if value not in SUPPORTED_BUILDS:
            raise ValueError(f"got {value!r}; accepted: {supported_versions()} (the builds whose installer config "
                             "schema this cell renders; README: Supported Gitpod builds)")
        return value

    @field_validator("installer_image", "toolbox_image")
    @classmethod
    def _pinned_image(cls, value: str) -> str:
        if not _IMAGE_REF.match(value) or value.endswith(":latest"):
            raise ValueError(f"{value!r} must be an image pinned to a version tag or @sha256 digest, never latest")
        return value

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        if value in ("default", "kube-system") or not DNS_LABEL.match(value):
            raise ValueError(f"{value!r} is not usable; a DNS label other than default/kube-system")
        return value

    @field_validator("block_new_users_passlist")
    @classmethod
    def _passlist(cls, value: list[str]) -> list[str]:
        for domain in value:
            if not _PASSLIST_DOMAIN.match(domain):
                raise ValueError(f"{domain!r} is not a domain such as example.com")
        return value

    @model_validator(mode="after")
    def _image_of_the_build(self) -> GitpodConfig:
        if self.version in SUPPORTED_BUILDS and image_tag(self.installer_image) != self.version:
            build = SUPPORTED_BUILDS[self.version]
            raise ValueError(f"installerImage {self.installer_image!r} is not the installer of gitpod.version "
                             f"{self.version!r}: use {build.installer_image} (a mirror of it keeps the tag; a "
                             "digest may follow it as :<tag>@sha256:<digest>)")
        return self

    @property
    def build(self) -> GitpodBuild:
        return SUPPORTED_BUILDS[self.version]


def gitpod_issues(config: CellConfig) -> list[tuple[str, str]]:
    """What the pinned build cannot do on this cell, as (stack-config key, message) pairs."""
    gitpod, build = config.gitpod, config.gitpod.build
    key = f"{NAMESPACE}:gitpod"
    issues: list[tuple[str, str]] = []
    if config.cloud == "gcp" and build.storage_access == "s3-ambient":
        issues.append((f"{key}.version", f"{build.version} reaches object storage only through the AWS SDK's "
                       "ambient credentials (S3 without an endpoint) or, on GCS, with a service-account key that "
                       "needs rights over the whole project (cloudStorage makes a bucket per user); a GCP cell "
                       "installs release-2022.11.3, which uses GCS's S3 API with a key limited to the cell's bucket"))
    elif build.storage_access == "s3-static-key" and not gitpod.static_storage_key.accept:
        issues.append((f"{key}.staticStorageKey.accept", f"{build.version} reads object storage only with a static "
                       "key; set it to true to accept one limited to the cell's bucket (a Pulumi secret and a "
                       "Kubernetes Secret, rotated with `python -m ops storage-key rotate`), or pin a keyless build "
                       f"(accepted: {', '.join(v for v, b in SUPPORTED_BUILDS.items() if b.keyless_object_storage)})"))
    elif build.keyless_object_storage and gitpod.static_storage_key.accept:
        issues.append((f"{key}.staticStorageKey.accept", f"{build.version} reaches S3 with its workloads' own "
                       "identities (IRSA); no static key is made, so remove staticStorageKey"))
    if gitpod.block_new_users and not gitpod.block_new_users_passlist:
        issues.append((f"{key}.blockNewUsersPasslist", "blockNewUsers needs at least one domain whose users may "
                       "still sign up (Gitpod's installer refuses an empty passlist), e.g. [example.com]"))
    gc = gitpod.workspace.garbage_collection
    if gc.enabled and gc.min_age_days != GITPOD_GC_MIN_AGE_DAYS:
        issues.append((f"{key}.workspace.garbageCollection.minAgeDays",
                       f"got {gc.min_age_days}; Gitpod's installer config v1 cannot change the age (its server "
                       f"deletes stopped workspaces {GITPOD_GC_MIN_AGE_DAYS} days after their last start); accepted: "
                       f"{GITPOD_GC_MIN_AGE_DAYS}, or enabled: false"))
    return issues
