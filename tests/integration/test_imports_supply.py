"""CSV imports of the supply chain through the service, on both databases: customer returns,
shipment manifests and receipts applied once, dry runs, and a corpus of broken files per kind
each answered with its exact problems and nothing changed."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select, text

from tests.factories import make_batch, make_location, make_org, make_product
from unitrace.adapters.clock import FixedClock
from unitrace.domain.model import LocationKind, OrganizationKind, Principal
from unitrace.errors import OperationRefusedError
from unitrace.services import (
    audit,
    containers,
    imports,
    organizations,
    retail,
    serialization,
    shipments,
)
from unitrace.services.runtime import Runtime
from unitrace.storage.schema import events, units

GTIN = "09506000134352"
NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)


@dataclass
class Chain:
    brand: Principal
    retailer: Principal
    main: int  # the retailer's store "Main Street"
    harbor: int  # the retailer's store "Harbor"
    codes: list[str]  # 30 units of the brand, in stock at the brand


def _stock(rt: Runtime, codes: list[str], org: int, location: int) -> None:
    """Test setup: units on the shelves of ``location`` (what receiving would do)."""
    with rt.db.transaction() as conn:
        conn.execute(
            units.update()
            .where(units.c.code.in_(codes))
            .values(
                disposition="sellable_accessible",
                custodian_organization_id=org,
                location_id=location,
            )
        )


@pytest.fixture
def chain(rt: Runtime) -> Chain:
    brand = make_org(rt, name="Acme Farms")
    retailer = make_org(rt, kind=OrganizationKind.RETAILER, name="Green Leaf")
    main = organizations.create_location(
        rt, retailer, organizations.LocationDraft("Main Street", LocationKind.STORE, city="Oakland")
    ).id
    harbor = make_location(rt, retailer)
    with rt.db.transaction() as conn:
        conn.execute(text("UPDATE locations SET name = 'Harbor' WHERE id = :i"), {"i": harbor})
    batch = make_batch(rt, brand, make_product(rt, brand, gtin=GTIN))
    done = serialization.commission_units(rt, brand, batch_id=batch.id, quantity=30)
    codes = sorted(serialization.iter_commissioned_codes(rt, brand, event_id=done.event_id))
    return Chain(brand, retailer, main, harbor, codes)


def upload(rt: Runtime, who: Principal, kind: str, content: str, **options: Any) -> Any:
    return imports.run_import(
        rt, who, kind, io.BytesIO(content.encode()), filename=f"{kind}.csv", **options
    )


def snapshot(rt: Runtime) -> list[tuple[Any, ...]]:
    """Everything these imports may change: units, shipments, their items and scans, events."""
    with rt.db.read() as conn:
        rows = [tuple(r) for r in conn.execute(text("SELECT * FROM units ORDER BY id")).all()]
        rows += [
            tuple(r)
            for r in conn.execute(
                text("SELECT id, number, status, unit_count FROM shipments ORDER BY id")
            ).all()
        ]
        for table in ("events", "shipment_items", "shipment_units", "shipment_scans", "containers"):
            rows.append((table, conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()))  # noqa: S608
    return rows


def problems(result: Any) -> list[tuple[int | None, str | None, str]]:
    return [(p["line"], p["column"], p["message"]) for p in result.problems]


def _refused_without_change(
    rt: Runtime, who: Principal, kind: str, cases: list[tuple[str, str, list[Any]]]
) -> None:
    before = snapshot(rt)
    for name, content, expected in cases:
        result = upload(rt, who, kind, content)
        assert result.status == "invalid", (name, result)
        assert problems(result) == expected, name
        assert result.problem_count == len(expected), name
        assert snapshot(rt) == before, name


# ---------------------------------------------------------------------------------------
# Returns


def _sold(rt: Runtime, chain: Chain, codes: list[str], store: int) -> None:
    _stock(rt, codes, chain.retailer.organization_id, store)
    retail.sell(rt, chain.retailer, location_id=store, codes=codes)


def test_a_returns_file_is_applied_once_with_one_pair_of_events_per_store_day_and_action(
    rt: Runtime, chain: Chain, clock: FixedClock
) -> None:
    c = chain.codes
    _sold(rt, chain, c[:3], chain.main)
    _sold(rt, chain, [c[3]], chain.harbor)
    clock.advance(days=2)
    content = (
        "Code;Store;Returned At;Action;Reason\r\n"
        f"https://id.example.test/{c[0].lower()};Main Street;2026-11-25T10:00:00Z;;wrong strain\r\n"
        f"{c[1]};main street;2026-11-25T11:00:00Z;RESTOCK;\r\n"
        f"{c[2]};Main Street;;quarantine;seal broken\r\n"
        f"{c[3]};Main Street;2026-11-25T12:00:00Z;restock;\r\n"  # sold at Harbor: any store
    )
    before = snapshot(rt)
    checked = upload(rt, chain.retailer, "returns", content, dry_run=True)
    assert (checked.status, checked.result) == ("dry_run", {"returned": 4, "events": 4})
    assert snapshot(rt) == before

    result = upload(rt, chain.retailer, "returns", content)
    assert (result.status, result.rows, result.problem_count) == ("applied", 4, 0), result
    assert result.result["returned"] == 4 and len(result.result["events"]) == 4
    with rt.db.read() as conn:
        state = {
            r.code: r for r in conn.execute(select(units).where(units.c.code.in_(c[:4]))).mappings()
        }
        docs = [
            json.loads(d)
            for d in conn.execute(
                select(events.c.document)
                .where(events.c.event_id.in_(result.result["events"]))
                .order_by(events.c.id)
            ).scalars()
        ]
    assert {k: (v["disposition"], v["location_id"]) for k, v in state.items()} == {
        c[0]: ("sellable_accessible", chain.main),
        c[1]: ("sellable_accessible", chain.main),
        c[2]: ("non_sellable_other", chain.main),
        c[3]: ("sellable_accessible", chain.main),
    }
    assert all(
        v["sold_at"] is None and v["previous_disposition"] == "returned" for v in state.values()
    )
    steps = [(d["bizStep"], d["disposition"], len(d["epcList"])) for d in docs]
    assert steps == [
        ("receiving", "returned", 3),
        ("stocking", "sellable_accessible", 3),
        ("receiving", "returned", 1),
        ("holding", "non_sellable_other", 1),
    ]
    assert docs[0]["eventTime"].startswith("2026-11-25T12:00:00")  # the day's last return
    assert audit.verify_chain(rt, chain.retailer).ok

    after = snapshot(rt)
    again = upload(rt, chain.retailer, "returns", content)
    assert again.replayed and again.id == result.id and again.result == result.result
    assert snapshot(rt) == after
    # the units are on sale again: they can be sold and returned once more
    retail.sell(rt, chain.retailer, location_id=chain.main, codes=[c[0]])


def test_broken_returns_files_answer_every_problem_with_return_units_reasons(
    rt: Runtime, chain: Chain
) -> None:
    c = chain.codes
    _sold(rt, chain, c[:6], chain.main)
    _stock(rt, [c[6]], chain.retailer.organization_id, chain.main)  # on the shelf, not sold
    stranger = make_org(rt, kind=OrganizationKind.RETAILER)
    foreign_store = make_location(rt, stranger)
    _stock(rt, [c[7]], stranger.organization_id, foreign_store)
    retail.sell(rt, stranger, location_id=foreign_store, codes=[c[7]])
    with rt.db.transaction() as conn:  # test setup: an old sale, a recall, an expired batch
        conn.execute(
            units.update().where(units.c.code == c[1]).values(sold_at=NOW - dt.timedelta(days=31))
        )
        conn.execute(units.update().where(units.c.code == c[2]).values(disposition="recalled"))
    typo = c[0][:-1] + ("0" if c[0][-1] != "0" else "1")
    header = "code,store,returned_at,action,reason\n"
    database = (
        header
        + f"{c[0]},Main Street,,,\n"  # fine
        + f"{c[1]},Main Street,,,\n"
        + f"{c[2]},Main Street,,quarantine,\n"
        + f"{c[6]},Main Street,,,\n"
        + f"{c[7]},Main Street,,,\n"  # another retailer's sale: unknown here
        + f"{typo},Main Street,,,\n"
        + f"{c[3]},Main Street,2026-11-24T11:00:00Z,,\n"  # before the sale at 12:00
    )
    cells = (
        header
        + f"{c[3]},Nowhere,,,\n"
        + f"{c[4]},Main Street,2099-01-01T00:00:00Z,,\n"
        + f"{c[4]},Main Street,2026-11-24 10:00,,\n"
        + f"{c[5]},Main Street,,give back,\n"
        + f"{c[0]},Main Street,,,\n"
        + f"{c[0].lower()},Harbor,,quarantine,\n"
        + "=cmd|' /C calc'!A0,Main Street,,,\n"
        + f"{c[3]},Main Street,,,{'x' * 501}\n"
    )
    _refused_without_change(
        rt,
        chain.retailer,
        "returns",
        [
            (
                "database",
                database,
                [
                    (3, "code", "the return window has passed"),
                    (4, "code", "the unit is under recall"),
                    (5, "code", "the unit has not been sold"),
                    (6, "code", "unknown code: not a unit you sold"),
                    (
                        7,
                        "code",
                        f"code '{typo}' fails its check character: "
                        "a character is mistyped or two are swapped",
                    ),
                    (8, "code", "the unit was sold after this return"),
                ],
            ),
            (
                "cells",
                cells,
                [
                    (2, "store", "no store of yours has this name"),
                    (3, "returned_at", "is in the future"),
                    (
                        4,
                        "returned_at",
                        "`2026-11-24 10:00` has no time zone: add one, e.g. `Z` or `-08:00`",
                    ),
                    (5, "action", "`give back` is not one of: restock, quarantine"),
                    (7, "code", "the same unit is on row 6"),
                    (8, "code", problems_of_scan("=cmd|' /C calc'!A0")),
                    (9, "reason", "has 501 characters; at most 500"),
                ],
            ),
            ("no store column", "code\nX\n", [(1, "store", "required column is missing")]),
        ],
    )
    # the same reasons as a return at the counter
    with pytest.raises(OperationRefusedError) as refused:
        retail.return_unit(rt, chain.retailer, location_id=chain.main, code=c[6], action="restock")
    assert refused.value.details[0]["message"] == "the unit has not been sold"
    # a brand takes no returns
    brand_try = upload(rt, chain.brand, "returns", f"code,store\n{c[0]},Main Street\n")
    assert problems(brand_try) == [(2, "store", "no store of yours has this name")]


def test_returns_follow_the_window_the_stores_and_expiry_settings(
    rt: Runtime, chain: Chain, clock: FixedClock
) -> None:
    c = chain.codes
    _sold(rt, chain, c[:3], chain.main)
    strict = Runtime(
        settings=rt.settings.model_copy(
            update={"returns_across_stores": False, "return_window_days": 1}
        ),
        db=rt.db,
        files=rt.files,
        clock=clock,
    )
    with rt.db.transaction() as conn:  # test setup: the batch expired yesterday
        conn.execute(text("UPDATE batches SET expires_on = '2026-11-23'"))
    content = (
        "code,store,returned_at,action\n"
        f"{c[0]},Harbor,,quarantine\n"
        f"{c[1]},Main Street,2026-11-25T12:30:00Z,quarantine\n"  # a day and a half later
        f"{c[2]},Main Street,2026-11-25T00:00:00Z,restock\n"
    )
    clock.advance(days=2)
    before = snapshot(rt)
    refused = upload(strict, chain.retailer, "returns", content)
    assert problems(refused) == [
        (2, "code", "the unit was sold at another store; return it there"),
        (3, "code", "the return window has passed"),
        (4, "code", "the unit has expired"),
    ]
    assert snapshot(rt) == before
    done = upload(
        strict,
        chain.retailer,
        "returns",
        f"code,store,returned_at,action\n{c[2]},Main Street,2026-11-25T00:00:00Z,quarantine\n",
    )
    assert done.status == "applied" and done.result["returned"] == 1, done.problems


# ---------------------------------------------------------------------------------------
# Shipment manifests


def test_a_manifest_file_creates_one_draft_per_reference(rt: Runtime, chain: Chain) -> None:
    c = chain.codes
    case = containers.create_containers(rt, chain.brand, kind="case")[0]
    containers.pack(rt, chain.brand, container=case.code, items=c[4:8])
    content = (
        "Shipment,Destination,Destination Location,Code,Expected Arrival\n"
        f"PO-1,Green Leaf,Main Street,{c[0]},2026-11-28\n"
        f"PO-1,green leaf,main street,https://id.example.test/{c[1].lower()},\n"
        f"PO-2,Green Leaf,Harbor,{c[2]},\n"
        f"PO-1,Green Leaf,Main Street,{case.code},2026-11-28\n"
    )
    before = snapshot(rt)
    checked = upload(rt, chain.brand, "shipments", content, dry_run=True)
    assert checked.status == "dry_run", checked.problems
    assert [(s["reference"], s["items"]) for s in checked.result["shipments"]] == [
        ("PO-1", 3),
        ("PO-2", 1),
    ]
    assert snapshot(rt) == before

    done = upload(rt, chain.brand, "shipments", content)
    assert done.status == "applied", done.problems
    made = {s["reference"]: s for s in done.result["shipments"]}
    first = shipments.get_shipment(rt, chain.brand, made["PO-1"]["shipment_id"])
    second = shipments.get_shipment(rt, chain.brand, made["PO-2"]["shipment_id"])
    assert (first.number, first.status) == (made["PO-1"]["number"], "draft")
    assert sorted(first.items) == sorted([c[0], c[1], case.code])
    assert first.destination_location_id == chain.main
    assert first.expected_arrival == dt.date(2026, 11, 28)
    assert (second.items, second.destination_location_id) == ((c[2],), chain.harbor)
    after = snapshot(rt)
    again = upload(rt, chain.brand, "shipments", content)
    assert again.replayed and again.result == done.result
    assert snapshot(rt) == after
    shipped = shipments.ship(rt, chain.brand, first.id)  # shipping is a separate step
    assert shipped.status == "shipped" and shipped.unit_count == 6


def test_broken_manifest_files_answer_every_problem_and_change_nothing(
    rt: Runtime, chain: Chain
) -> None:
    c = chain.codes
    case = containers.create_containers(rt, chain.brand, kind="case")[0]
    containers.pack(rt, chain.brand, container=case.code, items=c[4:8])
    other_brand = make_org(rt)
    foreign = serialization.commission_units(
        rt, other_brand, batch_id=make_batch(rt, other_brand).id, quantity=1
    )
    foreign_code = sorted(
        serialization.iter_commissioned_codes(rt, other_brand, event_id=foreign.event_id)
    )[0]
    taken = shipments.create_shipment(
        rt,
        chain.brand,
        destination_organization_id=chain.retailer.organization_id,
        destination_location_id=chain.main,
        items=[c[9]],
    )
    header = "shipment,destination,destination_location,code,expected_arrival\n"
    cells = (
        header
        + f"A,Green Leaf,Main Street,{c[0]},2026-11-28\n"
        + f"A,Nobody,Main Street,{c[1]},\n"  # mixed destinations
        + f"A,Green Leaf,Harbor,{c[1]},\n"
        + f"A,Green Leaf,Main Street,{c[1]},2026-11-29\n"
        + f"B,Green Leaf,Main Street,{c[0].lower()},\n"  # listed on row 2
        + "B,Green Leaf,Main Street,not a code!,\n"
        + f"B,Green Leaf,Main Street,{c[2]},28/11/2026\n"
    )
    database = (
        header
        + f"A,Nobody Inc,Main Street,{c[0]},\n"
        + f"B,Green Leaf,Back Room,{c[1]},\n"
        + f"C,Green Leaf,Main Street,{c[2]},\n"
        + f"C,Green Leaf,Main Street,{foreign_code},\n"
        + f"C,Green Leaf,Main Street,{c[4]},\n"  # packed in the case
        + f"D,Green Leaf,Main Street,{c[9]},\n"  # on another draft
    )
    _refused_without_change(
        rt,
        chain.brand,
        "shipments",
        [
            (
                "cells",
                cells,
                [
                    (
                        3,
                        "destination",
                        "shipment A goes to Green Leaf (row 2): one destination per shipment",
                    ),
                    (
                        4,
                        "destination_location",
                        "shipment A goes to Main Street (row 2): one destination per shipment",
                    ),
                    (5, "expected_arrival", "shipment A is expected on 2026-11-28 (row 2)"),
                    (6, "code", "the same item is on row 2"),
                    (7, "code", problems_of_scan("not a code!")),
                    (8, "expected_arrival", "`28/11/2026` is not a date: write it as YYYY-MM-DD"),
                ],
            ),
            (
                "database",
                database,
                [
                    (2, "destination", "no organization has this name"),
                    (3, "destination_location", "Green Leaf has no location with this name"),
                    (5, "code", "unknown code: not one of your units, cases or pallets"),
                    (
                        6,
                        "code",
                        f"it is packed in {case.code}: ship {case.code} or unpack it first",
                    ),
                    (
                        7,
                        "shipment",
                        f"some items are already on draft shipment {taken.number}",
                    ),
                ],
            ),
        ],
    )
    retailer_try = upload(
        rt, chain.retailer, "shipments", f"{header}A,Acme Farms,Main Street,{c[0]},\n"
    )
    assert problems(retailer_try)[0][2].startswith("only a ")


def problems_of_scan(raw: str) -> str:
    """The scanner's message for text that is no code (as receiving reports it)."""
    from unitrace.domain.scan import ScanError, parse_scan

    try:
        parse_scan(raw)
    except ScanError as exc:
        return exc.message
    raise AssertionError(raw)


# ---------------------------------------------------------------------------------------
# Receipts


def _shipped(rt: Runtime, chain: Chain, items: list[str]) -> shipments.ShipmentView:
    draft = shipments.create_shipment(
        rt,
        chain.brand,
        destination_organization_id=chain.retailer.organization_id,
        destination_location_id=chain.main,
        items=items,
    )
    return shipments.ship(rt, chain.brand, draft.id)


def test_a_receipts_file_receives_each_shipment_with_its_discrepancies(
    rt: Runtime, chain: Chain
) -> None:
    c = chain.codes
    case = containers.create_containers(rt, chain.brand, kind="case")[0]
    containers.pack(rt, chain.brand, container=case.code, items=c[0:4])
    first = _shipped(rt, chain, [case.code, c[4]])
    second = _shipped(rt, chain, [c[5], c[6], c[7]])
    content = (
        "Shipment,Code\n"
        f"{first.number.lower()},https://id.example.test/{case.code.lower()}\n"
        f"{first.number},{c[4]}\n"
        f"{first.number},{c[0]}\n"  # inside the case, scanned as well: harmless
        f"{second.number},{c[5]}\n"
        f"{second.number},{c[6]}\n"
    )
    before = snapshot(rt)
    checked = upload(rt, chain.retailer, "receipts", content, dry_run=True)
    assert (checked.status, checked.result) == (
        "dry_run",
        {
            "shipments": [
                {"number": first.number, "scans": 3},
                {"number": second.number, "scans": 2},
            ]
        },
    )
    assert snapshot(rt) == before

    done = upload(rt, chain.retailer, "receipts", content)
    assert done.status == "applied", done.problems
    got = [
        (s["number"], s["status"], s["received"], s["missing"], s["unexpected"], s["missing_codes"])
        for s in done.result["shipments"]
    ]
    assert got == [
        (first.number, "received", 5, 0, 0, []),
        (second.number, "received_with_discrepancies", 2, 1, 0, [c[7]]),
    ]
    with rt.db.read() as conn:
        held = conn.execute(
            select(units.c.disposition, units.c.custodian_organization_id, units.c.location_id)
            .where(units.c.code.in_(c[:7]))
            .distinct()
        ).all()
    assert held == [("sellable_accessible", chain.retailer.organization_id, chain.main)]
    assert shipments.get_shipment(rt, chain.retailer, second.id).status == (
        "received_with_discrepancies"
    )
    after = snapshot(rt)
    again = upload(rt, chain.retailer, "receipts", content)
    assert again.replayed and again.result == done.result
    assert snapshot(rt) == after
    assert audit.verify_chain(rt, chain.retailer).ok


def test_broken_receipts_files_refuse_anything_unexpected_and_change_nothing(
    rt: Runtime, chain: Chain
) -> None:
    c = chain.codes
    open_one = _shipped(rt, chain, [c[0], c[1]])
    other = _shipped(rt, chain, [c[2]])
    done = _shipped(rt, chain, [c[3]])
    shipments.receive(rt, chain.retailer, done.id, scans=[c[3]])
    draft = shipments.create_shipment(
        rt,
        chain.brand,
        destination_organization_id=chain.retailer.organization_id,
        destination_location_id=chain.main,
        items=[c[4]],
    )
    elsewhere = make_org(rt, kind=OrganizationKind.RETAILER)
    foreign = shipments.ship(
        rt,
        chain.brand,
        shipments.create_shipment(
            rt,
            chain.brand,
            destination_organization_id=elsewhere.organization_id,
            destination_location_id=organizations.list_locations(rt, elsewhere)[0].id,
            items=[c[5]],
        ).id,
    )
    content = (
        "shipment,code\n"
        f"{open_one.number},{c[0]}\n"  # fine
        f"{open_one.number},{c[2]}\n"  # on the other shipment to us
        f"{open_one.number},{c[10]}\n"  # the brand's, not shipped
        f"{open_one.number},garbage!!\n"
        f"{done.number},{c[3]}\n"
        f"{draft.number},{c[4]}\n"
        f"{foreign.number},{c[5]}\n"
        "SH-NOPE0000,X\n"
    )
    _refused_without_change(
        rt,
        chain.retailer,
        "receipts",
        [
            (
                "mixed",
                content,
                [
                    (3, "code", "on another shipment: not received here"),
                    (4, "code", "unknown code: not on any shipment to you"),
                    (5, "code", problems_of_scan("garbage!!")),
                    (6, "shipment", "the shipment is received: nothing to receive"),
                    (7, "shipment", "no shipment to you has this number"),
                    (8, "shipment", "no shipment to you has this number"),
                    (9, "shipment", "no shipment to you has this number"),
                ],
            ),
            ("no code column", "shipment\nSH-1\n", [(1, "code", "required column is missing")]),
        ],
    )
    assert other.status == "shipped"


def _race(rt: Runtime, who: Principal, kind: str, content: str) -> list[Any]:
    """The same file uploaded twice at the same moment."""
    results: list[Any] = []
    barrier = threading.Barrier(2)

    def go() -> None:
        barrier.wait()
        results.append(upload(rt, who, kind, content))

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.parametrize("kind", ["returns", "shipments", "receipts"])
def test_two_uploads_of_one_supply_file_racing_apply_it_once(
    rt: Runtime, chain: Chain, kind: str
) -> None:
    c = chain.codes
    if kind == "returns":
        _sold(rt, chain, c[:2], chain.main)
        who, content = chain.retailer, f"code,store\n{c[0]},Main Street\n{c[1]},Main Street\n"
    elif kind == "shipments":
        who = chain.brand
        content = (
            f"Shipment,Destination,Destination Location,Code\nPO-9,Green Leaf,Main Street,{c[0]}\n"
        )
    else:
        shipped = _shipped(rt, chain, [c[0], c[1]])
        who, content = (
            chain.retailer,
            f"Shipment,Code\n{shipped.number},{c[0]}\n{shipped.number},{c[1]}\n",
        )
    with rt.db.read() as conn:
        events_before = conn.execute(text("SELECT count(*) FROM events")).scalar_one()
    results = _race(rt, who, kind, content)
    assert [r.status for r in results] == ["applied", "applied"], [r.problems for r in results]
    assert sorted(r.replayed for r in results) == [False, True]
    assert results[0].id == results[1].id and results[0].result == results[1].result
    with rt.db.read() as conn:
        added = conn.execute(text("SELECT count(*) FROM events")).scalar_one() - events_before
        drafts = conn.execute(text("SELECT count(*) FROM shipments WHERE status = 'draft'"))
        n_drafts = drafts.scalar_one()
    # exactly one application: a second would have added its events (or a second draft)
    if kind == "returns":
        assert added == len(results[0].result["events"]) == 2  # one pair: one store, day, action
    else:
        assert added == (1 if kind == "receipts" else 0)
    assert n_drafts == (1 if kind == "shipments" else 0)
