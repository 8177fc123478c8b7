"""The program as `pulumi` runs it in `make e2e`: a throwaway project directory whose Pulumi.yaml names this
repository's virtualenv and whose packages are links to this repository's, so the shipped stack files are copied
and filled in there (`pulumi config set --path`) and never changed in the repository. Local file backend, the
passphrase of stacks/Pulumi.local.yaml, .tools/bin first on PATH (the CLI finds the providers there)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = REPO_ROOT / ".tools" / "bin"
POLICY_PACK = REPO_ROOT / "policies"
# The passphrase stacks/Pulumi.local.yaml's placeholders are encrypted with (a throwaway local stack).
PASSPHRASE = "gitpod-cell-local"
PACKAGES = ("components", "contract", "ops")
COMMAND_TIMEOUT_SECONDS = 1200


class CliError(Exception):
    pass


@dataclass
class Project:
    root: Path
    env: dict[str, str]
    log: Path
    echo: Callable[[str], None] = print
    timings: list[tuple[str, float]] = field(default_factory=list)

    @property
    def stacks(self) -> Path:
        return self.root / "stacks"

    def pulumi(self, *args: str, check: bool = True, stack: str | None = None, shown: int | None = None
               ) -> subprocess.CompletedProcess[str]:
        """Run the CLI; `shown`: how many of `args` may appear in logs and errors (the rest are secrets)."""
        options = ["--non-interactive", *(["--stack", stack] if stack else [])]
        # Options go before a `--` (after it everything is a positional argument).
        split = args.index("--") if "--" in args else len(args)
        argv = [str(BIN / "pulumi"), *args[:split], *options, *args[split:]]
        if shown is not None:
            args = (*args[:shown], "[redacted]")
        started = time.monotonic()
        done = subprocess.run(argv, cwd=self.root, env=self.env, capture_output=True, text=True,
                              timeout=COMMAND_TIMEOUT_SECONDS, check=False)
        seconds = time.monotonic() - started
        self.timings.append((" ".join(args[:2]), seconds))
        with self.log.open("a") as log:
            log.write(f"\n$ pulumi {' '.join(args)}  # exit {done.returncode} in {seconds:.1f}s\n{done.stdout}\n"
                      f"{done.stderr}\n")
        if check and done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-25:])
            raise CliError(f"pulumi {' '.join(args)} exited {done.returncode}:\n{tail}")
        return done

    def add_stack(self, name: str, from_file: str = "local", changes: Mapping[str, Any] | None = None) -> None:
        """stacks/Pulumi.<name>.yaml from a shipped stack file (its encryption salt included), and the stack."""
        document = yaml.safe_load((REPO_ROOT / "stacks" / f"Pulumi.{from_file}.yaml").read_text())
        for key, value in (changes or {}).items():
            document["config"][key] = value
        (self.stacks / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
        self.pulumi("stack", "init", name)

    def set_config(self, stack: str, values: Mapping[str, Any], *, secret: bool = False) -> None:
        for key, value in values.items():
            # `--`: a value may start with '-' (a PEM certificate); options go before it.
            flags = ["--path", *(["--secret"] if secret else [])]
            self.pulumi("config", "set", *flags, "--", key, str(value), stack=stack,
                        shown=len(flags) + 4 if secret else None)


def make_project(directory: Path, echo: Callable[[str], None] = print) -> Project:
    root = directory / "project"
    (root / "stacks").mkdir(parents=True)
    document = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())
    document["runtime"]["options"]["virtualenv"] = str(REPO_ROOT / ".venv")
    (root / "Pulumi.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    shutil.copy(REPO_ROOT / "__main__.py", root / "__main__.py")
    for package in PACKAGES:
        (root / package).symlink_to(REPO_ROOT / package, target_is_directory=True)
    (directory / "state").mkdir()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PULUMI_", "KUBECONFIG", "AWS_"))}
    env.update({
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "PULUMI_HOME": str(directory / "pulumi-home"),
        "PULUMI_BACKEND_URL": (directory / "state").as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        # Nothing may reach a cluster or cloud by ambient configuration: only what the stack names.
        "KUBECONFIG": str(directory / "no-ambient-kubeconfig"),
    })
    return Project(root, env, directory / "pulumi.log", echo)
