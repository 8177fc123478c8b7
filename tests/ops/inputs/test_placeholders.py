"""Placeholders: the offline plan lists each shipped example value under `warnings`, naming its key; the same
program under a real engine (no mock monitor) refuses a staging or prod stack that still holds one."""

from __future__ import annotations

import pytest

from components.config import CellConfigError, stack_keys
from components.config.placeholders import find_placeholders, placeholder_reason
from ops.common.stackfile import load_stack
from ops.plan.cli import build_plan
from ops.plan.runner import run_program


def test_the_prod_plan_lists_every_placeholder_by_key(shared_program_runs):
    warnings = [w for w in build_plan(load_stack("prod"))["warnings"] if w.startswith("placeholder: ")]
    keys = sorted(w.split(": ")[1] for w in warnings)
    assert keys == ["gitpod-cell:cluster.adminRoleArns[0]", "gitpod-cell:domain",
                    "gitpod-cell:gitpod.letsencrypt.email"]


def test_a_real_engine_refuses_a_prod_stack_with_placeholders(monkeypatch):
    monkeypatch.setattr(stack_keys, "under_mock_engine", lambda: False)
    with pytest.raises(CellConfigError) as raised:
        run_program(load_stack("prod"))
    assert [key for key, _ in raised.value.issues] == [
        "gitpod-cell:cluster.adminRoleArns[0]", "gitpod-cell:domain", "gitpod-cell:gitpod.letsencrypt.email"]


def test_a_real_engine_only_warns_for_dev(monkeypatch):
    monkeypatch.setattr(stack_keys, "under_mock_engine", lambda: False)
    warnings: list[str] = []
    run_program(load_stack("dev"), warnings=warnings)
    assert any(w.startswith("placeholder: gitpod-cell:domain") for w in warnings)


@pytest.mark.parametrize(("value", "placeholder"), [
    ("gitpod.example.com", True), ("example.org", True), ("ops@example.net", True), ("203.0.113.0/24", True),
    ("198.51.100.7", True), ("192.0.2.0/25", True), ("arn:aws:iam::123456789012:role/x", True), ("CHANGE-ME", True),
    ("gitpod.acme.dev", False), ("10.42.0.0/16", False), ("example.community", False), ("1123456789012", False),
    ("change", False),
])
def test_what_is_a_placeholder(value, placeholder):
    assert (placeholder_reason(value) is not None) is placeholder


def test_placeholders_inside_json_sections_are_found_by_key():
    found = find_placeholders({"gitpod-cell:cluster": '{"publicAccessCidrs": ["10.0.0.0/8", "203.0.113.0/24"]}'})
    assert [key for key, _ in found] == ["gitpod-cell:cluster.publicAccessCidrs[1]"]
