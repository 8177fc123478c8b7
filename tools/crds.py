"""cert-manager's CustomResourceDefinitions, from cert-manager's own Go module, installed with kubectl.

The cell installs cert-manager (components/gitpod/charts.py pins the chart), so a local API server that is to
accept what the cell renders needs cert-manager's CRDs at that version. They come from `go mod download` of
github.com/cert-manager/cert-manager (the Go module proxy; cached in the Go module cache after the first time).

Its deploy/crds/*.yaml are Helm templates, but every template action except three label values sits in a YAML
comment (`# START crd {{- if ... }}`), which YAML ignores; the labels (chart name and release name) are rendered
as `cert-manager`, what the chart's release in this cell is called. Anything else templated fails loudly.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from pathlib import Path

CERT_MANAGER_MODULE = "github.com/cert-manager/cert-manager"
_RENDERED = {
    "'{{ template \"cert-manager.name\" . }}'": "cert-manager",
    "'{{ .Release.Name }}'": "cert-manager",
}
# A template action that is not inside a YAML comment: text YAML would keep.
_LIVE_TEMPLATE = re.compile(r"^[^#\n]*\{\{", re.MULTILINE)
ESTABLISHED_TIMEOUT = "60s"


class CrdError(Exception):
    """The CRDs could not be fetched, rendered or installed; the message says which step."""


def pinned_cert_manager_version() -> str:
    from components.gitpod.charts import CERT_MANAGER

    return CERT_MANAGER.version


def go_module_dir(module: str, version: str) -> Path:
    # Run outside any module, so the download neither reads nor changes a go.mod of ours.
    with tempfile.TemporaryDirectory() as outside:
        try:
            result = subprocess.run(["go", "mod", "download", "-json", f"{module}@{version}"], cwd=outside,
                                    capture_output=True, text=True, timeout=600, check=False)
        except FileNotFoundError as error:
            raise CrdError("no 'go' on PATH: install Go 1.24 or newer") from error
    if result.returncode != 0:
        detail = (result.stdout + result.stderr).strip().splitlines()[-1:]
        raise CrdError(f"go mod download {module}@{version} failed: {detail}")
    return Path(json.loads(result.stdout)["Dir"])


def cert_manager_crds_yaml(version: str) -> str:
    """All of cert-manager's CRDs at `version`, as one multi-document YAML stream."""
    directory = go_module_dir(CERT_MANAGER_MODULE, version) / "deploy" / "crds"
    documents = []
    for path in sorted(directory.glob("crd-*.yaml")):
        text = path.read_text()
        for template, value in _RENDERED.items():
            text = text.replace(template, value)
        if _LIVE_TEMPLATE.search(text):
            raise CrdError(f"{path.name} of {CERT_MANAGER_MODULE}@{version} has template actions outside comments: "
                           "extend the rendering in tools/crds.py")
        documents.append(text)
    if not documents:
        raise CrdError(f"no crd-*.yaml under {directory}")
    return "\n---\n".join(documents)


def install(kubectl: Path, kubeconfig: Path, manifests: str) -> list[str]:
    """Server-side apply CRDs and wait until each is Established; returns their names."""
    base = [str(kubectl), f"--kubeconfig={kubeconfig}"]
    applied = subprocess.run([*base, "apply", "--server-side", "--force-conflicts", "--field-manager=localkube",
                              "--output=name", "--filename=-"], input=manifests, capture_output=True, text=True,
                             timeout=300, check=False)
    if applied.returncode != 0:
        raise CrdError(f"kubectl apply of the CRDs failed: {applied.stderr.strip()}")
    names = applied.stdout.split()
    waited = subprocess.run([*base, "wait", "--for=condition=Established", f"--timeout={ESTABLISHED_TIMEOUT}",
                             *names], capture_output=True, text=True, timeout=300, check=False)
    if waited.returncode != 0:
        raise CrdError(f"CRDs not Established: {waited.stderr.strip()}")
    return [name.split("/", 1)[-1] for name in names]


def install_cert_manager(kubectl: Path, kubeconfig: Path, version: str | None = None) -> list[str]:
    return install(kubectl, kubeconfig, cert_manager_crds_yaml(version or pinned_cert_manager_version()))
