"""`isp-billing serve --demo` started as a user starts it: a subprocess on a data folder, reached over HTTP.

Shared by the e2e tests and the start-up benchmark. It reads what the server prints (tokens, the cron
secret, the fake providers' URLs), keeps draining its output so a full pipe never blocks it, and waits
until the API answers.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

CLI = str(Path(sys.executable).parent / "isp-billing")
# The server must configure itself as a new user's would: nothing of the test process's own setup leaks in.
_NOT_INHERITED = ("DATABASE_URL", "JWT_SECRET", "STAGE", "CRON_SECRET")
_NOT_INHERITED_PREFIXES = ("NETCASH", "INTERSTELLIO")
_FAKE_URL = re.compile(r"fake NetCash on (\S+), fake Interstellio on (\S+)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class DemoServer:
    def __init__(self, data_dir: str, extra_args: tuple[str, ...] = ()) -> None:
        self.port = _free_port()
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in _NOT_INHERITED and not key.startswith(_NOT_INHERITED_PREFIXES)
        }
        env["ISP_BILLING_DATA_DIR"] = data_dir
        self.data_dir = Path(data_dir)
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [CLI, "serve", "--demo", "--port", str(self.port), *extra_args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.values: dict[str, str] = {}
        assert self.process.stdout is not None
        for line in self.process.stdout:
            urls = _FAKE_URL.search(line)
            if urls:
                self.values["NETCASH_URL"], self.values["INTERSTELLIO_URL"] = urls.groups()
            key, sep, value = line.strip().partition("=")
            if sep and key.endswith(("_TOKEN", "_SECRET")):
                self.values[key] = value
            if line.startswith("ready in"):
                break
        else:
            raise AssertionError(f"serve exited with {self.process.wait()}")
        threading.Thread(target=lambda: [None for _ in self.process.stdout or []], daemon=True).start()
        self.base = f"http://127.0.0.1:{self.port}"

    def first_response_seconds(self) -> float:
        """Seconds from the start of the process to the first answered customer request."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                self.get("/api/customer/services", self.values["CUSTOMER_TOKEN"])
                return time.perf_counter() - self.started
            except httpx.ConnectError:
                time.sleep(0.02)
        raise AssertionError("the server never answered")

    def get(self, path: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
        return httpx.get(self.base + path, headers=_auth(token), timeout=30, **kwargs)

    def post(self, path: str, token: str | None = None, body: Any = None, **kwargs: Any) -> httpx.Response:
        return httpx.post(self.base + path, json=body, headers=_auth(token), timeout=30, **kwargs)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(20)


def _auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


@contextmanager
def demo_server(prefix: str, extra_args: tuple[str, ...] = ()) -> Iterator[DemoServer]:
    """A server on a fresh data folder, answering; stopped and its folder removed afterwards."""
    folder = tempfile.mkdtemp(prefix=prefix)
    server = DemoServer(folder, extra_args)
    try:
        server.first_response_seconds()
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
