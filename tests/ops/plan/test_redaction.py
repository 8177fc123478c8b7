"""How secrets appear in a plan: every value redacted, the shape of a secret map kept."""

from __future__ import annotations

from ops.plan.mocks import SECRET, wire_to_plain

SIG = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"


def secret(value: object) -> dict[str, object]:
    return {SIG: SECRET_SIG, "value": value}


def test_a_secret_map_keeps_its_keys_and_loses_every_value() -> None:
    wire = {"stringData": secret({"username": "gitpod", "password": "hunter2", "nested": {"token": "t0ken"}}),
            "type": "Opaque"}
    assert wire_to_plain(wire) == {"stringData": {"username": SECRET, "password": SECRET,
                                                  "nested": {"token": SECRET}}, "type": "Opaque"}


def test_secret_scalars_lists_and_secret_outputs_are_redacted_whole() -> None:
    assert wire_to_plain(secret("hunter2")) == SECRET
    assert wire_to_plain(secret(["a", "b"])) == SECRET
    assert wire_to_plain({SIG: OUTPUT_SIG, "secret": True, "value": {"key": "hunter2"}}) == {"key": SECRET}
    assert wire_to_plain({SIG: OUTPUT_SIG, "secret": False, "value": "plain"}) == "plain"


def test_a_secret_inside_a_secret_map_is_still_redacted() -> None:
    assert wire_to_plain(secret({"outer": secret({"inner": "hunter2"})})) == {"outer": {"inner": SECRET}}
