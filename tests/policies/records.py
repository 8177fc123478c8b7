"""Plan records (docs/architecture.md's offline-plan schema) for policy tests, built small and explicit."""

from __future__ import annotations

from typing import Any

STACK_URN = "urn:pulumi:test::gitpod-cell"


def urn(resource_type: str, name: str) -> str:
    return f"{STACK_URN}::{resource_type}::{name}"


def resource(
    resource_type: str,
    name: str,
    inputs: dict[str, Any] | None = None,
    *,
    provider: dict[str, Any] | None = None,
    protect: bool = False,
    retain_on_delete: bool = False,
    hooks: dict[str, list[str]] | None = None,
    dependencies: list[dict[str, Any]] | None = None,
    parent: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "urn": urn(resource_type, name),
        "type": resource_type,
        "name": name,
        "parent": parent["urn"] if parent else None,
        "provider": provider_ref(provider) if provider else None,
        "custom": True,
        "inputs": inputs or {},
        "options": {
            "protect": protect,
            "retainOnDelete": retain_on_delete,
            "dependsOn": [],
            "ignoreChanges": [],
            "customTimeouts": None,
            "hooks": hooks or {},
        },
        "dependencies": [dependency["urn"] for dependency in dependencies or []],
    }


def provider(name: str, package: str = "aws", **inputs: Any) -> dict[str, Any]:
    return resource(f"pulumi:providers:{package}", name, inputs)


def provider_ref(provider_record: dict[str, Any]) -> str:
    return f"{provider_record['urn']}::04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def aws_tags(environment: str = "prod", cell: str = "test") -> dict[str, str]:
    return {"Environment": environment, "Cell": cell, "ManagedBy": "pulumi"}


def gcp_labels(environment: str = "prod", cell: str = "test") -> dict[str, str]:
    return {"environment": environment, "cell": cell, "managed-by": "pulumi"}
