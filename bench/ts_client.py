"""The TypeScript round trip: a client generated with @hey-api/openapi-ts from the live OpenAPI
document, compiled with `tsc --strict`, drives the service on 127.0.0.1 (feeds, OPML import,
articles with cursors, search, quotes, speakers?q=, a subscription whose ping is delivered and
verified with `standardwebhooks`). Needs Node 20+ and npm; installs the two npm packages into
the work directory (not the repository).

    .venv/bin/python bench/ts_client.py [--workdir DIR]

Prints what it did and, as its last line, `ok=1 seconds=... openapi_ts_warnings=... tsc_errors=0
verified_deliveries=4`; a failure exits with the first thing that went wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.storage import subscriptions  # noqa: E402
from app.storage.migrate import upgrade_to_head  # noqa: E402
from app.workers.deliver import DeliveryWorker  # noqa: E402
from tests.feedserver import FeedServer  # noqa: E402
from tests.webhook_receiver import WebhookReceiver  # noqa: E402
from tests.websub_live import Service, live_service  # noqa: E402

# Versions that run on Node 20: openapi-ts needs TypeScript's JavaScript API, which TypeScript 7
# (the native compiler) does not have.
NPM_PACKAGES = ["@hey-api/openapi-ts@0.95", "typescript@5"]
TSCONFIG = {"compilerOptions": {"strict": True, "target": "ES2022", "module": "commonjs",
                                "moduleResolution": "node10", "lib": ["ES2022", "DOM", "DOM.Iterable"], "outDir": "dist",
                                "skipLibCheck": True, "noUnusedLocals": True},
            "include": ["gen/**/*.ts", "roundtrip.ts"]}

FAST_WEBHOOKS = {"allow_http_webhooks": True, "webhook_retry_schedule_s": [0.05, 0.1, 0.2, 0.4, 0.8],
                 "webhook_retry_jitter": 0.1}

ROUNDTRIP_TS = """\
import { client } from './gen/client.gen';
import {
  createFeed, createSubscription, getArticle, getHealth, importFeedsOpml, listArticles, listFeeds,
  listQuotes, listSpeakers, listSubscriptionDeliveries, pollFeed, testSubscription,
} from './gen/sdk.gen';
import type { ArticleSummary, DuplicateFeedProblem, FeedState, WebhookEvent } from './gen/types.gen';
import { settings } from './settings';

function check(condition: unknown, what: string): asserts condition {
  if (!condition) throw new Error(`ts round trip: ${what}`);
}

// Compiles only if WebhookEvent is a union told apart by `type` (tsc --strict checks the switch).
function describe(event: WebhookEvent): string {
  switch (event.type) {
    case 'article.created': case 'article.updated': return `article ${event.data.article.id}`;
    case 'quote.created': return `quote ${event.data.quote.id} by ${event.data.quote.speaker ?? '?'}`;
    case 'feed.failing': case 'feed.recovered': return `feed ${event.data.feed.id}`;
    case 'ping': return `ping of ${event.data.subscription_id}`;
  }
}

async function main(): Promise<void> {
  client.setConfig({ baseUrl: settings.baseUrl, auth: settings.key });
  const health = await getHealth();
  check(health.data?.status === 'ok', 'getHealth');

  const created = await createFeed({ body: { url: settings.feedUrl } });
  check(created.response.status === 201 && created.data, 'createFeed');
  const pending: FeedState = created.data.state;
  check(pending === 'pending', `a new feed is pending, not ${pending}`);
  const again = await createFeed({ body: { url: settings.feedUrl } });
  const conflict = again.error as DuplicateFeedProblem | undefined;
  check(again.response.status === 409 && conflict?.existing_feed.id === created.data.id, 'the 409 names the feed');

  const opml = `<opml version="2.0"><body><outline type="rss" xmlUrl="${settings.otherUrl}"/></body></opml>`;
  const imported = await importFeedsOpml({ body: { document: opml } });
  check(imported.data?.created === 1, 'importFeedsOpml (JSON)');
  const listed = await listFeeds({ query: { state: 'pending' } });
  check(listed.data?.items.length === 2, 'listFeeds?state=pending');

  const subscription = (await createSubscription({
    body: { url: settings.hookUrl, events: ['article.created'] } })).data;
  check(subscription && subscription.secret.startsWith('whsec_'), 'createSubscription');
  const polled = await pollFeed({ path: { feed_id: created.data.id } });
  check(polled.data?.outcome === 'ok' && polled.data.articles_created === 3, 'pollFeed');

  const seen: ArticleSummary[] = [];
  let cursor: string | undefined;
  do {
    const page = await listArticles({ query: { limit: 1, cursor } });
    check(page.data, 'listArticles');
    seen.push(...page.data.items);
    cursor = page.data.next_cursor ?? undefined;
  } while (cursor);
  check(seen.length === 3 && new Set(seen.map((a) => a.id)).size === 3, 'cursors visit every article once');
  const article = await getArticle({ path: { article_id: seen[0].id } });
  check(article.data && typeof article.data.text === 'string' && !('snippet' in article.data), 'getArticle');
  const found = await listArticles({ query: { q: 'lighthouse', sort: 'relevance' } });
  check(found.data?.items[0]?.snippet?.includes('<mark>'), 'search');

  const quotes = await listQuotes();
  const quote = quotes.data?.items.find((q) => q.speaker && q.speaker_id);
  check(quote?.speaker, 'listQuotes');
  const part = quote.speaker.split(' ').slice(-1)[0].slice(1, 4).toUpperCase();
  const speakers = await listSpeakers({ query: { q: part } });
  check(speakers.data?.items.some((s) => s.id === quote.speaker_id), `listSpeakers?q=${part}`);

  const ping = await testSubscription({ path: { subscription_id: subscription.id } });
  check(ping.response.status === 202, 'testSubscription');
  for (let i = 0; i < 200; i++) {
    const log = await listSubscriptionDeliveries({ path: { subscription_id: subscription.id } });
    const states = log.data?.items.map((d) => d.state) ?? [];
    if (states.length === 4 && states.every((s) => s === 'delivered')) {
      console.log(`deliveries: ${states.length} delivered; e.g. ${describe({
        type: 'ping', timestamp: new Date().toISOString(),
        data: { subscription_id: subscription.id, message: 'test' } })}`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('ts round trip: the deliveries were not delivered');
}

main();
"""


async def run(command: list[str], cwd: Path) -> str:
    process = await asyncio.create_subprocess_exec(*command, cwd=cwd, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.STDOUT)
    out, _ = await process.communicate()
    text = out.decode(errors="replace")
    if process.returncode != 0:
        raise SystemExit(f"ts round trip: `{' '.join(command)}` failed:\n{text}")
    return text


def seeded(feeds: FeedServer) -> None:
    site = feeds.url("").rstrip("/")
    seeds = ROOT / "seeds"
    feeds.route("/feed.xml", body=(seeds / "team-feed.xml").read_text().replace("http://harbour.example", site),
                headers={"Content-Type": "application/rss+xml"})
    for page in (seeds / "articles").glob("*.html"):
        feeds.route(f"/articles/{page.name}", body=page.read_text().replace("http://harbour.example", site),
                    headers={"Content-Type": "text/html"})


async def roundtrip(work: Path) -> str:
    started = time.perf_counter()
    if not (work / "node_modules/@hey-api/openapi-ts").exists():
        (work / "package.json").write_text('{"name": "news-ingest-ts-client", "private": true}\n')
        await run(["npm", "install", "--no-audit", "--no-fund", "--save-dev", *NPM_PACKAGES], work)
    database_url = f"sqlite+aiosqlite:///{work / 'service.db'}"
    (work / "service.db").unlink(missing_ok=True)
    upgrade_to_head(database_url)
    receiver = WebhookReceiver().up()
    with FeedServer() as feeds:
        seeded(feeds)
        async with live_service(database_url, **FAST_WEBHOOKS) as svc:
            (work / "openapi.json").write_text(json.dumps((await svc.http.get("/openapi.json")).json()))
            generated = await run(["npx", "openapi-ts", "-i", "openapi.json", "-o", "gen"], work)
            (work / "settings.ts").write_text("export const settings = " + json.dumps({
                "baseUrl": svc.url, "key": svc.http.headers["Authorization"][7:], "feedUrl": feeds.url("/feed.xml"),
                "otherUrl": feeds.url("/other.xml"), "hookUrl": receiver.url("ts")}) + ";\n")
            (work / "roundtrip.ts").write_text(ROUNDTRIP_TS)
            (work / "tsconfig.json").write_text(json.dumps(TSCONFIG, indent=2))
            await run(["npx", "tsc", "-p", "tsconfig.json"], work)  # --strict, from tsconfig
            stop = asyncio.Event()
            worker = asyncio.create_task(DeliveryWorker(svc.runtime).run(stop))
            created = asyncio.create_task(_secret_of_first_subscription(svc, receiver))
            try:
                output = await run(["node", "dist/roundtrip.js"], work)
            finally:
                stop.set()
                await worker
                created.cancel()
    receiver.down()
    if len(receiver.of("ts")) != 4:
        raise SystemExit(f"ts round trip: the receiver got {len(receiver.of('ts'))} verified events, "
                         f"rejected {receiver.rejected}")
    warnings = [line for line in generated.splitlines() if "warn" in line.lower()]
    seconds = time.perf_counter() - started
    return (f"ts round trip: ok in {seconds:.1f} s (npm install included on a new work directory); "
            f"openapi-ts warnings: {len(warnings)}; tsc --strict: 0 errors; {output.strip()}\n"
            f"ok=1 seconds={seconds:.1f} openapi_ts_warnings={len(warnings)} tsc_errors=0 "
            f"verified_deliveries={len(receiver.of('ts'))}")


async def _secret_of_first_subscription(svc: Service, receiver: WebhookReceiver) -> None:
    """Give the receiver the subscription's secret as soon as the TypeScript side created it, so
    every delivery is verified with `standardwebhooks` (one refused before is retried soon)."""
    while True:
        async with svc.runtime.db.reading() as session:
            rows, _ = await subscriptions.list_subscriptions(session, cursor=None, limit=1)
        if rows:
            receiver.secret("ts", rows[0].secret)
            return
        await asyncio.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, help="Where node_modules, the client and its build go "
                                                     "(default: a new temporary directory)")
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="news-ingest-ts-"))
    work.mkdir(parents=True, exist_ok=True)
    print(asyncio.run(roundtrip(work.resolve())))


if __name__ == "__main__":
    main()
