"""`serve --demo` runs against local fake providers, never the real NetCash or Interstellio."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import psycopg

from isp_billing.clock import sast_today
from isp_billing_cli.fakes import interstellio as fake_interstellio
from isp_billing_cli.fakes import netcash as fake_netcash

# Local only: the secret in the fake's postback URL, as NetCash's would be configured in production.
DEMO_NETCASH_WEBHOOK_SECRET = "local-demo-netcash-webhook-secret-0f3b7c9e1a5d"  # noqa: S105
# The usage webhooks' secrets, so the demo's webhooks answer an unsigned call 401 as a deployment does.
DEMO_USAGE_WEBHOOK_SECRET = "local-demo-usage-webhook-secret-7d2e9a4c6b1f"  # noqa: S105
DEMO_INTERSTELLIO_WEBHOOK_TOKEN = "local-demo-interstellio-webhook-token-3c8f1e6a"  # noqa: S105


@dataclass
class DemoProviders:
    netcash: fake_netcash.FakeNetcash
    interstellio: fake_interstellio.FakeInterstellio

    def stop(self) -> None:
        self.netcash.stop()
        self.interstellio.stop()


def start_demo_providers(api_base_url: str) -> DemoProviders:
    """Start both fakes, point this process's settings at them, and give the demo services subscribers."""
    netcash = fake_netcash.start(
        postback_url=f"{api_base_url}/api/webhooks/netcash/mandate?token={DEMO_NETCASH_WEBHOOK_SECRET}"
    )
    netcash.debit_orders.auto_settle = True  # the demo's debit orders are paid on their action date
    interstellio = fake_interstellio.start()
    os.environ.update(
        DEBIT_ORDER_REPORT_POLL_SECONDS="1",
        NETCASH_BASE_URL=f"{netcash.url}/NIWS",
        NETCASH_DEBIT_ORDER_SERVICE_KEY=fake_netcash.DEFAULT_DEBIT_ORDER_KEY,
        NETCASH_ACCOUNT_SERVICE_KEY=fake_netcash.DEFAULT_ACCOUNT_KEY,
        NETCASH_WEBHOOK_SECRET=DEMO_NETCASH_WEBHOOK_SECRET,
        USAGE_WEBHOOK_SECRET=DEMO_USAGE_WEBHOOK_SECRET,
        INTERSTELLIO_WEBHOOK_TOKEN=DEMO_INTERSTELLIO_WEBHOOK_TOKEN,
        INTERSTELLIO_BASE_URL=interstellio.url,
        INTERSTELLIO_TELEMETRY_URL=interstellio.url,
        INTERSTELLIO_DOMAIN=fake_interstellio.DEFAULT_DOMAIN,
        INTERSTELLIO_USERNAME=fake_interstellio.DEFAULT_USERNAME,
        INTERSTELLIO_PASSWORD=fake_interstellio.DEFAULT_PASSWORD,
        # the virtual server new lines are created on (activation provisions the subscriber at the fake)
        INTERSTELLIO_VIRTUAL_ID="demo-virtual-server",
    )
    today = sast_today()
    for subscriber_id, enabled in _subscriber_lines(os.environ["DATABASE_URL"]):
        interstellio.add_subscriber(subscriber_id, subscriber_id, enabled=enabled)
        # Usage for the last 40 SAST days, today included: more than any billing period, so a sync over the
        # current period (POST /api/cron/sync-usage-data with a range) fills the demo customer's whole period.
        for back in range(0, 40):
            interstellio.set_daily_usage(
                subscriber_id,
                today - timedelta(days=back),
                download_kb=2_000_000 + back * 1000,
                upload_kb=300_000 + back * 100,
            )
    return DemoProviders(netcash, interstellio)


def _subscriber_lines(database_url: str) -> list[tuple[str, bool]]:
    """Every service's line as the database last left it, so a reused data folder starts consistent."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "select interstellio_subscriber_id, status = 'active' from customer_services"
            " where interstellio_subscriber_id is not null order by interstellio_subscriber_id"
        ).fetchall()
    return [(subscriber_id, bool(enabled)) for subscriber_id, enabled in rows]
