"""A real Kubernetes API server (kube-apiserver + etcd, built by tools/build-kube.sh) on 127.0.0.1, for tests.

`python -m tools.localkube up|down [--dir DIR]` (what `make kube-up` / `make kube-down` run) and the pytest fixture
in tests/kube_server.py both call `start()` / `stop()`: one way to start the server.

What runs: etcd (plain HTTP on loopback, no fsync: its data is thrown away) and kube-apiserver (TLS with a CA made
for the run, client-certificate and service-account-token authentication, RBAC). Validation is the server's own:
OpenAPI schemas, defaulting, server-side apply, CRDs with structural schemas, field validation, admission.
What does not run: kube-controller-manager, kube-scheduler, a kubelet, nodes. So no `default` ServiceAccount
appears in a namespace, deleted namespaces stay Terminating, Deployments never get ReplicaSets, Pods are never
scheduled, Jobs never start, garbage collection never happens. The ServiceAccount admission plugin is off because
it rejects every Pod whose ServiceAccount the missing controller would have created; so a Pod is not given
`serviceAccountName: default` nor a token volume. All other default admission plugins run (PodSecurity included).
"""

from __future__ import annotations

import argparse
import base64
import ctypes
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from tools import crds

REPO_ROOT = Path(__file__).resolve().parent.parent
BIN_DIR = REPO_ROOT / ".tools" / "bin"
DEFAULT_DIR = REPO_ROOT / ".kube-local"
BINARIES = ("kube-apiserver", "etcd", "kubectl")
READY_TIMEOUT_SECONDS = 120.0
STOP_TIMEOUT_SECONDS = 10.0
PORT_ATTEMPTS = 3
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"
# Admission plugins whose controllers never run here (see the module docstring). Everything else stays at the
# server's defaults, including NamespaceLifecycle: writing into a namespace that does not exist fails, as it will.
DISABLED_ADMISSION_PLUGINS = ("ServiceAccount",)


class LocalKubeError(Exception):
    """The local API server could not be started or stopped; the message says what to do."""


@dataclass(frozen=True)
class LocalKube:
    directory: Path
    server_url: str
    kubeconfig_path: Path
    ca_path: Path
    client_cert_path: Path
    client_key_path: Path
    etcd_pid: int
    apiserver_pid: int

    def ssl_context(self) -> ssl.SSLContext:
        """TLS for talking to the server as cluster-admin (system:masters)."""
        context = ssl.create_default_context(cafile=str(self.ca_path))
        context.load_cert_chain(str(self.client_cert_path), str(self.client_key_path))
        return context


def missing_binaries(bin_dir: Path = BIN_DIR) -> list[str]:
    return [name for name in BINARIES if not os.access(bin_dir / name, os.X_OK)]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _openssl(*args: str, cwd: Path) -> None:
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise LocalKubeError(f"openssl {args[0]} failed: {result.stderr.strip().splitlines()[-1:]}")


def _issue(pki: Path, name: str, subject: str, extensions: str) -> None:
    """An EC key and a certificate for it, signed by the run's CA (ca.crt/ca.key in `pki`)."""
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f"{name}.key", cwd=pki)
    _openssl("req", "-new", "-key", f"{name}.key", "-subj", subject, "-out", f"{name}.csr", cwd=pki)
    (pki / f"{name}.ext").write_text(extensions)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-days", "7", "-sha256", "-extfile", f"{name}.ext", "-out", f"{name}.crt", cwd=pki)


def make_pki(pki: Path) -> None:
    """CA, serving certificate (127.0.0.1, localhost), admin client (system:masters), service-account keys."""
    pki.mkdir(parents=True, exist_ok=True)
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key", cwd=pki)
    _openssl("req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=localkube-ca", "-days", "7", "-sha256",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             "-out", "ca.crt", cwd=pki)
    _issue(pki, "apiserver", "/CN=kube-apiserver",
           "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
           "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,"
           "DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\n")
    _issue(pki, "admin", "/O=system:masters/CN=localkube-admin",
           "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n")
    # ES256 service-account tokens: the API server accepts EC keys, and an RSA key costs seconds to generate.
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "sa.key", cwd=pki)
    _openssl("pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=pki)


def write_kubeconfig(path: Path, server_url: str, pki: Path) -> None:
    def data(name: str) -> str:
        return base64.b64encode((pki / name).read_bytes()).decode()

    document = {
        "apiVersion": "v1", "kind": "Config", "current-context": "localkube", "preferences": {},
        "clusters": [{"name": "localkube", "cluster": {"server": server_url,
                                                        "certificate-authority-data": data("ca.crt")}}],
        "users": [{"name": "localkube-admin", "user": {"client-certificate-data": data("admin.crt"),
                                                        "client-key-data": data("admin.key")}}],
        "contexts": [{"name": "localkube", "context": {"cluster": "localkube", "user": "localkube-admin"}}],
    }
    # JSON is YAML: every kubeconfig reader accepts it.
    path.write_text(json.dumps(document, indent=2) + "\n")
    path.chmod(0o600)


def _spawn(argv: list[str], log: Path, tie_to_parent: bool) -> subprocess.Popen[bytes]:
    # Looked up before the fork: the child between fork and exec should do as little as possible.
    prctl = ctypes.CDLL(None, use_errno=True).prctl if tie_to_parent else None

    def child_setup() -> None:
        if prctl is not None:
            # PR_SET_PDEATHSIG: a test process killed hard (SIGKILL, OOM) takes its servers with it.
            prctl(1, signal.SIGKILL)

    with log.open("ab") as out:
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, preexec_fn=child_setup)


def _etcd_argv(bin_dir: Path, data: Path, client_port: int, peer_port: int) -> list[str]:
    client, peer = f"http://127.0.0.1:{client_port}", f"http://127.0.0.1:{peer_port}"
    return [str(bin_dir / "etcd"), "--name=localkube", f"--data-dir={data}",
            f"--listen-client-urls={client}", f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=localkube={peer}", "--initial-cluster-state=new",
            # Thrown-away test data: durability buys nothing and fsync costs most of etcd's write latency.
            "--unsafe-no-fsync", "--log-level=warn"]


def _apiserver_argv(bin_dir: Path, pki: Path, etcd_port: int, port: int) -> list[str]:
    return [str(bin_dir / "kube-apiserver"),
            f"--etcd-servers=http://127.0.0.1:{etcd_port}",
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", f"--secure-port={port}",
            f"--cert-dir={pki}", f"--tls-cert-file={pki / 'apiserver.crt'}",
            f"--tls-private-key-file={pki / 'apiserver.key'}", f"--client-ca-file={pki / 'ca.crt'}",
            f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
            f"--service-account-key-file={pki / 'sa.pub'}",
            f"--service-account-signing-key-file={pki / 'sa.key'}",
            "--service-cluster-ip-range=10.96.0.0/16", "--authorization-mode=RBAC",
            # The `kubernetes` Service's endpoints would be 127.0.0.1, which Endpoints validation refuses (loopback):
            # the reconciler would log that error every 10 s. Nothing here runs Pods that would call it.
            "--endpoint-reconciler-type=none",
            # As on EKS and GKE (kube-apiserver's own default is false): Gitpod's node daemons run privileged, and
            # PodSecurity admission, not this switch, is what should refuse them where a namespace forbids it.
            "--allow-privileged=true",
            f"--disable-admission-plugins={','.join(DISABLED_ADMISSION_PLUGINS)}",
            # API priority and fairness stays on, as on real clusters: turning it off saved no measurable start-up
            # time or memory here (4.7 s vs 4.8 s to /readyz, ~260 MB either way).
            "--profiling=false", "--v=0"]


def _get_status(port: int, path: str, context: ssl.SSLContext | None = None) -> int | None:
    """GET on loopback with http.client: urllib would honour *_proxy variables and could send it elsewhere."""
    connection = (http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=2) if context
                  else http.client.HTTPConnection("127.0.0.1", port, timeout=2))
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    except OSError:
        return None
    finally:
        connection.close()


def _tail(log: Path, lines: int = 5) -> str:
    try:
        return " | ".join(log.read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return "(no log)"


def start(directory: Path = DEFAULT_DIR, bin_dir: Path = BIN_DIR, tie_to_parent: bool = False,
          timeout: float = READY_TIMEOUT_SECONDS) -> LocalKube:
    """Start etcd and kube-apiserver on free loopback ports, data in `directory`; return once /readyz is 200."""
    missing = missing_binaries(bin_dir)
    if missing:
        raise LocalKubeError(f"{', '.join(missing)} missing in {bin_dir}: run `make kube-tools`")
    if (directory / "state.json").exists():
        raise LocalKubeError(f"{directory} holds a running (or crashed) local API server: run `make kube-down`")
    shutil.rmtree(directory, ignore_errors=True)
    make_pki(directory / "pki")
    # A port found free can be taken by someone else before our server binds it: try again with new ones.
    for _ in range(PORT_ATTEMPTS):
        try:
            return _start_servers(directory, bin_dir, tie_to_parent, timeout)
        except _PortTaken:
            continue
    raise LocalKubeError(f"ports taken at start {PORT_ATTEMPTS} times in a row; logs in {directory / 'logs'}")


class _PortTaken(Exception):
    pass


def _start_servers(directory: Path, bin_dir: Path, tie_to_parent: bool, timeout: float) -> LocalKube:
    pki, logs = directory / "pki", directory / "logs"
    shutil.rmtree(logs, ignore_errors=True)
    shutil.rmtree(directory / "etcd", ignore_errors=True)
    logs.mkdir(parents=True)
    etcd_port, peer_port, port = free_port(), free_port(), free_port()
    server_url = f"https://127.0.0.1:{port}"
    kubeconfig = directory / "admin.kubeconfig"
    write_kubeconfig(kubeconfig, server_url, pki)

    etcd = _spawn(_etcd_argv(bin_dir, directory / "etcd", etcd_port, peer_port), logs / "etcd.log", tie_to_parent)
    processes: dict[str, subprocess.Popen[bytes]] = {"etcd": etcd}
    state: dict[str, int | str] = {"etcd": etcd.pid, "server": server_url}
    (directory / "state.json").write_text(json.dumps(state) + "\n")
    deadline = time.monotonic() + timeout
    # The API server's etcd client backs off while etcd is not up yet: starting it after etcd is quicker.
    _wait(lambda: _get_status(etcd_port, "/health") == 200, "etcd", processes, directory, deadline)
    apiserver = _spawn(_apiserver_argv(bin_dir, pki, etcd_port, port), logs / "kube-apiserver.log", tie_to_parent)
    processes["kube-apiserver"] = apiserver
    state["kube-apiserver"] = apiserver.pid
    (directory / "state.json").write_text(json.dumps(state) + "\n")
    kube = LocalKube(directory, server_url, kubeconfig, pki / "ca.crt", pki / "admin.crt", pki / "admin.key",
                     etcd.pid, apiserver.pid)
    context = kube.ssl_context()
    _wait(lambda: _get_status(port, "/readyz", context) == 200, "kube-apiserver", processes, directory, deadline)
    return kube


def _wait(ready: Callable[[], bool], what: str, processes: Mapping[str, subprocess.Popen[bytes]],
          directory: Path, deadline: float) -> None:
    logs = directory / "logs"
    while not ready():
        for name, process in processes.items():
            if process.poll() is not None:
                log = logs / f"{name}.log"
                stop(directory, remove=False)
                if "address already in use" in log.read_text(errors="replace"):
                    raise _PortTaken()
                raise LocalKubeError(f"{name} exited with {process.returncode}: {_tail(log)}")
        if time.monotonic() > deadline:
            stop(directory, remove=False)
            raise LocalKubeError(f"{what} not ready in time; logs in {logs}")
        time.sleep(0.1)


def _kill(pid: int) -> None:
    """SIGKILL and wait until it is gone. Graceful shutdown buys nothing for data that is thrown away, and costs:
    measured, etcd takes ~7 s and kube-apiserver over 20 s to drain their streams after SIGTERM."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        try:
            # Reap it when it is our child; otherwise poll for it to disappear.
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:
            if not is_running(pid):
                return
        time.sleep(0.02)


def is_running(pid: int) -> bool:
    """Running, not a zombie waiting for whoever inherited it to reap it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _is_ours(pid: int, directory: Path) -> bool:
    """Only signal a pid that is still one of our servers (pids are reused after a reboot or a crash)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return Path(cmdline[0].decode(errors="replace")).name in BINARIES and str(directory).encode() in b" ".join(cmdline)


def stop(directory: Path = DEFAULT_DIR, remove: bool = True) -> None:
    """Stop the API server, then etcd; remove their data unless `remove` is False."""
    state_file = directory / "state.json"
    if state_file.exists():
        state = json.loads(state_file.read_text())
        for name in ("kube-apiserver", "etcd"):
            if name in state and _is_ours(int(state[name]), directory):
                _kill(int(state[name]))
        state_file.unlink()
    if remove:
        shutil.rmtree(directory, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.localkube", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("up", "down"))
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help=f"data directory (default {DEFAULT_DIR})")
    parser.add_argument("--no-crds", action="store_true",
                        help="up: skip installing cert-manager's CRDs (the version the cell pins)")
    args = parser.parse_args(argv)
    directory = args.dir.resolve()
    try:
        if args.action == "down":
            stop(directory)
            print(f"localkube: stopped; removed {directory}")
            return 0
        started = time.monotonic()
        kube = start(directory)
        print(f"localkube: kube-apiserver {kube.server_url} ready in {time.monotonic() - started:.1f} s "
              f"(etcd pid {kube.etcd_pid}, kube-apiserver pid {kube.apiserver_pid}); stop with `make kube-down`")
        if not args.no_crds:
            started = time.monotonic()
            version = crds.pinned_cert_manager_version()
            names = crds.install_cert_manager(BIN_DIR / "kubectl", kube.kubeconfig_path, version)
            print(f"localkube: cert-manager {version} CRDs ({len(names)}) established in "
                  f"{time.monotonic() - started:.1f} s")
    except LocalKubeError as error:
        print(f"localkube: {error}", file=sys.stderr)
        return 1
    except (crds.CrdError, ImportError) as error:
        # The server is up: say why the CRDs are not, and leave it running for `make kube-down`.
        print(f"localkube: server up, but cert-manager's CRDs were not installed ({error}); "
              "run it with the project's venv (`make kube-up`), or pass --no-crds", file=sys.stderr)
        return 1
    print(kube.kubeconfig_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
