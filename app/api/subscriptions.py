"""/v1/subscriptions and /v1/deliveries: webhook subscriptions (Standard Webhooks), their
deliveries and attempts. `webhooks` describes every event payload for the OpenAPI document."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Body, Header, Response
from pydantic import BaseModel

from app.api.deps import AdminAccess, ReadAccess, RuntimeDep, SessionDep
from app.api.problems import problem_responses
from app.api.schemas import DEFAULT_PAGE_SIZE, CursorIn, LimitQuery, Page
from app.api.webhook_schemas import (
    ArticleCreatedEvent,
    ArticleUpdatedEvent,
    AttemptOut,
    DeliveryOut,
    DeliveryState,
    FeedFailingEvent,
    FeedRecoveredEvent,
    PingEvent,
    QuoteCreatedEvent,
    SecretRotation,
    SubscriptionCreate,
    SubscriptionOut,
    SubscriptionUpdate,
    SubscriptionWithSecret,
)
from app.services import subscriptions as service
from app.storage import deliveries as deliveries_store
from app.storage import subscriptions as store
from app.storage.models import Delivery, DeliveryAttempt, Event

router = APIRouter(prefix="/v1", tags=["subscriptions"], responses=problem_responses(401, 403, 422))


def _delivery_out(delivery: Delivery, event: Event, attempts: list[DeliveryAttempt]) -> DeliveryOut:
    return DeliveryOut(
        id=delivery.id, subscription_id=delivery.subscription_id, event_id=event.id, event_type=event.type,
        event_created_at=event.created_at, state=delivery.state,  # type: ignore[arg-type]
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at if delivery.state == "pending" else None,
        delivered_at=delivery.delivered_at, last_status=delivery.last_status, last_error=delivery.last_error,
        attempt_log=[AttemptOut.model_validate(a) for a in attempts],
    )


@router.post("/subscriptions", operation_id="createSubscription", status_code=201,
             response_model=SubscriptionWithSecret, dependencies=[AdminAccess], responses=problem_responses(413))
async def create_subscription(body: SubscriptionCreate, runtime: RuntimeDep) -> SubscriptionWithSecret:
    """Subscribe a receiver URL to events. The response holds the signing secret, shown once."""
    sub = await service.create(runtime, url=str(body.url), events=[e.value for e in body.events],
                               flt=body.filter.model_dump(exclude_none=True) if body.filter else None,
                               description=body.description, include_text=body.include_text)
    return SubscriptionWithSecret.model_validate(sub)


@router.get("/subscriptions", operation_id="listSubscriptions", response_model=Page[SubscriptionOut],
            dependencies=[ReadAccess])
async def list_subscriptions(
    session: SessionDep, cursor: CursorIn | None = None,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
) -> Page[SubscriptionOut]:
    """Every webhook subscription, oldest first (without secrets)."""
    rows, next_cursor = await store.list_subscriptions(session, cursor=cursor, limit=limit)
    return Page[SubscriptionOut](items=[SubscriptionOut.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/subscriptions/{subscription_id}", operation_id="getSubscription", response_model=SubscriptionOut,
            dependencies=[ReadAccess], responses=problem_responses(404))
async def get_subscription(subscription_id: int, session: SessionDep) -> SubscriptionOut:
    """One subscription: its receiver, events, filter and health (without its secret)."""
    return SubscriptionOut.model_validate(await store.get_subscription(session, subscription_id))


@router.patch("/subscriptions/{subscription_id}", operation_id="updateSubscription",
              response_model=SubscriptionOut, dependencies=[AdminAccess], responses=problem_responses(404, 413))
async def update_subscription(subscription_id: int, body: SubscriptionUpdate,
                              runtime: RuntimeDep) -> SubscriptionOut:
    """Change the URL, events, filter, description or include_text; pause or resume."""
    changes = body.model_dump(exclude_unset=True)
    if changes.get("events") is not None:
        changes["events"] = [e.value for e in changes["events"]]
    if isinstance(changes.get("filter"), dict):
        changes["filter"] = {k: v for k, v in changes["filter"].items() if v is not None}
    sub = await service.update(runtime, subscription_id, changes)
    return SubscriptionOut.model_validate(sub)


@router.delete("/subscriptions/{subscription_id}", operation_id="deleteSubscription", status_code=204,
               response_class=Response, dependencies=[AdminAccess], responses=problem_responses(404))
async def delete_subscription(subscription_id: int, session: SessionDep) -> Response:
    """Delete the subscription and its delivery history."""
    await service.delete(session, subscription_id)
    return Response(status_code=204)


@router.post("/subscriptions/{subscription_id}/rotate-secret", operation_id="rotateSubscriptionSecret",
             response_model=SecretRotation, dependencies=[AdminAccess], responses=problem_responses(404))
async def rotate_secret(subscription_id: int, runtime: RuntimeDep, session: SessionDep) -> SecretRotation:
    """New signing secret; for 24 h deliveries carry a signature with the old secret too."""
    sub = await service.rotate_secret(runtime, session, subscription_id)
    assert sub.previous_secret_expires_at is not None
    return SecretRotation(secret=sub.secret, previous_secret_expires_at=sub.previous_secret_expires_at)


@router.post("/subscriptions/{subscription_id}/test", operation_id="testSubscription", status_code=202,
             response_model=DeliveryOut, dependencies=[AdminAccess], responses=problem_responses(404))
async def test_subscription(subscription_id: int, runtime: RuntimeDep, session: SessionDep) -> DeliveryOut:
    """Queue a `ping` event for this subscription; follow it in its deliveries."""
    delivery_id = await service.ping(runtime, session, subscription_id)
    return _delivery_out(*await deliveries_store.get_delivery(session, delivery_id))


@router.get("/subscriptions/{subscription_id}/deliveries", operation_id="listSubscriptionDeliveries",
            response_model=Page[DeliveryOut], dependencies=[ReadAccess], responses=problem_responses(404))
async def list_deliveries(
    subscription_id: int, session: SessionDep, state: DeliveryState | None = None, cursor: CursorIn | None = None,
    limit: LimitQuery = DEFAULT_PAGE_SIZE,
) -> Page[DeliveryOut]:
    """Deliveries newest first, each with its event and every attempt."""
    rows, next_cursor = await deliveries_store.list_deliveries(session, subscription_id,
                                                               state=state.value if state else None,
                                                               cursor=cursor, limit=limit)
    return Page[DeliveryOut](items=[_delivery_out(*row) for row in rows], next_cursor=next_cursor)


@router.post("/deliveries/{delivery_id}/redeliver", operation_id="redeliverDelivery", status_code=202,
             response_model=DeliveryOut, dependencies=[AdminAccess], responses=problem_responses(404))
async def redeliver(delivery_id: int, runtime: RuntimeDep, session: SessionDep) -> DeliveryOut:
    """Send the delivery again now, with the same webhook-id (also after `dead` or `failed`)."""
    await service.redeliver(runtime, session, delivery_id)
    return _delivery_out(*await deliveries_store.get_delivery(session, delivery_id))


# --------------------------------------------------------------------------- OpenAPI `webhooks`
webhooks = APIRouter()

_HEADERS_DOC = (
    "Headers (Standard Webhooks): `webhook-id` (the event id, the same for every retry: deduplicate on it), "
    "`webhook-timestamp` (Unix seconds of this attempt), `webhook-signature` (`v1,<base64 HMAC-SHA256>` of "
    "`id.timestamp.body` with the subscription's secret; several space-separated during a rotation). "
    "Answer 2xx within 10 s; other answers are retried (408, 429, 5xx, timeouts) or fail (other 4xx).")


def webhook_operation_id(event_type: str) -> str:
    """`article.created` -> `onArticleCreated`: camelCase like every other operationId, and
    derived from the event type alone so it stays stable."""
    return "on" + "".join(part.capitalize() for part in re.split(r"[._]", event_type))


def _describe(event_type: str, model: type[BaseModel], summary: str) -> None:
    async def receive(body: object, webhook_id: str, webhook_timestamp: str, webhook_signature: str) -> None:
        """Placeholder: documents the request news-ingest sends to the receiver."""

    # Real objects, not strings: `model` is local, so postponed annotations could not resolve it.
    receive.__annotations__ = {"body": Annotated[model, Body()], "webhook_id": Annotated[str, Header()],
                               "webhook_timestamp": Annotated[str, Header()],
                               "webhook_signature": Annotated[str, Header()], "return": None}
    # No API key: the receiver authenticates news-ingest by the signature (security: []).
    webhooks.add_api_route(event_type, receive, methods=["POST"], summary=summary, description=_HEADERS_DOC,
                           operation_id=webhook_operation_id(event_type), status_code=204,
                           response_description="Received; any 2xx will do",
                           openapi_extra={"security": []})


_describe("article.created", ArticleCreatedEvent, "A new article was stored")
_describe("article.updated", ArticleUpdatedEvent, "A stored article changed (title or text); revision grew")
_describe("quote.created", QuoteCreatedEvent, "A quoted statement was found in a new or changed article")
_describe("feed.failing", FeedFailingEvent, "A feed keeps failing (or is gone)")
_describe("feed.recovered", FeedRecoveredEvent, "A failing feed answered again")
_describe("ping", PingEvent, "Sent by POST /v1/subscriptions/{id}/test")
