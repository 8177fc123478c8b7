"""The installer Job: the pinned installer renders the config, the toolbox applies what it rendered.

- `render` (init container, the build's installer image): `installer render --output-split-files`, which needs no
  shell; later installer images are distroless and could not run a script.
- `apply` (the toolbox image: bash, kubectl, jq, yq, curl): scripts/apply-gitpod.sh. It writes the cloud
  identities onto the ServiceAccounts the installer rendered (the installer drops ServiceAccount customizations),
  stamps the storage key's version onto the storage users, keeps the workspace manager paused while a maintenance
  lease runs on builds without ws-manager-mk2, and applies server-side (Gitpod's CRDs exceed the client-side
  last-applied annotation limit), CRDs first.
- Its name is `gitpod-installer-<version>-<rollout hash[:10]>`: the hash covers the config and everything the apply
  step writes, so a new version, config, identity or storage key is a new Job (a replacement, with the rollout
  hooks), and an unchanged cell re-runs nothing.
- pulumi-kubernetes waits for a Job to complete (Failed fails the update at once); `customTimeouts` give it
  contract.rollout's installer timeout. `ttlSecondsAfterFinished` stays unset: a Job that deleted itself would look
  like drift and be re-created on the next `pulumi up`.
- `pulumi.com/replaceUnready`: a Job that failed is replaced (re-run, with its hooks) on the next `pulumi up`.
- The `gitpod-installation` ConfigMap records what is being rolled out; the rollout hooks add their keys with
  JSON merge patches under their own field manager, which Pulumi's server-side apply leaves alone.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi
from pulumi_kubernetes.batch import v1 as batch
from pulumi_kubernetes.core import v1 as core
from pulumi_kubernetes.meta import v1 as meta
from pulumi_kubernetes.rbac import v1 as rbac

from components.gitpod.installer_config import DATABASE_CA_SECRET
from components.gitpod.pod_security import restricted_container, restricted_pod
from contract.cluster import (
    INSTALLATION_CONFIG_MAP,
    MK2_MAINTENANCE_CONFIG_MAP,
    MK2_MAINTENANCE_NAMESPACE,
    PART_OF_LABELS,
    REPLICAS_AFTER_MAINTENANCE,
)
from contract.gitpod_builds import GitpodBuild
from contract.rollout import INSTALLER_JOB_DEADLINE_SECONDS, INSTALLER_JOB_PULUMI_TIMEOUT

INSTALLER_NAME = "gitpod-installer"
INSTALLER_LABELS = {"app.kubernetes.io/name": INSTALLER_NAME, **PART_OF_LABELS}
INSTALLER_CONFIG_MAP = "gitpod-installer-config"
APPLY_SCRIPT_CONFIG_MAP = "gitpod-installer-apply"
CONFIG_DIR = "/config"
CONFIG_FILE = "config.yaml"
SCRIPT_DIR = "/scripts"
RENDERED_DIR = "/rendered"
HASH_IN_NAME = 10
JOB_TIMEOUT = INSTALLER_JOB_PULUMI_TIMEOUT
ACTIVE_DEADLINE_SECONDS = INSTALLER_JOB_DEADLINE_SECONDS
APPLY_SCRIPT = (Path(__file__).parent / "scripts" / "apply-gitpod.sh").read_text()


def sanitise_version(version: str, max_length: int = 63 - len(INSTALLER_NAME) - 2 - HASH_IN_NAME) -> str:
    """A version label as a DNS-1123 label fragment: lower case, [a-z0-9-], no leading/trailing dash."""
    label = re.sub(r"[^a-z0-9]+", "-", version.lower()).strip("-")
    return label[:max_length].rstrip("-") or "unversioned"


def job_name(version: str, rollout_hash: str) -> str:
    name = f"{INSTALLER_NAME}-{sanitise_version(version)}-{rollout_hash[:HASH_IN_NAME]}"
    if len(name) > 63 or not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name):
        raise ValueError(f"installer Job name {name!r} is not a DNS-1123 label")
    return name


def rollout_hash(config_hash: str, apply_settings: Mapping[str, str]) -> str:
    """What a rollout applies: the installer config and every setting of the apply step."""
    payload = json.dumps({"config": config_hash, "apply": dict(apply_settings), "script": APPLY_SCRIPT},
                         sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def storage_key_version(access_key_id: str) -> str:
    """Names a storage key without revealing it: the pod-template stamp that restarts the storage users when the
    key is rotated."""
    return hashlib.sha256(access_key_id.encode()).hexdigest()[:16]


def apply_settings(build: GitpodBuild, identity_annotations: Mapping[str, Mapping[str, str]],
                   key_version: str) -> dict[str, str]:
    """The apply step's settings (environment), all of them plain and non-secret."""
    return {
        "IDENTITY_ANNOTATIONS": json.dumps({account: dict(annotations) for account, annotations
                                            in sorted(identity_annotations.items()) if annotations},
                                           sort_keys=True),
        "STORAGE_USERS": " ".join(build.storage_service_accounts) if key_version else "",
        "STORAGE_KEY_VERSION": key_version,
        "MAINTENANCE_MECHANISM": build.maintenance,
        "WORKSPACE_MANAGER": build.workspace_manager,
        "LEASE_NAMESPACE": MK2_MAINTENANCE_NAMESPACE,
        "LEASE_CONFIG_MAP": MK2_MAINTENANCE_CONFIG_MAP,
        "REPLICAS_ANNOTATION": REPLICAS_AFTER_MAINTENANCE,
    }


@dataclass(frozen=True)
class InstallerArgs:
    namespace: str
    build: GitpodBuild
    installer_image: str
    toolbox_image: str
    config_yaml: pulumi.Output[str]
    config_hash: pulumi.Output[str]
    # apply_settings(...), resolved from the Platform's identities and storage key.
    apply_settings: pulumi.Output[dict[str, str]]
    use_experimental_config: bool
    database_ca_url: str
    node_selector: Mapping[str, str]
    # Lifecycle settings recorded in the gitpod-installation ConfigMap, as strings.
    record: Mapping[str, str]
    hooks: pulumi.ResourceHookBinding
    # The namespace, secrets and certificate the rendered config references.
    depends_on: Sequence[pulumi.Resource]
    # The cluster's nodes and add-ons (`Platform.cluster.ready`): only the Job waits for them (it needs a node).
    cluster_ready: Sequence[pulumi.Resource] = ()


@dataclass(frozen=True)
class Installer:
    job: batch.Job
    config_map: core.ConfigMap
    installation_record: core.ConfigMap
    service_account: core.ServiceAccount


def installer(name: str, args: InstallerArgs, parent: pulumi.Resource) -> Installer:
    ns = args.namespace
    opts = pulumi.ResourceOptions(parent=parent, depends_on=list(args.depends_on))
    # The account's token is never mounted by default: the binding below is cluster-admin, and any pod in the
    # namespace could name this account. Only the installer Job's pod opts in (see _job_spec).
    service_account = core.ServiceAccount(
        f"{name}-installer",
        metadata=meta.ObjectMetaArgs(name=INSTALLER_NAME, namespace=ns, labels=INSTALLER_LABELS),
        automount_service_account_token=False,
        opts=opts,
    )
    # Why cluster-admin rather than a narrower role: the rendered Gitpod release holds CRDs (ws-manager-mk2's
    # Workspace), ClusterRoles and ClusterRoleBindings, NetworkPolicies, cert-manager Issuers/Certificates and
    # namespaced objects of every kind. RBAC escalation prevention lets a subject create a (Cluster)Role only with
    # rights it holds itself, and Gitpod's roles reach nodes, pods, secrets and its CRDs cluster-wide, so a
    # narrower role would have to be re-derived from each release's rendered output and would still be
    # cluster-admin in all but name. The exposure is limited instead: only the installer Job's pod mounts the
    # token, and that pod runs pinned images for the length of a rollout.
    binding = rbac.ClusterRoleBinding(
        f"{name}-installer",
        metadata=meta.ObjectMetaArgs(name=f"{INSTALLER_NAME}-{ns}", labels=INSTALLER_LABELS),
        role_ref=rbac.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="ClusterRole", name="cluster-admin"),
        subjects=[rbac.SubjectArgs(kind="ServiceAccount", name=INSTALLER_NAME, namespace=ns)],
        opts=opts,
    )
    config_map = core.ConfigMap(
        f"{name}-installer-config",
        metadata=meta.ObjectMetaArgs(name=INSTALLER_CONFIG_MAP, namespace=ns, labels=INSTALLER_LABELS),
        data={CONFIG_FILE: args.config_yaml},
        opts=opts,
    )
    scripts = core.ConfigMap(
        f"{name}-installer-apply",
        metadata=meta.ObjectMetaArgs(name=APPLY_SCRIPT_CONFIG_MAP, namespace=ns, labels=INSTALLER_LABELS),
        data={"apply-gitpod.sh": APPLY_SCRIPT},
        opts=opts,
    )
    record = core.ConfigMap(
        f"{name}-installation",
        metadata=meta.ObjectMetaArgs(name=INSTALLATION_CONFIG_MAP, namespace=ns, labels=PART_OF_LABELS),
        data={"version": args.build.version, "configHash": args.config_hash, **args.record},
        opts=opts,
    )
    hashed = pulumi.Output.all(args.config_hash, args.apply_settings).apply(
        lambda values: rollout_hash(values[0], values[1]))
    job = batch.Job(
        f"{INSTALLER_NAME}-{sanitise_version(args.build.version)}",
        metadata=meta.ObjectMetaArgs(
            name=hashed.apply(lambda digest: job_name(args.build.version, digest)),
            namespace=ns,
            labels={**INSTALLER_LABELS, "app.kubernetes.io/version": sanitise_version(args.build.version)},
            annotations={"pulumi.com/replaceUnready": "true", "gitpod-cell/config-hash": args.config_hash,
                         "gitpod-cell/rollout-hash": hashed},
        ),
        spec=_job_spec(args),
        opts=pulumi.ResourceOptions(
            parent=parent,
            depends_on=[*args.depends_on, *args.cluster_ready, service_account, binding, config_map, scripts,
                        record],
            custom_timeouts=pulumi.CustomTimeouts(create=JOB_TIMEOUT, update=JOB_TIMEOUT),
            hooks=args.hooks,
        ),
    )
    return Installer(job, config_map, record, service_account)


def _render_args(args: InstallerArgs) -> list[str]:
    command = ["/app/installer", "render", "--config", f"{CONFIG_DIR}/{CONFIG_FILE}", "--namespace", args.namespace,
               "--output-split-files", RENDERED_DIR]
    return [*command, "--use-experimental-config"] if args.use_experimental_config else command


def _job_spec(args: InstallerArgs) -> batch.JobSpecArgs:
    fixed = {
        "NAMESPACE": args.namespace,
        "RENDERED": RENDERED_DIR,
        "WORK": "/tmp/gitpod-apply",
        "DATABASE_CA_URL": args.database_ca_url,
        "DATABASE_CA_NAME": DATABASE_CA_SECRET,
        "GITPOD_VERSION": args.build.version,
        # kubectl keeps its discovery cache under $HOME; the root filesystem is read-only.
        "HOME": "/tmp",
    }
    env = args.apply_settings.apply(lambda settings: [
        core.EnvVarArgs(name=key, value=value) for key, value in {**fixed, **settings}.items()])
    config_hash_env = core.EnvVarArgs(name="CONFIG_HASH", value=args.config_hash)
    resources = core.ResourceRequirementsArgs(requests={"cpu": "250m", "memory": "256Mi"},
                                              limits={"cpu": "1", "memory": "1Gi"})
    return batch.JobSpecArgs(
        # Two retries cover a flaky API server; a bad config fails three times quickly and stops the rollout.
        backoff_limit=2,
        active_deadline_seconds=ACTIVE_DEADLINE_SECONDS,
        template=core.PodTemplateSpecArgs(
            metadata=meta.ObjectMetaArgs(labels={**INSTALLER_LABELS,
                                                 "app.kubernetes.io/version": sanitise_version(args.build.version)}),
            spec=core.PodSpecArgs(
                service_account_name=INSTALLER_NAME,
                # The one pod that mounts the installer account's (cluster-admin) token; the account itself opts out.
                automount_service_account_token=True,
                restart_policy="Never",
                node_selector=dict(args.node_selector),
                security_context=restricted_pod(),
                init_containers=[core.ContainerArgs(
                    name="render",
                    image=args.installer_image,
                    image_pull_policy="IfNotPresent",
                    command=_render_args(args),
                    volume_mounts=[
                        core.VolumeMountArgs(name="config", mount_path=CONFIG_DIR, read_only=True),
                        core.VolumeMountArgs(name="rendered", mount_path=RENDERED_DIR),
                    ],
                    security_context=restricted_container(),
                    resources=resources,
                )],
                containers=[core.ContainerArgs(
                    name="apply",
                    image=args.toolbox_image,
                    image_pull_policy="IfNotPresent",
                    command=["/bin/bash", f"{SCRIPT_DIR}/apply-gitpod.sh"],
                    env=pulumi.Output.all(env, config_hash_env).apply(lambda values: [*values[0], values[1]]),
                    volume_mounts=[
                        core.VolumeMountArgs(name="scripts", mount_path=SCRIPT_DIR, read_only=True),
                        core.VolumeMountArgs(name="rendered", mount_path=RENDERED_DIR, read_only=True),
                        core.VolumeMountArgs(name="tmp", mount_path="/tmp"),
                    ],
                    security_context=restricted_container(),
                    resources=resources,
                )],
                volumes=[
                    core.VolumeArgs(name="config",
                                    config_map=core.ConfigMapVolumeSourceArgs(name=INSTALLER_CONFIG_MAP)),
                    core.VolumeArgs(name="scripts",
                                    config_map=core.ConfigMapVolumeSourceArgs(name=APPLY_SCRIPT_CONFIG_MAP)),
                    core.VolumeArgs(name="rendered", empty_dir=core.EmptyDirVolumeSourceArgs(size_limit="64Mi")),
                    core.VolumeArgs(name="tmp", empty_dir=core.EmptyDirVolumeSourceArgs(size_limit="256Mi")),
                ],
            ),
        ),
    )
