"""Provider clients built from settings, once per execution environment (rebuilt when the settings change).

Services take providers as parameters (their Protocols); functions get the real ones here.
"""

from __future__ import annotations

import threading

from isp_billing.providers.netcash import MandateProvider, netcash_client_from_settings
from isp_billing.settings import Settings, get_settings

# Inside an API request NetCash's mandate file (usually 30-90 s to prepare) gets a few short polls only;
# when it is not ready the webhook answers 503 and NetCash delivers again.
REQUEST_POLL_ATTEMPTS = 3
REQUEST_POLL_INTERVAL_SECONDS = 2.0

_lock = threading.Lock()
_netcash: tuple[Settings, MandateProvider] | None = None


def netcash_for_requests() -> MandateProvider:
    global _netcash
    settings = get_settings()
    with _lock:
        if _netcash is None or _netcash[0] is not settings:
            close = getattr(_netcash[1], "close", None) if _netcash is not None else None
            if close is not None:
                close()
            client = netcash_client_from_settings(
                settings,
                poll_attempts=REQUEST_POLL_ATTEMPTS,
                poll_interval_seconds=REQUEST_POLL_INTERVAL_SECONDS,
            )
            _netcash = (settings, client)
        return _netcash[1]
