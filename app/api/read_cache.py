"""Conditional GET and a per-process response cache for the read endpoints (an ASGI middleware).

A read's answer depends only on the database, the request's path and query, and (for access) its
key's scope. The database's write generation (app/storage/generation.py) changes with every
commit that may change the data, so (generation, path, query, scope) names one answer:

* its hash is the response's strong `ETag`; a request whose `If-None-Match` holds the current one
  is answered 304 without running the query (RFC 9110, 13.1.2 and 15.4.5);
* the response is kept under that key in a bounded LRU cache, and a request with the same key is
  served from it without FastAPI's routing, dependencies or the database.

The generation is read before the query runs, and a query's snapshot is never older than what
was committed before it started: a response stored under a generation is at least as new as that
generation, and a request asks for the generation again each time, so once any commit is visible
to this process no response stored before it is served again. Only 200 answers are stored and
tagged; errors, other methods and other paths go to the app untouched. The key is checked as the
app checks it (the same per-process key cache), so a revoked key stops being served from the cache
when it stops being served at all.

The cache lives in one process; the ETags of PostgreSQL are valid in every process (the snapshot is
the cluster's), those of SQLite only in the process that made them (a connection's counter).
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import __version__
from app.runtime import Runtime

# The read endpoints whose answer is a function of the database alone (a feed's detail is not: it
# reports the process's WebSub settings).
CACHED_PATHS = re.compile(r"/v1/(?:articles(?:/\d+(?:/quotes)?)?|quotes|speakers(?:/\d+(?:/quotes)?)?|feeds)")


class _Entry:
    __slots__ = ("headers", "body", "route", "size")

    def __init__(self, headers: list[tuple[bytes, bytes]], body: bytes, route: Any) -> None:
        self.headers, self.body, self.route = headers, body, route
        self.size = len(body) + sum(len(k) + len(v) for k, v in headers) + 200  # + the entry's own


class ResponseCache:
    """At most `max_bytes` of responses, least recently used dropped first, all dropped when the
    generation changes (they can never be served again)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._bytes = 0
        self._generation = ""

    def get(self, generation: str, tag: str) -> _Entry | None:
        if generation != self._generation:
            self._entries.clear()
            self._bytes = 0
            self._generation = generation
            return None
        entry = self._entries.get(tag)
        if entry is not None:
            self._entries.move_to_end(tag)
        return entry

    def put(self, generation: str, tag: str, entry: _Entry) -> None:
        if generation != self._generation or entry.size > self.max_bytes // 4:
            return  # a newer generation was seen meanwhile: this one's answers are already old
        old = self._entries.pop(tag, None)
        if old is not None:
            self._bytes -= old.size
        self._entries[tag] = entry
        self._bytes += entry.size
        while self._bytes > self.max_bytes:
            _, dropped = self._entries.popitem(last=False)
            self._bytes -= dropped.size


def _bearer(scope: Scope) -> str | None:
    """The credentials of `Authorization: Bearer ...`, as FastAPI's HTTPBearer reads them."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            return credentials if scheme.lower() == "bearer" and credentials else None
    return None


def _matches(if_none_match: bytes, tag: bytes) -> bool:
    """RFC 9110, 13.1.2: weak comparison, a list of entity tags or `*`."""
    for candidate in if_none_match.split(b","):
        candidate = candidate.strip()
        if candidate == b"*" or candidate.removeprefix(b"W/") == tag:
            return True
    return False


class ReadCacheMiddleware:
    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime
        max_bytes = int(runtime.settings.read_cache_mb * 1024 * 1024)
        self.cache = ResponseCache(max_bytes) if max_bytes > 0 else None
        self.counts = runtime.metrics.read_cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not CACHED_PATHS.fullmatch(scope["path"]):
            await self.app(scope, receive, send)
            return
        tag = await self._tag(scope)
        if tag is None:
            self.counts.labels("bypass").inc()
            await self.app(scope, receive, send)
            return
        generation, etag = tag
        entry = self.cache.get(generation, etag.decode()) if self.cache is not None else None
        for name, value in scope["headers"]:
            if name == b"if-none-match" and _matches(value, etag):
                self.counts.labels("not_modified").inc()
                if entry is not None:
                    scope["route"] = entry.route
                await send({"type": "http.response.start", "status": 304, "headers": [(b"etag", etag)]})
                await send({"type": "http.response.body", "body": b""})
                return
        if entry is not None:
            self.counts.labels("hit").inc()
            scope["route"] = entry.route  # for the metrics middleware's route label
            await send({"type": "http.response.start", "status": 200, "headers": entry.headers})
            await send({"type": "http.response.body", "body": entry.body})
            return
        self.counts.labels("miss").inc()
        await self._run_and_keep(scope, receive, send, generation, etag)

    async def _tag(self, scope: Scope) -> tuple[str, bytes] | None:
        """(generation, ETag) of this request, or None when it is not served here: no readable
        generation, or a request the app will refuse (no key, an unknown or revoked key)."""
        generation_source = self.runtime.db.generation
        if generation_source is None:
            return None
        credentials = _bearer(scope)
        try:
            if credentials is None:
                if not self.runtime.settings.open_read:
                    return None
                key_scope = "open"
            else:
                found = await self.runtime.keys.scope_of(credentials)
                if found is None:
                    return None
                key_scope = found
            generation = await generation_source.current()
        except Exception:  # the database is unreachable: the app answers (its problem details) as without us
            return None
        digest = hashlib.blake2b(
            b"\0".join((__version__.encode(), generation.encode(), scope["path"].encode(),
                        scope["query_string"], key_scope.encode())), digest_size=16).hexdigest()
        return generation, f'"{digest}"'.encode()

    async def _run_and_keep(self, scope: Scope, receive: Receive, send: Send, generation: str, etag: bytes) -> None:
        start: Message | None = None
        chunks: list[bytes] = []
        keep = True

        async def tagging_send(message: Message) -> None:
            nonlocal start, keep
            if message["type"] == "http.response.start":
                if message["status"] == 200:
                    message = {**message, "headers": [*message.get("headers", []), (b"etag", etag)]}
                    start = message
                else:
                    keep = False
            elif message["type"] == "http.response.body" and keep and start is not None:
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False) and self.cache is not None:
                    self.cache.put(generation, etag.decode(),
                                   _Entry(list(start["headers"]), b"".join(chunks), scope.get("route")))
            await send(message)

        await self.app(scope, receive, tagging_send)
