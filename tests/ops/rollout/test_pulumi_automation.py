"""The Automation API driver: its logic against a stand-in `Stack`, its health probe against a local HTTP server,
and (`pulumi_cli`) a whole rollout through the real Pulumi CLI (`make engine`) on a local file backend."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi.automation import CommandResult, ConfigValue, OutputValue, UpdateSummary, errors

from ops.rollout.fleet import parse_fleet
from ops.rollout.pulumi_automation import (
    AutomationDriver,
    describe_changes,
    gitpod_version_from_config,
    probe_url,
    summarize_cli_failure,
)
from ops.rollout.staged import LastUpdate, StepResult, plan_rollout, run_rollout


class StandInStack:
    """Just enough of `pulumi.automation.Stack` for the driver, recording what it is asked."""

    def __init__(self, *, history: list[list[UpdateSummary]] | None = None, outputs: dict[str, Any] | None = None):
        self.history_pages = history or []
        self.stack_outputs = outputs or {}
        self.config_set: list[tuple[str, str, bool]] = []
        self.preview_kwargs: dict[str, Any] = {}
        self.up_kwargs: dict[str, Any] = {}
        self.preview_error: Exception | None = None
        self.up_result = "succeeded"

    def set_config(self, key: str, value: ConfigValue, *, path: bool = False) -> None:
        self.config_set.append((key, value.value, path))

    def preview(self, **kwargs: Any) -> Any:
        self.preview_kwargs = kwargs
        if self.preview_error:
            raise self.preview_error
        kwargs["on_output"]("Previewing update (staging):\n")
        return type("Preview", (), {"change_summary": {"update": 2, "same": 40, "create": 0}})()

    def up(self, **kwargs: Any) -> Any:
        self.up_kwargs = kwargs
        summary = update_summary(result=self.up_result, resource_changes={"update": 2, "same": 40})
        return type("Up", (), {"summary": summary})()

    def outputs(self) -> dict[str, OutputValue]:
        return {name: OutputValue(value, secret=False) for name, value in self.stack_outputs.items()}

    def history(self, page_size: int, page: int, show_secrets: bool) -> list[UpdateSummary]:
        assert not show_secrets
        return self.history_pages[page - 1] if page <= len(self.history_pages) else []


def update_summary(
    kind: str = "update",
    result: str = "succeeded",
    end_time: datetime | None = None,
    config: dict[str, dict[str, Any]] | None = None,
    resource_changes: Any = None,
) -> UpdateSummary:
    return UpdateSummary(
        kind=kind,
        start_time=datetime(2026, 11, 1, 10, 0),
        message="",
        environment={},
        config=config or {},
        result=result,
        end_time=end_time or datetime(2026, 11, 1, 10, 5),
        resource_changes=resource_changes,
    )


def driver_with(stack: StandInStack, **kwargs: Any) -> tuple[AutomationDriver, list[str], list[tuple[str, str]]]:
    selected: list[str] = []
    printed: list[tuple[str, str]] = []
    driver = AutomationDriver(Path("/repo"), on_output=lambda name, line: printed.append((name, line)), **kwargs)

    def select(name: str) -> StandInStack:
        selected.append(driver.qualified_name(name))
        return stack

    driver._select = select  # type: ignore[method-assign,assignment]  # the stand-in replaces the CLI
    return driver, selected, printed


def test_setting_the_version_changes_only_the_version_and_installer_image_fields():
    stack = StandInStack()
    driver, selected, _ = driver_with(stack, organization="acme")

    driver.set_gitpod_version("staging", "2024.09.0", "installer:2024.09.0")

    assert selected == ["acme/staging"]
    assert stack.config_set == [("gitpod-cell:gitpod.version", "2024.09.0", True),
                                ("gitpod-cell:gitpod.installerImage", "installer:2024.09.0", True)]


def test_preview_and_up_run_with_the_policy_pack_and_stream_output():
    stack = StandInStack()
    driver, _, printed = driver_with(stack)

    preview = driver.preview("staging", Path("/repo/policies"))
    up = driver.up("staging", Path("/repo/policies"))

    assert (preview.ok, preview.summary) == (True, "same 40, update 2")
    assert (up.ok, up.summary) == (True, "same 40, update 2")
    assert stack.preview_kwargs["policy_packs"] == ["/repo/policies"]
    assert stack.up_kwargs["policy_packs"] == ["/repo/policies"]
    assert printed == [("staging", "Previewing update (staging):")]


def test_a_failed_preview_reports_why():
    stack = StandInStack()
    cli_output = (
        "stdout: Policies:\n    [mandatory]  gitpod-cell-policies  rds-multi-az  (aws:rds/instance:Instance: db)\n"
        "stderr: error: preview failed\n"
    )
    stack.preview_error = errors.CommandError(CommandResult(stdout=cli_output, stderr="", code=255))
    driver, _, _ = driver_with(stack)

    result = driver.preview("prod", Path("/repo/policies"))

    assert not result.ok
    assert "rds-multi-az" in result.summary
    assert "error: preview failed" in result.summary


def test_an_update_that_did_not_succeed_fails_the_step():
    stack = StandInStack()
    stack.up_result = "failed"
    driver, _, _ = driver_with(stack)

    assert driver.up("prod", Path("/repo/policies")).ok is False


def test_last_update_is_the_newest_successful_update_with_its_gitpod_version():
    gitpod = {"gitpod-cell:gitpod": {"value": '{"version":"2024.08.0","installerImage":"x"}', "secret": False}}
    history = [
        [update_summary(kind="refresh", end_time=datetime(2026, 11, 9))]
        + [update_summary(result="failed", end_time=datetime(2026, 11, 8))] * 19,
        [update_summary(end_time=datetime(2026, 11, 2, 8, 30), config=gitpod), update_summary()],
    ]
    driver, _, _ = driver_with(StandInStack(history=history))

    assert driver.last_update("prod") == LastUpdate(datetime(2026, 11, 2, 8, 30), "2024.08.0")


def test_a_stack_that_never_succeeded_has_no_last_update():
    driver, _, _ = driver_with(StandInStack(history=[[update_summary(result="failed")]]))

    assert driver.last_update("prod") == LastUpdate(None, None)


def cluster_ok(stack: str, kubeconfig: str, context: str | None) -> StepResult:
    return StepResult(ok=True, summary=f"cluster of {stack} healthy")


def test_health_probes_the_gitpod_url_output_and_checks_the_cluster_from_the_kubeconfig_output():
    probed: list[str] = []
    checked: list[tuple[str, str, str | None]] = []

    def probe(url: str) -> StepResult:
        probed.append(url)
        return StepResult(ok=True, summary=f"{url} answered 200")

    def cluster(stack: str, kubeconfig: str, context: str | None) -> StepResult:
        checked.append((stack, kubeconfig, context))
        return StepResult(ok=True, summary="workloads ready; maintenance off")

    outputs = {"gitpodUrl": "https://staging.example", "kubeconfig": "apiVersion: v1\nkind: Config\n"}
    driver, _, _ = driver_with(StandInStack(outputs=outputs), health_probe=probe, cluster_check=cluster)

    result = driver.health("staging")
    assert result.ok
    assert probed == ["https://staging.example"]
    assert checked == [("staging", "apiVersion: v1\nkind: Config\n", None)]
    assert "endpoint: https://staging.example answered 200; cluster: workloads ready" in result.summary


def test_health_fails_when_the_cluster_fails_although_the_url_answers():
    def cluster(stack: str, kubeconfig: str, context: str | None) -> StepResult:
        return StepResult(ok=False, summary="maintenance: still on until 2025-03-14T10:26:53Z")

    outputs = {"gitpodUrl": "https://staging.example", "kubeconfig": "kubeconfig"}
    driver, _, _ = driver_with(StandInStack(outputs=outputs), cluster_check=cluster,
                               health_probe=lambda url: StepResult(ok=True, summary="200"))

    result = driver.health("staging")
    assert not result.ok
    assert "maintenance: still on" in result.summary


def test_health_uses_the_given_kubeconfig_instead_of_the_output(tmp_path: Path):
    path = tmp_path / "kubeconfig"
    path.write_text("from-the-operator")
    checked: list[tuple[str, str, str | None]] = []

    def cluster(stack: str, kubeconfig: str, context: str | None) -> StepResult:
        checked.append((stack, kubeconfig, context))
        return StepResult(ok=True, summary="ok")

    driver, _, _ = driver_with(StandInStack(outputs={"gitpodUrl": "https://x"}), cluster_check=cluster,
                               health_probe=lambda url: StepResult(ok=True, summary="200"), kubeconfig=path,
                               kube_context="admin")
    assert driver.health("staging").ok
    assert checked == [("staging", "from-the-operator", "admin")]


def test_health_fails_clearly_without_the_url_or_kubeconfig_output():
    driver, _, _ = driver_with(StandInStack(outputs={"region": "eu-west-1"}), health_probe=lambda url: pytest.fail(url),
                               cluster_check=lambda *args: pytest.fail("no kubeconfig to check with"))

    result = driver.health("staging")

    assert not result.ok
    assert "no output 'gitpodUrl'" in result.summary
    assert "region" in result.summary
    assert "no output 'kubeconfig'" in result.summary


@pytest.mark.parametrize(
    ("value", "version"),
    [
        ('{"version": "2024.09.0", "installerImage": "x"}', "2024.09.0"),
        ({"version": "2024.09.0"}, "2024.09.0"),
        ('{"installerImage": "x"}', None),
        ("not json", None),
    ],
)
def test_gitpod_version_from_recorded_config(value, version):
    assert gitpod_version_from_config({"gitpod-cell:gitpod": ConfigValue(value)}) == version


def test_secret_or_missing_gitpod_config_has_no_version():
    assert gitpod_version_from_config({}) is None
    assert gitpod_version_from_config({"gitpod-cell:gitpod": ConfigValue("[secret]", secret=True)}) is None


def test_change_and_failure_summaries():
    assert describe_changes({"create": 1, "same": 0}) == "create 1"
    assert describe_changes({}) == "no changes"
    assert summarize_cli_failure("\n code: 1\n stdout: a\n stderr: b\n") == "code: 1\na\nb"
    assert summarize_cli_failure("") == "the Pulumi CLI failed without output"


class _Responder(BaseHTTPRequestHandler):
    statuses: list[int] = []

    def do_GET(self) -> None:
        status = self.statuses.pop(0) if self.statuses else 200
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b"gitpod")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def local_server() -> Iterator[tuple[str, type[_Responder]]]:
    responder = type("Responder", (_Responder,), {"statuses": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), responder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", responder
    finally:
        server.shutdown()
        server.server_close()


def test_probe_retries_until_the_endpoint_answers(local_server):
    url, responder = local_server
    responder.statuses = [503, 502]
    waits: list[float] = []

    result = probe_url(url, attempts=5, interval_seconds=7, sleep=waits.append)

    assert result.ok
    assert "answered 200 (attempt 3)" in result.summary
    assert waits == [7, 7]


def test_probe_gives_up_after_its_attempts(local_server):
    url, responder = local_server
    responder.statuses = [503, 503, 503]

    result = probe_url(url, attempts=3, interval_seconds=0, sleep=lambda _: None)

    assert not result.ok
    assert "after 3 attempt(s): HTTP 503" in result.summary


def test_probe_reports_an_unreachable_endpoint():
    result = probe_url("http://127.0.0.1:9/", attempts=1, timeout_seconds=1)

    assert not result.ok
    assert "not healthy after 1 attempt(s)" in result.summary


PROGRAM = """\
import pulumi

config = pulumi.Config()
pulumi.export("gitpodVersion", config.require_object("gitpod")["version"])
pulumi.export("gitpodUrl", config.require("url"))
"""

POLICY_PACK = """\
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy


def nothing_forbidden(args, report_violation):
    pass


PolicyPack(
    name="rollout-test",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[ResourceValidationPolicy(name="nothing-forbidden", description="allows all", validate=nothing_forbidden)],
)
"""


@pytest.mark.pulumi_cli
def test_a_rollout_through_the_real_cli(tmp_path, monkeypatch, local_server):
    from pulumi import automation

    url, _ = local_server
    virtualenv = Path(sys.prefix)
    project = tmp_path / "project"
    (project / "stacks").mkdir(parents=True)
    (project / "Pulumi.yaml").write_text(
        yaml.safe_dump(
            {
                "name": "gitpod-cell",
                "runtime": {"name": "python", "options": {"toolchain": "pip", "virtualenv": str(virtualenv)}},
                "stackConfigDir": "stacks",
            }
        )
    )
    (project / "__main__.py").write_text(PROGRAM)
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "PulumiPolicy.yaml").write_text(
        yaml.safe_dump({"runtime": {"name": "python", "options": {"virtualenv": str(virtualenv)}}})
    )
    (policies / "__main__.py").write_text(POLICY_PACK)
    monkeypatch.setenv("PULUMI_BACKEND_URL", (tmp_path / "state").as_uri())
    (tmp_path / "state").mkdir()
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "rollout-test")
    monkeypatch.setenv("PULUMI_SKIP_UPDATE_CHECK", "true")

    stack = automation.create_stack("staging", work_dir=str(project))
    stack.set_config("gitpod-cell:gitpod.version", automation.ConfigValue("2024.08.0"), path=True)
    stack.set_config("gitpod-cell:gitpod.installerImage", automation.ConfigValue("installer:2024.08.0"), path=True)
    stack.set_config("gitpod-cell:url", automation.ConfigValue(url))
    driver = AutomationDriver(project, health_probe=lambda probed: probe_url(probed, attempts=3, interval_seconds=0.2),
                              kubeconfig=tmp_path / "kubeconfig",
                              cluster_check=lambda stack, kubeconfig, context: StepResult(ok=True, summary="ok"))
    (tmp_path / "kubeconfig").write_text("stand-in: the cluster half is tested in tests/ops/test_cell_health.py")
    fleet = parse_fleet(
        {"waves": [{"name": "staging", "stage": "staging", "stacks": ["staging"]}]},
        source="fleet.yaml",
        stack_has_file=lambda name: (project / "stacks" / f"Pulumi.{name}.yaml").is_file(),
    )

    report = run_rollout(plan_rollout(fleet, "2024.09.0", current_images={"staging": "installer:2024.08.0"}), driver,
                         policies, log=print)

    assert report.ok, report
    stack_file = yaml.safe_load((project / "stacks" / "Pulumi.staging.yaml").read_text())
    assert stack_file["config"]["gitpod-cell:gitpod"] == {
        "version": "2024.09.0",
        "installerImage": "installer:2024.09.0",
    }
    assert stack.outputs()["gitpodVersion"].value == "2024.09.0"
    last = driver.last_update("staging")
    assert last.gitpod_version == "2024.09.0"
    assert last.finished_at is not None
    assert datetime.now(UTC) - last.finished_at.replace(tzinfo=UTC) < timedelta(minutes=10)
