"""Webhook subscriptions of the caller's organization and their deliveries (admin only).

The signing secret appears only in the answers to creation and rotation.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import Field

from unitrace.domain.webhooks import ALL_TOPICS, DeliveryStatus, Webhook, WebhookTopic
from unitrace.services import webhooks
from unitrace.web.api.params import IdPath, Limit, Offset
from unitrace.web.deps import ApiPrincipal, RuntimeDep
from unitrace.web.schemas.common import ItemsPublic, PagePublic, Public, Schema, text

router = APIRouter(tags=["webhooks"])
TOPICS = ", ".join([ALL_TOPICS, *WebhookTopic])


class WebhookPublic(Public):
    id: int
    url: str
    topics: list[str]
    is_active: bool
    description: str
    created_at: dt.datetime


class WebhooksPublic(ItemsPublic[WebhookPublic]): ...


class WebhookCreate(Schema):
    url: Annotated[str, text(2000, min_length=1)] = Field(
        examples=["https://erp.example.com/hooks/unitrace"]
    )
    topics: list[Annotated[str, text(50, min_length=1)]] = Field(
        min_length=1, max_length=20, description=f"Topics to send: {TOPICS}."
    )
    description: Annotated[str, text(500)] = ""


class WebhookCreatedPublic(WebhookPublic):
    secret: str = Field(
        description="The signing secret. Shown only in this response: store it now.",
        examples=["whsec_Jx…"],
    )

    @classmethod
    def created(cls, webhook: Webhook, secret: str) -> WebhookCreatedPublic:
        return cls.model_validate({**WebhookPublic.of(webhook).model_dump(), "secret": secret})


class WebhookDeliveryPublic(Public):
    id: int
    webhook_id: int
    topic: str
    payload: dict[str, Any]
    status: DeliveryStatus
    attempts: int
    next_attempt_at: dt.datetime
    last_status_code: int | None
    last_error: str | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None


class WebhookDeliveriesPublic(PagePublic[WebhookDeliveryPublic]): ...


@router.get("/webhooks")
def list_webhooks(rt: RuntimeDep, principal: ApiPrincipal) -> WebhooksPublic:
    """The organization's webhooks; secrets are never listed."""
    return WebhooksPublic.of(webhooks.list_webhooks(rt, principal))


@router.post("/webhooks", status_code=201)
def create_webhook(
    body: WebhookCreate, rt: RuntimeDep, principal: ApiPrincipal, response: Response
) -> WebhookCreatedPublic:
    """Subscribe an HTTPS endpoint; ``secret`` in this response is the only time it is shown."""
    new = webhooks.create_webhook(
        rt, principal, url=body.url, topics=body.topics, description=body.description
    )
    response.headers["Cache-Control"] = "no-store"
    return WebhookCreatedPublic.created(new.webhook, new.secret)


@router.get("/webhooks/{webhook_id}")
def get_webhook(webhook_id: IdPath, rt: RuntimeDep, principal: ApiPrincipal) -> WebhookPublic:
    return WebhookPublic.of(webhooks.get_webhook(rt, principal, webhook_id=webhook_id))


@router.delete("/webhooks/{webhook_id}", status_code=204)
def delete_webhook(webhook_id: IdPath, rt: RuntimeDep, principal: ApiPrincipal) -> Response:
    """Remove a webhook and its delivery history."""
    webhooks.delete_webhook(rt, principal, webhook_id=webhook_id)
    return Response(status_code=204)


@router.post("/webhooks/{webhook_id}/rotate-secret")
def rotate_webhook_secret(
    webhook_id: IdPath, rt: RuntimeDep, principal: ApiPrincipal, response: Response
) -> WebhookCreatedPublic:
    """Issue a new signing secret; later deliveries are signed with it."""
    new = webhooks.rotate_webhook_secret(rt, principal, webhook_id=webhook_id)
    response.headers["Cache-Control"] = "no-store"
    return WebhookCreatedPublic.created(new.webhook, new.secret)


@router.get("/webhooks/{webhook_id}/deliveries")
def list_deliveries(
    webhook_id: IdPath,
    rt: RuntimeDep,
    principal: ApiPrincipal,
    status: Annotated[DeliveryStatus | None, Query()] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> WebhookDeliveriesPublic:
    """One webhook's deliveries, newest first, optionally of one status."""
    items, total = webhooks.list_deliveries(
        rt, principal, webhook_id=webhook_id, status=status, limit=limit, offset=offset
    )
    return WebhookDeliveriesPublic.model_validate(
        {"total": total, "limit": limit, "offset": offset, "items": items}
    )
