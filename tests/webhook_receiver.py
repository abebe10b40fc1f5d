"""A webhook receiver on 127.0.0.1 (thread HTTP server) that verifies every delivery with the
independent `standardwebhooks` package and records what arrived.

Each subscription posts to its own path (`/hook/<name>`); `secret(name, value)` tells the
receiver which secret verifies that path. `down()` closes the port (connections refused),
`up()` opens the same port again. `respond(name, *statuses)` scripts answers.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook


@dataclass(frozen=True)
class Received:
    name: str
    msg_id: str
    type: str
    data: dict[str, Any]
    signature: str
    at: float
    body: bytes = b""  # as sent, for a parser of the whole event
    headers: dict[str, str] = field(default_factory=dict)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    receiver: WebhookReceiver


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        status, extra_headers, answer = self.server.receiver.handle(self.path, dict(self.headers.items()), body)
        self.send_response(status)
        for key, value in extra_headers.items():
            self.send_header(key, value)
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


class WebhookReceiver:
    def __init__(self, *, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.secrets: dict[str, list[str]] = {}
        self.received: list[Received] = []
        self.rejected: list[str] = []
        self.scripts: dict[str, deque[tuple[int, dict[str, str]]]] = defaultdict(deque)
        self.lock = threading.Lock()
        self.port = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ control
    def up(self) -> WebhookReceiver:
        server = _Server(("127.0.0.1", self.port), _Handler)
        server.receiver = self
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/hook/{name}"

    def secret(self, name: str, *values: str) -> None:
        self.secrets[name] = list(values)

    def respond(self, name: str, *statuses: int | tuple[int, dict[str, str]]) -> None:
        for s in statuses:
            self.scripts[name].append(s if isinstance(s, tuple) else (s, {}))

    # ------------------------------------------------------------------ views
    def ids(self, name: str | None = None) -> list[str]:
        with self.lock:
            return [r.msg_id for r in self.received if name is None or r.name == name]

    def of(self, name: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.name == name]

    async def wait_for(self, predicate: Any, timeout_s: float = 20.0) -> None:
        """Wait without blocking the event loop (workers may run in it)."""
        deadline = time.monotonic() + timeout_s
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"receiver: condition not met in {timeout_s}s "
                                     f"({len(self.received)} received, {len(self.rejected)} rejected)")
            await asyncio.sleep(0.02)

    def duplicates(self) -> Counter[tuple[str, str]]:
        """(subscription name, webhook-id) pairs that arrived more than once."""
        with self.lock:
            counts = Counter((r.name, r.msg_id) for r in self.received)
        return Counter({k: v for k, v in counts.items() if v > 1})

    # ------------------------------------------------------------------ server side
    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        if self.delay_s:
            time.sleep(self.delay_s)
        name = path.rsplit("/", 1)[-1]
        lowered = {k.lower(): v for k, v in headers.items()}
        with self.lock:
            script = self.scripts[name].popleft() if self.scripts[name] else None
        if script is not None and script[0] >= 300:
            return script[0], script[1], b"scripted failure"
        secrets = self.secrets.get(name)
        if not secrets:
            with self.lock:
                self.rejected.append(f"{name}: no secret")
            return 401, {}, b"no secret"
        try:
            for secret in secrets:  # every configured secret must verify (rotation checks both)
                Webhook(secret).verify(body, lowered)
        except Exception as exc:
            with self.lock:
                self.rejected.append(f"{name}: {type(exc).__name__}: {exc}")
            return 401, {}, b"bad signature"
        envelope = json.loads(body)
        assert set(envelope) == {"type", "timestamp", "data"}, envelope
        with self.lock:
            self.received.append(Received(name, lowered["webhook-id"], envelope["type"], envelope["data"],
                                          lowered["webhook-signature"], time.time(), body, lowered))
        return 204 if script is None else script[0], {} if script is None else script[1], b""
