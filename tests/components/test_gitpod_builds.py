"""The supported Gitpod builds: README's compatibility table is the code's table, and every build has its schema."""

from __future__ import annotations

import re
from pathlib import Path

from contract.gitpod_builds import SUPPORTED_BUILDS, TOOLBOX_IMAGE
from tests.components.installer_schema import load_schema

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_rows() -> dict[str, list[str]]:
    text = README.read_text()
    section = text.split("## Supported Gitpod builds", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {re.sub(r"`", "", cells[0]): cells[1:] for cells in
            ([cell.strip() for cell in row.strip("|").split("|")] for row in rows)}


def test_readme_lists_exactly_the_supported_builds_with_their_revisions() -> None:
    rows = readme_rows()
    assert set(rows) == set(SUPPORTED_BUILDS)
    for version, build in SUPPORTED_BUILDS.items():
        revision, storage, maintenance, aws, gcp = rows[version]
        assert f"`{build.source_revision}`" in revision
        assert build.source_commit[:8] in revision
        assert ("IRSA" in storage) == build.keyless_object_storage
        assert ("static key" in storage) == (build.storage_access == "s3-static-key")
        assert ("ws-manager-mk2" in maintenance) == (build.maintenance == "mk2-lease")
        assert aws == "yes"
        assert gcp.startswith("yes") == (build.storage_access == "s3-static-key")


def test_each_build_names_its_installer_image_and_schema() -> None:
    for version, build in SUPPORTED_BUILDS.items():
        assert build.image_tag == version
        assert load_schema(version).commit == build.source_commit


def test_the_toolbox_is_a_build_whose_image_has_the_tools() -> None:
    # The 2022.11.3 installer image is Alpine with bash, curl, jq, yq and kubectl (its leeway.Dockerfile).
    assert SUPPORTED_BUILDS["release-2022.11.3"].installer_image == TOOLBOX_IMAGE
