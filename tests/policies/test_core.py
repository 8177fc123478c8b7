"""Helpers the rules share: Go durations, image references, property access, IAM documents, ARNs, the rule model."""

from __future__ import annotations

import pytest

from policies.core import iam
from policies.core.context import arn_region
from policies.core.durations import parse_go_duration
from policies.core.images import ImageRef, parse_image
from policies.core.props import as_int, as_list, as_mapping, get, is_false, known, truthy
from policies.core.rule import Level, Rule, resource_rule


@pytest.mark.parametrize(("text", "seconds"), [
    ("30m", 1800), ("24h", 86400), ("1h30m", 5400), ("1.5h", 5400), ("90s", 90), ("500ms", 0.5), ("0", 0),
    ("-1m", -60),
])
def test_parse_go_duration(text, seconds):
    assert parse_go_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "30", "1d", "m", "1h 30m", "abc"])
def test_parse_go_duration_rejects(text):
    with pytest.raises(ValueError, match="invalid duration"):
        parse_go_duration(text)


@pytest.mark.parametrize(("reference", "expected"), [
    ("busybox", ImageRef("busybox", None, None)),
    ("busybox:1.36", ImageRef("busybox", "1.36", None)),
    ("registry:5000/team/app", ImageRef("registry:5000/team/app", None, None)),
    ("registry:5000/team/app:v2@sha256:abc", ImageRef("registry:5000/team/app", "v2", "sha256:abc")),
    ("app@sha256:abc", ImageRef("app", None, "sha256:abc")),
])
def test_parse_image(reference, expected):
    assert parse_image(reference) == expected


def test_property_helpers():
    props = {"a": {"b": {"c": 1}, "n": None}, "s": '{"k": "v"}'}
    assert get(props, "a.b.c") == 1
    assert get(props, "a.n", "default") == "default"
    assert get(props, "a.b.c.d") is None
    assert get(props, "missing", 3) == 3
    assert known(props, "a.b.c") == 1
    assert [truthy(v) for v in (True, "true", "True", 1, "yes", None)] == [True, True, True, False, False, False]
    assert [is_false(v) for v in (False, "false", None, 0)] == [True, True, False, False]
    assert as_list(None) == []
    assert as_list("x") == ["x"]
    assert as_list(("a", "b")) == ["a", "b"]
    assert as_mapping(props["s"]) == {"k": "v"}
    assert as_mapping("not json") == {}
    assert as_mapping(None) == {}
    assert [as_int(v) for v in (3, 3.0, "4", "x", True, 2.5)] == [3, 3, 4, None, None, None]


def test_known_swallows_only_unknown_values():
    class UnknownValueError(Exception):
        pass

    class Proxy(dict):
        def __getitem__(self, key):
            raise UnknownValueError(key)

    assert known(Proxy(a=1), "a", "fallback") == "fallback"
    with pytest.raises(UnknownValueError):
        get(Proxy(a=1), "a")


def test_arn_region():
    assert arn_region("arn:aws:rds:eu-west-1:123:db:x") == "eu-west-1"
    assert arn_region("arn:aws:s3:::bucket") is None
    assert arn_region("not-an-arn") is None


def test_iam_helpers():
    document = ('{"Statement": {"Sid": "x", "Effect": "Allow", "Action": "s3:*", "Resource": "*", '
                '"Condition": {"StringEquals": {"issuer:sub": ["a", "b"]}}}}')
    [statement] = iam.statements(document)
    assert iam.is_allow(statement)
    assert not iam.is_deny(statement)
    assert iam.values(statement, "Action") == ["s3:*"]
    assert iam.is_service_wildcard_action("s3:*")
    assert not iam.is_service_wildcard_action("*")
    assert iam.condition_values(statement, "StringEquals", ":sub") == ["a", "b"]
    assert iam.statements("not json") == []
    assert iam.statements(None) == []


def test_rule_model_validates_declarations():
    def validate(args, report):
        return None

    with pytest.raises(ValueError, match="kebab-case"):
        Rule(name="Bad_Name", summary="x", kind="stack", validate=validate)
    with pytest.raises(ValueError, match="must name the resource types"):
        Rule(name="no-types", summary="x", kind="resource", validate=validate)
    with pytest.raises(ValueError, match="must say why"):
        Rule(name="advisory", summary="x", kind="stack", validate=validate, level=Level.ADVISORY)
    with pytest.raises(ValueError, match="needs a default"):
        resource_rule(name="cfg", summary="x", types=["t"], config={"k": {"type": "integer"}})(validate)
    rule = resource_rule(name="ok", summary="Does x.", types=["t"], control="CKV_X_1")(validate)
    assert rule.description == "Does x. [CKV_X_1]"
    assert rule.applies_to("t")
    assert not rule.applies_to("u")
