"""API keys as a server process sees them: a key checked once is trusted for `key_cache_s`, so
a read pays no second database session; a key revoked elsewhere (the CLI) is refused within that
time, and a new key works at once."""

from __future__ import annotations

import asyncio
import time

import httpx

from app.main import create_app
from app.runtime import Runtime
from app.storage.keys import KeyScopes, create_key, list_keys, revoke_key
from tests.conftest import make_settings, wipe


async def _revoke(runtime: Runtime, plain: str) -> None:
    # What `news-ingest keys revoke` does, from another process's point of view: its own session.
    async with runtime.db.transaction() as session:
        key = next(k for k in await list_keys(session) if plain.startswith(k.prefix))
        await revoke_key(session, key.id, now=runtime.clock())


async def _new_key(runtime: Runtime, scope: str = "read") -> str:
    async with runtime.db.transaction() as session:
        _, plain = await create_key(session, scope=scope, name=None, now=runtime.clock())
    return plain


async def test_a_revoked_key_is_refused_within_the_cache_time(database_url: str) -> None:
    runtime = Runtime.from_settings(make_settings(database_url, key_cache_s=0.3))
    await wipe(runtime)
    try:
        plain = await _new_key(runtime)
        app = create_app(runtime=runtime)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver",
                                     headers={"Authorization": f"Bearer {plain}"}) as http:
            assert (await http.get("/v1/feeds")).status_code == 200
            await _revoke(runtime, plain)
            revoked_at = time.monotonic()
            while (response := await http.get("/v1/feeds")).status_code == 200:
                assert time.monotonic() - revoked_at < 5, "a revoked key was still served after 5 s"
                await asyncio.sleep(0.05)
            assert response.status_code == 401
            assert time.monotonic() - revoked_at < 0.3 + 2  # the cache time, and a slow machine's margin
            # A key created after the process started works on its first request.
            fresh = await _new_key(runtime)
            ok = await http.get("/v1/feeds", headers={"Authorization": f"Bearer {fresh}"})
            assert ok.status_code == 200
    finally:
        await runtime.close()


async def test_without_a_cache_a_revoked_key_is_refused_on_the_next_request(database_url: str) -> None:
    runtime = Runtime.from_settings(make_settings(database_url, key_cache_s=0))
    await wipe(runtime)
    try:
        plain = await _new_key(runtime, "admin")
        app = create_app(runtime=runtime)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver",
                                     headers={"Authorization": f"Bearer {plain}"}) as http:
            assert (await http.get("/v1/feeds")).status_code == 200
            await _revoke(runtime, plain)
            assert (await http.get("/v1/feeds")).status_code == 401
    finally:
        await runtime.close()


async def test_the_cache_trusts_a_key_for_its_time_and_then_reads_it_again(runtime: Runtime) -> None:
    now = [100.0]
    scopes = KeyScopes(runtime.db.sessions, ttl_s=5.0, clock=lambda: now[0])
    plain = await _new_key(runtime, "admin")
    assert await scopes.scope_of(plain) == "admin"
    await _revoke(runtime, plain)
    now[0] += 4.9
    assert await scopes.scope_of(plain) == "admin"  # documented: trusted for ttl_s
    now[0] += 0.2
    assert await scopes.scope_of(plain) is None
    assert await scopes.scope_of("ni_never-issued") is None
