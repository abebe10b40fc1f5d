"""A synthetic news site for benchmarks, served by uvicorn in its own process:

    /feed/{f}          RSS with 20 entries (ETag; answers 304 to If-None-Match when it matches)
    /a/{f}/{e}         a unique ~100 KB article page: boilerplate, scripts, and ~5,000 characters
                       of article text with attributed quotes

Pages are generated deterministically from (f, e), so nothing is held in memory.

With SITEGEN_CORPUS set to a folder (e.g. ../shared/corpus), the article texts are instead the
real news texts under it (`news-text/*/*.txt`, `polnear/train/*.txt`; first line the title),
page n = 20 f + e taking text n mod T: its k-th reuse (k = n div T) gets a varied title, another
date and its paragraph k left out, so it is a new article (another body hash), not an update.
`/feed/{f}` for f >= NOT_MODIFIED_FROM answers 304 when asked conditionally (for the 304 test).
"""

from __future__ import annotations

import hashlib
import html
import os
import random
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import cache
from pathlib import Path
from typing import Any

WORDS = ("government council minister election budget report market energy climate health school "
         "police court river harbour city village region company workers union price inflation bank "
         "project plan road bridge railway airport hospital doctor teacher student farmer fisher "
         "museum festival team season storm flood drought water forest park tourism export import "
         "agreement talks vote campaign party leader spokesperson committee inquiry evidence").split()
FIRST = "Anna Marek Lucia Tomas Ines Paul Sara David Elena Jonas Maria Peter Laura Victor Nadia".split()
LAST = "Ellison Brandt Kowalczyk Berg Okafor Lindqvist Moreau Novak Silva Haddad Kim Rossi Weber".split()
ROLES = ("the finance minister", "the mayor", "a union leader", "the company's chief executive",
         "a local councillor", "the head of the agency")


def _rng(*key: object) -> random.Random:
    return random.Random(hashlib.blake2b(repr(key).encode(), digest_size=8).digest())


CORPUS = os.environ.get("SITEGEN_CORPUS")

# The site template is the same on every page (as on real sites); only the article differs.
_TEMPLATE_SCRIPT = "<script>window.__STATE__=" + repr([random.Random(7).random() for _ in range(4150)]) + ";</script>"


@cache
def corpus_texts(folder: str) -> list[tuple[str, list[str]]]:
    """(title, paragraphs) of each real news text under folder, in a fixed order."""
    root = Path(folder)
    texts = []
    for path in sorted(root.glob("news-text/*/*.txt")) + sorted(root.glob("polnear/train/*.txt")):
        if path.name.startswith("LICENSE"):
            continue
        title, _, body = path.read_text(encoding="utf-8").partition("\n")
        paras = [p.strip() for p in body.split("\n\n") if p.strip()]
        if title.strip() and len(paras) >= 2:
            texts.append((title.strip(), paras))
    return texts


_REUSE = ("Update", "Analysis", "In brief", "Explainer", "Follow-up", "Reaction", "Timeline", "Background")


def corpus_article(f: int, e: int, folder: str) -> tuple[str, str]:
    texts = corpus_texts(folder)
    n = 20 * f + e
    title, paras = texts[n % len(texts)]
    k = n // len(texts)
    if k:
        title = f"{_REUSE[(k - 1) % len(_REUSE)]}: {title}"
        paras = paras[:k % len(paras)] + paras[k % len(paras) + 1:]
    return html.escape(title), "\n".join(f"<p>{html.escape(p)}</p>" for p in paras)


def published(f: int, e: int) -> tuple[int, int]:
    """(day of November, hour) of page (f, e); the corpus pages spread over every day and hour."""
    n = 20 * f + e if CORPUS else e
    return 1 + n % 28, (n // 28) % 24 if CORPUS else e % 24


def article_text(f: int, e: int) -> tuple[str, str]:
    if CORPUS:
        return corpus_article(f, e, CORPUS)
    r = _rng("a", f, e)
    title = " ".join(r.choice(WORDS) for _ in range(6)).capitalize() + f" {f}-{e}"
    paras: list[str] = []
    while sum(len(p) for p in paras) < 5000:
        name = f"{r.choice(FIRST)} {r.choice(LAST)}"
        sentence = " ".join(r.choice(WORDS) for _ in range(r.randint(12, 24))).capitalize()
        quote = " ".join(r.choice(WORDS) for _ in range(r.randint(8, 16))).capitalize()
        if len(paras) % 3:  # about 8 quotes per 5,000 characters, as in wire copy
            paras.append(f"{sentence} {f}{e}{len(paras)}. " + " ".join(r.choice(WORDS) for _ in range(18)) + ".")
        else:
            paras.append(f"{sentence} {f}{e}{len(paras)}. {name}, {r.choice(ROLES)}, said the plan was "
                         f"“{quote}.” “{quote.split()[0]} is what matters,” {name.split()[1]} told reporters.")
    return title, "\n".join(f"<p>{p}</p>" for p in paras)


def page(f: int, e: int, base: str) -> bytes:
    title, body = article_text(f, e)
    r = _rng("b", f, e)
    nav = "".join(f'<li><a href="/section/{w}">{w.title()}</a></li>' for w in WORDS)
    related = "".join(f'<li><a href="/a/{f}/{r.randint(0, 999)}">{" ".join(r.choice(WORDS) for _ in range(7))}</a></li>'
                      for _ in range(60))
    script = _TEMPLATE_SCRIPT
    day, hour = published(f, e)
    page_html = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f'<link rel="canonical" href="{base}/a/{f}/{e}"><meta property="article:published_time" '
            f'content="2026-11-{day:02d}T{hour:02d}:00:00Z">{script}</head><body>'
            f'<header><nav><ul>{nav}</ul></nav></header><main><article><h1>{title}</h1>{body}</article></main>'
            f'<aside><h2>Related</h2><ul>{related}</ul></aside><footer>{nav}</footer></body></html>')
    return page_html.encode()


def _rfc822(day: int, hour: int) -> str:
    return format_datetime(datetime(2026, 11, day, hour, tzinfo=UTC), usegmt=True)


def feed(f: int, base: str, entries: int = 20) -> bytes:
    items = "".join(
        f"<item><title>{article_text(f, e)[0]}</title><link>{base}/a/{f}/{e}</link><guid>{f}-{e}</guid>"
        f"<pubDate>{_rfc822(*published(f, e))}</pubDate>"
        f"<description>Summary of entry {e} of feed {f}.</description></item>" for e in range(entries))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Feed {f}</title>'
            f"<link>{base}/</link>{items}</channel></rss>").encode()


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    host = dict(scope["headers"]).get(b"host", b"127.0.0.1").decode()
    base = f"http://{host}"
    parts = scope["path"].strip("/").split("/")
    status, body, headers = 404, b"not found", [(b"content-type", b"text/plain")]
    try:
        if parts[0] == "feed":
            f = int(parts[1])
            etag = f'"f{f}"'.encode()
            if dict(scope["headers"]).get(b"if-none-match") == etag:
                status, body, headers = 304, b"", [(b"etag", etag)]
            else:
                status, body = 200, feed(f, base)
                headers = [(b"content-type", b"application/rss+xml"), (b"etag", etag)]
        elif parts[0] == "a":
            status, body = 200, page(int(parts[1]), int(parts[2]), base)
            headers = [(b"content-type", b"text/html; charset=utf-8")]
    except (IndexError, ValueError):
        pass
    await send({"type": "http.response.start", "status": status,
                "headers": headers + [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
