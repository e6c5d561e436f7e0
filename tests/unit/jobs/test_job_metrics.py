"""Every finished job run publishes its Powertools metrics (EMF), which the template's alarms read."""

from __future__ import annotations

import json

from isp_billing.jobs import metrics as job_metrics
from isp_billing.observability import metrics
from tests.environment import settings_environment


def _emf_blobs(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{") and "_aws" in line]


def test_a_completed_run_publishes_runs_completed_records_and_duration_per_job(capsys):
    # Given metrics enabled (settings read afresh: they are cached per process) / When a completed billing
    # run is recorded
    row = {
        "job_name": "generate-invoices",
        "status": "completed",
        "records_processed": 7,
        "records_failed": 0,
        "duration_seconds": "1.5",
    }
    with settings_environment({"POWERTOOLS_METRICS_DISABLED": "false"}):
        job_metrics.record_run(row)
    # Then one EMF blob per metric, each with the job dimension
    blobs = _emf_blobs(capsys.readouterr().out)
    published = {blob["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"]: blob for blob in blobs}
    assert published["JobRunsCompleted"]["JobRunsCompleted"] == [1.0]
    assert published["JobRecordsProcessed"]["JobRecordsProcessed"] == [7.0]
    assert published["JobDurationSeconds"]["JobDurationSeconds"] == [1.5]
    assert published["JobRunsFailed"]["JobRunsFailed"] == [0.0]
    assert all(blob["job"] == "generate-invoices" and blob["service"] == "isp-billing" for blob in blobs)


def test_a_failed_run_also_counts_in_the_all_jobs_failure_metric(capsys):
    with settings_environment({"POWERTOOLS_METRICS_DISABLED": "false"}):
        job_metrics.record_run({"job_name": "sync-usage-data", "status": "failed"})
    blobs = _emf_blobs(capsys.readouterr().out)
    per_job = [b for b in blobs if b["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"] == "JobRunsFailed"]
    assert per_job[0]["JobRunsFailed"] == [1.0]
    # the service-wide one waits in the shared Metrics object for the handler's flush
    assert metrics.metric_set.get("JobRunsFailed") is not None
    metrics.clear_metrics()


def test_nothing_is_printed_when_metrics_are_disabled(capsys):
    # Given POWERTOOLS_METRICS_DISABLED (tests, the CLI printing JSON) / Then a run publishes nothing
    with settings_environment({"POWERTOOLS_METRICS_DISABLED": "true"}):
        job_metrics.record_run({"job_name": "generate-invoices", "status": "completed"})
    assert _emf_blobs(capsys.readouterr().out) == []
