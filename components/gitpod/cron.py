"""The CronJob shape every periodic job of the cell shares (the registry-token refresher, the maintenance keeper)."""

from __future__ import annotations

from collections.abc import Mapping

from pulumi_kubernetes.batch import v1 as batch
from pulumi_kubernetes.meta import v1 as meta


def cron_job_spec(schedule: str, starting_deadline_seconds: int, labels: Mapping[str, str],
                  job: batch.JobSpecArgs) -> batch.CronJobSpecArgs:
    """One run at a time (a late run never overlaps the one still going), on UTC, a run that cannot start within
    the deadline skipped for the next, and the last success and three failures kept for `kubectl logs`."""
    return batch.CronJobSpecArgs(
        schedule=schedule,
        time_zone="Etc/UTC",
        concurrency_policy="Forbid",
        starting_deadline_seconds=starting_deadline_seconds,
        successful_jobs_history_limit=1,
        failed_jobs_history_limit=3,
        job_template=batch.JobTemplateSpecArgs(metadata=meta.ObjectMetaArgs(labels=dict(labels)), spec=job),
    )
