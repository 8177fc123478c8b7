"""IAM policy documents as JSON strings, built from plain statements (Outputs resolved by the caller)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

Statement = Mapping[str, Any]


def document(statements: Sequence[Statement]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)


def allow(actions: Sequence[str], resources: Sequence[str], condition: Mapping[str, Any] | None = None) -> Statement:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": list(actions), "Resource": list(resources)}
    if condition:
        statement["Condition"] = dict(condition)
    return statement


def service_trust(service: str, source_account: str | None = None) -> str:
    """A trust policy letting one AWS service assume the role; with `source_account`, only on behalf of resources
    of that account (the service cannot be made a confused deputy for someone else's resources)."""
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if source_account is not None:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": source_account}}
    return document([statement])


def service_account_trust(oidc_provider_arn: str, oidc_issuer_url: str, namespace: str, service_account: str) -> str:
    """IRSA: only this one Kubernetes service account of this cluster may assume the role."""
    issuer = oidc_issuer_url.removeprefix("https://")
    return document(
        [
            {
                "Effect": "Allow",
                "Principal": {"Federated": oidc_provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{issuer}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                        f"{issuer}:aud": "sts.amazonaws.com",
                    }
                },
            }
        ]
    )
