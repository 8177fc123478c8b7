"""The Gitpod installer config (v1), rendered as a pure function of `Platform` values, `CellConfig` and the pinned
Gitpod build.

The model below is a typed subset of `install/installer/pkg/config/v1/config.go` (gitpod-io/gitpod) covering
the supported builds (contract/gitpod_builds.py): only the keys this cell emits, each with the exact JSON key the
installer reads, and where a build differs (the containerd socket key, object storage credentials) the renderer
asks the build. Every class is a frozen dataclass, so an unknown or misspelled key cannot be constructed, and
`to_document` only ever writes the declared keys. tests/components checks every rendered config against the
schema generated from each build's own Go structs (tests/data/installer-schema), the way its installer loads it.

Nothing here touches Pulumi: `InstallerInputs` holds plain values (the Gitpod layer resolves the Platform's
outputs first), so the rendering is unit-testable and its hash is stable.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

from components.config import CellConfig
from contract.gitpod_builds import GitpodBuild

# Secret and object names the installer config references; namespace_secrets.py creates them.
HTTPS_CERTIFICATE_SECRET = "https-certificates"
DATABASE_SECRET = "gitpod-database"
DATABASE_CA_SECRET = "gitpod-database-ca"
REGISTRY_SECRET = "gitpod-registry"
STORAGE_SECRET = "gitpod-object-storage"

# Containerd on EKS/GKE nodes (containerd 1.7+): the k8s.io runtime v2 task directory (the socket's key and value
# differ per build: contract.gitpod_builds).
CONTAINERD_RUNTIME_DIR = "/run/containerd/io.containerd.runtime.v2.task/k8s.io"

# Gitpod's proxy: the LoadBalancer Service every Gitpod hostname resolves to (install/installer/pkg/components/
# proxy), and the annotation external-dns (sources: service, ingress) publishes records from.
PROXY_SERVICE = "proxy"
EXTERNAL_DNS_HOSTNAME_ANNOTATION = "external-dns.alpha.kubernetes.io/hostname"

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
    # Single-bucket mode: every user's objects under a prefix of this one bucket.
    bucket: str = field(metadata={"key": "bucket"})
    # None: the storage users reach S3 with their ambient identity (IRSA), no static key.
    credentials: ObjectRef | None = field(default=None, metadata={"key": "credentials"})


@dataclass(frozen=True)
class ObjectStorage:
    s3: ObjectStorageS3 = field(metadata={"key": "s3"})
    in_cluster: bool = field(default=False, metadata={"key": "inCluster"})


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
    # Exactly one of the two, as the build names it: release-2022.11.3 `containerdSocket` (the socket),
    # later builds `containerdSocketDir` (its directory).
    containerd_socket: str | None = field(default=None, metadata={"key": "containerdSocket"})
    containerd_socket_dir: str | None = field(default=None, metadata={"key": "containerdSocketDir"})

    def __post_init__(self) -> None:
        if (self.containerd_socket is None) == (self.containerd_socket_dir is None):
            raise ValueError("workspace.runtime needs exactly one of containerdSocket or containerdSocketDir")
        for path in (self.containerd_runtime_dir, self.containerd_socket or self.containerd_socket_dir or ""):
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
    into the rendered object of that apiVersion, kind and name. Only Services: the installer looks the
    customizations of its ServiceAccounts up under kind ConfigMap (common/objects.go, every build read), so a
    ServiceAccount customization is silently dropped; cloud identities reach the ServiceAccounts through the
    installer Job instead (installer.py)."""

    metadata: CustomizationMetadata = field(metadata={"key": "metadata"})
    api_version: Literal["v1"] = field(default="v1", metadata={"key": "apiVersion"})
    kind: Literal["Service"] = field(default="Service", metadata={"key": "kind"})


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


@dataclass(frozen=True)
class InstallerInputs:
    """The Platform values the installer config needs, resolved to plain values."""

    build: GitpodBuild
    # metadata.region: the region Gitpod labels its installation and object storage with.
    region: str
    bucket: str
    # The S3 API endpoint of the bucket (Platform.object_storage.s3_endpoint).
    s3_endpoint: str
    registry_url: str
    # True when the Platform hands over a static storage key (written into STORAGE_SECRET).
    static_storage_key: bool = False


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
    gitpod, build = config.gitpod, inputs.build
    lifecycle = gitpod.workspace
    socket_key = "containerd_socket" if build.containerd_socket_key == "containerdSocket" else "containerd_socket_dir"
    return InstallerConfig(
        domain=config.domain,
        metadata=Metadata(region=inputs.region),
        database=Database(
            external=DatabaseExternal(certificate=ObjectRef(DATABASE_SECRET)),
            ssl=SSLOptions(ca_cert=ObjectRef(DATABASE_CA_SECRET)),
        ),
        object_storage=ObjectStorage(s3=ObjectStorageS3(
            endpoint=inputs.s3_endpoint,
            bucket=inputs.bucket,
            credentials=ObjectRef(STORAGE_SECRET) if inputs.static_storage_key else None,
        )),
        # Every build reads the registry's docker config from `external.certificate` (image-builder-mk3,
        # registry-facade and blobserve mount it as their pull secret).
        container_registry=ContainerRegistry(
            external=ContainerRegistryExternal(url=inputs.registry_url, certificate=ObjectRef(REGISTRY_SECRET)),
        ),
        certificate=ObjectRef(HTTPS_CERTIFICATE_SECRET),
        workspace=Workspace(
            runtime=WorkspaceRuntime(fs_shift_method="fuse", containerd_runtime_dir=CONTAINERD_RUNTIME_DIR,
                                     **{socket_key: build.containerd_socket}),
            resources=WorkspaceResources(requests=WORKSPACE_REQUESTS,
                                         limits=WorkspaceLimits(memory=WORKSPACE_MEMORY_LIMIT)),
            max_lifetime=lifecycle.max_lifetime,
            timeout_default=lifecycle.timeout_default,
            timeout_extended=lifecycle.timeout_extended,
            timeout_after_close=lifecycle.timeout_after_close,
        ),
        block_new_users=BlockNewUsers(enabled=gitpod.block_new_users,
                                      passlist=tuple(gitpod.block_new_users_passlist)),
        customization=(proxy_dns_customization(config.domain),),
        experimental=None if lifecycle.garbage_collection.enabled else Experimental(
            webapp=ExperimentalWebApp(server=ExperimentalServer(disable_workspace_garbage_collection=True))
        ),
    )


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


def static_storage_key_warning(config: CellConfig, cloud: str) -> str:
    """Why this cell holds a static credential, for the plan's warnings (the reason, not a failure)."""
    build = config.gitpod.build
    holder = {"aws": "an IAM user", "gcp": "an HMAC key of a service account"}.get(cloud, "a key")
    return (f"object storage: {build.version} reads object storage only with a static key, so this cell holds one "
            f"(gitpod.staticStorageKey.accept: true): {holder} that may use the cell's bucket and nothing else, "
            f"stored as the Kubernetes Secret {STORAGE_SECRET!r} and a Pulumi secret, rotated with "
            f"`python -m ops storage-key rotate --stack {config.stack}` (rotation "
            f"{config.gitpod.static_storage_key.rotation!r})")
