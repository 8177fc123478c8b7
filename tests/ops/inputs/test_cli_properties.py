"""Property: whatever argv, files and environment a user gives `python -m ops`, it ends with an exit code from
the table (0-3), never a traceback or the catch-all's "unexpected" (a bug), at most one `error:` line (exactly one
on bad input), and within its stated timeout.

Inputs: random argv over every sub-command (its real flags with random or plausible values, plus noise), random
bytes and random YAML as stack, fleet and policy-config files, and random environments (no credentials, or fake
AWS credentials pointing at a closed port on 127.0.0.1). Runs are in-process (ops.cli.main). The default profile
runs OPS_CLI_EXAMPLES examples (default 30) so the suite stays fast; set it higher for a deeper search.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ops import cli
from tests.ops.inputs.conftest import assert_well_behaved, run_ops

EXAMPLES = int(os.environ.get("OPS_CLI_EXAMPLES", "30"))
# The longest any one run may take here: backup status's --timeout default is 90 s, and nothing is reachable.
STATED_TIMEOUT_SECONDS = 90.0


def _leaf_parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
                  ) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found += _leaf_parsers(child, (*path, name))
    return found or [(path, parser)]


LEAVES = _leaf_parsers(cli.build_parser())
FLAGS = {path: [a for a in parser._actions if a.option_strings and a.help != argparse.SUPPRESS
                and "--help" not in a.option_strings] for path, parser in LEAVES}

FILE_KINDS = ("bad-bytes", "random-yaml", "valid-stack", "directory", "missing", "empty")
text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)
plausible = st.sampled_from(["dev", "prod", "prod-gcp", "staging", "", "-", "latest", "0", "-5", "300", "1e9",
                             "release-2022.11.3", "release-2022.11.2.16", "2025-01-02T03:04:05Z", "nonsense",
                             "eu-west-1", "us-east1", "../etc", "Pulumi.dev.yaml", "@", "x@1"])
yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False) | text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["config", "waves", "aws:region", "gitpod-cell:domain", "gitpod-cell:database", "name",
                         "stage", "stacks", "backupRetentionDays", "deletionProtection", "secure"]) | text,
        children, max_size=4),
    max_leaves=12)


@st.composite
def files(draw: st.DrawFn, directory: Path, index: int) -> str:
    """A file of a random kind; `directory` is fresh per example, its parent holds the stacks copy."""
    kind = draw(st.sampled_from(FILE_KINDS))
    path = directory / f"input-{index}.yaml"
    if kind == "bad-bytes":
        path.write_bytes(draw(st.binary(max_size=200)))
    elif kind == "random-yaml":
        path.write_text(yaml.safe_dump(draw(yaml_values)))
    elif kind == "valid-stack":
        path.write_text((directory.parent / "stacks" / f"Pulumi.{draw(st.sampled_from(['dev', 'prod-gcp']))}.yaml")
                        .read_text())
    elif kind == "directory":
        path.mkdir(exist_ok=True)
    elif kind == "empty":
        path.write_text("")
    return str(path)


@st.composite
def command_lines(draw: st.DrawFn, directory: Path) -> list[str]:
    path, _parser = draw(st.sampled_from(LEAVES))
    argv = list(path)
    for index, action in enumerate(draw(st.lists(st.sampled_from(FLAGS[path]), max_size=5, unique_by=id))):
        flag = draw(st.sampled_from(action.option_strings))
        if action.nargs == 0:
            argv.append(flag)
        elif action.type is Path or "file" in flag or flag in ("--fleet", "--policy-pack-config", "--kubeconfig"):
            argv += [flag, draw(files(directory, index))]
        else:
            argv += [flag, draw(plausible | text)]
    if draw(st.booleans()):  # the required flags, most of the time
        argv += draw(st.sampled_from([["--stack", "dev"], ["--stack", "prod-gcp"], ["--from-stack", "prod",
                                      "--to-stack", "prod-new"], ["--version", "release-2022.11.3", "--dry-run"]]))
    if draw(st.integers(0, 4)) == 0:  # stray words now and then: a usage error
        argv += draw(st.lists(plausible | text, min_size=1, max_size=2))
    return argv


environments = st.fixed_dictionaries({
    "credentials": st.sampled_from(["none", "fake-aws", "fake-aws-bad-profile"]),
    "password": st.sampled_from([None, "secret"]),
})


@pytest.mark.usefixtures("offline")
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=st.data(), environment=environments)
def test_any_input_ends_in_a_code_from_the_table(data, environment, tmp_path):
    directory = Path(tempfile.mkdtemp(dir=tmp_path))
    with pytest.MonkeyPatch.context() as patch:
        if environment["credentials"] == "none":
            for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
                patch.delenv(name, raising=False)
        elif environment["credentials"] == "fake-aws-bad-profile":
            patch.setenv("AWS_PROFILE", "no-such-profile")
        if environment["password"]:
            patch.setenv("GITPOD_DB_PASSWORD", environment["password"])
        argv = data.draw(command_lines(directory))
        run = run_ops(*argv)
    assert_well_behaved(run)
    assert run.seconds < STATED_TIMEOUT_SECONDS, (argv, run.seconds)
    if os.environ.get("OPS_CLI_TRACE"):
        print(f"{run.seconds:6.2f}s exit {run.code}: {argv}")
