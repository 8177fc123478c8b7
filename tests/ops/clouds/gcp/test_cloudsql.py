"""A Cloud SQL instance's point-in-time window, which the Admin API does not report: derived from the binary-log
setting, its retention and the successful backup runs (ops.clouds.gcp.cloudsql)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from ops.backup.pitr_window import PitrWindowError
from ops.clouds.gcp.api import GoogleApi
from ops.clouds.gcp.cloudsql import cloudsql_pitr_window, read_cloudsql_pitr_window
from tests.ops.support.gcp import (
    GCP_INSTANCE,
)
from tests.ops.support.google_double import GoogleApiDouble
from tests.ops.support.values import GCP_PROJECT, START


def test_the_window_runs_from_the_oldest_backup_or_the_log_retention_to_now():
    instance = {"settings": {"backupConfiguration": {"binaryLogEnabled": True, "transactionLogRetentionDays": 7}}}
    runs = [{"status": "SUCCESSFUL", "endTime": "2025-03-13T02:10:00Z"},
            {"status": "FAILED", "startTime": "2025-03-01T02:00:00Z"},
            {"status": "SUCCESSFUL", "startTime": "2025-03-01T02:00:00Z"}]

    window = cloudsql_pitr_window(GCP_INSTANCE, instance, runs, START)

    # The 1 March backup is older than the 7 days of binary log kept after it: the log bounds the window.
    assert window.earliest == START - timedelta(days=7)
    assert window.latest == START
    assert cloudsql_pitr_window(GCP_INSTANCE, instance, runs[:1], START).earliest == datetime(2025, 3, 13, 2, 10,
                                                                                            tzinfo=UTC)
    # No backup yet: only the current state can be cloned.
    only_now = cloudsql_pitr_window(GCP_INSTANCE, instance, [], START)
    assert (only_now.earliest, only_now.latest) == (START, START)
    with pytest.raises(PitrWindowError, match="is older than the point-in-time recovery window"):
        only_now.restore_time(START - timedelta(minutes=1))
    off = {"settings": {"backupConfiguration": {"binaryLogEnabled": False}}}
    assert not cloudsql_pitr_window(GCP_INSTANCE, off, runs, START).enabled


def test_a_missing_instance_has_no_window(google_api: GoogleApiDouble):
    api = GoogleApi(requests.Session(), google_api.url, timeout_seconds=5)
    with pytest.raises(PitrWindowError, match=f"Cloud SQL instance '{GCP_INSTANCE}' not found"):
        read_cloudsql_pitr_window(api, GCP_PROJECT, GCP_INSTANCE, START)
