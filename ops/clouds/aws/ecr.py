"""Preflight's registry check on AWS: an ECR authorization token can be obtained, and every Gitpod repository
exists (a boto3 `ecr` client, injected)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ops.common.check_result import CheckResult, failed, passed


@dataclass(frozen=True)
class EcrRegistry:
    ecr: Any

    def check(self, repositories: Sequence[str]) -> list[CheckResult]:
        from botocore.exceptions import BotoCoreError, ClientError

        results = []
        try:
            data = self.ecr.get_authorization_token().get("authorizationData") or []
            if data and data[0].get("authorizationToken"):
                results.append(passed("registry credentials", f"ECR token for {data[0].get('proxyEndpoint', 'ECR')}"))
            else:
                results.append(failed("registry credentials", "ECR returned no authorization token"))
        except (ClientError, BotoCoreError) as error:
            results.append(failed("registry credentials", f"cannot get an ECR authorization token: {error}"))
        found: set[str] = set()
        try:
            paginator = self.ecr.get_paginator("describe_repositories")
            for page in paginator.paginate():
                found.update(str(repo["repositoryName"]) for repo in page.get("repositories") or [])
        except (ClientError, BotoCoreError) as error:
            results.append(failed("registry repositories", f"cannot list ECR repositories: {error}"))
            return results
        missing = [name for name in repositories if name not in found]
        if missing:
            results.append(failed("registry repositories", f"missing: {', '.join(missing)}"))
        else:
            results.append(passed("registry repositories", f"reachable: {', '.join(repositories)}"))
        return results
