"""Webhooks: subscriptions, the transactional outbox, and delivery with retries.

Supply-chain services call :func:`enqueue` inside their own transaction, so a notification
exists if and only if the change it reports was committed. :func:`deliver_due` (run every
few seconds by ``unitrace serve``, or once by ``unitrace webhooks deliver``) claims due
deliveries, POSTs them signed, and records each outcome; failures are retried with
exponential backoff up to ``webhook_max_attempts`` and then marked failed.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from unitrace.adapters.webhook_http import (
    HttpWebhookSender,
    WebhookRequest,
    WebhookSender,
    WebhookTransportError,
)
from unitrace.domain.model import Principal, Role
from unitrace.domain.webhooks import (
    DELIVERY_HEADER,
    SECRET_PREFIX,
    SIGNATURE_HEADER,
    TOPIC_HEADER,
    DeliveryStatus,
    Webhook,
    WebhookDelivery,
    WebhookTopic,
    backoff,
    clean_topics,
    clean_url,
    encode_json,
    envelope,
    signature,
)
from unitrace.errors import ValidationError
from unitrace.services.access import require
from unitrace.services.runtime import Runtime
from unitrace.storage import webhooks as store

log = logging.getLogger(__name__)

MAX_DESCRIPTION = 500
MAX_ERROR = 500
DELIVERY_INTERVAL_SECONDS = 5.0


@dataclass(frozen=True)
class NewWebhook:
    webhook: Webhook
    secret: str  # shown at creation and rotation only


@dataclass(frozen=True)
class DeliveryStats:
    """What one :func:`deliver_due` pass did."""

    attempted: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0


def _new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def create_webhook(
    rt: Runtime,
    principal: Principal,
    *,
    url: str,
    topics: Iterable[str],
    description: str = "",
) -> NewWebhook:
    """Subscribe ``url`` to ``topics`` (``*`` for all). The signing secret is returned only
    now (and by :func:`rotate_webhook_secret`)."""
    require(principal, Role.ADMIN)
    url = clean_url(url, allow_http=rt.settings.webhook_allow_http)
    cleaned_topics = clean_topics(topics)
    description = description.strip()
    if len(description) > MAX_DESCRIPTION:
        raise ValidationError(f"a description has at most {MAX_DESCRIPTION} characters")
    secret = _new_secret()
    with rt.db.transaction() as conn:
        webhook_id = store.insert_webhook(
            conn,
            organization_id=principal.organization_id,
            url=url,
            secret=secret,
            topics=cleaned_topics,
            description=description,
            created_at=rt.clock(),
        )
        webhook = store.get_webhook(conn, principal.organization_id, webhook_id)
    return NewWebhook(webhook=webhook, secret=secret)


def list_webhooks(rt: Runtime, principal: Principal) -> list[Webhook]:
    require(principal, Role.ADMIN)
    with rt.db.read() as conn:
        return store.list_webhooks(conn, principal.organization_id)


def get_webhook(rt: Runtime, principal: Principal, *, webhook_id: int) -> Webhook:
    require(principal, Role.ADMIN)
    with rt.db.read() as conn:
        return store.get_webhook(conn, principal.organization_id, webhook_id)


def delete_webhook(rt: Runtime, principal: Principal, *, webhook_id: int) -> None:
    """Remove a subscription and its delivery history; pending deliveries are dropped."""
    require(principal, Role.ADMIN)
    with rt.db.transaction() as conn:
        store.delete_webhook(conn, principal.organization_id, webhook_id)


def rotate_webhook_secret(rt: Runtime, principal: Principal, *, webhook_id: int) -> NewWebhook:
    """Replace the signing secret; deliveries from now on are signed with the new one."""
    require(principal, Role.ADMIN)
    secret = _new_secret()
    with rt.db.transaction() as conn:
        store.update_webhook_secret(conn, principal.organization_id, webhook_id, secret)
        webhook = store.get_webhook(conn, principal.organization_id, webhook_id)
    return NewWebhook(webhook=webhook, secret=secret)


def list_deliveries(
    rt: Runtime,
    principal: Principal,
    *,
    webhook_id: int,
    status: DeliveryStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[WebhookDelivery], int]:
    """A page of one webhook's deliveries, newest first, and the total count."""
    require(principal, Role.ADMIN)
    with rt.db.read() as conn:
        return store.list_deliveries(
            conn, principal.organization_id, webhook_id, status=status, limit=limit, offset=offset
        )


def enqueue(
    conn: Connection,
    *,
    organization_ids: Iterable[int],
    topic: str,
    payload: Mapping[str, Any],
    at: dt.datetime,
) -> int:
    """Queue ``payload`` on ``topic`` for every active subscription of these organizations
    (to that topic or to ``*``), in the caller's transaction ``conn``; returns rows queued.

    ``payload`` must be JSON-serializable (datetimes, dates and decimals are converted).
    """
    topic = WebhookTopic(topic).value  # ValueError on an unknown topic: a programming error
    ids = sorted(set(organization_ids))
    if not ids:
        return 0
    return store.insert_deliveries(
        conn, organization_ids=ids, topic=topic, payload=encode_json(payload), at=at
    )


def _request_for(due: store.DueDelivery, now: dt.datetime) -> WebhookRequest:
    body = envelope(due.delivery)
    return WebhookRequest(
        url=due.url,
        body=body.encode(),
        headers={
            SIGNATURE_HEADER: signature(due.secret, body, int(now.timestamp())),
            TOPIC_HEADER: due.delivery.topic,
            DELIVERY_HEADER: str(due.delivery.id),
        },
    )


def _attempt(
    send: WebhookSender, due: store.DueDelivery, now: dt.datetime
) -> tuple[int | None, str | None]:
    """(status code, error) of one POST; the error is None on a 2xx answer."""
    try:
        code = send(_request_for(due, now))
    except WebhookTransportError as exc:
        return None, str(exc)[:MAX_ERROR]
    return code, None if 200 <= code < 300 else f"HTTP {code}"


def _record(
    rt: Runtime, due: store.DueDelivery, code: int | None, error: str | None
) -> DeliveryStatus:
    now = rt.clock()
    attempts = due.delivery.attempts + 1
    if error is None:
        status = DeliveryStatus.DELIVERED
    elif attempts >= rt.settings.webhook_max_attempts:
        status = DeliveryStatus.FAILED
    else:
        status = DeliveryStatus.PENDING
    with rt.db.transaction() as conn:
        store.record_attempt(
            conn,
            due.delivery.id,
            status=status,
            attempts=attempts,
            next_attempt_at=now + backoff(attempts) if status is DeliveryStatus.PENDING else now,
            status_code=code,
            error=error,
            delivered_at=now if status is DeliveryStatus.DELIVERED else None,
        )
    return status


def deliver_due(
    rt: Runtime, *, limit: int = 100, send: WebhookSender | None = None
) -> DeliveryStats:
    """Send up to ``limit`` due deliveries once each and record what happened."""
    sender = send or HttpWebhookSender(timeout=rt.settings.webhook_timeout_seconds)
    now = rt.clock()
    # The lease outlasts every POST of this pass, so no other worker picks these up meanwhile.
    lease = dt.timedelta(seconds=rt.settings.webhook_timeout_seconds * limit + 60)
    with rt.db.transaction() as conn:
        claimed = store.claim_due_deliveries(conn, now=now, lease_until=now + lease, limit=limit)
    counts = dict.fromkeys(DeliveryStatus, 0)
    for due in claimed:
        code, error = _attempt(sender, due, rt.clock())
        counts[_record(rt, due, code, error)] += 1
    return DeliveryStats(
        attempted=len(claimed),
        delivered=counts[DeliveryStatus.DELIVERED],
        retrying=counts[DeliveryStatus.PENDING],
        failed=counts[DeliveryStatus.FAILED],
    )


class DeliveryLoop:
    """A daemon thread calling :func:`deliver_due` every ``interval`` seconds until stopped."""

    def __init__(self, rt: Runtime, *, interval: float = DELIVERY_INTERVAL_SECONDS) -> None:
        self._rt = rt
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="unitrace-webhooks", daemon=True)

    def start(self) -> DeliveryLoop:
        self._thread.start()
        return self

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                deliver_due(self._rt)
            except Exception:  # the loop outlives a database hiccup; the next pass retries
                log.exception("webhook delivery pass failed")
            self._stop.wait(self._interval)


def start_delivery_loop(
    rt: Runtime, *, interval: float = DELIVERY_INTERVAL_SECONDS
) -> DeliveryLoop:
    """Start delivering webhooks in the background (what ``unitrace serve`` does)."""
    return DeliveryLoop(rt, interval=interval).start()
