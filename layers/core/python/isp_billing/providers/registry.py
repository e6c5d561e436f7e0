"""Provider clients built once per execution environment from settings (they cache tokens and connections).

A new client is built when the settings object changes (tests and the local runner re-read the environment).
"""

from __future__ import annotations

import threading

from isp_billing.providers.interstellio import InterstellioClient, interstellio_client_from_settings
from isp_billing.settings import Settings, get_settings

_lock = threading.Lock()
_interstellio: tuple[Settings, InterstellioClient] | None = None


def interstellio() -> InterstellioClient:
    """The environment's Interstellio client (a `SubscriberProvider`)."""
    global _interstellio
    settings = get_settings()
    with _lock:
        if _interstellio is None or _interstellio[0] is not settings:
            if _interstellio is not None:
                _interstellio[1].close()
            _interstellio = (settings, interstellio_client_from_settings(settings))
        return _interstellio[1]
