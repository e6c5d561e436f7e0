"""Powertools metrics of every finished job run (the template's alarms read them): per job, with dimensions
service and job, JobRuns, JobRunsCompleted (completed or partial), JobRunsFailed, JobRecordsProcessed,
JobRecordsFailed and JobDurationSeconds; and JobRunsFailed with the service dimension only, so one alarm
covers every job."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from isp_billing.observability import METRICS_NAMESPACE, SERVICE_NAME, metrics
from isp_billing.settings import get_settings


def record_run(row: dict[str, Any]) -> None:
    """Publish a finished run's metrics (its cron_execution_log row). `single_metric` writes its EMF line at
    once and ignores POWERTOOLS_METRICS_DISABLED, so the setting is checked here (the CLI prints JSON)."""
    if get_settings().powertools_metrics_disabled:
        return
    job = str(row["job_name"])
    status = str(row["status"])
    duration = row.get("duration_seconds")
    values: list[tuple[str, MetricUnit, float]] = [
        ("JobRuns", MetricUnit.Count, 1),
        ("JobRunsCompleted", MetricUnit.Count, 1 if status in ("completed", "partial") else 0),
        ("JobRunsFailed", MetricUnit.Count, 1 if status == "failed" else 0),
        ("JobRecordsProcessed", MetricUnit.Count, int(row.get("records_processed") or 0)),
        ("JobRecordsFailed", MetricUnit.Count, int(row.get("records_failed") or 0)),
    ]
    if duration is not None:
        values.append(("JobDurationSeconds", MetricUnit.Seconds, float(Decimal(duration))))
    for name, unit, value in values:
        with single_metric(
            name=name,
            unit=unit,
            value=value,
            namespace=METRICS_NAMESPACE,
            default_dimensions={"service": SERVICE_NAME, "job": job},
        ):
            pass
    if status == "failed":
        metrics.add_metric(name="JobRunsFailed", unit=MetricUnit.Count, value=1)
