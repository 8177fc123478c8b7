"""tools/localkube.py as `make kube-up` / `make kube-down` use it, and its refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tools import localkube


def run_localkube(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tools.localkube", *args], cwd=localkube.REPO_ROOT,
                          capture_output=True, text=True, timeout=180, check=False)


def test_up_prints_the_kubeconfig_last_and_down_removes_everything(tmp_path: Path):
    if localkube.missing_binaries():
        pytest.fail("kube-apiserver, etcd or kubectl missing in .tools/bin: run `make kube-tools`", pytrace=False)
    directory = tmp_path / "kube"
    up = run_localkube("up", "--no-crds", "--dir", str(directory))
    try:
        assert up.returncode == 0, up.stderr
        kubeconfig = Path(up.stdout.strip().splitlines()[-1])
        assert kubeconfig == directory / "admin.kubeconfig"
        state = json.loads((directory / "state.json").read_text())
        namespaces = subprocess.run([str(localkube.BIN_DIR / "kubectl"), f"--kubeconfig={kubeconfig}", "get",
                                     "namespace", "kube-system", "--output=name"],
                                    capture_output=True, text=True, timeout=60, check=False)
        assert namespaces.stdout.strip() == "namespace/kube-system", namespaces.stderr

        again = run_localkube("up", "--no-crds", "--dir", str(directory))
        assert again.returncode == 1
        assert again.stderr.strip().endswith("run `make kube-down`")
    finally:
        down = run_localkube("down", "--dir", str(directory))
    assert down.returncode == 0, down.stderr
    assert not directory.exists()
    assert not localkube.is_running(state["etcd"])
    assert not localkube.is_running(state["kube-apiserver"])


def test_missing_binaries_name_the_make_target(tmp_path: Path):
    with pytest.raises(localkube.LocalKubeError, match=r"missing in .*: run `make kube-tools`$"):
        localkube.start(tmp_path / "kube", bin_dir=tmp_path / "empty")


def test_down_never_signals_a_process_that_is_not_its_server(tmp_path: Path):
    # A stale state file (a crash, then a reboot) whose pids now belong to someone else: here, this test itself.
    directory = tmp_path / "kube"
    directory.mkdir()
    (directory / "state.json").write_text(json.dumps({"etcd": os.getpid(), "kube-apiserver": os.getpid()}))
    localkube.stop(directory)
    assert not directory.exists()
