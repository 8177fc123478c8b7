"""What the registry refresher tests share: the two clouds' expectations and plan lookups."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from ops.plan.mocks import ACCOUNT_ID
from ops.plan.runner import PlanDocument
from tests.components.gcp_plan import PROJECT

Registered = Callable[[str], PlanDocument]
JOB = "kubernetes:batch/v1:Job"
CRON_JOB = "kubernetes:batch/v1:CronJob"
REFRESHER = "registry-credentials"
GCP_PROJECT = PROJECT


@dataclass(frozen=True)
class Cloud:
    stack: str
    schedule: str
    annotation: str
    identity: str
    server: str
    user: str
    image_prefix: str


AWS = Cloud("prod", "0 */6 * * *", "eks.amazonaws.com/role-arn",
            f"arn:aws:iam::{ACCOUNT_ID}:role/gitpod-prod-gitpod-registry-credentials",
            f"{ACCOUNT_ID}.dkr.ecr.eu-west-1.amazonaws.com", "AWS", "public.ecr.aws/aws-cli/aws-cli:2.")
GCP = Cloud("prod-gcp", "*/30 * * * *", "iam.gke.io/gcp-service-account",
            f"gitpod-prod-gcp-registry-creds@{GCP_PROJECT}.iam.gserviceaccount.com",
            "europe-west1-docker.pkg.dev", "oauth2accesstoken", "gcr.io/google.com/cloudsdktool/google-cloud-cli:")
CLOUDS = pytest.mark.parametrize("cloud", [AWS, GCP], ids=["aws", "gcp"])


def refresher_objects(plan: PlanDocument, resource_type: str) -> list[dict[str, Any]]:
    return [r for r in plan.by_type(resource_type)
            if r["inputs"]["metadata"].get("labels", {}).get("app.kubernetes.io/name") == REFRESHER]


def one_of(plan: PlanDocument, resource_type: str) -> dict[str, Any]:
    (found,) = refresher_objects(plan, resource_type)
    return found


def pod_of(resource: dict[str, Any]) -> dict[str, Any]:
    spec = resource["inputs"]["spec"]
    return (spec["jobTemplate"]["spec"] if resource["type"] == CRON_JOB else spec)["template"]["spec"]


def secret_named(plan: PlanDocument, name: str) -> dict[str, Any]:
    (found,) = [r for r in plan.by_type("kubernetes:core/v1:Secret") if r["inputs"]["metadata"]["name"] == name]
    return found
