"""The installer Job: renders the installer config with the pinned installer image and applies the result.

- Its name is `gitpod-installer-<version>-<config hash[:10]>`, so a new version or a changed config is a new Job
  (a replacement), and an unchanged cell re-runs nothing.
- pulumi-kubernetes waits for a Job to complete (status condition Complete; Failed fails the update at once);
  `customTimeouts` give it 30 minutes instead of the default 10. `ttlSecondsAfterFinished` stays unset: a Job
  that deleted itself would look like drift and be re-created on the next `pulumi up`.
- `pulumi.com/replaceUnready`: a Job that failed is replaced (re-run, with its hooks) on the next `pulumi up`
  instead of being waited on again.
- The `gitpod-installation` ConfigMap records what is being rolled out (version, config hash, lifecycle
  settings). The rollout hooks add `lastRolloutStartedAt`, `restorePoint`, `lastConfigBackup` and
  `lastRolloutFinishedAt` with JSON merge patches under their own field manager; Pulumi never sets those keys, so
  its server-side apply (and a client-side three-way merge alike) leaves them alone: no `ignore_changes` needed.
  The record exists before the Job, so the before-hooks always find it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_kubernetes.batch import v1 as batch
from pulumi_kubernetes.core import v1 as core
from pulumi_kubernetes.meta import v1 as meta
from pulumi_kubernetes.rbac import v1 as rbac

from components.gitpod.installer_config import DATABASE_CA_SECRET
from components.gitpod.pod_security import restricted_container, restricted_pod
from contract.cluster import INSTALLATION_CONFIG_MAP, PART_OF_LABELS
from contract.rollout import INSTALLER_JOB_DEADLINE_SECONDS, INSTALLER_JOB_PULUMI_TIMEOUT

INSTALLER_NAME = "gitpod-installer"
INSTALLER_LABELS = {"app.kubernetes.io/name": INSTALLER_NAME, "app.kubernetes.io/part-of": "gitpod-cell"}
INSTALLER_CONFIG_MAP = "gitpod-installer-config"
CONFIG_DIR = "/config"
CONFIG_FILE = "config.yaml"
HASH_IN_NAME = 10
# The Job gives up before Pulumi does, so the failure Pulumi reports is the Job's own (contract.rollout: the
# maintenance lease is sized to outlast this deadline).
JOB_TIMEOUT = INSTALLER_JOB_PULUMI_TIMEOUT
ACTIVE_DEADLINE_SECONDS = INSTALLER_JOB_DEADLINE_SECONDS
# The installer image is Alpine with bash, curl and kubectl (install/installer/leeway.Dockerfile); it runs as
# pod_security.NON_ROOT_USER.

# Fetch the database CA bundle when the Platform only publishes a URL, render to a file first so a render error applies
# nothing, then apply server-side (Gitpod's CRDs exceed the client-side last-applied annotation limit).
INSTALL_SCRIPT = """\
set -euo pipefail
apply() { kubectl apply --server-side --force-conflicts --field-manager=gitpod-installer "$@"; }
if [ -n "$DATABASE_CA_URL" ]; then
  curl --fail --silent --show-error --location --proto '=https' --retry 3 "$DATABASE_CA_URL" -o /tmp/database-ca.pem
  grep -q 'BEGIN CERTIFICATE' /tmp/database-ca.pem
  kubectl create secret generic "$DATABASE_CA_NAME" --namespace "$NAMESPACE" \\
    --from-file=ca.crt=/tmp/database-ca.pem --dry-run=client -o yaml | apply -f -
fi
/app/installer render --config "$CONFIG" --namespace "$NAMESPACE" $RENDER_FLAGS > /tmp/gitpod.yaml
apply -f /tmp/gitpod.yaml
echo "gitpod $GITPOD_VERSION applied (config $CONFIG_HASH)"
"""


def sanitise_version(version: str, max_length: int = 63 - len(INSTALLER_NAME) - 2 - HASH_IN_NAME) -> str:
    """A version label as a DNS-1123 label fragment: lower case, [a-z0-9-], no leading/trailing dash."""
    label = re.sub(r"[^a-z0-9]+", "-", version.lower()).strip("-")
    return label[:max_length].rstrip("-") or "unversioned"


def job_name(version: str, config_hash: str) -> str:
    name = f"{INSTALLER_NAME}-{sanitise_version(version)}-{config_hash[:HASH_IN_NAME]}"
    if len(name) > 63 or not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name):
        raise ValueError(f"installer Job name {name!r} is not a DNS-1123 label")
    return name


@dataclass(frozen=True)
class InstallerArgs:
    namespace: str
    version: str
    installer_image: str
    config_yaml: pulumi.Output[str]
    config_hash: pulumi.Output[str]
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
    # token, and that pod runs a pinned image for the length of a rollout.
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
    record = core.ConfigMap(
        f"{name}-installation",
        metadata=meta.ObjectMetaArgs(name=INSTALLATION_CONFIG_MAP, namespace=ns,
                                     labels=PART_OF_LABELS),
        data={"version": args.version, "configHash": args.config_hash, **args.record},
        opts=opts,
    )
    name_of_job = args.config_hash.apply(lambda digest: job_name(args.version, digest))
    job = batch.Job(
        f"{INSTALLER_NAME}-{sanitise_version(args.version)}",
        metadata=meta.ObjectMetaArgs(
            name=name_of_job,
            namespace=ns,
            labels={**INSTALLER_LABELS, "app.kubernetes.io/version": sanitise_version(args.version)},
            annotations={"pulumi.com/replaceUnready": "true", "gitpod-cell/config-hash": args.config_hash},
        ),
        spec=_job_spec(args),
        opts=pulumi.ResourceOptions(
            parent=parent,
            depends_on=[*args.depends_on, *args.cluster_ready, service_account, binding, config_map, record],
            custom_timeouts=pulumi.CustomTimeouts(create=JOB_TIMEOUT, update=JOB_TIMEOUT),
            hooks=args.hooks,
        ),
    )
    return Installer(job, config_map, record, service_account)


def _job_spec(args: InstallerArgs) -> batch.JobSpecArgs:
    env = {
        "NAMESPACE": args.namespace,
        "CONFIG": f"{CONFIG_DIR}/{CONFIG_FILE}",
        "RENDER_FLAGS": "--use-experimental-config" if args.use_experimental_config else "",
        "DATABASE_CA_URL": args.database_ca_url,
        "DATABASE_CA_NAME": DATABASE_CA_SECRET,
        "GITPOD_VERSION": args.version,
        "CONFIG_HASH": args.config_hash,
        # kubectl keeps its discovery cache under $HOME; the root filesystem is read-only.
        "HOME": "/tmp",
    }
    return batch.JobSpecArgs(
        # Two retries cover a flaky API server; a bad config fails three times quickly and stops the rollout.
        backoff_limit=2,
        active_deadline_seconds=ACTIVE_DEADLINE_SECONDS,
        template=core.PodTemplateSpecArgs(
            metadata=meta.ObjectMetaArgs(labels={**INSTALLER_LABELS,
                                                 "app.kubernetes.io/version": sanitise_version(args.version)}),
            spec=core.PodSpecArgs(
                service_account_name=INSTALLER_NAME,
                # The one pod that mounts the installer account's (cluster-admin) token; the account itself opts out.
                automount_service_account_token=True,
                restart_policy="Never",
                node_selector=dict(args.node_selector),
                security_context=restricted_pod(),
                containers=[core.ContainerArgs(
                    name="installer",
                    image=args.installer_image,
                    image_pull_policy="IfNotPresent",
                    command=["/bin/bash", "-c", INSTALL_SCRIPT],
                    env=[core.EnvVarArgs(name=key, value=value) for key, value in env.items()],
                    volume_mounts=[
                        core.VolumeMountArgs(name="config", mount_path=CONFIG_DIR, read_only=True),
                        core.VolumeMountArgs(name="tmp", mount_path="/tmp"),
                    ],
                    security_context=restricted_container(),
                    resources=core.ResourceRequirementsArgs(
                        requests={"cpu": "250m", "memory": "256Mi"},
                        limits={"cpu": "1", "memory": "1Gi"},
                    ),
                )],
                volumes=[
                    core.VolumeArgs(name="config",
                                    config_map=core.ConfigMapVolumeSourceArgs(name=INSTALLER_CONFIG_MAP)),
                    core.VolumeArgs(name="tmp", empty_dir=core.EmptyDirVolumeSourceArgs(size_limit="256Mi")),
                ],
            ),
        ),
    )
