"""The reported bad inputs, one test each: every one ends in one `error:` line naming the key or flag, with the
exit code the table gives (2 bad input, 3 could not check), and never reaches a cloud when the input is bad."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from ops.common.stackfile import REPO_ROOT
from tests.ops.inputs.conftest import assert_well_behaved, run_ops
from tests.ops.support.stacks import stack_config, stack_text

BAD_BYTES = b"config:\n  aws:region: \xff\xfe eu-west-1\n"


def write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def bad(run, code: int, *needles: str) -> None:
    assert_well_behaved(run)
    assert run.code == code, run
    (line,) = run.error_lines
    for needle in needles:
        assert needle in line, run


# -- files that are not stack files ---------------------------------------------------------------------------------


def test_a_non_utf8_stack_file_is_named(offline):
    bad(run_ops("plan", "--stack-file", str(write(offline / "x.yaml", BAD_BYTES))), 2, "not UTF-8", "line 2")


@pytest.mark.parametrize("argv", [
    ["plan", "--stack", "broken"],
    ["backup", "status", "--stack", "broken"],
    ["backup", "config", "--stack", "broken"],
    ["preflight", "--stack", "broken"],
    ["drill", "--stack", "broken"],
    ["maintenance", "status", "--stack", "broken"],
    ["maintenance", "enter", "--stack", "broken"],
    ["restore", "plan", "--from-stack", "broken", "--to-stack", "new"],
    ["storage-key", "rotate", "--stack", "broken"],
])
def test_a_non_utf8_stack_is_refused_by_every_command(offline, monkeypatch, argv):
    monkeypatch.setenv("GITPOD_DB_PASSWORD", "x")  # preflight and drill check the password even earlier
    write(offline / "Pulumi.broken.yaml", BAD_BYTES)
    bad(run_ops(*argv), 2, "Pulumi.broken.yaml", "not UTF-8")


def test_a_rollout_over_a_non_utf8_stack_is_refused(offline):
    write(offline / "Pulumi.staging.yaml", BAD_BYTES)
    bad(run_ops("rollout", "--version", "release-2022.11.3", "--dry-run"), 2, "Pulumi.staging.yaml", "not UTF-8")


def test_a_non_utf8_fleet_file_is_refused(offline):
    bad(run_ops("fleet", "show", "--fleet", str(write(offline / "f.yaml", BAD_BYTES))), 2, "--fleet", "not UTF-8")


def test_an_empty_stack_name_is_refused(offline):
    bad(run_ops("plan", "--stack", ""), 2, "--stack: empty")


def test_a_binary_policy_pack_config_is_refused_before_the_plan_runs(offline):
    bad(run_ops("plan", "--stack", "dev", "--policy-pack-config", sys.executable), 2, "--policy-pack-config")


def test_a_policy_pack_config_naming_an_unknown_policy_is_refused(offline):
    path = write(offline / "p.json", json.dumps({"no-such-policy": "mandatory"}))
    bad(run_ops("plan", "--stack", "dev", "--policy-pack-config", str(path)), 2, "no-such-policy")


def test_a_stack_file_that_is_a_directory_says_so(offline):
    (offline / "Pulumi.dir.yaml").mkdir()
    bad(run_ops("plan", "--stack", "dir"), 2, "is a directory")
    bad(run_ops("plan", "--stack", "nope"), 2, "no stack named 'nope'")
    assert "dir" not in run_ops("plan", "--stack", "nope").stderr.split("stacks here:")[1]


def test_a_32_mb_stack_file_is_refused_in_well_under_a_second(offline):
    path = offline / "Pulumi.huge.yaml"
    with path.open("w") as handle:
        handle.write("config:\n")
        for index in range(32 * 1024 * 1024 // 32):
            handle.write(f"  gitpod-cell:key{index:012d}: x\n")
    run = run_ops("plan", "--stack", "huge")
    bad(run, 2, "bytes; at most 1048576")
    assert run.seconds < 0.5, run.seconds


# -- stack files that parse but are wrong ---------------------------------------------------------------------------


def test_a_duplicate_region_is_refused(offline):
    text = stack_text("dev") + "  aws:region: us-east-1\n"
    bad(run_ops("plan", "--stack-file", str(write(offline / "dup.yaml", text))), 2, "'aws:region' is given twice")


def test_a_duplicate_key_deep_inside_is_refused(offline):
    text = stack_text("dev").replace("    backupRetentionDays: 7\n", "    backupRetentionDays: 7\n"
                                     "    backupRetentionDays: 30\n")
    bad(run_ops("plan", "--stack-file", str(write(offline / "dup.yaml", text))), 2, "'backupRetentionDays'")


def test_a_misspelt_provider_key_gets_a_hint(offline):
    config = stack_config("dev")
    config["aws:regoin"] = config.pop("aws:region")
    path = write(offline / "x.yaml", yaml.safe_dump({"config": config}))
    bad(run_ops("plan", "--stack-file", str(path)), 2, "aws:regoin: unknown key; did you mean aws:region?")


@pytest.mark.parametrize("key", ["azure:location", "gitpod_cell:domain", "region"])
def test_an_unknown_namespace_is_refused(offline, key):
    path = write(offline / "x.yaml", yaml.safe_dump({"config": {**stack_config("dev"), key: "x"}}))
    bad(run_ops("plan", "--stack-file", str(path)), 2, f"{key}: unknown namespace")


def test_an_unknown_top_level_key_of_the_stack_file_is_refused(offline):
    path = write(offline / "x.yaml", stack_text("dev").replace("config:", "confg:", 1))
    bad(run_ops("plan", "--stack-file", str(path)), 2, "unknown top-level key 'confg'", "did you mean 'config'")


@pytest.mark.parametrize(("section", "field", "value", "needle"), [
    ("database", "deletionProtection", "no", "got 'no' (text); expected true or false"),
    ("database", "backupRetentionDays", True, "got True (a boolean); expected a whole number"),
    ("database", "backupRetentionDays", "14", "got '14' (text); expected a whole number"),
    ("network", "vpcCidrr", "10.0.0.0/16", "gitpod-cell:network.vpcCidrr: unknown key"),
])
def test_values_of_the_wrong_type_are_refused(offline, section, field, value, needle):
    path = write(offline / "x.yaml", stack_text("dev", {f"gitpod-cell:{section}": {field: value}}))
    bad(run_ops("plan", "--stack-file", str(path)), 2, needle)


@pytest.mark.parametrize("argv", [
    ["backup", "status", "--stack", "typo"],
    ["preflight", "--stack", "typo"],
    ["drill", "--stack", "typo"],
    ["maintenance", "status", "--stack", "typo"],
    ["restore", "plan", "--from-stack", "typo", "--to-stack", "new"],
])
def test_every_command_refuses_the_config_typo_plan_refuses(offline, monkeypatch, argv):
    monkeypatch.setenv("GITPOD_DB_PASSWORD", "x")
    write(offline / "Pulumi.typo.yaml", stack_text("dev", {"gitpod-cell:network": {"vpcCidrr": "10.0.0.0/16"}}))
    bad(run_ops(*argv), 2, "gitpod-cell:network.vpcCidrr: unknown key")


# -- flags, checked before any cloud --------------------------------------------------------------------------------


def test_a_rollout_to_an_unsupported_version_names_the_supported_ones(offline):
    bad(run_ops("rollout", "--version", "latest", "--dry-run"), 2, "--version latest", "release-2022.11.3")


def test_a_downgrade_is_refused_unless_allowed(offline):
    bad(run_ops("rollout", "--version", "release-2022.11.2.16", "--dry-run"), 2, "is a downgrade",
        "--allow-downgrade")
    allowed = run_ops("rollout", "--version", "release-2022.11.2.16", "--dry-run", "--allow-downgrade")
    assert allowed.code == 0, allowed
    assert "is a downgrade" in allowed.stdout


@pytest.mark.parametrize(("minutes", "extra", "needle"), [
    ("0", [], "accepted 1-240 minutes, or up to 1440 with --force-long-lease"),
    ("-5", [], "accepted 1-240 minutes"),
    ("300", [], "Pass --force-long-lease"),
    ("1441", ["--force-long-lease"], "up to 1440"),
])
def test_a_lease_out_of_range_is_refused_before_the_cluster_is_asked(offline, minutes, extra, needle):
    # No kubeconfig exists: reaching for the cluster would be a different error (exit 3).
    bad(run_ops("maintenance", "enter", "--stack", "dev", "--lease-minutes", minutes, *extra), 2, needle)


@pytest.mark.parametrize("argv", [
    ["drill", "--stack", "dev", "--time", "nonsense"],
    ["restore", "plan", "--from-stack", "prod", "--to-stack", "prod-new", "--time", "nonsense"],
])
def test_a_time_that_is_not_rfc3339_is_refused(offline, argv):
    bad(run_ops(*argv), 2, "--time", "RFC3339")


def test_a_gcp_restore_into_another_region_is_refused_before_any_credential(offline):
    bad(run_ops("restore", "plan", "--from-stack", "prod-gcp", "--to-stack", "prod-gcp-new", "--region", "us-east1"),
        2, "--region us-east1", "Cloud SQL")


def test_a_missing_ca_file_is_refused(offline, monkeypatch):
    monkeypatch.setenv("GITPOD_DB_PASSWORD", "x")
    bad(run_ops("preflight", "--stack", "dev", "--ca-file", "/nowhere.pem"), 2, "--ca-file /nowhere.pem: no such file")


# -- could not check: one message per cloud -------------------------------------------------------------------------


def test_restore_plan_with_an_unreachable_cloud_is_one_line(offline):
    run = run_ops("restore", "plan", "--from-stack", "prod", "--to-stack", "prod-new")
    bad(run, 3, "cannot reach AWS", "check the network")
    assert not (offline / "Pulumi.prod-new.yaml").exists()


def test_no_bucket_advice_that_would_not_help(offline):
    run = run_ops("backup", "status", "--stack", "dev", "--bucket", "my-bucket")
    assert run.code == 3, run
    assert "--bucket" not in run.error_lines[0]


def test_a_gcp_cell_without_credentials_gets_the_gcloud_hint(offline):
    run = run_ops("backup", "status", "--stack", "prod-gcp")
    bad(run, 3, "gcloud auth application-default login")
    assert "aws sso" not in run.stderr


def test_backup_status_with_no_reachable_cloud_exits_3_within_its_timeout(offline):
    for stack in ("dev", "prod-gcp"):
        run = run_ops("backup", "status", "--stack", stack, "--timeout", "20")
        assert run.code == 3, run
        assert run.seconds < 20, run.seconds


def test_python_m_ops_outside_the_virtualenv_says_which_interpreter(tmp_path):
    # -S: no site-packages, as a bare system Python without the project's dependencies.
    completed = subprocess.run([sys.executable, "-S", "-m", "ops", "plan", "--stack", "dev"], cwd=REPO_ROOT,
                               capture_output=True, text=True, timeout=60, check=False)
    assert completed.returncode == 2, completed
    assert completed.stderr.startswith("error: module ")
    assert ".venv/bin/python -m ops" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_a_timed_out_command_is_could_not_check():
    from ops.common.deadline import run_within
    from ops.errors import EXIT_CANNOT_CHECK, OpsError

    started = time.monotonic()
    with pytest.raises(OpsError, match=r"no answer within 0\.2 s") as raised:
        run_within(0.2, lambda: time.sleep(5), "probe")
    assert raised.value.exit_code == EXIT_CANNOT_CHECK
    assert time.monotonic() - started < 1
