"""The installer-schema emulation itself (tests/components/installer_schema.py): each rule of the installer's
loader and validator has a case that fails, so the shipped configs passing it means something."""

from __future__ import annotations

import json

import pytest
import yaml

from contract.gitpod_builds import SUPPORTED_BUILDS
from tests.components.installer_schema import load_schema, problems, schema_names

OLD, NEW = "release-2022.11.3", "main-gha.13463"
MINIMAL = {
    "apiVersion": "v1",
    "domain": "gitpod.example.com",
    "database": {"inCluster": False, "external": {"certificate": {"kind": "secret", "name": "db"}}},
    "objectStorage": {"inCluster": False, "s3": {"endpoint": "s3.eu-west-1.amazonaws.com", "bucket": "b",
                                                 "credentials": {"kind": "secret", "name": "s"}}},
    "containerRegistry": {"inCluster": False, "external": {"url": "r.example.com/x",
                                                           "certificate": {"kind": "secret", "name": "r"}}},
}


def text(document: dict) -> str:
    return yaml.safe_dump(document)


def with_(path: str, value: object) -> dict:
    document = json.loads(json.dumps(MINIMAL))
    *parents, last = path.split(".")
    target = document
    for part in parents:
        target = target.setdefault(part, {})
    if value is None:
        target.pop(last)
    else:
        target[last] = value
    return document


def test_a_schema_per_supported_build_from_its_revision() -> None:
    assert schema_names() == sorted(SUPPORTED_BUILDS)
    for version, build in SUPPORTED_BUILDS.items():
        schema = load_schema(version)
        assert (schema.revision, schema.commit) == (build.source_revision, build.source_commit)
        assert "config.Config" in schema.types


@pytest.mark.parametrize("build", [OLD, NEW])
def test_a_minimal_config_over_the_defaults_loads(build: str) -> None:
    assert problems(text(MINIMAL), build) == []


@pytest.mark.parametrize(("build", "path", "value", "expected"), [
    (OLD, "objectStorage.s3.region", "eu-west-1", 'objectStorage.s3.region: unknown field "region"'),
    (OLD, "database.ssl", {"caCert": {"kind": "secret", "name": "ca"}, "verify": True},
     'database.ssl.verify: unknown field "verify"'),
    (NEW, "workspace", {"runtime": {"containerdSocket": "/run/containerd/containerd.sock"}},
     'workspace.runtime.containerdSocket: unknown field "containerdSocket"'),
    (OLD, "objectStorage.s3.credentials", None, "objectStorage.s3.credentials.kind: required"),
    (NEW, "objectStorage.s3.bucket", None, "objectStorage.s3.bucket: required"),
    (OLD, "domain", "", "domain: required"),
    (OLD, "domain", "not a domain", "domain: 'not a domain' is not a fully qualified domain name"),
    (OLD, "containerRegistry.external", None, "containerRegistry.external: required when InCluster is false"),
    (OLD, "kind", "Everything", "kind: 'Everything' is not one of"),
    (OLD, "database.inCluster", "no", "database.inCluster: cannot unmarshal str into bool (a bool)"),
    (OLD, "workspace", {"maxLifetime": "36 hours"}, "workspace.maxLifetime: '36 hours' is not a Go duration"),
    (OLD, "workspace", {"runtime": {"containerdSocket": "run/containerd.sock"}},
     "workspace.runtime.containerdSocket: must start with '/'"),
    (OLD, "blockNewUsers", {"enabled": True}, "blockNewUsers.passlist: blockNewUsers.enabled needs a passlist"),
])
def test_each_rule_of_the_loader_and_validator_fails_a_config(build: str, path: str, value: object,
                                                              expected: str) -> None:
    found = problems(text(with_(path, value)), build)
    assert any(problem.startswith(expected) for problem in found), found


def test_duplicate_keys_are_refused_as_the_strict_loader_does() -> None:
    duplicated = text(MINIMAL) + "domain: other.example.com\n"
    (problem,) = problems(duplicated, OLD)
    assert "duplicate keys: domain" in problem


def test_keys_match_case_insensitively_as_encoding_json_does() -> None:
    document = with_("domain", None)
    document["Domain"] = "gitpod.example.com"
    assert problems(text(document), OLD) == []


def test_defaults_satisfy_required_fields_a_config_leaves_out() -> None:
    # workspace.runtime.fsShiftMethod and .containerdSocket are required and come from the installer's Defaults;
    # overriding one with the zero value fails as the validator does.
    assert problems(text(MINIMAL), OLD) == []
    assert "workspace.runtime.fsShiftMethod: required" in problems(
        text(with_("workspace", {"runtime": {"fsShiftMethod": ""}})), OLD)
