"""Drive the pack the way the Pulumi CLI does: gRPC Analyze/AnalyzeStack requests into pulumi_policy's servicer.

The servicer deserializes protobuf Structs (every number becomes a float), wraps properties in unknown-checking
proxies and builds the real ResourceValidationArgs / StackValidationArgs, so the rules run exactly as under
`pulumi preview --policy-pack policies`, minus the engine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pulumi.runtime import proto
from pulumi_policy.policy import _PolicyAnalyzerServicer

from policies.core.rule import Level, Rule
from policies.core.sdk import policy_pack_arguments
from policies.offline import provider_urn

_LEVELS = {Level.ADVISORY: proto.ADVISORY, Level.MANDATORY: proto.MANDATORY, Level.DISABLED: proto.DISABLED,
           Level.REMEDIATE: proto.REMEDIATE}


def servicer(rules: Sequence[Rule], config: Mapping[str, Mapping[str, Any]] | None = None) -> Any:
    arguments = policy_pack_arguments(rules)
    analyzer = _PolicyAnalyzerServicer(arguments["name"], "0.1.0", arguments["policies"],
                                       arguments["enforcement_level"])
    request = proto.ConfigureAnalyzerRequest()
    for rule in rules:
        entry = request.policyConfig[rule.name]
        entry.enforcementLevel = _LEVELS[rule.level]
        if config and rule.name in config:
            entry.properties.update(dict(config[rule.name]))
    analyzer.Configure(request, None)
    return analyzer


def _options(record: Mapping[str, Any]) -> Any:
    options = record.get("options") or {}
    return proto.AnalyzerResourceOptions(protect=bool(options.get("protect")),
                                         ignoreChanges=list(options.get("ignoreChanges") or []),
                                         parent=record.get("parent") or "")


def _provider(record: Mapping[str, Any], by_urn: Mapping[str, Mapping[str, Any]]) -> Any | None:
    target = by_urn.get(provider_urn(record.get("provider"), by_urn) or "")
    if target is None:
        return None
    message = proto.AnalyzerProviderResource(type=target["type"], urn=target["urn"], name=target["name"])
    message.properties.update(dict(target.get("inputs") or {}))
    return message


def _diagnostics(response: Any, default_urn: str | None) -> list[tuple[str, str | None, str]]:
    found = []
    for diagnostic in response.diagnostics:
        _, _, message = diagnostic.message.partition("\n")
        found.append((diagnostic.policyName, diagnostic.urn or default_urn, message))
    return found


def analyze(records: Iterable[Mapping[str, Any]], rules: Sequence[Rule],
            config: Mapping[str, Mapping[str, Any]] | None = None) -> list[tuple[str, str | None, str]]:
    """(policy, urn, message) for every violation, resource policies first, then stack policies, sorted."""
    records = list(records)
    by_urn = {record["urn"]: record for record in records}
    analyzer = servicer(rules, config)
    found: list[tuple[str, str | None, str]] = []
    stack = proto.AnalyzeStackRequest()
    for record in records:
        request = proto.AnalyzeRequest(type=record["type"], urn=record["urn"], name=record["name"],
                                       options=_options(record))
        request.properties.update(dict(record.get("inputs") or {}))
        provider = _provider(record, by_urn)
        if provider is not None:
            request.provider.CopyFrom(provider)
        found.extend(_diagnostics(analyzer.Analyze(request, None), record["urn"]))

        resource = stack.resources.add(type=record["type"], urn=record["urn"], name=record["name"],
                                       options=_options(record), parent=record.get("parent") or "",
                                       dependencies=list(record.get("dependencies") or []))
        resource.properties.update(dict(record.get("inputs") or {}))
        if provider is not None:
            resource.provider.CopyFrom(provider)
    found.extend(_diagnostics(analyzer.AnalyzeStack(stack, None), None))
    return sorted(found, key=lambda v: (v[0], v[1] or "", v[2]))
