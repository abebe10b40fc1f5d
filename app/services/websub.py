"""WebSub callback use cases: answer a hub's verification of intent, accept a hub's push.

Both are reached without an API key: the callback URL carries an unguessable token (256 random
bits, one per subscription) and every push must be signed with that subscription's hub.secret.
"""

from __future__ import annotations

import logging

from app.domain.errors import GoneError, SignatureError
from app.domain.websub import MAX_LEASE_S, IntentCheck, PushVerdict
from app.pipeline.websub import check_signature
from app.runtime import Runtime
from app.storage import websub as store

log = logging.getLogger("news_ingest.websub")

SIGNATURE_FAILURES = frozenset({PushVerdict.MISSING_SIGNATURE, PushVerdict.MALFORMED_SIGNATURE,
                                PushVerdict.WEAK_SIGNATURE, PushVerdict.UNSUPPORTED_SIGNATURE,
                                PushVerdict.BAD_SIGNATURE})
_REFUSALS = {
    PushVerdict.MISSING_SIGNATURE: "websub: the push has no X-Hub-Signature",
    PushVerdict.MALFORMED_SIGNATURE: "websub: X-Hub-Signature is not of the form method=hexdigest",
    PushVerdict.WEAK_SIGNATURE: "websub: X-Hub-Signature uses sha1; sha256, sha384 or sha512 is required",
    PushVerdict.UNSUPPORTED_SIGNATURE: "websub: X-Hub-Signature uses an unknown method; sha256, sha384 or sha512 "
                                       "is required",
    PushVerdict.BAD_SIGNATURE: "websub: X-Hub-Signature does not match the body",
}


def parse_lease(value: str | None) -> int | None:
    """hub.lease_seconds: a positive decimal integer in ASCII digits (str.isdigit also takes "²",
    which int() refuses), at most MAX_LEASE_S; anything else is -1 (refused)."""
    if value is None:
        return None
    value = value.strip()
    if not (value.isascii() and value.isdigit() and 0 < len(value) <= 12):
        return -1
    return min(int(value), MAX_LEASE_S)


async def verify_intent(runtime: Runtime, token: str, check: IntentCheck) -> bool:
    """True when the hub's request is for a (un)subscription we asked for, now recorded; the
    caller then echoes hub.challenge (or, for a denial, just answers 200)."""
    async with runtime.db.transaction() as session:
        verdict = await store.apply_intent(session, token, check, now=runtime.clock(),
                                           default_lease_s=runtime.settings.websub_lease_s)
    mode = check.mode if check.mode in ("subscribe", "unsubscribe", "denied") else "other"
    runtime.metrics.websub_verifications.labels(mode, "refused" if verdict == "refuse" else "confirmed").inc()
    if verdict == "refuse":
        log.warning("websub: verification refused", extra={"mode": mode, "topic": check.topic[:300]})
    else:
        log.info("websub: verification confirmed", extra={"mode": mode, "topic": check.topic[:300],
                                                          "lease_s": check.lease_s})
    return verdict != "refuse"


def count_push(runtime: Runtime, verdict: PushVerdict) -> None:
    runtime.metrics.websub_pushes.labels(verdict.value).inc()


async def receive_push(runtime: Runtime, token: str, body: bytes, *, signature: str | None,
                       content_type: str | None) -> None:
    """Store a signed push for the worker, or raise GoneError (no such subscription: §7 lets the
    hub drop it on 410) / SignatureError (missing, weak or wrong signature: §7.1.2, §8.3).
    Every outcome is counted in news_ingest_websub_pushes_total{verdict}."""
    async with runtime.db.reading() as session:
        target = await store.push_target(session, token)
    if target is None:
        count_push(runtime, PushVerdict.UNKNOWN_CALLBACK)
        raise GoneError("websub: no subscription has this callback")
    verdict = check_signature(signature, body, target.secret)
    if verdict in SIGNATURE_FAILURES:
        count_push(runtime, verdict)
        message = _REFUSALS[verdict]
        log.warning("websub: push refused", extra={"subscription_id": target.subscription_id,
                                                   "verdict": verdict.value})
        async with runtime.db.transaction() as session:
            await store.note_refusal(session, target.subscription_id, message, now=runtime.clock())
        raise SignatureError(message)
    if target.state not in ("active", "subscribing") or target.feed_id is None:
        count_push(runtime, PushVerdict.NOT_SUBSCRIBED)
        raise GoneError("websub: this subscription has been cancelled")
    async with runtime.db.transaction() as session:
        await store.store_push(session, target, body, content_type, now=runtime.clock())
    count_push(runtime, PushVerdict.ACCEPTED)
    runtime.wakeups.notify("websub")
