"""Subscription use cases: the checks a receiver URL and a filter must pass before storing."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from app.domain.errors import InvalidRequestError
from app.domain.subscriptions import validate_filter
from app.runtime import Runtime
from app.services.feeds import check_outgoing_url
from app.storage import deliveries
from app.storage import subscriptions as store
from app.storage.database import Session
from app.storage.models import Subscription


async def check_receiver_url(runtime: Runtime, url: str) -> None:
    """https (unless NEWS_INGEST_ALLOW_HTTP_WEBHOOKS), and every address the host resolves to
    public (or in NEWS_INGEST_ALLOWED_NETWORKS), as for feeds; each send checks again."""
    scheme = urlsplit(url).scheme
    if scheme != "https" and not (scheme == "http" and runtime.settings.allow_http_webhooks):
        raise InvalidRequestError("subscriptions: the receiver URL must use https "
                                  "(http needs NEWS_INGEST_ALLOW_HTTP_WEBHOOKS=true)")
    await check_outgoing_url(runtime, url)


def _clean_filter(flt: dict[str, Any] | None) -> dict[str, Any]:
    cleaned = {k: v for k, v in (flt or {}).items() if v not in (None, [], "")}
    validate_filter(cleaned)
    return cleaned


# Both check the receiver's address (DNS) before they open the write transaction: no network
# I/O inside it (on SQLite it holds the one write lock).
async def create(runtime: Runtime, *, url: str, events: list[str], flt: dict[str, Any] | None,
                 description: str | None, include_text: bool) -> Subscription:
    cleaned = _clean_filter(flt)
    await check_receiver_url(runtime, url)
    async with runtime.db.transaction() as session:
        return await store.create_subscription(session, url=url, events=list(dict.fromkeys(events)),
                                               flt=cleaned, description=description,
                                               include_text=include_text, now=runtime.clock())


async def update(runtime: Runtime, subscription_id: int, changes: dict[str, Any]) -> Subscription:
    if "include_text" in changes and changes["include_text"] is None:
        changes["include_text"] = False  # null: back to the default, as documented
    for key in ("url", "events", "paused"):
        if key in changes and changes[key] is None:
            raise InvalidRequestError(f"subscriptions: {key} cannot be null")
    if "events" in changes:
        changes["events"] = list(dict.fromkeys(changes["events"]))
    if "filter" in changes:
        changes["filter"] = _clean_filter(changes["filter"])
    if changes.get("url") is not None:
        changes["url"] = str(changes["url"])
        await check_receiver_url(runtime, changes["url"])
    async with runtime.db.transaction() as session:
        return await store.update_subscription(session, subscription_id, changes, now=runtime.clock())


# The request's session: its transaction commits once, before the response is sent.
async def delete(session: Session, subscription_id: int) -> None:
    await store.delete_subscription(session, subscription_id)


async def rotate_secret(runtime: Runtime, session: Session, subscription_id: int) -> Subscription:
    """A new signing secret; the old one keeps signing for `webhook_secret_overlap_s`."""
    return await store.rotate_secret(session, subscription_id, now=runtime.clock(),
                                     overlap_s=runtime.settings.webhook_secret_overlap_s)


async def ping(runtime: Runtime, session: Session, subscription_id: int) -> int:
    """Queue a `ping` event for the subscription; the id of its delivery."""
    return await deliveries.create_ping(session, subscription_id, now=runtime.clock())


async def redeliver(runtime: Runtime, session: Session, delivery_id: int) -> None:
    await deliveries.redeliver(session, delivery_id, now=runtime.clock())
