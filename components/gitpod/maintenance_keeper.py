"""The maintenance keeper: maintenance on Gitpod builds whose workspace manager knows no maintenance mode.

Builds with ws-manager-mk2 read the maintenance lease themselves. Builds without it (contract.gitpod_builds
`scale-ws-manager`, e.g. release-2022.11.3, whose ws-manager is mk1) get the same semantics from this CronJob: every
minute it reads the same lease (default/ws-manager-mk2-maintenance-mode) and holds ws-manager at zero replicas while
it runs, then gives it back its replicas once it has passed (scripts/maintenance-keeper.sh). With ws-manager gone
the server can neither start nor stop workspaces and no snapshot is taken; running workspaces keep running. The
rollout hooks and `ops maintenance` pause and resume ws-manager at once; the keeper is what makes maintenance end
by itself when the lease passes, even if whoever entered it has died.

Least privilege: its ServiceAccount may read that one lease ConfigMap and get, annotate and scale that one
Deployment, nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi
from pulumi_kubernetes.batch import v1 as batch
from pulumi_kubernetes.core import v1 as core
from pulumi_kubernetes.meta import v1 as meta
from pulumi_kubernetes.rbac import v1 as rbac

from components.gitpod.cron import cron_job_spec
from components.gitpod.pod_security import restricted_container, restricted_pod
from contract.cluster import (
    MK2_MAINTENANCE_CONFIG_MAP,
    MK2_MAINTENANCE_NAMESPACE,
    PART_OF_LABELS,
    REPLICAS_AFTER_MAINTENANCE,
)

KEEPER_NAME = "gitpod-maintenance-keeper"
KEEPER_LABELS = {"app.kubernetes.io/name": KEEPER_NAME, **PART_OF_LABELS}
KEEPER_SCRIPT = (Path(__file__).parent / "scripts" / "maintenance-keeper.sh").read_text()
SCHEDULE = "* * * * *"
# A run that could not start within this many seconds is skipped; the next one comes a minute later.
STARTING_DEADLINE_SECONDS = 50


@dataclass(frozen=True)
class MaintenanceKeeperArgs:
    namespace: str
    workspace_manager: str
    toolbox_image: str
    node_selector: Mapping[str, str]
    depends_on: Sequence[pulumi.Resource]


class MaintenanceKeeper(pulumi.ComponentResource):
    cron_job: batch.CronJob

    def __init__(self, name: str, args: MaintenanceKeeperArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gitpod-cell:gitpod:MaintenanceKeeper", name, None, opts)
        ns = args.namespace
        here = pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on))
        account = core.ServiceAccount(
            f"{name}-service-account",
            metadata=meta.ObjectMetaArgs(name=KEEPER_NAME, namespace=ns, labels=KEEPER_LABELS),
            opts=here,
        )
        lease_role = rbac.Role(
            f"{name}-lease",
            metadata=meta.ObjectMetaArgs(name=KEEPER_NAME, namespace=MK2_MAINTENANCE_NAMESPACE, labels=KEEPER_LABELS),
            rules=[rbac.PolicyRuleArgs(api_groups=[""], resources=["configmaps"],
                                       resource_names=[MK2_MAINTENANCE_CONFIG_MAP], verbs=["get"])],
            opts=here,
        )
        manager_role = rbac.Role(
            f"{name}-workspace-manager",
            metadata=meta.ObjectMetaArgs(name=KEEPER_NAME, namespace=ns, labels=KEEPER_LABELS),
            rules=[
                rbac.PolicyRuleArgs(api_groups=["apps"], resources=["deployments"],
                                    resource_names=[args.workspace_manager], verbs=["get", "patch"]),
                rbac.PolicyRuleArgs(api_groups=["apps"], resources=["deployments/scale"],
                                    resource_names=[args.workspace_manager], verbs=["get", "patch", "update"]),
            ],
            opts=here,
        )
        bindings = [
            rbac.RoleBinding(
                f"{name}-{purpose}",
                metadata=meta.ObjectMetaArgs(name=KEEPER_NAME, namespace=role_namespace, labels=KEEPER_LABELS),
                role_ref=rbac.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="Role", name=KEEPER_NAME),
                subjects=[rbac.SubjectArgs(kind="ServiceAccount", name=KEEPER_NAME, namespace=ns)],
                opts=pulumi.ResourceOptions(parent=self, depends_on=[role]),
            )
            for purpose, role_namespace, role in (("lease", MK2_MAINTENANCE_NAMESPACE, lease_role),
                                                  ("workspace-manager", ns, manager_role))
        ]
        script = core.ConfigMap(
            f"{name}-script",
            metadata=meta.ObjectMetaArgs(name=KEEPER_NAME, namespace=ns, labels=KEEPER_LABELS),
            data={"maintenance-keeper.sh": KEEPER_SCRIPT},
            opts=here,
        )
        self.cron_job = batch.CronJob(
            f"{name}-cron-job",
            metadata=meta.ObjectMetaArgs(name=KEEPER_NAME, namespace=ns, labels=KEEPER_LABELS),
            spec=cron_job_spec(SCHEDULE, STARTING_DEADLINE_SECONDS, KEEPER_LABELS, batch.JobSpecArgs(
                backoff_limit=0,
                active_deadline_seconds=45,
                template=core.PodTemplateSpecArgs(
                    metadata=meta.ObjectMetaArgs(labels=KEEPER_LABELS),
                    spec=core.PodSpecArgs(
                        service_account_name=KEEPER_NAME,
                        restart_policy="Never",
                        node_selector=dict(args.node_selector),
                        security_context=restricted_pod(),
                        containers=[core.ContainerArgs(
                            name="keeper",
                            image=args.toolbox_image,
                            image_pull_policy="IfNotPresent",
                            command=["/bin/bash", "/scripts/maintenance-keeper.sh"],
                            env=[core.EnvVarArgs(name=key, value=value) for key, value in {
                                "NAMESPACE": ns,
                                "WORKSPACE_MANAGER": args.workspace_manager,
                                "LEASE_NAMESPACE": MK2_MAINTENANCE_NAMESPACE,
                                "LEASE_CONFIG_MAP": MK2_MAINTENANCE_CONFIG_MAP,
                                "REPLICAS_ANNOTATION": REPLICAS_AFTER_MAINTENANCE,
                                "HOME": "/tmp",
                            }.items()],
                            volume_mounts=[
                                core.VolumeMountArgs(name="script", mount_path="/scripts", read_only=True),
                                core.VolumeMountArgs(name="tmp", mount_path="/tmp"),
                            ],
                            security_context=restricted_container(),
                            resources=core.ResourceRequirementsArgs(
                                requests={"cpu": "10m", "memory": "32Mi"},
                                limits={"cpu": "200m", "memory": "128Mi"}),
                        )],
                        volumes=[
                            core.VolumeArgs(name="script",
                                            config_map=core.ConfigMapVolumeSourceArgs(name=KEEPER_NAME)),
                            core.VolumeArgs(name="tmp",
                                            empty_dir=core.EmptyDirVolumeSourceArgs(size_limit="16Mi")),
                        ],
                    ),
                ),
            )),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*args.depends_on, account, *bindings, script]),
        )
        self.register_outputs({"cron_job": self.cron_job.metadata.apply(lambda m: m.name if m else None)})
