"""The `gitpod-cell:kubernetes` section: a cell on a cluster that already exists (k3s, on-premises), with the database,
object storage and registry given as endpoints and Pulumi secrets instead of created by the cell.

Secrets (`kubeconfig`, `database.password`, `objectStorage.accessKeyId` / `.secretAccessKey`, `registry.password`,
and optionally `database.caPem`) are set with `pulumi config set --path --secret gitpod-cell:kubernetes.<key> ...`;
the engine hands them over decrypted and the cell keeps them Pulumi secrets. The offline plan cannot decrypt them:
it sees a placeholder, and the rules below skip what a placeholder cannot tell.
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BeforeValidator, Field, SecretStr, field_validator, model_validator

from components.config.section import DNS_LABEL, NAMESPACE, Section, is_dns_name
from contract.gitpod_builds import SUPPORTED_BUILDS

if TYPE_CHECKING:
    from components.config.model import CellConfig

KEY = f"{NAMESPACE}:kubernetes"
# What the offline plan sees in place of a value encrypted in the stack file (ops.common.stackfile).
SECRET_PLACEHOLDER = "[secret: encrypted in the stack file]"
# The sections that configure cloud resources a cell on an existing cluster does not create.
CLOUD_ONLY_SECTIONS: dict[str, str] = {
    "network": "the cluster's network is the cluster operator's",
    "cluster": "the cluster exists; its nodes carry Gitpod's workload labels (preflight checks them)",
    "database": "the database is given in kubernetes.database",
    "storage": "the bucket exists: its versioning and lifecycle are the store operator's",
    "dns": "there is no DNS zone: publish the domain's records yourself",
    "gcp": "this is not a GCP cell",
    "replicaRegion": "the object store's replication is the store operator's",
    "restore": "restores of an existing-cluster cell are done by the operator (docs/existing-cluster.md)",
}
DEFAULT_REGION = "us-east-1"
_S3_REGION = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_HOST_PORT = re.compile(r"^(?P<host>\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)(?::(?P<port>\d{1,5}))?$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def _unwrap_secure(value: Any) -> Any:
    """`{secure: ...}` nested in a structured value reaches the offline plan still encrypted: a placeholder."""
    if isinstance(value, dict) and set(value) == {"secure"}:
        return SECRET_PLACEHOLDER
    return value


Secret = Annotated[SecretStr, BeforeValidator(_unwrap_secure)]


def is_placeholder(value: SecretStr | str | None) -> bool:
    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    return text == SECRET_PLACEHOLDER


def is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def split_endpoint(endpoint: str) -> tuple[str, int | None]:
    match = _HOST_PORT.match(endpoint)
    if match is None:
        raise ValueError(f"{endpoint!r} is not host[:port], e.g. minio.storage.svc:9000 or 127.0.0.1:9000")
    port = int(match["port"]) if match["port"] else None
    if port is not None and not 1 <= port <= 65535:
        raise ValueError(f"port {port} is not 1-65535")
    return match["host"], port


def _host(value: str) -> str:
    host = value.strip("[]")
    try:
        ipaddress.ip_address(host)
        return value
    except ValueError:
        pass
    if host == "localhost" or is_dns_name(host.lower()) or DNS_LABEL.match(host.lower()):
        return value
    raise ValueError(f"{value!r} is neither an IP address nor a host name")


class ExistingDatabaseConfig(Section):
    """MySQL 8.0 anywhere the cluster and whoever runs `pulumi up` can reach, over TLS."""

    host: str
    port: int = Field(default=3306, ge=1, le=65535)
    username: str = "gitpod"
    password: Secret
    name: str = "gitpod"
    # The CA that signed the server's certificate (PEM): preflight verifies the server against it, and Gitpod's
    # pods read it from the `gitpod-database-ca` secret. Not confidential; it may be a Pulumi secret all the same.
    ca_pem: Secret
    # MariaDB stands in for MySQL 8.0 only where someone said so (the local e2e stack); never in prod.
    accept_maria_db: bool = False

    @field_validator("host")
    @classmethod
    def _valid_host(cls, value: str) -> str:
        return _host(value)

    @field_validator("ca_pem")
    @classmethod
    def _pem(cls, value: SecretStr) -> SecretStr:
        if not is_placeholder(value) and "-----BEGIN CERTIFICATE-----" not in value.get_secret_value():
            raise ValueError("is not a PEM certificate (-----BEGIN CERTIFICATE-----): the CA that signed the "
                             "database server's certificate")
        return value

    @field_validator("username", "name")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not re.match(r"^[A-Za-z0-9_$-]{1,64}$", value):
            raise ValueError(f"{value!r} is not a MySQL identifier (1-64 letters, digits, _ $ -)")
        return value


class ExistingObjectStorageConfig(Section):
    """An S3-compatible store (MinIO, Ceph RGW, S3 itself) and a key limited to the cell's bucket."""

    endpoint: str
    bucket: str
    region: str = DEFAULT_REGION
    # Plain HTTP: only to a store on this machine's loopback (a local test store), never across a network.
    insecure_loopback_http: bool = False
    access_key_id: Secret
    secret_access_key: Secret

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        if "://" in value:
            raise ValueError(f"{value!r}: give host[:port] without a scheme (insecureLoopbackHttp says whether it "
                             "is plain HTTP)")
        split_endpoint(value)
        return value

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, value: str) -> str:
        if not _BUCKET.match(value):
            raise ValueError(f"{value!r} is not an S3 bucket name (3-63 lowercase letters, digits, '.' and '-')")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if not _S3_REGION.match(value):
            raise ValueError(f"{value!r} is not an S3 region name such as us-east-1")
        return value

    @model_validator(mode="after")
    def _plain_http_on_loopback_only(self) -> ExistingObjectStorageConfig:
        host, _ = split_endpoint(self.endpoint)
        if self.insecure_loopback_http and not is_loopback(host):
            raise ValueError(f"insecureLoopbackHttp: {host} is not a loopback address; plain HTTP would send the "
                             "storage key in the clear across a network: use the store's HTTPS endpoint")
        return self

    @property
    def url(self) -> str:
        return f"{'http' if self.insecure_loopback_http else 'https'}://{self.endpoint}"


class ExistingRegistryConfig(Section):
    """A registry Gitpod pushes workspace images to, with credentials the cell writes as a docker config secret."""

    server: str
    # Where Gitpod pushes, `<server>/<path>`; defaults to `<server>/gitpod`.
    url: str | None = None
    username: str
    password: Secret
    insecure_loopback_http: bool = False

    @field_validator("server")
    @classmethod
    def _server(cls, value: str) -> str:
        if "://" in value or "/" in value:
            raise ValueError(f"{value!r}: give the registry host[:port] alone, e.g. registry.example.com:5000")
        split_endpoint(value)
        return value

    @model_validator(mode="after")
    def _url_on_server(self) -> ExistingRegistryConfig:
        if self.url is not None and not self.url.startswith(f"{self.server}/"):
            raise ValueError(f"url {self.url!r} is not under server {self.server!r} (<server>/<path>)")
        host, _ = split_endpoint(self.server)
        if self.insecure_loopback_http and not is_loopback(host):
            raise ValueError(f"insecureLoopbackHttp: {host} is not a loopback address; use the registry's HTTPS")
        return self

    @property
    def push_url(self) -> str:
        return self.url or f"{self.server}/gitpod"


class KubernetesConfig(Section):
    """`gitpod-cell:kubernetes`: the cluster (a kubeconfig) and the endpoints and secrets of what the cell uses."""

    # The cluster's kubeconfig as a Pulumi secret, or the path of a kubeconfig file (relative to the project
    # directory); exactly one. Never the ambient ~/.kube/config.
    kubeconfig: Secret | None = None
    kubeconfig_path: str | None = None
    context: str | None = None
    # An existing cert-manager ClusterIssuer that can issue the domain, its wildcard and *.ws.<domain>.
    cluster_issuer: str
    database: ExistingDatabaseConfig
    object_storage: ExistingObjectStorageConfig
    registry: ExistingRegistryConfig

    @model_validator(mode="after")
    def _one_kubeconfig(self) -> KubernetesConfig:
        if (self.kubeconfig is None) == (self.kubeconfig_path is None):
            raise ValueError("set exactly one of kubeconfig (a Pulumi secret: `pulumi config set --path --secret "
                             "gitpod-cell:kubernetes.kubeconfig \"$(cat kubeconfig)\"`) and kubeconfigPath")
        return self

    @field_validator("cluster_issuer")
    @classmethod
    def _issuer(cls, value: str) -> str:
        if not is_dns_name(value) and not DNS_LABEL.match(value):
            raise ValueError(f"{value!r} is not a ClusterIssuer name (a DNS subdomain such as letsencrypt-prod)")
        return value


def cloud_only_section_issues(sections: dict[str, Any]) -> list[tuple[str, str]]:
    """Keys a cell on an existing cluster does not read, as set in the stack (before defaults are merged)."""
    issues = []
    for name, why in CLOUD_ONLY_SECTIONS.items():
        python_name = re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()
        if python_name in sections:
            issues.append((f"{NAMESPACE}:{name}", f"is not read by a cell on an existing cluster ({why}); remove it"))
    if "kubernetes" not in sections:
        issues.append((KEY, "is required when gitpod-cell:cloud is kubernetes: the kubeconfig, clusterIssuer, "
                            "database, objectStorage and registry (stacks/Pulumi.local.yaml is an example)"))
    return issues


def kubernetes_region(section: Any) -> str:
    """The cell's region: its object store's (the one place a region means anything on an existing cluster)."""
    storage = section.get("objectStorage") if isinstance(section, dict) else None
    region = storage.get("region") if isinstance(storage, dict) else None
    return str(region) if region else DEFAULT_REGION


def kubernetes_issues(config: CellConfig) -> list[tuple[str, str]]:
    """Rules across sections for a cell on an existing cluster."""
    section = config.kubernetes
    if section is None:
        return [(KEY, "is required when gitpod-cell:cloud is kubernetes")]
    issues: list[tuple[str, str]] = []
    build = config.gitpod.build
    if build.storage_access != "s3-static-key":
        fitting = ", ".join(v for v, b in SUPPORTED_BUILDS.items() if b.storage_access == "s3-static-key")
        issues.append((f"{NAMESPACE}:gitpod.version", f"{build.version} reaches object storage only through the AWS "
                       "SDK's ambient credentials, with no endpoint, so it cannot use an S3-compatible store; a cell "
                       f"on an existing cluster installs one of: {fitting}"))
    if config.gitpod.letsencrypt is not None:
        issues.append((f"{NAMESPACE}:gitpod.letsencrypt", "is not read by a cell on an existing cluster: the "
                       f"ClusterIssuer kubernetes.clusterIssuer ({section.cluster_issuer}) issues the certificate; "
                       "remove it"))
    if config.is_prod:
        if section.database.accept_maria_db:
            issues.append((f"{KEY}.database.acceptMariaDb", "must be false in prod: Gitpod supports MySQL 8.0"))
        if section.object_storage.insecure_loopback_http:
            issues.append((f"{KEY}.objectStorage.insecureLoopbackHttp", "must be false in prod"))
        if section.registry.insecure_loopback_http:
            issues.append((f"{KEY}.registry.insecureLoopbackHttp", "must be false in prod"))
    return issues
