"""The offline plan's mock engine: records every registration and answers with realistic cloud outputs
(ops.plan.mocks_aws, ops.plan.mocks_gcp).

Outputs matter: an input built from an output the mocks do not return is unknown and vanishes from the record,
so each type answers with the ids, ARNs, names and endpoints the real cloud would, and the plan shows the wiring.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs

from ops.plan.mock_values import CallAnswer, OutputBuilder
from ops.plan.mock_values import digest as _digest
from ops.plan.mocks_aws import ACCOUNT_ID, AWS_CALLS, AWS_OUTPUTS, DEFAULT_REGION
from ops.plan.mocks_gcp import GCP_CALLS, GCP_DEFAULT_REGION, GCP_OUTPUTS, GCP_PROJECT, GCP_PROJECT_NUMBER

__all__ = ["ACCOUNT_ID", "DEFAULT_REGION", "GCP_DEFAULT_REGION", "GCP_PROJECT", "GCP_PROJECT_NUMBER", "PlanMocks",
           "RecordingMonitor", "wire_to_plain"]
# Provider types whose `region` input is the region of the resources they manage.
_REGIONAL_PROVIDERS = {"pulumi:providers:aws": DEFAULT_REGION, "pulumi:providers:gcp": GCP_DEFAULT_REGION}
SECRET = "[secret]"
# Markers in the engine's wire format (pulumi/sdk rpc.py).
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
_OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
_SPECIAL_SIG_KEY = "4dabf18193072939515e22adb298388d"
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
_HOOK_EVENTS = {
    "before_create": "beforeCreate", "after_create": "afterCreate", "before_update": "beforeUpdate",
    "after_update": "afterUpdate", "before_delete": "beforeDelete", "after_delete": "afterDelete",
    "on_error": "onError",
}


def redacted(value: Any) -> Any:
    """A secret's shape without its values: a map keeps its keys (a Secret's `stringData` shows which keys it
    holds), every value in it becomes SECRET."""
    if isinstance(value, dict):
        signature = value.get(_SPECIAL_SIG_KEY)
        if signature in (_SECRET_SIG, _OUTPUT_SIG):
            return redacted(value.get("value"))
        if signature is None:
            return {key: redacted(item) for key, item in value.items() if item != _UNKNOWN}
    return SECRET


def wire_to_plain(value: Any) -> Any:
    """Engine wire values to plan JSON: secrets redacted (values only), unknowns dropped, resource references as
    URNs."""
    if isinstance(value, dict):
        signature = value.get(_SPECIAL_SIG_KEY)
        if signature == _SECRET_SIG:
            return redacted(value.get("value"))
        if signature == _RESOURCE_SIG:
            return value.get("urn")
        if signature == _OUTPUT_SIG:
            return redacted(value.get("value")) if value.get("secret") else wire_to_plain(value.get("value"))
        return {key: wire_to_plain(item) for key, item in value.items() if item != _UNKNOWN}
    if isinstance(value, list):
        return [wire_to_plain(item) for item in value if item != _UNKNOWN]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class RecordingMonitor(MockMonitor):
    """The SDK's mock monitor, keeping the full registration request of every resource (options included)."""

    def __init__(self, mocks: PlanMocks) -> None:
        super().__init__(mocks)
        self.records: list[dict[str, Any]] = []
        self.provider_regions: dict[str, str] = {}
        self.provider_projects: dict[str, str] = {}
        mocks.monitor = self

    def RegisterResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        inputs = wire_to_plain(json_format.MessageToDict(request.object)) if request.HasField("object") else {}
        if request.type in _REGIONAL_PROVIDERS:
            self.provider_regions[urn] = inputs.get("region", _REGIONAL_PROVIDERS[request.type])
        if request.type == "pulumi:providers:gcp":
            self.provider_projects[urn] = inputs.get("project", GCP_PROJECT)
        self.records.append(_record(urn, request, inputs))
        return super().RegisterResource(request)

    def region_of(self, provider_ref: str | None) -> str:
        # A provider reference is "<provider urn>::<provider id>".
        urn = provider_ref.rsplit("::", 1)[0] if provider_ref else ""
        return self.provider_regions.get(urn, DEFAULT_REGION)

    def project_of(self, provider_ref: str | None) -> str:
        urn = provider_ref.rsplit("::", 1)[0] if provider_ref else ""
        return self.provider_projects.get(urn, GCP_PROJECT)


def _record(urn: str, request: Any, inputs: dict[str, Any]) -> dict[str, Any]:
    property_urns = {u for deps in request.propertyDependencies.values() for u in deps.urns}
    explicit = [u for u in request.dependencies if u not in property_urns]
    hooks = {
        camel: list(getattr(request.hooks, field))
        for field, camel in _HOOK_EVENTS.items()
        if getattr(request.hooks, field)
    }
    timeouts = {k: v for k, v in json_format.MessageToDict(request.customTimeouts).items() if v}
    return {
        "urn": urn,
        "type": request.type,
        "name": request.name,
        "parent": request.parent or None,
        "provider": request.provider or None,
        "custom": bool(request.custom),
        "inputs": inputs,
        "options": {
            "protect": bool(request.protect),
            "retainOnDelete": bool(request.retainOnDelete),
            "dependsOn": sorted(explicit),
            "ignoreChanges": list(request.ignoreChanges),
            "customTimeouts": timeouts or None,
            "hooks": hooks,
        },
        "dependencies": sorted(set(request.dependencies) | property_urns),
    }


class PlanMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.monitor: RecordingMonitor | None = None

    def _region(self, args: MockResourceArgs) -> str:
        if args.typ in _REGIONAL_PROVIDERS:
            return args.inputs.get("region", _REGIONAL_PROVIDERS[args.typ])
        return self.monitor.region_of(args.provider) if self.monitor else DEFAULT_REGION

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        region = self._region(args)
        state = dict(args.inputs)
        builder = _OUTPUTS.get(args.typ)
        physical_id = f"{args.name}-{_digest(args.typ, args.name, length=7)}"
        builder_inputs = args.inputs
        if args.typ.startswith("gcp:") and "project" not in args.inputs:
            # GCP ids name the project; a resource without one lives in its provider's project.
            project = self.monitor.project_of(args.provider) if self.monitor else GCP_PROJECT
            builder_inputs = {**args.inputs, "_project": project}
        if builder is not None:
            physical_id, extra = builder(args.name, builder_inputs, region)
            state.update(extra)
        elif args.typ.startswith("aws:"):
            service, kind = args.typ.split(":")[1].split("/")[0], args.typ.rsplit(":", 1)[-1].lower()
            state.setdefault("arn", f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{kind}/{physical_id}")
        state.setdefault("name", args.inputs.get("name", physical_id))
        return physical_id, state

    def call(self, args: MockCallArgs) -> dict[str, Any]:
        region = self.monitor.region_of(args.provider) if self.monitor else DEFAULT_REGION
        answer = _CALLS.get(args.token)
        if answer is None:
            raise NotImplementedError(f"the offline plan has no answer for data source {args.token}")
        call_args = args.args
        if args.token.startswith("gcp:") and self.monitor is not None:
            call_args = {**args.args, "_project": self.monitor.project_of(args.provider)}
        return answer(call_args, region)


def _random_password(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    return name, {"result": f"offline-{_digest(name, length=24)}", "bcryptHash": "offline"}


def _random_bytes(name: str, inputs: dict[str, Any], region: str) -> tuple[str, dict[str, Any]]:
    material = hashlib.sha256(name.encode()).digest()[: int(inputs.get("length", 32))]
    return name, {"base64": base64.b64encode(material).decode(), "hex": material.hex()}


_OUTPUTS: dict[str, OutputBuilder] = {
    **AWS_OUTPUTS,
    **GCP_OUTPUTS,
    "random:index/randomPassword:RandomPassword": _random_password,
    "random:index/randomBytes:RandomBytes": _random_bytes,
}
_CALLS: dict[str, CallAnswer] = {**AWS_CALLS, **GCP_CALLS}
