"""Serials a brand printed itself, end to end on both databases: imported, packed in a case,
shipped, received by scanning their Digital Links, one sold at the till from its GS1 element
string, then verified through the public resolver of a live server; the events name the
brand's serials and the hash chain still verifies."""

from __future__ import annotations

import io
import secrets
import string
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import select

from tests.factories import make_batch, make_location, make_org, make_product
from tests.web.test_public_http import GENEROUS, JSON, serve, with_settings
from unitrace.domain import epcis
from unitrace.domain.model import OrganizationKind, Principal
from unitrace.services import audit, containers, history, imports, retail, shipments, units
from unitrace.services.runtime import Runtime
from unitrace.storage.schema import public_scans

GTIN = "09506000134352"
_ALPHABET = string.ascii_letters + string.digits + "-._"


@dataclass(frozen=True)
class Trade:
    brand: Principal
    retailer: Principal
    store: int
    lot: str
    serials: list[str]  # [0] sold at the store, the rest on its shelves
    weak: str  # a serial imported with the guessable override, still at the brand


def _import(rt: Runtime, who: Principal, lot: str, serials: list[str], **options: bool) -> None:
    content = "lot_number,serial\n" + "".join(f"{lot},{s}\n" for s in serials)
    done = imports.run_import(rt, who, "serials", io.BytesIO(content.encode()), **options)
    assert done.status == "applied", done.problems


@pytest.fixture
def trade(rt: Runtime) -> Trade:
    brand = make_org(rt, name="Sunrise Farms")
    retailer = make_org(rt, kind=OrganizationKind.RETAILER)
    store = make_location(rt, retailer)
    batch = make_batch(rt, brand, make_product(rt, brand, gtin=GTIN))
    serials = ["".join(secrets.choice(_ALPHABET) for _ in range(16)) for _ in range(3)]
    serials.append("Zq/8%k" + "".join(secrets.choice(string.digits) for _ in range(12)))
    _import(rt, brand, batch.lot_number, serials)
    weak_batch = make_batch(rt, brand, make_product(rt, brand, gtin="00850000000025"))
    _import(
        rt, brand, weak_batch.lot_number, ["1001", "1002", "1003", "1004"], allow_guessable=True
    )

    (case,) = containers.create_containers(rt, brand, kind="case")
    links = [f"https://brand.example/01/{GTIN}/21/{quote(s, safe='')}" for s in serials]
    containers.pack(rt, brand, container=case.code, items=links)
    shipment = shipments.create_shipment(
        rt, brand, destination_organization_id=retailer.organization_id,
        destination_location_id=store, items=[case.code],
    )  # fmt: skip
    shipments.ship(rt, brand, shipment.id)
    received = shipments.receive(rt, retailer, shipment.id, scans=links)
    assert (received.received, received.missing, received.unknown) == (len(serials), 0, ())
    sale = retail.sell(
        rt,
        retailer,
        location_id=store,
        codes=[f"]d201{GTIN}10{batch.lot_number}\x1d21{serials[0]}"],
    )
    assert len(sale.codes) == 1
    return Trade(brand, retailer, store, batch.lot_number, serials, "1001")


@pytest.fixture
def http(rt: Runtime, trade: Trade) -> Iterator[httpx.Client]:
    with serve(with_settings(rt, **GENEROUS)) as live, live.client() as client:
        client.headers["X-Forwarded-For"] = "203.0.113.10"
        yield client


def test_a_sold_unit_with_a_brands_serial_verifies_through_its_digital_link(
    http: httpx.Client, trade: Trade
) -> None:
    sold, on_shelf = trade.serials[0], quote(trade.serials[3], safe="")
    answer = http.get(f"/01/{GTIN}/21/{quote(sold, safe='')}", headers=JSON)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["verdict"], body["weak_serial"]) == ("authentic_already_sold", False)
    assert body["product"]["gtin"] == GTIN and body["batch"]["lot"] == trade.lot
    shelf = http.get(f"/01/{GTIN}/10/{trade.lot}/21/{on_shelf}", headers=JSON)
    assert (shelf.status_code, shelf.json()["verdict"]) == (200, "authentic")
    page = http.get(f"/01/{GTIN}/21/{on_shelf}", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "weak evidence" not in page.text


def test_a_brands_serial_under_another_lot_or_gtin_or_unknown_answers_unknown(
    http: httpx.Client, trade: Trade
) -> None:
    serial = trade.serials[1]
    unknown = http.get(f"/01/{GTIN}/21/NO-SUCH-SERIAL-1", headers=JSON)
    assert (unknown.status_code, unknown.json()["verdict"]) == (404, "unknown")
    for path in (f"/01/{GTIN}/10/OTHER-LOT/21/{serial}", f"/01/00850000000025/21/{serial}"):
        answer = http.get(path, headers=JSON)
        assert answer.status_code == 404, path
        assert answer.content == unknown.content.replace(b"NO-SUCH-SERIAL-1", serial.encode())
    bare = http.get(f"/{serial}", headers=JSON)  # the short path is for unitrace codes only
    assert bare.status_code in (400, 404) and trade.lot not in bare.text


def test_a_guessable_serial_says_it_is_weak_evidence(http: httpx.Client, trade: Trade) -> None:
    answer = http.get(f"/01/00850000000025/21/{trade.weak}", headers=JSON)
    assert (answer.json()["verdict"], answer.json()["weak_serial"]) == ("authentic", True)
    page = http.get(f"/01/00850000000025/21/{trade.weak}", headers={"Accept": "text/html"})
    assert "this code alone is weak evidence" in page.text


def test_the_events_name_the_brands_serials_and_the_chain_verifies(
    rt: Runtime, trade: Trade
) -> None:
    view = units.get_unit_by_scan(rt, trade.retailer, f"(01){GTIN}(21){trade.serials[3]}")
    assert view.digital_link is not None and view.digital_link.endswith(
        "/21/" + quote(trade.serials[3], safe="")
    )
    epc = epcis.unit_epc(trade.serials[3], GTIN)
    steps = [
        e["bizStep"]
        for e in history.unit_history(rt, trade.retailer, view.unit.code)
        if epc in e.get("epcList", []) or epc in e.get("childEPCs", [])
    ]
    assert steps[:2] == ["commissioning", "packing"]
    assert "receiving" in steps
    sold = units.get_unit_by_scan(rt, trade.retailer, f"(01){GTIN}(21){trade.serials[0]}")
    sale = history.unit_history(rt, trade.retailer, sold.unit.code)[-1]
    assert (sale["bizStep"], sale["epcList"]) == (
        "retail_selling",
        [epcis.unit_epc(trade.serials[0], GTIN)],
    )
    assert audit.verify_chain(rt, trade.brand).ok
    assert audit.verify_chain(rt, trade.retailer).ok


def test_scans_of_brands_serials_are_logged_by_unit(rt: Runtime, trade: Trade) -> None:
    serial = trade.serials[1]
    with serve(with_settings(rt, **GENEROUS)) as running:
        with running.client() as client:
            for path in (f"/01/{GTIN}/21/{serial}", f"/01/{GTIN}/21/NO-SUCH-SERIAL-2"):
                client.get(path, headers={**JSON, "X-Forwarded-For": "198.51.100.7"})
        running.stop()  # the lifespan's shutdown writes what is still buffered
    with rt.db.read() as conn:
        rows = conn.execute(
            select(public_scans.c.code, public_scans.c.unit_id, public_scans.c.verdict)
        ).all()
    unit = units.get_unit_by_scan(rt, trade.retailer, f"(01){GTIN}(21){serial}").unit
    assert sorted((r.code, r.unit_id, r.verdict) for r in rows) == sorted(
        [(unit.code, unit.id, "authentic"), ("NO-SUCH-SERIAL-2", None, "unknown")]
    )
