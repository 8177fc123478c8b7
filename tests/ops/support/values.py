"""Constants and small helpers the ops/ tests share: the test region and project, a fake clock, TLS material, an RDS
instance on moto, a kubeconfig file."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

AWS_REGION = "eu-west-1"
GCP_PROJECT = "acme-gitpod-test"
# The registry repositories of stack "prod", by the convention (contract.naming.registry_repositories).
PROD_REPOSITORIES = ("gitpod-prod/base-images", "gitpod-prod/workspace-images")
START = dt.datetime(2025, 3, 14, 9, 26, 53, tzinfo=dt.UTC)
# Three rollouts before START, each a Gitpod upgrade with its config backup: a restore before the last one must not
# install its version.
T1 = START - dt.timedelta(days=3)
T2 = START - dt.timedelta(days=2)
T3 = START - dt.timedelta(days=1)
BACKUPS = ((T1, "2024.10.0", "aaa111"), (T2, "2024.11.0", "bbb222"), (T3, "2024.12.1", "ccc333"))


def create_rds_instance(rds: Any, identifier: str, backup_retention_days: int) -> None:
    rds.create_db_instance(
        DBInstanceIdentifier=identifier,
        Engine="mysql",
        EngineVersion="8.0.40",
        DBInstanceClass="db.t4g.medium",
        AllocatedStorage=20,
        MasterUsername="gitpod",
        MasterUserPassword="not-a-secret-123",
        BackupRetentionPeriod=backup_retention_days,
    )


@dataclass
class FakeClock:
    """Wall clock, monotonic clock and sleep in one: sleeping advances both, instantly."""

    start: dt.datetime = START
    elapsed: float = 0.0
    sleeps: list[float] = field(default_factory=list)
    on_sleep: list[Callable[[FakeClock], None]] = field(default_factory=list)

    def now(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=self.elapsed)

    def monotonic(self) -> float:
        return self.elapsed

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.elapsed += seconds
        for callback in self.on_sleep:
            callback(self)

    def advance(self, seconds: float) -> None:
        self.elapsed += seconds


def write_kubeconfig(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document))
    return path
