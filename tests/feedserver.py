"""A real HTTP/1.1 server on 127.0.0.1 for tests, running in a background thread.

    server = FeedServer().start()
    server.route("/feed", body=b"<rss/>", headers={"ETag": '"v1"'})
    server.route("/slow", body=b"x", delay=2.0)
    server.route("/dyn", handler=lambda req: Reply(304) if req.headers.get("If-None-Match") else Reply(200))
    server.url("/feed") -> "http://127.0.0.1:<port>/feed"
    server.requests -> [Recorded(method, path, headers), ...]

Unknown paths answer 404. `max_concurrent[path]` records the most requests served at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]  # lower-case keys


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering
    chunked: bool = False  # send with Transfer-Encoding: chunked and no Content-Length
    chunk_size: int = 64 * 1024


Handler = Callable[[Recorded], Reply]


class FeedServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self._routes: dict[str, Handler] = {}
        self._lock = threading.Lock()
        self.requests: list[Recorded] = []
        self.in_flight: dict[str, int] = {}
        self.max_concurrent: dict[str, int] = {}
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- routes
    def route(self, path: str, status: int = 200, body: bytes | str = b"", headers: dict[str, str] | None = None,
              *, delay: float = 0.0, chunked: bool = False, handler: Handler | None = None) -> None:
        if handler is None:
            data = body.encode() if isinstance(body, str) else body
            reply = Reply(status, data, dict(headers or {}), delay, chunked)

            def handler(_req: Recorded, reply: Reply = reply) -> Reply:
                return reply

        self._routes[path] = handler

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    def requests_to(self, path: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    # -- lifecycle
    def start(self) -> FeedServer:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                server._serve(self)

            def do_HEAD(self) -> None:
                server._serve(self)

        self._httpd = ThreadingHTTPServer((self.host, 0), _Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="feed-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- serving
    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path
        rec = Recorded(h.command, path, {k.lower(): v for k, v in h.headers.items()})
        with self._lock:
            self.requests.append(rec)
            self.in_flight[path] = self.in_flight.get(path, 0) + 1
            self.max_concurrent[path] = max(self.max_concurrent.get(path, 0), self.in_flight[path])
        try:
            handler = self._routes.get(path) or self._routes.get(path.split("?", 1)[0])
            reply = handler(rec) if handler else Reply(404, b"not found")
            if reply.delay:
                time.sleep(reply.delay)
            try:
                self._write(h, reply)
            except (BrokenPipeError, ConnectionResetError):
                h.close_connection = True
        finally:
            with self._lock:
                self.in_flight[path] -= 1

    @staticmethod
    def _write(h: BaseHTTPRequestHandler, reply: Reply) -> None:
        h.send_response(reply.status)
        lower = {k.lower() for k in reply.headers}
        for k, v in reply.headers.items():
            h.send_header(k, v)
        no_body = reply.status in (204, 304) or reply.status < 200
        if reply.chunked and not no_body:
            h.send_header("Transfer-Encoding", "chunked")
            h.end_headers()
            if h.command != "HEAD":
                for i in range(0, len(reply.body), reply.chunk_size):
                    part = reply.body[i : i + reply.chunk_size]
                    h.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                h.wfile.write(b"0\r\n\r\n")
            return
        if "content-length" not in lower and not no_body:
            h.send_header("Content-Length", str(len(reply.body)))
        h.end_headers()
        if h.command != "HEAD" and not no_body:
            h.wfile.write(reply.body)


SEEDS = Path(__file__).resolve().parents[1] / "seeds"


def serve_seed_site(feeds: FeedServer) -> str:
    """The seed feed and its article pages on `feeds`, their links pointing at it; the feed's URL."""
    site = feeds.url("").rstrip("/")
    feeds.route("/feed.xml", body=(SEEDS / "team-feed.xml").read_text().replace("http://harbour.example", site),
                headers={"Content-Type": "application/rss+xml"})
    for page in (SEEDS / "articles").glob("*.html"):
        feeds.route(f"/articles/{page.name}", body=page.read_text().replace("http://harbour.example", site),
                    headers={"Content-Type": "text/html"})
    return feeds.url("/feed.xml")
