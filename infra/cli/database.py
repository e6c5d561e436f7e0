"""Which PostgreSQL the local tools use: DATABASE_URL when set, else an embedded server in a data folder."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

EMBEDDED_DIR_NAME = "postgres"


def data_dir() -> Path:
    return Path(os.environ.get("ISP_BILLING_DATA_DIR", ".isp-billing")).resolve()


def ensure_database_url() -> str:
    """Start (or reuse) the embedded server when DATABASE_URL is unset, and export its URL for handlers."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    folder = data_dir() / EMBEDDED_DIR_NAME
    folder.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI): harmless for a local server.
        warnings.simplefilter("ignore")
        import pgserver  # local-only dependency: never part of the Lambda layer

        # "stop": the server stops when the last command using it exits (nothing left running after
        # Ctrl-C); the data folder is kept and the next start reuses it.
        server = pgserver.get_server(folder, cleanup_mode="stop")
    url = server.get_uri()
    os.environ["DATABASE_URL"] = url
    return url
