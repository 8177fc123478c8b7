"""docs/policies.md's rule and settings tables: generated from the pack, checked and rewritten between markers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from policies import table
from policies.rules import ALL_RULES

REPO_ROOT = Path(__file__).resolve().parents[2]
POLICIES_DOC = REPO_ROOT / "docs" / "policies.md"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "policies.table", *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, check=False)


def test_render_lists_every_rule_once():
    rendered = table.render()
    rows = [line for line in rendered.splitlines() if line.startswith("| `")]
    assert len(rows) == len(ALL_RULES)
    for rule, row in zip(ALL_RULES, rows, strict=True):
        assert row.startswith(f"| `{rule.name}`")
        assert f"| {rule.level.value} |" in row
    assert "| `aws-rds-backup-retention` | RDS instances keep" in rendered
    assert "| CKV_AWS_133, AWS FSBP RDS.11 |" in rendered
    assert "| `aws-s3-replication-cross-region` (stack) |" in rendered


def test_prints_the_table():
    result = run()
    assert result.returncode == 0
    assert result.stdout == table.render()


def test_check_and_write_round_trip(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\nIntro.\n\n{table.START}\nstale\n{table.END}\n\nOutro.\n")
    stale = run("--check", str(readme))
    assert stale.returncode == 1
    assert "out of date" in stale.stderr
    assert run("--write", str(readme)).returncode == 0
    text = readme.read_text()
    assert text == f"# Title\n\nIntro.\n\n{table.START}\n{table.render()}{table.END}\n\nOutro.\n"
    assert run("--check", str(readme)).returncode == 0
    assert run("--write", str(readme)).returncode == 0
    assert readme.read_text() == text


def test_missing_markers_are_an_error(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# No markers\n")
    result = run("--check", str(readme))
    assert result.returncode == 2
    assert "<!-- policies:start -->" in result.stderr


def test_the_policies_doc_is_current():
    text = POLICIES_DOC.read_text()
    assert table.replace_between_markers(text, table.render()) == text, (
        "docs/policies.md's policy table is stale: run `python -m policies.table --write docs/policies.md`"
    )
    settings = table.replace_between_markers(text, table.render_settings(), table.SETTINGS_START, table.SETTINGS_END)
    assert settings == text, (
        "docs/policies.md's settings table is stale: run `python -m policies.table --settings --write docs/policies.md`"
    )
