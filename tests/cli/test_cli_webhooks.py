"""``unitrace webhooks``: add, list, remove, and a delivery pass to a real endpoint."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.cli.conftest import BRAND, Unitrace, ok
from tests.factories import make_org
from unitrace.domain.model import Principal
from unitrace.services import webhooks
from unitrace.services.runtime import Runtime


@pytest.fixture
def endpoint() -> Iterator[tuple[str, list[bytes]]]:
    bodies: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/h", bodies
    server.shutdown()
    server.server_close()


HTTP = {"UNITRACE_WEBHOOK_ALLOW_HTTP": "true"}


def test_webhooks_add_prints_the_secret_once_and_list_never_does(
    unitrace: Unitrace, brand: Principal
) -> None:
    added = ok(
        unitrace(
            "webhooks",
            "add",
            "https://erp.example.com/h",
            "--org",
            BRAND,
            "--topic",
            "shipment.shipped",
            "--topic",
            "sale.refused",
            "--json",
        )
    )
    record = json.loads(added.stdout)
    assert record["secret"].startswith("whsec_")
    assert record["topics"] == ["sale.refused", "shipment.shipped"]

    listed = json.loads(ok(unitrace("webhooks", "list", "--org", BRAND, "--json")).stdout)

    assert [w["id"] for w in listed] == [record["id"]]
    assert record["secret"] not in json.dumps(listed)
    assert "https://erp.example.com/h" in ok(unitrace("webhooks", "list", "--org", BRAND)).stdout


def test_webhooks_add_refuses_plain_http_unless_allowed(
    unitrace: Unitrace, brand: Principal
) -> None:
    refused = unitrace("webhooks", "add", "http://127.0.0.1:9/h", "--org", BRAND, "--topic", "*")
    assert refused.exit_code == 1
    assert "https" in refused.stderr
    ok(
        unitrace(
            "webhooks", "add", "http://127.0.0.1:9/h", "--org", BRAND, "--topic", "*", env=HTTP
        )
    )


def test_webhooks_remove_of_another_organizations_webhook_is_not_found(
    unitrace: Unitrace, rt: Runtime, brand: Principal
) -> None:
    other = make_org(rt, name="Other Farms")
    theirs = webhooks.create_webhook(rt, other, url="https://o.example/h", topics=["*"]).webhook

    refused = unitrace("webhooks", "remove", str(theirs.id), "--org", BRAND)

    assert refused.exit_code == 1
    assert f"webhook {theirs.id} not found" in refused.stderr
    removed = ok(unitrace("webhooks", "remove", str(theirs.id), "--org", "Other Farms"))
    assert f"Webhook {theirs.id} removed." in removed.stdout


def test_webhooks_deliver_sends_due_deliveries_now(
    unitrace: Unitrace, rt: Runtime, brand: Principal, endpoint: tuple[str, list[bytes]]
) -> None:
    url, bodies = endpoint
    ok(unitrace("webhooks", "add", url, "--org", BRAND, "--topic", "*", env=HTTP))
    with rt.db.transaction() as conn:
        webhooks.enqueue(
            conn,
            organization_ids=[brand.organization_id],
            topic="shipment.received",
            payload={"shipment_id": 3},
            at=dt.datetime.now(dt.UTC),  # the CLI runs on the system clock
        )

    result = ok(unitrace("webhooks", "deliver", "--json"))

    assert json.loads(result.stdout) == {"attempted": 1, "delivered": 1, "retrying": 0, "failed": 0}
    assert [json.loads(b)["data"] for b in bodies] == [{"shipment_id": 3}]
    assert "0 attempted" in ok(unitrace("webhooks", "deliver", "--limit", "5")).stdout
