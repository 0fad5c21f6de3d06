"""The public resolver and the pages under a code, served by a real uvicorn server (with
its lifespan: the scan log's writer) and called over HTTP with httpx.

The server trusts ``X-Forwarded-For`` from 127.0.0.1, as behind a proxy: each request
names its client address there, so one test can act as many distinct clients.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select

from tests.factories import make_batch, make_location, make_org, make_product
from unitrace.domain.codes import ALPHABET, format_code, generate_code
from unitrace.domain.gs1 import gtin_check_digit
from unitrace.domain.model import Batch, OrganizationKind, Principal
from unitrace.services import (
    catalog,
    organizations,
    retail,
    serialization,
    shipments,
    support,
)
from unitrace.services.runtime import Runtime
from unitrace.storage.schema import public_scans
from unitrace.web.app import create_app

BASE = "https://id.example.test"  # the resolver_base_url of the test settings
GTIN = "09506000134352"
OTHER_GTIN = "0950600013436" + gtin_check_digit("0950600013436")
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
JSON = {"Accept": "application/json"}
BROWSER = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1",
}
RECORD_KEYS = {
    "code",
    "verdict",
    "reason",
    "headline",
    "message",
    "checked_at",
    "product",
    "brand",
    "batch",
    "sale",
    "recall",
    "links",
    "weak_serial",
}
INTERNAL_KEYS = {"id", "unit_id", "organization_id", "batch_id"}
GENEROUS = {
    "public_burst": 1000,
    "public_requests_per_minute": 1000,
    "public_misses_per_hour": 1000,
    "public_forms_per_hour": 1000,
}


# ---------------------------------------------------------------------------------------
# The server


@dataclass
class Live:
    url: str
    server: uvicorn.Server
    thread: threading.Thread
    sock: socket.socket

    def stop(self) -> None:
        """Stop the server, running its lifespan shutdown (the scan log's last flush)."""
        if not self.thread.is_alive():
            return
        self.server.should_exit = True
        self.thread.join(30)
        self.sock.close()
        assert not self.thread.is_alive(), "uvicorn did not stop"

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, follow_redirects=False)


def with_settings(rt: Runtime, **changes: Any) -> Runtime:
    """The same database and files as ``rt``, other settings, caches of its own."""
    return Runtime(
        settings=rt.settings.model_copy(update=changes),
        db=rt.db,
        files=rt.files,
        clock=rt.clock,
    )


@contextmanager
def serve(rt: Runtime) -> Iterator[Live]:
    """Serve ``create_app(runtime=rt)`` from a background thread, lifespan included."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        create_app(runtime=rt),
        lifespan="on",
        ws="none",
        log_level="warning",
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    live = Live(f"http://127.0.0.1:{sock.getsockname()[1]}", server, thread, sock)
    try:
        for _ in range(1000):
            if server.started or not thread.is_alive():
                break
            thread.join(0.01)
        assert server.started, "uvicorn did not start"
        yield live
    finally:
        live.stop()


def client_at(address: str, headers: dict[str, str] | None = None) -> dict[str, str]:
    return {"X-Forwarded-For": address, **(headers or {})}


# ---------------------------------------------------------------------------------------
# The data


@dataclass(frozen=True)
class World:
    brand: Principal
    batch: Batch  # GTIN, lot, a COA
    codes: list[str]  # codes[0] sold at a store, codes[1:] on its shelves
    plain: str  # a unit of the brand's other product (OTHER_GTIN), whose batch has no COA

    @property
    def sold(self) -> str:
        return self.codes[0]

    @property
    def unit(self) -> str:
        return self.codes[1]

    @property
    def lot(self) -> str:
        return self.batch.lot_number


def commission(rt: Runtime, brand: Principal, batch: Batch, quantity: int) -> list[str]:
    done = serialization.commission_units(rt, brand, batch_id=batch.id, quantity=quantity)
    return sorted(serialization.iter_commissioned_codes(rt, brand, event_id=done.event_id))


@pytest.fixture
def world(rt: Runtime) -> World:
    brand = make_org(rt, name="Sunrise Farms")
    retailer = make_org(rt, kind=OrganizationKind.RETAILER)
    store = make_location(rt, retailer)
    batch = make_batch(rt, brand, make_product(rt, brand, gtin=GTIN))
    catalog.attach_coa(
        rt, brand, batch_id=batch.id, filename="coa.pdf", content_type="application/pdf",
        content=PDF,
    )  # fmt: skip
    codes = commission(rt, brand, batch, 4)
    shipment = shipments.create_shipment(
        rt, brand, destination_organization_id=retailer.organization_id,
        destination_location_id=store, items=codes,
    )  # fmt: skip
    shipments.ship(rt, brand, shipment.id)
    shipments.receive(rt, retailer, shipment.id, scans=codes)
    retail.sell(rt, retailer, location_id=store, codes=[codes[0]])
    other = make_batch(rt, brand, make_product(rt, brand, gtin=OTHER_GTIN))
    (plain,) = commission(rt, brand, other, 1)
    return World(brand, batch, codes, plain)


@pytest.fixture
def live(rt: Runtime, world: World) -> Iterator[Live]:
    """The server, with public rate limits too generous to matter."""
    with serve(with_settings(rt, **GENEROUS)) as running:
        yield running


@pytest.fixture
def http(live: Live) -> Iterator[httpx.Client]:
    with live.client() as client:
        client.headers["X-Forwarded-For"] = "203.0.113.10"
        yield client


def unknown_code() -> str:
    """A well-formed code no unit has."""
    return generate_code()


def malformed(code: str) -> str:
    """``code`` with a wrong check character."""
    wrong = next(c for c in ALPHABET if c != code[-1])
    return code[:-1] + wrong


def keys_in(data: Any) -> set[str]:
    """Every key of every object in a JSON document."""
    if isinstance(data, dict):
        return set(data) | {k for v in data.values() for k in keys_in(v)}
    if isinstance(data, list):
        return {k for v in data for k in keys_in(v)}
    return set()


# ---------------------------------------------------------------------------------------
# 1. Code forms


def test_every_form_of_a_code_answers_the_same_verdict(http: httpx.Client, world: World) -> None:
    code = world.unit
    forms = [
        code,
        code.lower(),
        format_code(code),
        format_code(code).lower(),
        f"{code}%0A",
        f"{code}/",
        f"{format_code(code)}%0A",
    ]
    links = [f"/01/{GTIN}/21/{code}", f"/01/{GTIN}/10/{world.lot}/21/{code}"]
    links += [f"/01/{GTIN}/21/{code}%0A"]

    answers = {path: http.get(path, headers=JSON) for path in [f"/{f}" for f in forms] + links}

    for path, response in answers.items():
        assert response.status_code == 200, (path, response.text)
        body = response.json()
        assert (body["code"], body["verdict"]) == (code, "authentic"), path
    sold = http.get(f"/{world.sold.lower()}", headers=JSON).json()
    assert (sold["code"], sold["verdict"]) == (world.sold, "authentic_already_sold")


def test_a_digital_link_with_another_gtin_or_lot_answers_like_an_unknown_code(
    rt: Runtime, http: httpx.Client, world: World
) -> None:
    code, stranger = world.unit, unknown_code()
    unknown = http.get(f"/{stranger}", headers=JSON)
    assert unknown.status_code == 404
    expected = unknown.json() | {"code": code}
    assert expected["verdict"] == "unknown"

    for path in (
        f"/01/{OTHER_GTIN}/21/{code}",  # a valid GTIN, of the brand's other product
        f"/01/{GTIN}/10/OTHER-LOT/21/{code}",
        f"/01/{OTHER_GTIN}/10/{world.lot}/21/{code}",
    ):
        response = http.get(path, headers=JSON)
        assert response.status_code == 404, path
        assert response.json() == expected, path
        assert list(response.json()) == list(unknown.json())
        assert response.content == unknown.content.replace(stranger.encode(), code.encode())


# ---------------------------------------------------------------------------------------
# 2. Product and batch links


def test_gtin_and_lot_links_describe_the_product_and_the_batch(
    http: httpx.Client, world: World
) -> None:
    product = http.get(f"/01/{GTIN}", headers=JSON)
    batch = http.get(f"/01/{GTIN}/10/{world.lot}", headers=JSON)
    missing_lot = http.get(f"/01/{GTIN}/10/NO-SUCH-LOT", headers=JSON)
    missing_gtin = http.get(f"/01/0950600013437{gtin_check_digit('0950600013437')}")
    page = http.get(f"/01/{GTIN}/10/{world.lot}", headers=BROWSER)

    assert product.status_code == 200
    assert product.json()["gtin"] == GTIN
    assert product.json()["brand"]["name"] == "Sunrise Farms"
    assert product.json()["batch"] is None
    assert batch.status_code == 200
    assert batch.json()["lot"] == world.lot
    assert batch.json()["batch"]["lot"] == world.lot
    assert batch.json()["batch"]["lab_status"] == "passed"
    assert batch.json()["product"] == product.json()["product"]
    assert missing_lot.status_code == 404
    assert missing_lot.json()["error"]["code"] == "not_found"
    assert missing_gtin.status_code == 404
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")


# ---------------------------------------------------------------------------------------
# 3. Content negotiation


def test_json_and_html_answers_carry_vary_no_store_and_the_linkset_link(
    rt: Runtime, http: httpx.Client, world: World
) -> None:
    code, stranger = world.unit, unknown_code()
    as_json = http.get(f"/{code}", headers=JSON)
    as_html = http.get(f"/{code}", headers=BROWSER)
    by_query = http.get(f"/{code}?format=json", headers=BROWSER)
    unknown_json = http.get(f"/{stranger}", headers=JSON)
    unknown_html = http.get(f"/{stranger}", headers=BROWSER)

    assert as_json.headers["content-type"].startswith("application/json")
    assert set(as_json.json()) == RECORD_KEYS
    assert set(unknown_json.json()) == RECORD_KEYS
    assert as_json.json()["product"]["gtin"] == GTIN
    assert as_json.json()["batch"]["lot"] == world.lot
    assert as_json.json()["brand"]["name"] == "Sunrise Farms"
    assert as_html.status_code == 200
    assert as_html.headers["content-type"].startswith("text/html")
    assert "Genuine product" in as_html.text
    assert by_query.json()["code"] == code
    assert unknown_html.status_code == 404
    assert unknown_html.headers["content-type"].startswith("text/html")
    for response, which in (
        (as_json, code),
        (as_html, code),
        (unknown_json, stranger),
        (unknown_html, stranger),
    ):
        assert response.headers["vary"] == "Accept"
        assert response.headers["cache-control"] == "no-store"
        link = response.headers["link"]
        assert link.startswith(f'<{BASE}/{which}?linkType=all>; rel="linkset"')


# ---------------------------------------------------------------------------------------
# 4. Link types


def test_the_linkset_follows_rfc_9264(http: httpx.Client, world: World) -> None:
    response = http.get(f"/{world.unit}?linkType=all")
    sold = http.get(f"/{world.sold}?linkType=all").json()["linkset"][0]

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/linkset+json")
    body = response.json()
    assert list(body) == ["linkset"]
    (entry,) = body["linkset"]
    assert entry["anchor"] == f"{BASE}/01/{GTIN}/10/{world.lot}/21/{world.unit}"
    pip = entry["https://gs1.org/voc/pip"]
    assert [link["href"] for link in pip] == [f"{BASE}/{world.unit}"]
    assert entry["https://gs1.org/voc/defaultLink"] == pip
    assert entry["https://gs1.org/voc/certificationInfo"][0]["href"] == (
        f"{BASE}/{world.unit}/coa.pdf"
    )
    assert entry["https://gs1.org/voc/epcis"][0]["href"] == f"{BASE}/{world.unit}/events"
    assert "https://gs1.org/voc/registerProduct" not in entry
    for name, links in entry.items():
        if name != "anchor":
            assert name.startswith("https://gs1.org/voc/")
            assert all(isinstance(link["href"], str) for link in links)
    assert sold["https://gs1.org/voc/registerProduct"][0]["href"] == f"{BASE}/{world.sold}/register"


def test_certification_info_redirects_to_the_coa_or_falls_back_to_the_page(
    http: httpx.Client, world: World
) -> None:
    redirect = http.get(f"/{world.unit}?linkType=gs1:certificationInfo", headers=BROWSER)
    coa = http.get(f"/{world.unit}/coa.pdf")
    fallback = http.get(f"/{world.plain}?linkType=gs1:certificationInfo", headers=BROWSER)
    fallback_json = http.get(f"/{world.plain}?linkType=gs1:certificationInfo", headers=JSON)
    no_coa = http.get(f"/{world.plain}/coa.pdf", headers=JSON)

    assert redirect.status_code == 307
    assert redirect.headers["location"] == f"{BASE}/{world.unit}/coa.pdf"
    assert coa.status_code == 200
    assert coa.headers["content-type"] == "application/pdf"
    assert coa.content == PDF
    assert fallback.status_code == 200
    assert fallback.headers["content-type"].startswith("text/html")
    assert fallback_json.json()["code"] == world.plain
    assert fallback_json.json()["batch"]["lab"]["coa"] is False
    assert no_coa.status_code == 404


def test_recall_status_epcis_and_unknown_link_types(http: httpx.Client, world: World) -> None:
    code = world.unit
    recall = http.get(f"/{code}?linkType=gs1:recallStatus")
    recall_uri = http.get(f"/{code}", params={"linkType": "https://gs1.org/voc/recallStatus"})
    epcis = http.get(f"/{code}?linkType=gs1:epcis")
    journey = http.get(f"/{code}/events", headers=JSON)
    journey_page = http.get(f"/{code}/events", headers=BROWSER)
    default = http.get(f"/{code}", headers=JSON)
    odd = http.get(f"/{code}?linkType=gs1:noSuchThing", headers=JSON)

    assert recall.status_code == 200
    assert recall.json() == {"code": code, "recalled": False, "recall": None}
    assert recall_uri.json() == recall.json()
    assert epcis.status_code == 307
    assert epcis.headers["location"] == f"{BASE}/{code}/events"
    assert journey.status_code == 200
    steps = journey.json()["journey"]
    assert journey.json()["code"] == code
    assert steps[0]["step"] == "commissioning"
    assert [s["step"] for s in steps] == ["commissioning", "shipping", "receiving"]
    assert journey_page.headers["content-type"].startswith("text/html")
    assert odd.status_code == 200
    assert odd.content == default.content


# ---------------------------------------------------------------------------------------
# 5. Unknown, private, malformed


def make_private_unit(rt: Runtime) -> str:
    hidden = make_org(rt, name="Quiet Growers")
    (code,) = commission(rt, hidden, make_batch(rt, hidden), 1)
    organizations.set_public_verification(rt, hidden.organization_id, False)
    return code


def test_a_private_unit_is_indistinguishable_from_an_unknown_code(
    rt: Runtime, world: World, http: httpx.Client
) -> None:
    private, stranger = make_private_unit(rt), unknown_code()

    for headers in (JSON, BROWSER):
        theirs = http.get(f"/{private}", headers=headers)
        nobody = http.get(f"/{stranger}", headers=headers)
        assert theirs.status_code == nobody.status_code == 404
        assert theirs.headers["content-type"] == nobody.headers["content-type"]
        same = theirs.content
        for a, b in ((private, stranger), (format_code(private), format_code(stranger))):
            same = same.replace(a.encode(), b.encode())
        assert same == nobody.content
    private_json = http.get(f"/{private}", headers=JSON).json()
    unknown_json = http.get(f"/{stranger}", headers=JSON).json()
    drop = {"code", "checked_at"}
    assert {k: v for k, v in private_json.items() if k not in drop} == {
        k: v for k, v in unknown_json.items() if k not in drop
    }
    assert private_json["verdict"] == "unknown"
    assert http.get(f"/{private}?linkType=gs1:recallStatus", headers=JSON).status_code == 404
    assert http.get(f"/{private}/events", headers=JSON).status_code == 404
    assert http.get(f"/{private}?linkType=all").status_code == 404


def test_a_malformed_code_is_a_400_with_a_json_error(http: httpx.Client, world: World) -> None:
    bad = malformed(world.unit)

    as_json = http.get(f"/{bad}", headers=JSON)
    as_html = http.get(f"/{bad}", headers=BROWSER)
    in_a_link = http.get(f"/01/{GTIN}/21/{bad[:7]}%20{bad[7:]}", headers=JSON)  # a space
    # a code with a wrong check character is a serial some brand could have printed: unknown
    mistyped = http.get(f"/01/{GTIN}/21/{bad}", headers=JSON)
    bad_gtin = http.get(f"/01/{GTIN[:-1]}{(int(GTIN[-1]) + 1) % 10}/21/{world.unit}", headers=JSON)

    assert as_json.status_code == 400
    assert as_json.json()["error"]["code"] == "malformed_code"
    assert as_json.json()["error"]["message"]
    assert as_html.status_code == 400
    assert as_html.headers["content-type"].startswith("text/html")
    assert in_a_link.status_code == 400
    assert in_a_link.json()["error"]["code"] == "malformed_code"
    assert (mistyped.status_code, mistyped.json()["verdict"]) == (404, "unknown")
    assert bad_gtin.status_code == 400
    assert bad_gtin.json()["error"]["code"] == "malformed_code"


def test_no_public_json_names_an_internal_id(rt: Runtime, http: httpx.Client, world: World) -> None:
    private, stranger = make_private_unit(rt), unknown_code()
    paths = [
        f"/{code}{suffix}"
        for code in (world.unit, world.sold, world.plain, private, stranger)
        for suffix in ("", "?linkType=all", "?linkType=gs1:recallStatus", "/events")
    ]
    paths += [
        f"/01/{GTIN}",
        f"/01/{GTIN}/10/{world.lot}",
        f"/01/{GTIN}/10/{world.lot}/21/{world.unit}",
        f"/{malformed(world.unit)}",
    ]
    documents = []
    for path in paths:
        response = http.get(path, headers=JSON)
        assert response.status_code in (200, 400, 404), path
        documents.append(response.json())

    found = keys_in(documents)
    assert "verdict" in found and "linkset" in found and "journey" in found
    assert found.isdisjoint(INTERNAL_KEYS), found & INTERNAL_KEYS


# ---------------------------------------------------------------------------------------
# 6. Rate limits


def test_a_burst_from_one_address_is_cut_off_and_others_still_served(
    rt: Runtime, world: World
) -> None:
    slow = with_settings(rt, public_burst=5, public_requests_per_minute=1)
    with serve(slow) as running, running.client() as http:
        first = [
            http.get(f"/{world.unit}", headers=client_at("198.51.100.1", JSON)) for _ in "12345"
        ]
        limited = http.get(f"/{world.unit}", headers=client_at("198.51.100.1", JSON))
        limited_page = http.get(f"/{world.unit}", headers=client_at("198.51.100.1", BROWSER))
        other = http.get(f"/{world.unit}", headers=client_at("198.51.100.2", JSON))

    assert [r.status_code for r in first] == [200] * 5
    assert limited.status_code == 429
    assert limited.headers["retry-after"].isdigit()
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.json()["error"]["code"] == "rate_limited"
    assert limited_page.status_code == 429
    assert limited_page.headers["retry-after"].isdigit()
    assert other.status_code == 200
    assert other.json()["verdict"] == "authentic"


def test_a_client_guessing_codes_is_cut_off_and_others_are_not(rt: Runtime, world: World) -> None:
    guarded = with_settings(rt, **(GENEROUS | {"public_misses_per_hour": 3}))
    guesser, honest = client_at("192.0.2.66", JSON), client_at("192.0.2.77", JSON)
    with serve(guarded) as running, running.client() as http:
        misses = [http.get(f"/{unknown_code()}", headers=guesser) for _ in range(3)]
        after = http.get(f"/{world.unit}", headers=guesser)
        malformed_after = http.get(f"/{malformed(world.unit)}", headers=guesser)
        theirs = http.get(f"/{world.unit}", headers=honest)
        their_miss = http.get(f"/{unknown_code()}", headers=honest)

    assert [r.status_code for r in misses] == [404] * 3
    assert after.status_code == 429
    assert after.headers["retry-after"].isdigit()
    assert malformed_after.status_code == 429
    assert theirs.status_code == 200
    assert their_miss.status_code == 404


# ---------------------------------------------------------------------------------------
# 7. Security headers


def test_public_and_app_pages_carry_security_headers_and_no_traceback(
    rt: Runtime, http: httpx.Client, world: World
) -> None:
    page = http.get(f"/{world.unit}", headers=BROWSER)
    journey = http.get(f"/{world.unit}/events", headers=BROWSER)
    login = http.get("/login", headers=BROWSER)
    not_found = http.get(f"/{unknown_code()}", headers=BROWSER)
    bad = http.get(f"/{malformed(world.unit)}", headers=BROWSER)
    bad_link = http.get(f"/01/{GTIN}/10/{'X' * 30}/21/{world.unit}", headers=BROWSER)

    for response in (page, journey, not_found, bad):
        csp = response.headers["content-security-policy"]
        assert "default-src 'none'" in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
    assert login.status_code == 200
    assert "frame-ancestors 'none'" in login.headers["content-security-policy"]
    assert login.headers["x-content-type-options"] == "nosniff"
    assert (not_found.status_code, bad.status_code, bad_link.status_code) == (404, 400, 400)
    for response in (not_found, bad, bad_link):
        assert "Traceback" not in response.text
        assert 'File "' not in response.text
        assert "unitrace." not in response.text


# ---------------------------------------------------------------------------------------
# 8. The scan log


def test_every_scan_is_in_the_log_after_shutdown_without_an_address(
    rt: Runtime, world: World
) -> None:
    strangers = [unknown_code() for _ in range(5)]
    asked = [world.codes[1 + i % 3] for i in range(19)] + [world.plain] + strangers
    addresses = [f"198.51.{i}.{i + 10}" for i in range(len(asked))]
    expected_verdicts = {world.codes[1]: "authentic", world.plain: "authentic"}

    running_rt = with_settings(rt, **GENEROUS)
    with serve(running_rt) as running:
        with running.client() as http:
            for code, address in zip(asked, addresses, strict=True):
                response = http.get(f"/{code}", headers=client_at(address, BROWSER))
                assert response.status_code in (200, 404)
        running.stop()  # the lifespan's shutdown writes what is still buffered
        with rt.db.read() as conn:
            rows = [dict(r) for r in conn.execute(select(public_scans)).mappings()]
            count = conn.execute(select(func.count()).select_from(public_scans)).scalar_one()

    assert count == len(asked) == 25
    assert Counter(r["code"] for r in rows) == Counter(asked)
    for row in rows:
        verdict = "unknown" if row["code"] in strangers else "authentic"
        assert row["verdict"] == verdict, row
        assert expected_verdicts.get(row["code"], verdict) == verdict
        assert (row["unit_id"] is None) == (row["code"] in strangers)
        assert re.fullmatch(r"[0-9a-f]{16}", row["origin"]), row["origin"]
        assert row["agent"] == "Safari iOS"
        assert row["link_type"] == "gs1:pip"
        for value in row.values():
            assert "198.51." not in str(value), row
    assert len({r["origin"] for r in rows}) == 25  # one network each: the forwarded address


# ---------------------------------------------------------------------------------------
# 9. Forms


def test_registering_a_purchase_over_http(http: httpx.Client, world: World) -> None:
    unsold = http.post(f"/{world.unit}/register", data={}, headers=BROWSER)
    form = http.get(f"/{world.sold}/register", headers=BROWSER)
    no_consent = http.post(
        f"/{world.sold}/register",
        data={"contact_name": "Ann", "contact_email": "ann@example.org"},
        headers=BROWSER,
    )
    first = http.post(f"/{world.sold}/register", data={"consent": ""}, headers=BROWSER)
    location = first.headers.get("location", "")
    proof = http.get(location, headers=BROWSER)
    again = http.post(f"/{world.sold}/register", data={}, headers=BROWSER)
    again_json = http.post(f"/{world.sold}/register", data={}, headers=JSON)

    assert unsold.status_code == 409
    assert form.status_code == 200
    assert no_consent.status_code == 422
    assert "consent" in no_consent.text
    assert first.status_code == 303
    match = re.fullmatch(rf"/{world.sold}/registration/([0-9A-Z]{{12}})", location)
    assert match is not None, location
    assert proof.status_code == 200
    assert match.group(1) in proof.text
    assert proof.headers["cache-control"] == "private, no-store"
    assert http.get(f"/{world.sold}/registration/AAAAAAAAAAAA", headers=BROWSER).status_code == 404
    assert again.status_code == 409
    assert again_json.status_code == 409
    assert again_json.json()["error"]["code"] == "conflict"


def test_reporting_a_problem_over_http(rt: Runtime, http: httpx.Client, world: World) -> None:
    empty = http.post(
        f"/{world.unit}/report", data={"kind": "damaged", "message": "  "}, headers=BROWSER
    )
    bot = http.post(
        f"/{world.unit}/report",
        data={"kind": "damaged", "message": "Buy cheap pills", "website": "http://spam.example"},
        headers=BROWSER,
    )
    assert support.list_reports(rt, world.brand).total == 0
    filed = http.post(
        f"/{world.unit}/report",
        data={"kind": "damaged", "message": "The seal was broken"},
        headers=BROWSER,
    )
    bad_kind = http.post(
        f"/{world.unit}/report", data={"kind": "gossip", "message": "hm"}, headers=JSON
    )
    unknown = http.post(
        f"/{unknown_code()}/report", data={"kind": "other", "message": "hm"}, headers=JSON
    )

    assert empty.status_code == 422
    assert bot.status_code == 429
    assert filed.status_code == 200
    assert filed.headers["content-type"].startswith("text/html")
    assert bad_kind.status_code == 422
    assert bad_kind.json()["error"]["code"] == "validation_error"
    assert unknown.status_code == 404
    reports = support.list_reports(rt, world.brand).items
    assert [(r.code, r.kind, r.message) for r in reports] == [
        (world.unit, "damaged", "The seal was broken")
    ]
    assert reports[0].contact_email is None


def test_serialized_json_bodies_are_plain_json(http: httpx.Client, world: World) -> None:
    """The fast serializer's output parses and round-trips to the same text layout."""
    response = http.get(f"/{world.sold}", headers=JSON)

    body = json.loads(response.content)
    assert body["sale"]["sold_on"] == "2026-11-24"
    assert body["links"]["gs1:registerProduct"] == f"{BASE}/{world.sold}/register"
    assert json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode() == response.content
