"""Webhook subscriptions and the delivery outbox."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    String,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)

from unitrace.domain.webhooks import ALL_TOPICS, DeliveryStatus, Webhook, WebhookDelivery
from unitrace.errors import NotFoundError
from unitrace.storage.schema import webhook_deliveries, webhooks
from unitrace.storage.types import UTCDateTime


@dataclass(frozen=True)
class DueDelivery:
    """A claimed delivery and what is needed to send it."""

    delivery: WebhookDelivery
    url: str
    secret: str


def _webhook(row: Row[Any]) -> Webhook:
    return Webhook(
        id=row.id,
        organization_id=row.organization_id,
        url=row.url,
        topics=tuple(json.loads(row.topics)),
        is_active=bool(row.is_active),
        description=row.description,
        created_at=row.created_at,
    )


def _delivery(row: Row[Any]) -> WebhookDelivery:
    return WebhookDelivery(
        id=row.id,
        webhook_id=row.webhook_id,
        topic=row.topic,
        payload=json.loads(row.payload),
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
    )


def insert_webhook(
    conn: Connection,
    *,
    organization_id: int,
    url: str,
    secret: str,
    topics: Sequence[str],
    description: str,
    created_at: dt.datetime,
) -> int:
    result = conn.execute(
        insert(webhooks).values(
            organization_id=organization_id,
            url=url,
            secret=secret,
            topics=json.dumps(list(topics)),
            description=description,
            created_at=created_at,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def get_webhook(conn: Connection, organization_id: int, webhook_id: int) -> Webhook:
    row = conn.execute(
        select(webhooks).where(
            webhooks.c.id == webhook_id, webhooks.c.organization_id == organization_id
        )
    ).first()
    if row is None:
        raise NotFoundError(f"webhook {webhook_id} not found")
    return _webhook(row)


def list_webhooks(conn: Connection, organization_id: int) -> list[Webhook]:
    rows = conn.execute(
        select(webhooks)
        .where(webhooks.c.organization_id == organization_id)
        .order_by(webhooks.c.id)
    )
    return [_webhook(r) for r in rows]


def delete_webhook(conn: Connection, organization_id: int, webhook_id: int) -> None:
    """Delete a subscription and (by cascade) its deliveries."""
    result = conn.execute(
        delete(webhooks).where(
            webhooks.c.id == webhook_id, webhooks.c.organization_id == organization_id
        )
    )
    if result.rowcount == 0:
        raise NotFoundError(f"webhook {webhook_id} not found")


def update_webhook_secret(
    conn: Connection, organization_id: int, webhook_id: int, secret: str
) -> None:
    result = conn.execute(
        update(webhooks)
        .where(webhooks.c.id == webhook_id, webhooks.c.organization_id == organization_id)
        .values(secret=secret)
    )
    if result.rowcount == 0:
        raise NotFoundError(f"webhook {webhook_id} not found")


def insert_deliveries(
    conn: Connection,
    *,
    organization_ids: Sequence[int],
    topic: str,
    payload: str,
    at: dt.datetime,
) -> int:
    """One pending delivery per active subscription of these organizations to ``topic`` (or
    to every topic), in one INSERT … SELECT; returns how many were queued."""
    matching = select(
        webhooks.c.id,
        literal(topic, String()),
        literal(payload, webhook_deliveries.c.payload.type),
        literal(DeliveryStatus.PENDING.value, String()),
        literal(0),
        literal(at, UTCDateTime()),
        literal(at, UTCDateTime()),
    ).where(
        webhooks.c.organization_id.in_(organization_ids),
        webhooks.c.is_active.is_(True),
        # topics is a JSON array of names: match the quoted name exactly.
        or_(
            webhooks.c.topics.contains(f'"{topic}"', autoescape=True),
            webhooks.c.topics.contains(f'"{ALL_TOPICS}"', autoescape=True),
        ),
    )
    columns = [
        "webhook_id",
        "topic",
        "payload",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
    ]
    # Counted through RETURNING: the driver's rowcount for INSERT … SELECT is not portable.
    queued = conn.execute(
        insert(webhook_deliveries).from_select(columns, matching).returning(webhook_deliveries.c.id)
    ).all()
    return len(queued)


def list_deliveries(
    conn: Connection,
    organization_id: int,
    webhook_id: int,
    *,
    status: DeliveryStatus | None,
    limit: int,
    offset: int,
) -> tuple[list[WebhookDelivery], int]:
    """A page of one webhook's deliveries, newest first, and how many there are in all."""
    get_webhook(conn, organization_id, webhook_id)
    where = [webhook_deliveries.c.webhook_id == webhook_id]
    if status is not None:
        where.append(webhook_deliveries.c.status == status.value)
    total = conn.execute(
        select(func.count()).select_from(webhook_deliveries).where(*where)
    ).scalar_one()
    rows = conn.execute(
        select(webhook_deliveries)
        .where(*where)
        .order_by(webhook_deliveries.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [_delivery(r) for r in rows], int(total)


def claim_due_deliveries(
    conn: Connection, *, now: dt.datetime, lease_until: dt.datetime, limit: int
) -> list[DueDelivery]:
    """Pending deliveries due by ``now`` of active webhooks, oldest first, pushed out to
    ``lease_until`` so no other worker sends them meanwhile (a crash mid-send retries them
    once the lease runs out)."""
    rows = conn.execute(
        select(webhook_deliveries, webhooks.c.url, webhooks.c.secret)
        .join(webhooks, webhooks.c.id == webhook_deliveries.c.webhook_id)
        .where(
            webhook_deliveries.c.status == DeliveryStatus.PENDING.value,
            webhook_deliveries.c.next_attempt_at <= now,
            webhooks.c.is_active.is_(True),
        )
        .order_by(webhook_deliveries.c.next_attempt_at, webhook_deliveries.c.id)
        .limit(limit)
        # PostgreSQL: two workers never claim the same rows. SQLite: BEGIN IMMEDIATE already
        # serializes writers, and the clause is not rendered.
        .with_for_update(of=webhook_deliveries, skip_locked=True)
    ).all()
    if rows:
        conn.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.id.in_([r.id for r in rows]))
            .values(next_attempt_at=lease_until)
        )
    return [DueDelivery(delivery=_delivery(r), url=r.url, secret=r.secret) for r in rows]


def record_attempt(
    conn: Connection,
    delivery_id: int,
    *,
    status: DeliveryStatus,
    attempts: int,
    next_attempt_at: dt.datetime,
    status_code: int | None,
    error: str | None,
    delivered_at: dt.datetime | None,
) -> bool:
    """Store the outcome of one attempt; False if the delivery is no longer pending."""
    result = conn.execute(
        update(webhook_deliveries)
        .where(
            webhook_deliveries.c.id == delivery_id,
            webhook_deliveries.c.status == DeliveryStatus.PENDING.value,
        )
        .values(
            status=status.value,
            attempts=attempts,
            next_attempt_at=next_attempt_at,
            last_status_code=status_code,
            last_error=error,
            delivered_at=delivered_at,
        )
    )
    return bool(result.rowcount)
