"""The shared facts in contract/: the rules they encode (their single owner is the test subject)."""

from __future__ import annotations

import pytest

from contract.naming import (
    MAX_STACK_NAME_LENGTH,
    fit_name,
    gcs_bucket_name,
    registry_repositories,
    stack_name_problem,
)
from contract.rollout import MIN_ROLLOUT_LEASE_MINUTES, HookContext, minimum_lease_seconds


@pytest.mark.parametrize(("stack", "project"), [
    ("prod-gcp", "a" * 30),
    ("x" * 40, "acme-gitpod-with-a-rather-long-project-id"),
    ("dev", "p-" + "9" * 28),
])
def test_long_bucket_names_are_shortened_to_63_without_collisions(stack: str, project: str) -> None:
    name = gcs_bucket_name(stack, project)
    assert len(name) <= 63
    assert name != gcs_bucket_name(stack + "b", project)
    assert not name.endswith("-")


def test_short_names_are_kept_and_long_ones_carry_a_digest() -> None:
    assert fit_name("gitpod-dev-proj", 63) == "gitpod-dev-proj"
    shortened = fit_name("a" * 70, 30)
    assert len(shortened) == 30
    assert shortened[:23] == "a" * 23


def test_stack_names_follow_the_tightest_derived_name() -> None:
    for cloud, limit in MAX_STACK_NAME_LENGTH.items():
        assert stack_name_problem("a" * limit, cloud) is None
        assert stack_name_problem("a" * (limit + 1), cloud) is not None
    assert stack_name_problem("Prod", "aws") is not None
    assert stack_name_problem("a--b", "aws") is not None


def test_repositories_per_cloud() -> None:
    assert registry_repositories("dev", "aws") == ("gitpod-dev/base-images", "gitpod-dev/workspace-images")
    assert registry_repositories("dev", "gcp") == ("gitpod-dev",)


def test_the_shortest_rollout_lease_covers_every_deadline() -> None:
    assert minimum_lease_seconds(15 * 60, 15 * 60) == MIN_ROLLOUT_LEASE_MINUTES * 60


def test_a_misspelt_hook_context_field_fails_when_the_program_runs() -> None:
    with pytest.raises(TypeError, match="aws_region"):
        HookContext(stack="s", aws_region="r", db_instance_id="d", bucket="b")  # type: ignore[call-arg]
