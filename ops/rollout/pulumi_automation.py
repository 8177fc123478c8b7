"""`PulumiDriver` on Pulumi's Automation API: the real CLI, the real backend, this repository as the program.

`pulumi.automation` is imported inside the methods: only commands that drive Pulumi pay for importing it.
Every stack is selected with `work_dir` at the repository root, so the CLI reads `Pulumi.yaml` and the stack files in
`stacks/` exactly as `pulumi up` run by hand would.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ops.common.stackfile import REPO_ROOT
from ops.errors import OpsError
from ops.rollout.staged import GITPOD_CONFIG_KEY, GITPOD_VERSION_FIELD, INSTALLER_IMAGE_FIELD, LastUpdate, StepResult

if TYPE_CHECKING:
    from pulumi.automation import ConfigValue, Stack

# The stack output holding the cell's public URL (exported by the Gitpod layer); the health gate probes it.
DEFAULT_URL_OUTPUT = "gitpodUrl"
# The stack output holding the cluster's kubeconfig (components/exports.py); the health gate checks the cluster.
KUBECONFIG_OUTPUT = "kubeconfig"
HISTORY_PAGE_SIZE = 20
HISTORY_MAX_PAGES = 5
UPDATE_KIND = "update"
SUCCEEDED = "succeeded"
_STREAM_LABEL = re.compile(r"^(stdout|stderr):\s*")

OutputSink = Callable[[str, str], None]
"""Receives (stack, line) for every line the CLI prints while previewing or updating that stack."""
ClusterCheck = Callable[[str, str, str | None], StepResult]
"""(stack, kubeconfig text, kube context) -> the cluster half of the health gate (ops.cluster.cell_health)."""


class AutomationDriver:
    def __init__(
        self,
        work_dir: Path = REPO_ROOT,
        *,
        organization: str | None = None,
        url_output: str = DEFAULT_URL_OUTPUT,
        health_probe: Callable[[str], StepResult] | None = None,
        on_output: OutputSink | None = None,
        cluster_check: ClusterCheck | None = None,
        kubeconfig: Path | None = None,
        kube_context: str | None = None,
    ) -> None:
        self._work_dir = work_dir
        self._organization = organization or None
        self._url_output = url_output
        self._health_probe = health_probe or probe_url
        self._on_output = on_output
        self._cluster_check = cluster_check or self._check_cluster
        # --kubeconfig/--context of `fleet health`: instead of the stack's `kubeconfig` output.
        self._kubeconfig = kubeconfig
        self._kube_context = kube_context
        # Selecting a stack rewrites the workspace's current-stack file; stacks of one wave select in parallel.
        self._select_lock = threading.Lock()

    def qualified_name(self, stack: str) -> str:
        return f"{self._organization}/{stack}" if self._organization else stack

    def set_gitpod_version(self, stack: str, version: str, installer_image: str) -> None:
        from pulumi.automation import ConfigValue

        # Path keys change only these fields and keep the rest of the `gitpod-cell:gitpod` object.
        selected = self._select(stack)
        for field, value in ((GITPOD_VERSION_FIELD, version), (INSTALLER_IMAGE_FIELD, installer_image)):
            selected.set_config(f"{GITPOD_CONFIG_KEY}.{field}", ConfigValue(value=value, secret=False), path=True)

    def preview(self, stack: str, policy_pack: Path) -> StepResult:
        from pulumi.automation import errors

        try:
            result = self._select(stack).preview(
                policy_packs=[str(policy_pack)], color="never", on_output=self._sink(stack)
            )
        except errors.CommandError as error:
            return StepResult(ok=False, summary=summarize_cli_failure(str(error)))
        return StepResult(ok=True, summary=describe_changes(result.change_summary))

    def up(self, stack: str, policy_pack: Path) -> StepResult:
        from pulumi.automation import errors

        try:
            result = self._select(stack).up(
                policy_packs=[str(policy_pack)],
                color="never",
                message="gitpod-cell rollout",
                on_output=self._sink(stack),
            )
        except errors.CommandError as error:
            return StepResult(ok=False, summary=summarize_cli_failure(str(error)))
        if result.summary.result != SUCCEEDED:
            return StepResult(ok=False, summary=f"update finished with result {result.summary.result!r}")
        return StepResult(ok=True, summary=describe_changes(result.summary.resource_changes or {}))

    def health(self, stack: str) -> StepResult:
        from pulumi.automation import errors

        try:
            outputs = self._select(stack).outputs()
        except errors.CommandError as error:
            return StepResult(
                ok=False, summary=f"reading the stack outputs failed: {summarize_cli_failure(str(error))}"
            )
        url = outputs.get(self._url_output)
        if url is None or not url.value:
            endpoint = StepResult(
                ok=False,
                summary=f"stack {stack!r} has no output {self._url_output!r} to probe (outputs: "
                f"{', '.join(sorted(outputs)) or 'none'})",
            )
        else:
            endpoint = self._health_probe(str(url.value))
        # Not the hooks' verdict alone (a failed after-hook fails `up`, but an engine that carried on would not):
        # check the cluster itself.
        if self._kubeconfig is not None:
            kubeconfig_text: str | None = self._kubeconfig.read_text()
        else:
            output = outputs.get(KUBECONFIG_OUTPUT)
            kubeconfig_text = str(output.value) if output is not None and output.value else None
        if kubeconfig_text is None:
            cluster = StepResult(ok=False, summary=f"stack {stack!r} has no output {KUBECONFIG_OUTPUT!r} (pass "
                                                   "--kubeconfig): the cluster cannot be checked")
        else:
            cluster = self._cluster_check(stack, kubeconfig_text, self._kube_context)
        return StepResult(ok=endpoint.ok and cluster.ok,
                          summary=f"endpoint: {endpoint.summary}; cluster: {cluster.summary}")

    def _check_cluster(self, stack: str, kubeconfig_text: str, context: str | None) -> StepResult:
        from ops.cluster.cell_health import cluster_health_from_kubeconfig
        from ops.common.cell_target import DEFAULT_GITPOD_NAMESPACE, config_object
        from ops.common.stackfile import load_stack
        from ops.common.timestamps import utc_now

        gitpod = config_object(load_stack(stack, self._work_dir / "stacks").config, GITPOD_CONFIG_KEY)
        namespace = str(gitpod.get("namespace") or DEFAULT_GITPOD_NAMESPACE)
        health = cluster_health_from_kubeconfig(stack, kubeconfig_text, namespace, utc_now(), context=context)
        return StepResult(ok=health.healthy, summary=health.summary())

    def last_update(self, stack: str) -> LastUpdate:
        from pulumi.automation import errors

        try:
            selected = self._select(stack)
            for page in range(1, HISTORY_MAX_PAGES + 1):
                entries = selected.history(page_size=HISTORY_PAGE_SIZE, page=page, show_secrets=False)
                for entry in entries:  # newest first
                    if entry.kind == UPDATE_KIND and entry.result == SUCCEEDED:
                        return LastUpdate(
                            finished_at=entry.end_time or entry.start_time,
                            gitpod_version=gitpod_version_from_config(entry.config),
                        )
                if len(entries) < HISTORY_PAGE_SIZE:
                    break
        except errors.StackNotFoundError:
            return LastUpdate(finished_at=None, gitpod_version=None)
        except errors.CommandError as error:
            problem = summarize_cli_failure(str(error))
            raise OpsError(f"stack {stack!r}: reading its update history failed: {problem}") from error
        return LastUpdate(finished_at=None, gitpod_version=None)

    def _select(self, stack: str) -> Stack:
        from pulumi.automation import select_stack

        with self._select_lock:
            return select_stack(stack_name=self.qualified_name(stack), work_dir=str(self._work_dir))

    def _sink(self, stack: str) -> Callable[[str], None] | None:
        on_output = self._on_output
        if on_output is None:
            return None
        return lambda line: on_output(stack, line.rstrip("\n"))


def gitpod_version_from_config(config: Mapping[str, ConfigValue]) -> str | None:
    """The Gitpod version recorded with an update: the `version` field of the `gitpod-cell:gitpod` object."""
    entry = config.get(GITPOD_CONFIG_KEY)
    if entry is None or entry.secret:
        return None
    value: Any = entry.value
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return None
    if isinstance(value, dict) and value.get(GITPOD_VERSION_FIELD) is not None:
        return str(value[GITPOD_VERSION_FIELD])
    return None


def describe_changes(changes: Mapping[Any, int]) -> str:
    counts = {str(getattr(operation, "value", operation)): count for operation, count in changes.items() if count}
    return ", ".join(f"{operation} {count}" for operation, count in sorted(counts.items())) or "no changes"


def summarize_cli_failure(text: str, max_lines: int = 8) -> str:
    """The lines of a failed CLI run that say why: `error:` lines and mandatory policy violations first."""
    # A CommandError reads "code: N / stdout: ... / stderr: ...": drop those labels from the lines they start.
    lines = [_STREAM_LABEL.sub("", line.strip()) for line in text.splitlines() if line.strip()]
    lines = [line for line in lines if line]
    telling = [line for line in lines if line.lower().startswith("error:") or "mandatory" in line.lower()]
    chosen = telling or lines[-max_lines:]
    return "\n".join(chosen[:max_lines]) or "the Pulumi CLI failed without output"


def probe_url(
    url: str,
    *,
    attempts: int = 20,
    interval_seconds: float = 15.0,
    timeout_seconds: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
) -> StepResult:
    """GET `url` until it answers below 400 (redirects followed); DNS and certificates may take minutes to settle."""
    last_problem = "not tried"
    for attempt in range(1, attempts + 1):
        try:
            with urllib.request.urlopen(url, timeout=timeout_seconds) as response:
                return StepResult(ok=True, summary=f"{url} answered {response.status} (attempt {attempt})")
        except urllib.error.HTTPError as error:
            last_problem = f"HTTP {error.code}"
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            last_problem = str(getattr(error, "reason", error))
        if attempt < attempts:
            sleep(interval_seconds)
    return StepResult(ok=False, summary=f"{url} not healthy after {attempts} attempt(s): {last_problem}")
