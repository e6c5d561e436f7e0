"""Local fake provider servers (NetCash, Interstellio) for tests and `serve --demo`.

Each fake is a stdlib ThreadingHTTPServer on a daemon thread, bound to 127.0.0.1 on a free port by default:

    from isp_billing_cli.fakes import netcash
    fake = netcash.start()
    ...  # point the client at fake.url
    fake.stop()

Common test hooks (this module): `requests` (every call received, in order), `fail_next(kind, ...)` (a queue
of one-shot faults), `reset_faults()`. Provider-specific hooks live in the provider modules.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

DEFAULT_TIMEOUT_FAULT_SECONDS = 1.0


@dataclass
class Fault:
    kind: str
    options: dict[str, Any] = field(default_factory=dict)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], fake: FakeServer
    ) -> None:
        self.fake = fake
        super().__init__(address, handler)


class FakeServer:
    """Lifecycle, request log and fault queue shared by the fakes."""

    fault_kinds: frozenset[str] = frozenset()
    handler_class: type[FakeRequestHandler]

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = _Server((host, port), self.handler_class, self)
        # A short poll interval keeps stop() (and so every test teardown) fast.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=type(self).__name__,
            daemon=True,
        )
        self._lock = threading.RLock()
        self._faults: deque[Fault] = deque()
        self._stopping = threading.Event()
        self.requests: list[Any] = []

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def fail_next(self, kind: str, *, times: int = 1, **options: Any) -> None:
        """Make the next `times` requests fail with `kind` (see the provider module for kinds and options)."""
        if kind not in self.fault_kinds:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(self.fault_kinds)}")
        with self._lock:
            for _ in range(times):
                self._faults.append(Fault(kind, dict(options)))

    def reset_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def take_fault(self) -> Fault | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def record(self, entry: Any) -> None:
        with self._lock:
            self.requests.append(entry)

    def wait_out_client(self, fault: Fault) -> None:
        """The `timeout` fault: hold the request longer than the client waits (stop() cuts it short)."""
        self._stopping.wait(float(fault.options.get("seconds", DEFAULT_TIMEOUT_FAULT_SECONDS)))


class FakeRequestHandler(BaseHTTPRequestHandler):
    server: _Server

    @property
    def fake(self) -> Any:
        return self.server.fake

    def log_message(self, format: str, *args: Any) -> None:
        # Silence: request lines are noise in test output, and bodies are never printed.
        return

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up first (the timeout fault); nothing to do.
            pass
