"""The `news-ingest` command."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import click

from app.config import Settings, unknown_variables
from app.heap import freeze_startup_objects
from app.logging import configure_logging


def _settings() -> Settings:
    for name in unknown_variables(os.environ):
        click.echo(f"configuration: {name} is not a setting of news-ingest; ignored "
                   "(see the Configuration section of the README)", err=True)
    try:
        return Settings()
    except Exception as exc:  # pydantic's message names the variable and what is wrong with it
        raise click.ClickException(f"configuration: {exc}") from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="news-ingest")
def main() -> None:
    """news-ingest: poll news feeds, extract articles and quotes, search and notify."""


def _migrate(settings: Settings) -> None:
    from app.storage.migrate import upgrade_to_head

    upgrade_to_head(settings.database_url)


def _run_uvicorn(settings: Settings, host: str | None, port: int | None, *, workers: bool) -> None:
    import uvicorn

    from app.main import create_app

    configure_logging(settings.log_level, settings.log_format)
    app = create_app(settings, run_workers=workers)
    freeze_startup_objects()
    uvicorn.run(app, host=host or settings.host, port=port or settings.port, log_config=None,
                access_log=settings.access_log, proxy_headers=True, lifespan="on", ws="none")  # no WebSocket routes


@main.command()
@click.option("--host", default=None, help="Bind address (default NEWS_INGEST_HOST or 127.0.0.1)")
@click.option("--port", type=int, default=None, help="Port (default NEWS_INGEST_PORT or 8000)")
@click.option("--seed", is_flag=True, help="On an empty database, import the bundled OPML of public news feeds")
def serve(host: str | None, port: int | None, seed: bool) -> None:
    """Everything in one process: migrate, then the HTTP API and the background workers."""
    settings = _settings()
    _migrate(settings)
    if seed:
        asyncio.run(_seed_if_empty(settings, _seed_opml()))
    _run_uvicorn(settings, host, port, workers=True)


@main.command()
@click.option("--host", default=None, help="Bind address")
@click.option("--port", type=int, default=None, help="Port")
@click.option("--processes", type=click.IntRange(min=1), default=1, show_default=True,
              help="Server processes sharing the port (one per core serves the most reads)")
def api(host: str | None, port: int | None, processes: int) -> None:
    """The HTTP API only (scale-out: run workers separately; run `migrate` first)."""
    settings = _settings()
    if processes == 1:
        _run_uvicorn(settings, host, port, workers=False)
        return
    import uvicorn

    # uvicorn starts each process from an import string; each builds its app from the same
    # environment (app.main.app_from_environment), so they share the settings read here.
    configure_logging(settings.log_level, settings.log_format)
    uvicorn.run("app.main:app_from_environment", factory=True, workers=processes,
                host=host or settings.host, port=port or settings.port, log_config=None,
                access_log=settings.access_log, proxy_headers=True, lifespan="on", ws="none")


@main.command()
def worker() -> None:
    """Background work only: polling, ingestion and webhook delivery. Stops cleanly on SIGTERM/SIGINT."""
    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)

    async def run() -> None:
        from app.runtime import Runtime
        from app.workers.supervisor import Supervisor

        runtime = Runtime.from_settings(settings)
        supervisor = Supervisor(runtime)
        freeze_startup_objects()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, supervisor.stop_event.set)
        try:
            await supervisor.run_until_stopped()
        finally:
            await runtime.close()

    asyncio.run(run())


@main.command()
@click.option("--host", default=None, help="Address of the API (default: NEWS_INGEST_HOST; 127.0.0.1 if that is a "
                                           "wildcard such as 0.0.0.0)")
@click.option("--port", type=int, default=None, help="Port of the API (default: NEWS_INGEST_PORT or 8000)")
@click.option("--path", default="/readyz", show_default=True, help="/readyz (database reachable, schema current) "
                                                                   "or /healthz (process alive)")
def healthcheck(host: str | None, port: int | None, path: str) -> None:
    """Exit 0 when the API on this machine answers 200, else 1: the container health check.
    Reads the same settings as `serve`/`api`, so it asks the port the API was configured with."""
    import urllib.error
    import urllib.request

    settings = _settings()
    host = host or settings.host
    if host in ("", "0.0.0.0", "::", "[::]"):
        host = "127.0.0.1"
    url = f"http://{host}:{port or settings.port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"healthcheck: {url}: {exc}") from exc
    if status != 200:
        raise click.ClickException(f"healthcheck: {url} answered {status}")


@main.command()
def migrate() -> None:
    """Apply database migrations (alembic upgrade head)."""
    settings = _settings()
    _migrate(settings)
    click.echo("migrate: database is at the newest schema", err=True)


# ---------------------------------------------------------------- keys
@main.group()
def keys() -> None:
    """API keys: create, list, revoke."""


async def _with_session(settings: Settings, fn):  # type: ignore[no-untyped-def]
    from app.runtime import Runtime

    runtime = Runtime.from_settings(settings)
    try:
        async with runtime.db.transaction() as session:
            return await fn(runtime, session)
    finally:
        await runtime.close()


@keys.command("create")
@click.option("--scope", type=click.Choice(["read", "admin"]), default="read", show_default=True)
@click.option("--name", default=None, help="A label to recognise the key by")
def keys_create(scope: str, name: str | None) -> None:
    """Create a key and print it alone on stdout (shown once; only its hash is stored)."""
    from app.storage.keys import create_key

    settings = _settings()
    _migrate(settings)

    async def create(runtime, session):  # type: ignore[no-untyped-def]
        row, plain = await create_key(session, scope=scope, name=name, now=runtime.clock())
        return row.id, plain

    key_id, plain = asyncio.run(_with_session(settings, create))
    click.echo(plain)
    click.echo(f"keys: created key {key_id} with scope {scope}; store it now, it is not shown again", err=True)


@keys.command("list")
def keys_list() -> None:
    """List keys (id, prefix, scope, created, revoked)."""
    from app.storage.keys import list_keys

    rows = asyncio.run(_with_session(_settings(), lambda runtime, session: list_keys(session)))
    for row in rows:
        revoked = row.revoked_at.isoformat() if row.revoked_at else "-"
        click.echo(f"{row.id}\t{row.prefix}…\t{row.scope}\t{row.name or '-'}\t{row.created_at.isoformat()}\t"
                   f"revoked={revoked}")


@keys.command("revoke")
@click.argument("key_id", type=int)
def keys_revoke(key_id: int) -> None:
    """Revoke a key by id; running servers refuse it within NEWS_INGEST_KEY_CACHE_S (default 5 s)."""
    from app.domain.errors import NotFoundError
    from app.storage.keys import revoke_key

    settings = _settings()
    try:
        asyncio.run(_with_session(settings,
                                  lambda runtime, session: revoke_key(session, key_id, now=runtime.clock())))
    except NotFoundError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"keys: revoked key {key_id}; running servers refuse it within {settings.key_cache_s:g} s "
               "(NEWS_INGEST_KEY_CACHE_S)", err=True)


# ---------------------------------------------------------------- feeds
@main.group()
def feeds() -> None:
    """Feeds: OPML import and export."""


async def _import(settings: Settings, data: bytes) -> tuple[int, int, list[str]]:
    from app.pipeline.poll import parse_opml
    from app.services.feeds import import_opml

    total = len(parse_opml(data))
    from app.runtime import Runtime

    with click.progressbar(length=total, label="importing feeds", file=sys.stderr) as bar:
        runtime = Runtime.from_settings(settings)
        try:
            return await import_opml(runtime, data, progress=bar.update)
        finally:
            await runtime.close()


@feeds.command("import-opml")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def feeds_import(file: Path) -> None:
    """Register every feed listed in an OPML FILE."""
    from app.domain.errors import NewsIngestError

    settings = _settings()
    _migrate(settings)
    try:
        created, existing, invalid = asyncio.run(_import(settings, file.read_bytes()))
    except NewsIngestError as exc:
        raise click.ClickException(str(exc)) from exc
    for line in invalid:
        click.echo(f"refused: {line}", err=True)
    click.echo(f"feeds: {created} created, {existing} already registered, {len(invalid)} refused", err=True)


@feeds.command("export-opml")
def feeds_export() -> None:
    """Print every feed as an OPML 2.0 document."""
    from app.services.feeds import export_opml

    data = asyncio.run(_with_session(_settings(), export_opml))
    sys.stdout.buffer.write(data)


def _seed_opml() -> bytes | None:
    from app.resources import seed_opml

    path = seed_opml()
    return path.read_bytes() if path else None


async def _seed_if_empty(settings: Settings, opml: bytes | None) -> None:
    from app.storage.feeds import count_feeds

    if opml is None:
        click.echo("serve: --seed: seeds/news-feeds.opml not found; nothing imported", err=True)
        return
    count = await _with_session(settings, lambda runtime, session: count_feeds(session))
    if count == 0:
        created, _, invalid = await _import(settings, opml)
        click.echo(f"serve: seeded {created} feeds ({len(invalid)} refused)", err=True)


# ---------------------------------------------------------------- quotes
@main.group()
def quotes() -> None:
    """Quoted statements."""


@quotes.command("extract")
@click.option("--jsonl", is_flag=True, help="One JSON object per line")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
def quotes_extract(jsonl: bool, files: tuple[str, ...]) -> None:
    """Print the quotes of each text FILE as JSON: {"file": ..., "quotes": [...]}."""
    from app.pipeline.quotes import find_quotes

    for path in files:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        result = {"file": path, "quotes": [q.to_dict() for q in find_quotes(text)]}
        click.echo(json.dumps(result, ensure_ascii=False) if jsonl
                   else json.dumps(result, ensure_ascii=False, indent=2))



# ---------------------------------------------------------------- search
@main.group()
def search() -> None:
    """Full-text search index."""


@search.command("reindex")
@click.option("--batch", type=int, default=500, show_default=True, help="Articles per round trip")
@click.option("--processes", type=int, default=-1, show_default=True,
              help="Analysis processes; -1: one per CPU but one, 0: in this process")
def search_reindex(batch: int, processes: int) -> None:
    """Rebuild the search index from every stored article (one transaction; the text analysis
    runs in a process pool)."""
    from app.storage.articles import count_articles
    from app.storage.reindex import reindex

    settings = _settings()
    _migrate(settings)

    async def run(runtime, session):  # type: ignore[no-untyped-def]
        total = await count_articles(session)
        with click.progressbar(length=total, label="indexing articles", file=sys.stderr) as bar:
            return await reindex(session, batch=batch, progress=bar.update,
                                 processes=None if processes < 0 else processes)

    done = asyncio.run(_with_session(settings, run))
    click.echo(f"search: indexed {done} articles", err=True)

if __name__ == "__main__":
    main()
