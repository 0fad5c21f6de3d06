"""Webhooks end to end: the outbox, real HTTP deliveries, signatures, retries, tenancy."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from tests.conftest import NOW
from tests.factories import make_org
from unitrace.adapters.clock import FixedClock
from unitrace.adapters.files import FileStore
from unitrace.config import Settings
from unitrace.domain.model import Principal, Role
from unitrace.domain.webhooks import DeliveryStatus, WebhookTopic, backoff, verify_signature
from unitrace.errors import NotFoundError, PermissionDeniedError, ValidationError
from unitrace.services import webhooks
from unitrace.services.runtime import Runtime
from unitrace.storage.engine import Database
from unitrace.storage.schema import webhook_deliveries


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A real HTTP endpoint on 127.0.0.1 answering ``status`` and keeping every request."""

    status: int = 200
    requests: list[Received] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append(Received(self.path, dict(self.headers.items()), body))
            self.send_response(state.status)
            if 300 <= state.status < 400:
                self.send_header("Location", "http://127.0.0.2:1/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def wrt(app_settings: Settings, clock: FixedClock) -> Iterator[Runtime]:
    """A runtime that accepts http:// endpoints (the receiver has no TLS), 3 attempts at most."""
    settings = app_settings.model_copy(
        update={"webhook_allow_http": True, "webhook_max_attempts": 3, "webhook_timeout_seconds": 5}
    )
    runtime = Runtime(
        settings=settings,
        db=Database.from_url(settings.sqlalchemy_url),
        files=FileStore(settings.data_dir / "files"),
        clock=clock,
    )
    yield runtime
    runtime.close()


@pytest.fixture
def brand(wrt: Runtime) -> Principal:
    return make_org(wrt, name="Sunrise Farms")


@pytest.fixture
def other(wrt: Runtime) -> Principal:
    return make_org(wrt, name="Moonrise Cannabis")


def _enqueue(rt: Runtime, org: Principal, topic: str = "shipment.shipped") -> int:
    with rt.db.transaction() as conn:
        return webhooks.enqueue(
            conn,
            organization_ids=[org.organization_id],
            topic=topic,
            payload={"shipment_id": 7, "shipped_at": NOW},
            at=rt.clock(),
        )


def _count_deliveries(rt: Runtime) -> int:
    with rt.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(webhook_deliveries)).scalar_one())


def test_a_delivery_reaches_a_real_endpoint_signed_with_the_secret_shown_at_creation(
    wrt: Runtime, brand: Principal, receiver: Receiver, clock: FixedClock
) -> None:
    new = webhooks.create_webhook(wrt, brand, url=receiver.url, topics=["shipment.shipped"])
    assert _enqueue(wrt, brand) == 1

    stats = webhooks.deliver_due(wrt)

    assert stats == webhooks.DeliveryStats(attempted=1, delivered=1)
    [request] = receiver.requests
    assert request.path == "/hooks"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Unitrace-Topic"] == "shipment.shipped"
    now = int(clock().timestamp())
    assert verify_signature(
        new.secret, request.body, request.headers["Unitrace-Signature"], now=now
    )
    assert not verify_signature(
        "whsec_wrong", request.body, request.headers["Unitrace-Signature"], now=now
    )
    body = json.loads(request.body)
    assert body["topic"] == "shipment.shipped"
    assert body["data"] == {"shipment_id": 7, "shipped_at": NOW.isoformat()}
    assert request.headers["Unitrace-Delivery"] == str(body["id"])
    [delivery], total = webhooks.list_deliveries(wrt, brand, webhook_id=new.webhook.id)
    assert total == 1
    assert delivery.status is DeliveryStatus.DELIVERED
    assert (delivery.attempts, delivery.last_status_code, delivery.delivered_at) == (1, 200, NOW)
    assert webhooks.deliver_due(wrt).attempted == 0  # delivered once, never again


def test_a_failing_endpoint_is_retried_with_backoff_then_marked_failed(
    wrt: Runtime, brand: Principal, receiver: Receiver, clock: FixedClock
) -> None:
    receiver.status = 500
    hook = webhooks.create_webhook(wrt, brand, url=receiver.url, topics=["*"]).webhook
    _enqueue(wrt, brand)

    assert webhooks.deliver_due(wrt) == webhooks.DeliveryStats(attempted=1, retrying=1)
    [delivery], _ = webhooks.list_deliveries(wrt, brand, webhook_id=hook.id)
    assert delivery.status is DeliveryStatus.PENDING
    assert delivery.next_attempt_at == NOW + backoff(1)
    assert (delivery.last_status_code, delivery.last_error) == (500, "HTTP 500")

    clock.advance(seconds=backoff(1).total_seconds() - 1)
    assert webhooks.deliver_due(wrt).attempted == 0  # not due yet
    clock.advance(seconds=1)
    assert webhooks.deliver_due(wrt).retrying == 1
    clock.advance(seconds=backoff(2).total_seconds())
    assert webhooks.deliver_due(wrt) == webhooks.DeliveryStats(attempted=1, failed=1)

    assert len(receiver.requests) == 3  # webhook_max_attempts
    [delivery], _ = webhooks.list_deliveries(wrt, brand, webhook_id=hook.id)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 3)
    clock.advance(days=1)
    assert webhooks.deliver_due(wrt).attempted == 0


def test_an_unreachable_endpoint_records_the_transport_error(
    wrt: Runtime, brand: Principal
) -> None:
    with socket.socket() as probe:  # a port nothing listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    hook = webhooks.create_webhook(wrt, brand, url=f"http://127.0.0.1:{port}/h", topics=["*"])
    _enqueue(wrt, brand)

    assert webhooks.deliver_due(wrt).retrying == 1

    [delivery], _ = webhooks.list_deliveries(wrt, brand, webhook_id=hook.webhook.id)
    assert delivery.last_status_code is None
    assert delivery.last_error
    assert "refused" in delivery.last_error.lower()
    assert delivery.attempts == 1


def test_a_redirect_is_not_followed_and_counts_as_a_failure(
    wrt: Runtime, brand: Principal, receiver: Receiver
) -> None:
    receiver.status = 307
    hook = webhooks.create_webhook(wrt, brand, url=receiver.url, topics=["*"]).webhook
    _enqueue(wrt, brand)

    assert webhooks.deliver_due(wrt).retrying == 1

    assert len(receiver.requests) == 1
    [delivery], _ = webhooks.list_deliveries(wrt, brand, webhook_id=hook.id)
    assert delivery.last_status_code == 307


def test_an_enqueue_in_a_transaction_that_rolls_back_leaves_no_delivery(
    wrt: Runtime, brand: Principal, receiver: Receiver
) -> None:
    webhooks.create_webhook(wrt, brand, url=receiver.url, topics=["*"])

    queued: list[int] = []

    def sell_then_fail() -> None:
        with wrt.db.transaction() as conn:
            queued.append(
                webhooks.enqueue(
                    conn,
                    organization_ids=[brand.organization_id],
                    topic=WebhookTopic.SALE_REFUSED,
                    payload={"code": "X"},
                    at=NOW,
                )
            )
            raise RuntimeError("the sale failed after all")

    with pytest.raises(RuntimeError):
        sell_then_fail()

    assert queued == [1]
    assert _count_deliveries(wrt) == 0
    assert webhooks.deliver_due(wrt).attempted == 0
    assert receiver.requests == []


def test_enqueue_reaches_only_active_subscriptions_of_the_named_organizations_and_topic(
    wrt: Runtime, brand: Principal, other: Principal, receiver: Receiver
) -> None:
    third = make_org(wrt, name="Third Leaf")
    webhooks.create_webhook(wrt, brand, url=receiver.url, topics=["shipment.shipped"])
    webhooks.create_webhook(wrt, brand, url=receiver.url, topics=["sale.refused"])
    webhooks.create_webhook(wrt, other, url=receiver.url, topics=["*"])
    webhooks.create_webhook(wrt, third, url=receiver.url, topics=["*"])

    with wrt.db.transaction() as conn:
        queued = webhooks.enqueue(
            conn,
            organization_ids=[brand.organization_id, other.organization_id],
            topic="shipment.shipped",
            payload={},
            at=NOW,
        )
        nobody = webhooks.enqueue(
            conn, organization_ids=[], topic="sale.refused", payload={}, at=NOW
        )

    assert (queued, nobody) == (2, 0)
    assert _count_deliveries(wrt) == 2


def test_enqueue_refuses_an_unknown_topic(wrt: Runtime, brand: Principal) -> None:
    with pytest.raises(ValueError, match=r"shipment\.lost"), wrt.db.transaction() as conn:
        webhooks.enqueue(
            conn,
            organization_ids=[brand.organization_id],
            topic="shipment.lost",
            payload={},
            at=NOW,
        )


def test_another_organization_cannot_see_or_remove_a_webhook(
    wrt: Runtime, brand: Principal, other: Principal, receiver: Receiver
) -> None:
    hook = webhooks.create_webhook(wrt, brand, url=receiver.url, topics=["*"]).webhook

    assert webhooks.list_webhooks(wrt, other) == []
    for action in (
        lambda: webhooks.get_webhook(wrt, other, webhook_id=hook.id),
        lambda: webhooks.delete_webhook(wrt, other, webhook_id=hook.id),
        lambda: webhooks.rotate_webhook_secret(wrt, other, webhook_id=hook.id),
        lambda: webhooks.list_deliveries(wrt, other, webhook_id=hook.id),
    ):
        with pytest.raises(NotFoundError, match=f"webhook {hook.id} not found"):
            action()
    assert webhooks.list_webhooks(wrt, brand) == [hook]


def test_only_an_admin_manages_webhooks(wrt: Runtime, brand: Principal) -> None:
    operator = Principal(organization_id=brand.organization_id, role=Role.OPERATOR)
    with pytest.raises(PermissionDeniedError):
        webhooks.create_webhook(wrt, operator, url="https://erp.example.com/h", topics=["*"])
    with pytest.raises(PermissionDeniedError):
        webhooks.list_webhooks(wrt, operator)


def test_removing_a_webhook_drops_its_pending_deliveries(
    wrt: Runtime, brand: Principal, receiver: Receiver
) -> None:
    hook = webhooks.create_webhook(wrt, brand, url=receiver.url, topics=["*"]).webhook
    _enqueue(wrt, brand)

    webhooks.delete_webhook(wrt, brand, webhook_id=hook.id)

    assert _count_deliveries(wrt) == 0
    assert webhooks.list_webhooks(wrt, brand) == []
    with pytest.raises(NotFoundError):
        webhooks.delete_webhook(wrt, brand, webhook_id=hook.id)


def test_a_rotated_secret_signs_later_deliveries(
    wrt: Runtime, brand: Principal, receiver: Receiver, clock: FixedClock
) -> None:
    old = webhooks.create_webhook(wrt, brand, url=receiver.url, topics=["*"])
    new = webhooks.rotate_webhook_secret(wrt, brand, webhook_id=old.webhook.id)
    _enqueue(wrt, brand)

    webhooks.deliver_due(wrt)

    [request] = receiver.requests
    header, now = request.headers["Unitrace-Signature"], int(clock().timestamp())
    assert new.secret != old.secret
    assert verify_signature(new.secret, request.body, header, now=now)
    assert not verify_signature(old.secret, request.body, header, now=now)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://erp.example.com/hook", "https"),
        ("ftp://erp.example.com/hook", "https"),
        ("https://user:pw@erp.example.com/hook", "credentials"),
        ("https://token@erp.example.com/hook", "credentials"),
        ("https:///hook", "host"),
        ("https://erp.example.com/hook#frag", "fragment"),
        ("https://erp.example.com/a b", "spaces"),
    ],
)
def test_unacceptable_urls_are_refused(rt: Runtime, url: str, message: str) -> None:
    brand = make_org(rt)
    with pytest.raises(ValidationError, match=message):
        webhooks.create_webhook(rt, brand, url=url, topics=["*"])
    assert webhooks.list_webhooks(rt, brand) == []


def test_http_urls_are_accepted_only_when_the_setting_allows_them(
    rt: Runtime, wrt: Runtime
) -> None:
    org = make_org(rt)
    with pytest.raises(ValidationError, match="https"):
        webhooks.create_webhook(rt, org, url="http://127.0.0.1:9/h", topics=["*"])
    created = webhooks.create_webhook(wrt, org, url=" http://127.0.0.1:9/h ", topics=["*"])
    assert created.webhook.url == "http://127.0.0.1:9/h"
    assert created.secret.startswith("whsec_")


def test_unknown_topics_are_refused(wrt: Runtime, brand: Principal) -> None:
    with pytest.raises(ValidationError, match=r"shipment\.lost"):
        webhooks.create_webhook(wrt, brand, url="https://a.example/h", topics=["shipment.lost"])
    with pytest.raises(ValidationError, match="at least one topic"):
        webhooks.create_webhook(wrt, brand, url="https://a.example/h", topics=[])


def test_the_delivery_loop_sends_in_the_background_and_stops(
    wrt: Runtime, brand: Principal, receiver: Receiver
) -> None:
    webhooks.create_webhook(wrt, brand, url=receiver.url, topics=["*"])
    _enqueue(wrt, brand)

    loop = webhooks.start_delivery_loop(wrt, interval=0.05)
    try:
        deadline = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=10)
        while not receiver.requests and dt.datetime.now(dt.UTC) < deadline:
            threading.Event().wait(0.02)
    finally:
        loop.stop(timeout=10)

    assert len(receiver.requests) == 1
