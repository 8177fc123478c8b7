"""The plan as text reads as a summary: counts, the sizes that cost money, a legend, and wrapped warnings."""

from __future__ import annotations

from ops.common.stackfile import load_stack
from ops.plan.cli import OFFLINE_NOTICE, build_plan
from ops.plan.text import WIDTH, render_text


def test_prod_summary_names_what_costs_money_and_what_the_marks_mean() -> None:
    text = render_text(build_plan(load_stack("prod")), 1.0, OFFLINE_NOTICE)
    summary = text.split("\nsummary:\n", 1)[1].split("\n\n", 1)[0]
    assert "resources by provider: aws " in summary
    assert "node group gitpod-prod-services: m6i.2xlarge, 3-6 nodes" in summary
    assert "database gitpod-prod-db: db.r6g.xlarge, multi-AZ, 100 GB" in summary
    assert "NAT gateways: 3" in summary
    assert "zones: eu-west-1a, eu-west-1b, eu-west-1c" in summary
    for mark in ("[protected]", "[retained]", "[hooks: …]"):
        assert mark in summary
    warnings = text.split("\nwarnings:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert warnings[0].startswith("  - ")
    assert len(warnings) > 1
    assert all(len(line) <= WIDTH for line in warnings)


def test_gcp_summary_counts_its_pools_database_and_nat() -> None:
    summary = render_text(build_plan(load_stack("prod-gcp")), 1.0, OFFLINE_NOTICE).split("\nsummary:\n", 1)[1]
    assert "node pool gitpod-prod-gcp-services: n2-standard-8, 3-6 nodes" in summary
    assert "database gitpod-prod-gcp-db: db-custom-8-32768, REGIONAL, 100 GB" in summary
    assert "NAT gateways: 1" in summary
    assert "zones: europe-west1 (regional)" in summary
