"""GET /api/admin/cron/logs: job runs newest first; a fan-out parent shows its chunks."""

from typing import Annotated

from fastapi import Query

from isp_billing.api_models import IsoDate
from isp_billing.jobs import views as cron_views
from isp_billing.jobs.views_models import JobRunWithChunks, RunStatus
from isp_billing.pagination import DEFAULT_PAGE_SIZE, Cursor, Page, PageSize
from isp_billing.text import FilterText
from isp_billing.web import CurrentAdmin, build_app, lambda_handler

app = build_app("Admin cron logs")


@app.get(
    "/api/admin/cron/logs",
    response_model=Page[JobRunWithChunks],
    tags=["admin"],
    responses={403: {"description": "Not an admin"}},
)
async def list_cron_logs(
    ctx: CurrentAdmin,
    job: Annotated[FilterText | None, Query(description="Only this job, e.g. generate-invoices.")] = None,
    status: Annotated[RunStatus | None, Query(description="Only runs with this status.")] = None,
    since: Annotated[IsoDate | None, Query(description="Runs started on or after this SAST date.")] = None,
    until: Annotated[IsoDate | None, Query(description="Runs started on or before this SAST date.")] = None,
    limit: PageSize = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> Page[JobRunWithChunks]:
    """Any admin. Duration, counts, error, trigger and who triggered; keyset paginated."""
    return cron_views.list_runs(
        ctx.conn, job_name=job, status=status, since=since, until=until, cursor=cursor, limit=limit
    )


handler = lambda_handler(app)
