"""The registry credential refresher: keeps the `gitpod-registry` docker config secret holding a live token.

Registry tokens are short-lived (ECR 12 h, Artifact Registry access tokens 1 h) and the cell uses no static keys,
so a pod mints them with its own workload identity, on a schedule, from the Platform's `CredentialMinter`:

- a CronJob refreshes the secret well inside the token's lifetime (`concurrencyPolicy: Forbid`; a run that could
  not start within `STARTING_DEADLINE_SECONDS` is skipped, the next one is one interval away and the token
  outlives it);
- a one-shot Job does the same once, after the cluster's nodes are ready, and Pulumi waits for it before the
  installer Job, so Gitpod never starts against an empty docker config. Pulumi names it (`<name>-...` plus a
  suffix): a changed script or image is a new Job that must succeed again, created before the old one is deleted;
- both run as the `registry-credentials` service account, annotated with the minter's identity, whose only
  Kubernetes right is get/patch/update on that one secret (a namespaced Role with `resourceNames`).

The script never prints the token: it goes from the CLI's stdout to a file on a memory-backed volume, into the
secret through the API server (service-account token + cluster CA), and the files are removed on exit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_kubernetes.batch import v1 as batch
from pulumi_kubernetes.core import v1 as core
from pulumi_kubernetes.meta import v1 as meta
from pulumi_kubernetes.rbac import v1 as rbac

from components.gitpod.cron import cron_job_spec
from components.gitpod.pod_security import restricted_container, restricted_pod
from components.platform import CredentialMinter

REFRESHER_NAME = "registry-credentials"
REFRESHER_LABELS = {"app.kubernetes.io/name": REFRESHER_NAME, "app.kubernetes.io/part-of": "gitpod-cell"}
SCRIPTS_DIR = "/scripts"
REFRESH_SCRIPT = "refresh.sh"
MINT_SCRIPT = "mint-token.sh"
# The field manager the refresher writes the secret's data under (Pulumi's own apply leaves that field alone).
FIELD_MANAGER = "gitpod-registry-credentials"
STARTING_DEADLINE_SECONDS = 10 * 60
# A mint and a PATCH take seconds; a hung CLI or API call is cut off well before the next run.
ACTIVE_DEADLINE_SECONDS = 5 * 60
BACKOFF_LIMIT = 3
INITIAL_JOB_TIMEOUT = "10m"

# POSIX sh (dash, bash and Amazon Linux's sh alike). `printf` is a builtin, so the token never appears in a process's
# arguments; `-H @file` keeps the service-account token out of curl's arguments too.
REFRESH_SCRIPT_TEXT = """\
#!/bin/sh
set -eu
umask 077
fail() { echo "registry-credentials: $*" >&2; exit 1; }
case "$REGISTRY_SERVER" in ""|*[!A-Za-z0-9.:/-]*) fail "unexpected registry server '$REGISTRY_SERVER'";; esac
case "$REGISTRY_USER" in ""|*[!A-Za-z0-9._-]*) fail "unexpected registry user '$REGISTRY_USER'";; esac
account="${SERVICE_ACCOUNT_DIR:-/var/run/secrets/kubernetes.io/serviceaccount}"
host="$KUBERNETES_SERVICE_HOST"
case "$host" in *:*) host="[$host]";; esac
work="$(mktemp -d "${TMPDIR:-/tmp}/registry-credentials.XXXXXX")"
trap 'rm -rf "$work"' EXIT

sh "$(dirname "$0")/mint-token.sh" > "$work/token" || fail "minting a registry token failed"
token="$(cat "$work/token")"
[ -n "$token" ] || fail "the minter printed no token"
case "$token" in *[[:space:]]*) fail "the minter printed more than one token";; esac

auth="$(printf '%s:%s' "$REGISTRY_USER" "$token" | base64 | tr -d '\\n')"
config="$(printf '{"auths":{"%s":{"auth":"%s"}}}' "$REGISTRY_SERVER" "$auth")"
encoded="$(printf '%s' "$config" | base64 | tr -d '\\n')"
printf '{"data":{".dockerconfigjson":"%s"}}' "$encoded" > "$work/patch.json"
printf 'Authorization: Bearer %s\\n' "$(cat "$account/token")" > "$work/headers"

url="https://$host:$KUBERNETES_SERVICE_PORT/api/v1/namespaces/$NAMESPACE/secrets/$DOCKER_CONFIG_NAME"
status="$(curl --silent --show-error --retry 3 --cacert "$account/ca.crt" --request PATCH \\
  --header @"$work/headers" --header 'Content-Type: application/merge-patch+json' \\
  --data-binary @"$work/patch.json" --output "$work/response" --write-out '%{http_code}' \\
  "$url?fieldManager=$FIELD_MANAGER")" || fail "the API server could not be reached"
if [ "$status" != 200 ]; then
  # A Kubernetes Status: why (forbidden, not found); the API server never echoes a secret's data.
  cat "$work/response" >&2
  fail "patching $NAMESPACE/$DOCKER_CONFIG_NAME returned HTTP $status"
fi
echo "registry-credentials: refreshed $NAMESPACE/$DOCKER_CONFIG_NAME for $REGISTRY_SERVER"
"""


def refresh_schedule(every_minutes: int) -> str:
    """A cron schedule for a refresh every `every_minutes`, aligned to the hour or the day."""
    if 0 < every_minutes < 60 and 60 % every_minutes == 0:
        return f"*/{every_minutes} * * * *"
    hours, rest = divmod(every_minutes, 60)
    if every_minutes >= 60 and rest == 0 and 24 % hours == 0:
        return "0 * * * *" if hours == 1 else f"0 */{hours} * * *"
    raise ValueError(f"a refresh every {every_minutes} minutes is not a cron schedule; use a divisor of 60 "
                     "minutes or of 24 hours")


def check_minter(minter: CredentialMinter, namespace: str) -> None:
    """Fail before anything is registered when the refresher could not keep the secret valid."""
    if minter.refresh_every_minutes * 2 > minter.token_lifetime_minutes:
        raise ValueError(f"registry tokens live {minter.token_lifetime_minutes} minutes; refreshing every "
                         f"{minter.refresh_every_minutes} leaves no slack for one missed run (at most half)")
    if minter.refresh_every_minutes * 60 <= STARTING_DEADLINE_SECONDS:
        raise ValueError(f"refreshing every {minter.refresh_every_minutes} minutes is shorter than the "
                         f"{STARTING_DEADLINE_SECONDS // 60}-minute starting deadline")
    if minter.identity.namespace != namespace:
        raise ValueError(f"the registry credential identity is bound to {minter.identity.namespace}/"
                         f"{minter.identity.service_account}; the refresher runs in {namespace}")
    refresh_schedule(minter.refresh_every_minutes)


def scripts(minter: CredentialMinter) -> dict[str, str]:
    return {REFRESH_SCRIPT: REFRESH_SCRIPT_TEXT, MINT_SCRIPT: f"#!/bin/sh\nset -eu\n{minter.mint_token}\n"}


def scripts_digest(minter: CredentialMinter) -> str:
    """Changes with anything the pod runs: a new digest re-runs the one-shot Job."""
    payload = "\0".join([minter.image, *sorted(f"{k}={v}" for k, v in scripts(minter).items()),
                         *sorted(f"{k}={v}" for k, v in minter.env.items())])
    return hashlib.sha256(payload.encode()).hexdigest()


def initial_job_name(minter: CredentialMinter) -> str:
    return f"{REFRESHER_NAME}-initial-{scripts_digest(minter)[:10]}"


@dataclass(frozen=True)
class RegistryCredentialsArgs:
    namespace: str
    # The docker config secret to keep fresh (created, empty, by namespace_secrets).
    secret_name: str
    registry_server: pulumi.Input[str]
    minter: CredentialMinter
    node_selector: Mapping[str, str]
    labels: Mapping[str, str]
    # The namespace and the secret: the refresher patches, it never creates.
    depends_on: Sequence[pulumi.Resource]
    # The cluster's nodes and add-ons (`Platform.cluster.ready`): the one-shot Job waits for them, since Pulumi
    # waits for it to complete and it cannot run before a node can take it.
    cluster_ready: Sequence[pulumi.Resource] = ()


class RegistryCredentialRefresher(pulumi.ComponentResource):
    service_account: core.ServiceAccount
    role: rbac.Role
    role_binding: rbac.RoleBinding
    config_map: core.ConfigMap
    cron_job: batch.CronJob
    # What the installer waits for: the secret holds a working token once this Job completes.
    initial_job: batch.Job

    def __init__(self, name: str, args: RegistryCredentialsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        minter, ns = args.minter, args.namespace
        check_minter(minter, ns)
        super().__init__("gitpod-cell:gitpod:RegistryCredentialRefresher", name, None, opts)
        account = minter.identity.service_account
        labels = {**args.labels, **REFRESHER_LABELS}
        opts_here = pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on))

        self.service_account = core.ServiceAccount(
            f"{name}-service-account",
            metadata=meta.ObjectMetaArgs(name=account, namespace=ns, labels=labels,
                                         annotations=minter.identity.annotations),
            opts=opts_here,
        )
        self.role = rbac.Role(
            f"{name}-role",
            metadata=meta.ObjectMetaArgs(name=REFRESHER_NAME, namespace=ns, labels=labels),
            rules=[rbac.PolicyRuleArgs(api_groups=[""], resources=["secrets"], resource_names=[args.secret_name],
                                       verbs=["get", "patch", "update"])],
            opts=opts_here,
        )
        self.role_binding = rbac.RoleBinding(
            f"{name}-role-binding",
            metadata=meta.ObjectMetaArgs(name=REFRESHER_NAME, namespace=ns, labels=labels),
            role_ref=rbac.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="Role", name=REFRESHER_NAME),
            subjects=[rbac.SubjectArgs(kind="ServiceAccount", name=account, namespace=ns)],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*args.depends_on, self.role]),
        )
        self.config_map = core.ConfigMap(
            f"{name}-scripts",
            metadata=meta.ObjectMetaArgs(name=REFRESHER_NAME, namespace=ns, labels=labels),
            data=scripts(minter),
            opts=opts_here,
        )
        ready = [*args.depends_on, self.service_account, self.role_binding, self.config_map]
        self.cron_job = batch.CronJob(
            f"{name}-cron-job",
            metadata=meta.ObjectMetaArgs(name=REFRESHER_NAME, namespace=ns, labels=labels),
            spec=cron_job_spec(refresh_schedule(minter.refresh_every_minutes), STARTING_DEADLINE_SECONDS, labels,
                               _job_spec(args, labels)),
            opts=pulumi.ResourceOptions(parent=self, depends_on=ready),
        )
        self.initial_job = batch.Job(
            f"{name}-initial",
            # Named after what it runs, so a changed script or image is a new Job (created before the old one goes),
            # and every object the cell renders has a name `kubectl apply` can take.
            metadata=meta.ObjectMetaArgs(name=initial_job_name(minter), namespace=ns, labels=labels,
                                         annotations={"pulumi.com/replaceUnready": "true"}),
            spec=_job_spec(args, labels),
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[*ready, *args.cluster_ready],
                custom_timeouts=pulumi.CustomTimeouts(create=INITIAL_JOB_TIMEOUT, update=INITIAL_JOB_TIMEOUT),
            ),
        )
        self.register_outputs({
            "service_account": self.service_account.metadata.apply(lambda m: m.name if m else None),
            "cron_job": self.cron_job.metadata.apply(lambda m: m.name if m else None),
            "initial_job": self.initial_job.metadata.apply(lambda m: m.name if m else None),
        })


def _job_spec(args: RegistryCredentialsArgs, labels: Mapping[str, str]) -> batch.JobSpecArgs:
    minter = args.minter
    env: dict[str, pulumi.Input[str]] = {
        **minter.env,
        "REGISTRY_SERVER": args.registry_server,
        "REGISTRY_USER": minter.username,
        "NAMESPACE": args.namespace,
        "DOCKER_CONFIG_NAME": args.secret_name,
        "FIELD_MANAGER": FIELD_MANAGER,
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
    }
    return batch.JobSpecArgs(
        backoff_limit=BACKOFF_LIMIT,
        active_deadline_seconds=ACTIVE_DEADLINE_SECONDS,
        template=core.PodTemplateSpecArgs(
            metadata=meta.ObjectMetaArgs(labels=dict(labels),
                                         annotations={"gitpod-cell/scripts-digest": scripts_digest(minter)}),
            spec=core.PodSpecArgs(
                service_account_name=minter.identity.service_account,
                restart_policy="Never",
                node_selector=dict(args.node_selector),
                security_context=restricted_pod(),
                containers=[core.ContainerArgs(
                    name="refresh",
                    image=minter.image,
                    image_pull_policy="IfNotPresent",
                    # The images' entrypoints (`aws`, gcloud's wrapper) are bypassed.
                    command=["/bin/sh", f"{SCRIPTS_DIR}/{REFRESH_SCRIPT}"],
                    env=[core.EnvVarArgs(name=key, value=value) for key, value in env.items()],
                    volume_mounts=[
                        core.VolumeMountArgs(name="scripts", mount_path=SCRIPTS_DIR, read_only=True),
                        core.VolumeMountArgs(name="tmp", mount_path="/tmp"),
                    ],
                    security_context=restricted_container(),
                    resources=core.ResourceRequirementsArgs(
                        requests={"cpu": "50m", "memory": "128Mi"},
                        limits={"cpu": "500m", "memory": "512Mi"},
                    ),
                )],
                volumes=[
                    core.VolumeArgs(name="scripts", config_map=core.ConfigMapVolumeSourceArgs(
                        name=REFRESHER_NAME, default_mode=0o555)),
                    # Memory-backed: the token never touches the node's disk.
                    core.VolumeArgs(name="tmp", empty_dir=core.EmptyDirVolumeSourceArgs(
                        medium="Memory", size_limit="64Mi")),
                ],
            ),
        ),
    )
