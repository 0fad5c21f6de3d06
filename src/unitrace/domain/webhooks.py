"""Webhooks: topics, the signature scheme, the retry schedule and endpoint rules.

A delivery is a POST of a JSON envelope. Its ``Unitrace-Signature`` header is
``t=<unix seconds>,v1=<hex HMAC-SHA256>`` over ``f"{t}.{body}"`` with the subscription's
secret (the scheme Stripe uses), so a receiver can check both origin and freshness.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from unitrace.errors import ValidationError


class WebhookTopic(StrEnum):
    """What a notification is about."""

    SHIPMENT_SHIPPED = "shipment.shipped"
    SHIPMENT_RECEIVED = "shipment.received"
    SHIPMENT_VOIDED = "shipment.voided"
    SALE_REFUSED = "sale.refused"  # a sale attempt on a recalled (or otherwise unsellable) unit
    RECALL_ACTIVATED = "recall.activated"


ALL_TOPICS = "*"  # a subscription to every topic, present and future


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


SIGNATURE_HEADER = "Unitrace-Signature"
TOPIC_HEADER = "Unitrace-Topic"
DELIVERY_HEADER = "Unitrace-Delivery"
SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of generated secrets, not a secret
MAX_URL_LENGTH = 2000
SIGNATURE_TOLERANCE_SECONDS = 300

# Retries after a failed attempt: 30 s, 1 min, 2 min, … doubling up to six hours.
BACKOFF_BASE = dt.timedelta(seconds=30)
BACKOFF_CAP = dt.timedelta(hours=6)


@dataclass(frozen=True)
class Webhook:
    """An HTTPS endpoint of an organization and the topics it wants."""

    id: int
    organization_id: int
    url: str
    topics: tuple[str, ...]
    is_active: bool
    description: str
    created_at: dt.datetime


@dataclass(frozen=True)
class WebhookDelivery:
    """One notification to one endpoint, and what became of it so far."""

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


def signature(secret: str, body: str | bytes, timestamp: int) -> str:
    """The ``Unitrace-Signature`` header value for ``body`` sent at ``timestamp``."""
    text = body.decode() if isinstance(body, bytes) else body
    digest = hmac.new(secret.encode(), f"{timestamp}.{text}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify_signature(
    secret: str,
    body: str | bytes,
    header: str,
    *,
    now: int,
    tolerance: int = SIGNATURE_TOLERANCE_SECONDS,
) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` within ``tolerance`` seconds of ``now``.

    What a receiver does; any ``v1`` entry may match (several appear while a secret rotates).
    """
    parts = [p.partition("=") for p in header.split(",")]
    stamps = [v for k, _, v in parts if k.strip() == "t"]
    if len(stamps) != 1 or not stamps[0].strip().isdigit():
        return False
    timestamp = int(stamps[0])
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, body, timestamp).partition(",v1=")[2]
    return any(k.strip() == "v1" and hmac.compare_digest(v.strip(), expected) for k, _, v in parts)


def backoff(attempts: int) -> dt.timedelta:
    """How long to wait before the next try, after ``attempts`` (≥ 1) failed tries."""
    if attempts < 1:
        raise ValueError("backoff follows at least one attempt")
    # Capped exponent first: 2**attempts itself would overflow timedelta for large counts.
    delay: dt.timedelta = BACKOFF_BASE * 2 ** min(attempts - 1, 20)
    return min(delay, BACKOFF_CAP)


def clean_topics(topics: Iterable[str]) -> tuple[str, ...]:
    """Known topics (or ``*``), each once, sorted; at least one."""
    cleaned = {t.strip() for t in topics}
    known = {str(t) for t in WebhookTopic} | {ALL_TOPICS}
    unknown = sorted(cleaned - known)
    if unknown:
        raise ValidationError(
            f"unknown webhook topic {', '.join(unknown)}; use {', '.join(sorted(known))}",
            details=[{"field": "topics", "message": f"unknown: {t}"} for t in unknown],
        )
    if not cleaned:
        raise ValidationError(
            "a webhook needs at least one topic",
            details=[{"field": "topics", "message": "at least one topic is required"}],
        )
    return tuple(sorted(cleaned))


def _url_problem(url: str, *, allow_http: bool) -> str | None:
    if len(url) > MAX_URL_LENGTH:
        return f"a webhook URL has at most {MAX_URL_LENGTH} characters"
    if any(c.isspace() or ord(c) < 32 for c in url):
        return "a webhook URL cannot contain spaces or control characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return "the webhook URL is malformed"
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme.lower() not in schemes:
        return "a webhook URL must start with https://"
    if parts.username is not None or parts.password is not None:
        return "a webhook URL cannot contain credentials (user:password@)"
    if not parts.hostname:
        return "a webhook URL needs a host"
    if parts.fragment:
        return "a webhook URL cannot have a #fragment"
    return None


def clean_url(url: str, *, allow_http: bool = False) -> str:
    """``url`` stripped, if it is an acceptable endpoint: HTTPS (HTTP only when allowed),
    a host, no credentials, no fragment."""
    url = url.strip()
    problem = _url_problem(url, allow_http=allow_http)
    if problem:
        raise ValidationError(problem, details=[{"field": "url", "message": problem}])
    return url


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, StrEnum):
        return value.value
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def encode_json(value: Mapping[str, Any]) -> str:
    """Compact, key-sorted JSON: dates as ISO 8601, decimals as strings."""
    return json.dumps(
        value, default=_json_default, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def envelope(delivery: WebhookDelivery) -> str:
    """The body POSTed for ``delivery``: its id, topic, creation time and the event data."""
    return encode_json(
        {
            "id": delivery.id,
            "topic": delivery.topic,
            "created_at": delivery.created_at.astimezone(dt.UTC).isoformat(),
            "data": delivery.payload,
        }
    )
