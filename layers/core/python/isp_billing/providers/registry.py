"""Provider clients built from settings, once per execution environment (they cache tokens and connections).

Services take providers as parameters (their Protocols); functions get the real ones here. A client is
rebuilt when the settings object changes (tests and the local runner re-read the environment).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from isp_billing.providers.interstellio import InterstellioClient, interstellio_client_from_settings
from isp_billing.providers.netcash import MandateProvider, netcash_client_from_settings
from isp_billing.providers.netcash_debit_orders import DebitOrderClient
from isp_billing.settings import Settings, get_settings

# Inside an API request NetCash's mandate file (usually 30-90 s to prepare) gets a few short polls only;
# when it is not ready the webhook answers 503 and NetCash delivers again.
REQUEST_POLL_ATTEMPTS = 3
REQUEST_POLL_INTERVAL_SECONDS = 2.0

Client = TypeVar("Client")

_lock = threading.Lock()
_clients: dict[str, tuple[Settings, Any]] = {}


def _cached(name: str, build: Callable[[Settings], Client]) -> Client:
    settings = get_settings()
    with _lock:
        cached = _clients.get(name)
        if cached is None or cached[0] is not settings:
            if cached is not None and hasattr(cached[1], "close"):
                cached[1].close()
            cached = _clients[name] = (settings, build(settings))
        return cached[1]  # type: ignore[no-any-return]


def interstellio() -> InterstellioClient:
    """The environment's Interstellio client (a `SubscriberProvider`)."""
    return _cached("interstellio", interstellio_client_from_settings)


def netcash_for_requests() -> MandateProvider:
    """The environment's NetCash client, with polling short enough for an API request."""
    return _cached(
        "netcash",
        lambda settings: netcash_client_from_settings(
            settings, poll_attempts=REQUEST_POLL_ATTEMPTS, poll_interval_seconds=REQUEST_POLL_INTERVAL_SECONDS
        ),
    )


# A job has minutes (Timeout 300 s): up to 12 polls 10 s apart cover NetCash's usual 30-90 s file preparation.
JOB_POLL_ATTEMPTS = 12
JOB_POLL_INTERVAL_SECONDS = 10.0


def netcash_for_jobs() -> MandateProvider:
    """The environment's NetCash client for scheduled jobs, which can wait for the mandate file."""
    return _cached(
        "netcash_jobs",
        lambda settings: netcash_client_from_settings(
            settings, poll_attempts=JOB_POLL_ATTEMPTS, poll_interval_seconds=JOB_POLL_INTERVAL_SECONDS
        ),
    )


def netcash_debit_orders() -> DebitOrderClient:
    """NetCash's debit-order batch and statement methods (a `DebitOrderProvider`), for jobs."""
    return _cached(
        "netcash_debit_orders",
        lambda settings: DebitOrderClient(
            netcash_client_from_settings(settings), settings.netcash_software_vendor_key
        ),
    )
