"""GET /api/admin/cron/jobs: every job of template.yaml, its schedule, last run, next due run, missed."""

from isp_billing.jobs import views as cron_views
from isp_billing.jobs.views_models import JobHealth
from isp_billing.web import CurrentAdmin, build_app, lambda_handler

app = build_app("Admin cron jobs")


@app.get(
    "/api/admin/cron/jobs",
    response_model=list[JobHealth],
    tags=["admin"],
    responses={403: {"description": "Not an admin"}},
)
async def list_cron_jobs(ctx: CurrentAdmin) -> list[JobHealth]:
    """Any admin. Schedules come from the generated isp_billing/jobs/schedules.py (template.yaml)."""
    return cron_views.jobs(ctx.conn)


handler = lambda_handler(app)
