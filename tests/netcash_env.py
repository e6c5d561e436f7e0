"""A fake NetCash for tests of the payment-method functions, with this process's settings pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from isp_billing.providers import registry
from isp_billing.settings import reset_settings_cache
from isp_billing_cli.fakes import netcash as fake_netcash

WEBHOOK_SECRET = "test-netcash-webhook-secret-4f1d9a0c7e2b"


def running_fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[fake_netcash.FakeNetcash]:
    """Body of a `netcash` fixture: start the fake, point settings at it, undo everything afterwards."""
    fake = fake_netcash.start(not_ready_polls=0)
    monkeypatch.setenv("NETCASH_BASE_URL", f"{fake.url}/NIWS")
    monkeypatch.setenv("NETCASH_DEBIT_ORDER_SERVICE_KEY", fake_netcash.DEFAULT_DEBIT_ORDER_KEY)
    monkeypatch.setenv("NETCASH_ACCOUNT_SERVICE_KEY", fake_netcash.DEFAULT_ACCOUNT_KEY)
    monkeypatch.setenv("NETCASH_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setenv("NETCASH_TIMEOUT_SECONDS", "0.5")
    monkeypatch.setattr(registry, "REQUEST_POLL_INTERVAL_SECONDS", 0.01)
    reset_settings_cache()
    try:
        yield fake
    finally:
        fake.stop()
        monkeypatch.undo()
        reset_settings_cache()


def calls(fake: fake_netcash.FakeNetcash, method: str) -> list[fake_netcash.SoapCall]:
    return [call for call in fake.requests if call.method == method]


def fail_only(fake: fake_netcash.FakeNetcash, method: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Queued faults hit only calls of `method` (the fake otherwise fails whatever call comes next)."""
    take = fake.take_fault
    monkeypatch.setattr(fake, "take_fault", lambda: take() if fake.requests[-1].method == method else None)
