"""The Gitpod installer config (v1), rendered as a pure function of `Platform` values and `CellConfig`.

The model below is a typed subset of `install/installer/pkg/config/v1/config.go` (gitpod-io/gitpod,
commit 0067e7e6d7cf; `experimental/experimental.go` for the one experimental key): only the keys this cell
emits, each with the exact JSON key the installer reads. Every class is a frozen dataclass, so an unknown or
misspelled key cannot be constructed (a wrong keyword is a TypeError), and `to_document` only ever writes the
declared keys. `DOCUMENTED_KEYS` lists the schema's key paths the model may produce; tests check the rendered
document against it.

Nothing here touches Pulumi: `InstallerInputs` holds plain values (the Gitpod layer resolves the Platform's
outputs first), so the rendering is unit-testable and its hash is stable.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

from components.config import CellConfig
from contract.cluster import MK2_MAINTENANCE_CONFIG_MAP, MK2_MAINTENANCE_NAMESPACE

# Secret and object names the installer config references; namespace_secrets.py creates them.
HTTPS_CERTIFICATE_SECRET = "https-certificates"
DATABASE_SECRET = "gitpod-database"
DATABASE_CA_SECRET = "gitpod-database-ca"
REGISTRY_SECRET = "gitpod-registry"
STORAGE_SECRET = "gitpod-object-storage"

# Containerd on EKS/GKE nodes (containerd 1.7+): the k8s.io runtime v2 task directory and the default socket.
CONTAINERD_RUNTIME_DIR = "/run/containerd/io.containerd.runtime.v2.task/k8s.io"
CONTAINERD_SOCKET = "/run/containerd/containerd.sock"

# Gitpod's proxy: the LoadBalancer Service every Gitpod hostname resolves to (install/installer/pkg/components/
# proxy), and the annotation external-dns (sources: service, ingress) publishes records from.
PROXY_SERVICE = "proxy"
EXTERNAL_DNS_HOSTNAME_ANNOTATION = "external-dns.alpha.kubernetes.io/hostname"

# Where ws-manager-mk2 reads its maintenance lease (contract.cluster).
MAINTENANCE_NAMESPACE = MK2_MAINTENANCE_NAMESPACE
MAINTENANCE_CONFIG_MAP = MK2_MAINTENANCE_CONFIG_MAP

# The modelled schema (and ws-manager-mk2, which reads the maintenance lease) are 2023+ Gitpod; a version label
# `release-YYYY.MM...` or `YYYY.MM...` older than this year predates them.
FIRST_MODELLED_YEAR = 2023
_DATED_VERSION = re.compile(r"^(?:release-)?(?P<year>\d{4})\.(?P<month>\d{1,2})(?:[.\-]|$)")

# Gitpod's server deletes stopped workspaces this many days after their last start (its built-in
# `workspaceGarbageCollection.minAgeDays`); installer config v1 can switch collection off but not change the age.
GITPOD_GC_MIN_AGE_DAYS = 14

ResourceName = Literal["cpu", "memory", "ephemeral-storage"]


@dataclass(frozen=True)
class ObjectRef:
    name: str = field(metadata={"key": "name"})
    kind: Literal["secret"] = field(default="secret", metadata={"key": "kind"})


@dataclass(frozen=True)
class Metadata:
    region: str = field(metadata={"key": "region"})


@dataclass(frozen=True)
class DatabaseExternal:
    certificate: ObjectRef = field(metadata={"key": "certificate"})


@dataclass(frozen=True)
class SSLOptions:
    ca_cert: ObjectRef = field(metadata={"key": "caCert"})


@dataclass(frozen=True)
class Database:
    external: DatabaseExternal = field(metadata={"key": "external"})
    ssl: SSLOptions = field(metadata={"key": "ssl"})
    in_cluster: bool = field(default=False, metadata={"key": "inCluster"})


@dataclass(frozen=True)
class ObjectStorageS3:
    endpoint: str = field(metadata={"key": "endpoint"})
    bucket: str = field(metadata={"key": "bucket"})
    # None: the components reach S3 with their workload identity (IRSA), no static keys.
    credentials: ObjectRef | None = field(default=None, metadata={"key": "credentials"})


@dataclass(frozen=True)
class ObjectStorageCloudStorage:
    service_account: ObjectRef = field(metadata={"key": "serviceAccount"})
    project: str = field(metadata={"key": "project"})


@dataclass(frozen=True)
class ObjectStorage:
    s3: ObjectStorageS3 | None = field(default=None, metadata={"key": "s3"})
    cloud_storage: ObjectStorageCloudStorage | None = field(default=None, metadata={"key": "cloudStorage"})
    in_cluster: bool = field(default=False, metadata={"key": "inCluster"})

    def __post_init__(self) -> None:
        if (self.s3 is None) == (self.cloud_storage is None):
            raise ValueError("objectStorage needs exactly one of s3 or cloudStorage")


@dataclass(frozen=True)
class ContainerRegistryExternal:
    url: str = field(metadata={"key": "url"})
    certificate: ObjectRef = field(metadata={"key": "certificate"})


@dataclass(frozen=True)
class ContainerRegistry:
    external: ContainerRegistryExternal = field(metadata={"key": "external"})
    in_cluster: bool = field(default=False, metadata={"key": "inCluster"})
    private_base_image_allow_list: tuple[str, ...] = field(default=(), metadata={"key": "privateBaseImageAllowList"})


@dataclass(frozen=True)
class WorkspaceRuntime:
    fs_shift_method: Literal["fuse", "shiftfs"] = field(metadata={"key": "fsShiftMethod"})
    containerd_runtime_dir: str = field(metadata={"key": "containerdRuntimeDir"})
    containerd_socket: str = field(metadata={"key": "containerdSocket"})

    def __post_init__(self) -> None:
        for path in (self.containerd_runtime_dir, self.containerd_socket):
            if not path.startswith("/"):
                raise ValueError(f"workspace.runtime paths must be absolute, got {path!r}")


@dataclass(frozen=True)
class WorkspaceLimits:
    memory: str = field(metadata={"key": "memory"})


@dataclass(frozen=True)
class WorkspaceResources:
    requests: Mapping[ResourceName, str] = field(metadata={"key": "requests"})
    limits: WorkspaceLimits | None = field(default=None, metadata={"key": "limits"})


@dataclass(frozen=True)
class Workspace:
    runtime: WorkspaceRuntime = field(metadata={"key": "runtime"})
    resources: WorkspaceResources = field(metadata={"key": "resources"})
    max_lifetime: str = field(metadata={"key": "maxLifetime"})
    timeout_default: str = field(metadata={"key": "timeoutDefault"})
    timeout_extended: str = field(metadata={"key": "timeoutExtended"})
    timeout_after_close: str = field(metadata={"key": "timeoutAfterClose"})


@dataclass(frozen=True)
class BlockNewUsers:
    enabled: bool = field(metadata={"key": "enabled"})
    passlist: tuple[str, ...] = field(default=(), metadata={"key": "passlist"})


@dataclass(frozen=True)
class CustomizationMetadata:
    """The part of `metav1.ObjectMeta` a customization uses: which object, and what to merge into it."""

    name: str = field(metadata={"key": "name"})
    annotations: Mapping[str, str] = field(metadata={"key": "annotations"})
    labels: Mapping[str, str] | None = field(default=None, metadata={"key": "labels"})


@dataclass(frozen=True)
class Customization:
    """Installer `customization` (config.go: `metav1.TypeMeta` inline + `metadata`): merges annotations and labels
    into the rendered object of that apiVersion, kind and name. Only the core/v1 kinds this cell customizes."""

    metadata: CustomizationMetadata = field(metadata={"key": "metadata"})
    api_version: Literal["v1"] = field(default="v1", metadata={"key": "apiVersion"})
    kind: Literal["ServiceAccount", "Service"] = field(default="ServiceAccount", metadata={"key": "kind"})


@dataclass(frozen=True)
class ExperimentalServer:
    disable_workspace_garbage_collection: bool = field(metadata={"key": "disableWorkspaceGarbageCollection"})


@dataclass(frozen=True)
class ExperimentalWebApp:
    server: ExperimentalServer = field(metadata={"key": "server"})


@dataclass(frozen=True)
class Experimental:
    webapp: ExperimentalWebApp = field(metadata={"key": "webapp"})


@dataclass(frozen=True)
class InstallerConfig:
    domain: str = field(metadata={"key": "domain"})
    metadata: Metadata = field(metadata={"key": "metadata"})
    database: Database = field(metadata={"key": "database"})
    object_storage: ObjectStorage = field(metadata={"key": "objectStorage"})
    container_registry: ContainerRegistry = field(metadata={"key": "containerRegistry"})
    certificate: ObjectRef = field(metadata={"key": "certificate"})
    workspace: Workspace = field(metadata={"key": "workspace"})
    block_new_users: BlockNewUsers = field(metadata={"key": "blockNewUsers"})
    customization: tuple[Customization, ...] = field(default=(), metadata={"key": "customization"})
    experimental: Experimental | None = field(default=None, metadata={"key": "experimental"})
    api_version: Literal["v1"] = field(default="v1", metadata={"key": "apiVersion"})
    kind: Literal["Full"] = field(default="Full", metadata={"key": "kind"})


# Every key path (dotted, lists as `[]`) the model can emit, as config.go / experimental.go declare them.
DOCUMENTED_KEYS: frozenset[str] = frozenset({
    "apiVersion", "kind", "domain", "metadata", "metadata.region",
    "database", "database.inCluster", "database.external", "database.external.certificate",
    "database.external.certificate.kind", "database.external.certificate.name", "database.ssl",
    "database.ssl.caCert", "database.ssl.caCert.kind", "database.ssl.caCert.name",
    "objectStorage", "objectStorage.inCluster", "objectStorage.s3", "objectStorage.s3.endpoint",
    "objectStorage.s3.bucket", "objectStorage.s3.credentials", "objectStorage.s3.credentials.kind",
    "objectStorage.s3.credentials.name", "objectStorage.cloudStorage", "objectStorage.cloudStorage.project",
    "objectStorage.cloudStorage.serviceAccount", "objectStorage.cloudStorage.serviceAccount.kind",
    "objectStorage.cloudStorage.serviceAccount.name",
    "containerRegistry", "containerRegistry.inCluster", "containerRegistry.privateBaseImageAllowList",
    "containerRegistry.external", "containerRegistry.external.url", "containerRegistry.external.certificate",
    "containerRegistry.external.certificate.kind", "containerRegistry.external.certificate.name",
    "certificate", "certificate.kind", "certificate.name",
    "workspace", "workspace.runtime", "workspace.runtime.fsShiftMethod", "workspace.runtime.containerdRuntimeDir",
    "workspace.runtime.containerdSocket", "workspace.resources", "workspace.resources.requests",
    "workspace.resources.requests.cpu", "workspace.resources.requests.memory",
    "workspace.resources.requests.ephemeral-storage", "workspace.resources.limits",
    "workspace.resources.limits.memory", "workspace.maxLifetime", "workspace.timeoutDefault",
    "workspace.timeoutExtended", "workspace.timeoutAfterClose",
    "blockNewUsers", "blockNewUsers.enabled", "blockNewUsers.passlist",
    "customization", "customization[].apiVersion", "customization[].kind", "customization[].metadata",
    "customization[].metadata.name", "customization[].metadata.annotations", "customization[].metadata.labels",
    "experimental", "experimental.webapp", "experimental.webapp.server",
    "experimental.webapp.server.disableWorkspaceGarbageCollection",
})


def to_document(value: Any) -> Any:
    """The installer's JSON/YAML shape of a model value: declared keys only, None omitted."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        document: dict[str, Any] = {}
        for model_field in dataclasses.fields(value):
            item = getattr(value, model_field.name)
            if item is not None:
                document[model_field.metadata["key"]] = to_document(item)
        return document
    if isinstance(value, Mapping):
        return {str(k): to_document(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [to_document(v) for v in value]
    return value


def key_paths(document: Any, prefix: str = "") -> set[str]:
    """Dotted key paths of a rendered document (list items as `[]`), to compare with DOCUMENTED_KEYS.
    Free-form maps (annotations, labels) stop the walk: their keys are Kubernetes names, not schema keys."""
    paths: set[str] = set()
    if isinstance(document, Mapping):
        for key, value in document.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            paths.add(path)
            if not path.endswith((".annotations", ".labels")):
                paths |= key_paths(value, path)
    elif isinstance(document, list):
        for item in document:
            paths |= key_paths(item, f"{prefix}[]")
    return paths


@dataclass(frozen=True)
class InstallerInputs:
    """The Platform values the installer config needs, resolved to plain values."""

    object_storage_kind: Literal["s3", "gcs"]
    object_storage_region: str
    bucket: str
    registry_url: str
    # Service-account annotations that bind Gitpod's own service accounts to cloud identities, by account name.
    service_account_annotations: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # GCS only: the project the bucket lives in (installer config v1 requires it).
    gcs_project: str | None = None


def gitpod_hostnames(domain: str) -> list[str]:
    """Every name Gitpod serves: the dashboard, its services (`*.domain`) and workspaces (`*.ws.domain`, with the
    installer's default `metadata.shortname`). The certificate and the DNS records cover exactly these."""
    return [domain, f"*.{domain}", f"*.ws.{domain}"]


def proxy_dns_customization(domain: str) -> Customization:
    """The proxy Service's external-dns hostnames, set by this cell rather than left to the installer build: the
    records external-dns publishes are then, for any build, the names the certificate covers (Gitpod's own
    service.go sets the same value on LoadBalancer Services; a build or service type that does not is covered)."""
    return Customization(
        kind="Service",
        metadata=CustomizationMetadata(
            name=PROXY_SERVICE,
            annotations={EXTERNAL_DNS_HOSTNAME_ANNOTATION: ",".join(gitpod_hostnames(domain))},
        ),
    )


# Workspace pod resources: the installer's own defaults for requests, and a memory ceiling so one workspace
# cannot take a whole node.
WORKSPACE_REQUESTS: Mapping[ResourceName, str] = {"cpu": "1000m", "memory": "2Gi"}
WORKSPACE_MEMORY_LIMIT = "12Gi"


def build_installer_config(inputs: InstallerInputs, config: CellConfig) -> InstallerConfig:
    gitpod = config.gitpod
    lifecycle = gitpod.workspace
    return InstallerConfig(
        domain=config.domain,
        metadata=Metadata(region=inputs.object_storage_region),
        database=Database(
            external=DatabaseExternal(certificate=ObjectRef(DATABASE_SECRET)),
            ssl=SSLOptions(ca_cert=ObjectRef(DATABASE_CA_SECRET)),
        ),
        object_storage=_object_storage(inputs),
        container_registry=ContainerRegistry(
            external=ContainerRegistryExternal(url=inputs.registry_url, certificate=ObjectRef(REGISTRY_SECRET)),
        ),
        certificate=ObjectRef(HTTPS_CERTIFICATE_SECRET),
        workspace=Workspace(
            runtime=WorkspaceRuntime(fs_shift_method="fuse", containerd_runtime_dir=CONTAINERD_RUNTIME_DIR,
                                     containerd_socket=CONTAINERD_SOCKET),
            resources=WorkspaceResources(requests=WORKSPACE_REQUESTS,
                                         limits=WorkspaceLimits(memory=WORKSPACE_MEMORY_LIMIT)),
            max_lifetime=lifecycle.max_lifetime,
            timeout_default=lifecycle.timeout_default,
            timeout_extended=lifecycle.timeout_extended,
            timeout_after_close=lifecycle.timeout_after_close,
        ),
        block_new_users=BlockNewUsers(enabled=gitpod.block_new_users),
        customization=(
            proxy_dns_customization(config.domain),
            *(Customization(metadata=CustomizationMetadata(name=name, annotations=dict(annotations)))
              for name, annotations in sorted(inputs.service_account_annotations.items())),
        ),
        experimental=None if lifecycle.garbage_collection.enabled else Experimental(
            webapp=ExperimentalWebApp(server=ExperimentalServer(disable_workspace_garbage_collection=True))
        ),
    )


def _object_storage(inputs: InstallerInputs) -> ObjectStorage:
    if inputs.object_storage_kind == "s3":
        endpoint = f"s3.{inputs.object_storage_region}.amazonaws.com"
        return ObjectStorage(s3=ObjectStorageS3(endpoint=endpoint, bucket=inputs.bucket))
    if not inputs.gcs_project:
        raise ValueError("GCS object storage needs the bucket's project (installer config v1 "
                         "objectStorage.cloudStorage.project); the Platform did not provide one")
    return ObjectStorage(cloud_storage=ObjectStorageCloudStorage(service_account=ObjectRef(STORAGE_SECRET),
                                                                 project=inputs.gcs_project))


def render_installer_config(inputs: InstallerInputs, config: CellConfig) -> str:
    """The installer config file, as YAML with a stable key order (so its hash only changes with its content)."""
    document = to_document(build_installer_config(inputs, config))
    return yaml.safe_dump(document, sort_keys=True, default_flow_style=False)


def config_hash(config_yaml: str) -> str:
    return hashlib.sha256(config_yaml.encode()).hexdigest()


def requires_experimental(config: CellConfig) -> bool:
    """The installer ignores the `experimental` section unless `render --use-experimental-config` is given."""
    return not config.gitpod.workspace.garbage_collection.enabled


def garbage_collection_summary(config: CellConfig) -> str:
    gc = config.gitpod.workspace.garbage_collection
    if not gc.enabled:
        return ("OFF: stopped workspaces are never deleted (experimental.webapp.server."
                "disableWorkspaceGarbageCollection=true); object storage grows until someone deletes them")
    return (f"on: stopped workspaces are deleted {gc.min_age_days} days after their last start; "
            "pinned workspaces are never deleted")


def unsupported_settings(config: CellConfig) -> list[tuple[str, str]]:
    """Stack-config values the installer cannot express, as (stack-config key, message) pairs."""
    gc = config.gitpod.workspace.garbage_collection
    if gc.enabled and gc.min_age_days != GITPOD_GC_MIN_AGE_DAYS:
        return [("gitpod-cell:gitpod.workspace.garbageCollection.minAgeDays",
                 f"got {gc.min_age_days}; Gitpod's installer config v1 cannot change the age (its server deletes "
                 f"stopped workspaces {GITPOD_GC_MIN_AGE_DAYS} days after their last start); accepted: "
                 f"{GITPOD_GC_MIN_AGE_DAYS}, or enabled: false")]
    return []


def version_year(label: str) -> int | None:
    """The year of a dated Gitpod version label (`release-2022.06.0.10`, `2024.11.0`), None when undated."""
    match = _DATED_VERSION.match(label)
    if match is None or not 1 <= int(match["month"]) <= 12:
        return None
    return int(match["year"])


def version_warnings(config: CellConfig) -> list[str]:
    """What the plan must say about the pinned Gitpod build: warnings, never errors (an operator may knowingly run
    an older build). Checks the version label, and the installer image tag when the label is undated."""
    gitpod = config.gitpod
    tag = gitpod.installer_image.rsplit("@", 1)[0].rsplit(":", 1)[-1] if ":" in gitpod.installer_image else ""
    label = gitpod.version if version_year(gitpod.version) is not None else tag
    year = version_year(label)
    if year is None or year >= FIRST_MODELLED_YEAR:
        return []
    return [
        f"gitpod-cell:gitpod.version {gitpod.version!r} (installer {gitpod.installer_image}) is a {year} build; "
        f"this cell needs a {FIRST_MODELLED_YEAR}+ build: (1) the maintenance lease is read by ws-manager-mk2 "
        f"(from {MAINTENANCE_NAMESPACE}/{MAINTENANCE_CONFIG_MAP}), which older builds do not ship, so "
        "enter-maintenance pauses nothing; (2) the installer config follows the schema of gitpod-io/gitpod "
        "0067e7e6 (workspace.timeoutDefault, timeoutExtended, timeoutAfterClose, customization), and an installer "
        "that does not know a key rejects the whole config (config v1 is loaded strictly), so the installer Job "
        "fails and nothing is applied. Pin gitpod.version and gitpod.installerImage to a 2023+ build."
    ]


def object_storage_warnings(object_storage_kind: str, project: str | None, region: str) -> list[str]:
    """GCS as Gitpod's installer config v1 uses it, said plainly: it is not the cell's bucket, and it needs a key."""
    if object_storage_kind != "gcs":
        return []
    return [
        f"object storage on GCP: installer config v1 objectStorage.cloudStorage makes Gitpod mount the secret "
        f"{STORAGE_SECRET!r} (key service-account.json) into its storage users and create its own per-user buckets "
        f"in project {project} at metadata.region {region!r}; it does not use the cell's bucket (which keeps the "
        f"installer-config backups). This cell creates no service-account keys, so {STORAGE_SECRET!r} does not "
        "exist and the pods that mount it do not start (the health gate fails and maintenance ends with the lease). "
        f"Either create {STORAGE_SECRET!r} out of band (a key for a service account with storage.admin on the "
        "project, accepting a long-lived key), or run a Gitpod build whose content-service uses Workload Identity "
        "(ambient credentials)."
    ]


def check_installable(config: CellConfig) -> CellConfig:
    """Fail before any resource is registered when the stack asks for something the installer cannot do."""
    from components.config import CellConfigError

    issues = unsupported_settings(config)
    if issues:
        raise CellConfigError(issues)
    return config
