"""CSV imports through the service, on both databases: a POS sales export applied exactly once,
and a corpus of broken files each answered with its exact problems and nothing changed."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, text

from tests.epcis import assert_valid_epcis
from tests.factories import make_batch, make_location, make_org, make_product
from unitrace.domain.imports import SALES
from unitrace.domain.model import LocationKind, OrganizationKind, Principal
from unitrace.domain.recalls import Scope
from unitrace.domain.tabular import Reading, read_rows
from unitrace.errors import ConflictError, ValidationError
from unitrace.services import (
    audit,
    catalog,
    exports,
    history,
    imports,
    organizations,
    recalls,
    retail,
    serialization,
)
from unitrace.services.recalls import RecallDraft
from unitrace.services.runtime import Runtime
from unitrace.storage.schema import event_units, events, units

GTIN = "09506000134352"


@dataclass
class Shop:
    brand: Principal
    retailer: Principal
    main: int  # store "Main Street"
    other: int  # store "Harbor"
    codes: list[str]  # 10 units on sale at Main Street
    at_other: list[str]  # 2 units on sale at Harbor


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
def shop(rt: Runtime) -> Shop:
    brand = make_org(rt)
    retailer = make_org(rt, kind=OrganizationKind.RETAILER)
    main = organizations.create_location(
        rt, retailer, organizations.LocationDraft("Main Street", LocationKind.STORE, city="Oakland")
    ).id
    other = make_location(rt, retailer)
    with rt.db.transaction() as conn:
        conn.execute(text("UPDATE locations SET name = 'Harbor' WHERE id = :i"), {"i": other})
    batch = make_batch(rt, brand, make_product(rt, brand, gtin=GTIN))
    done = serialization.commission_units(rt, brand, batch_id=batch.id, quantity=12)
    codes = sorted(serialization.iter_commissioned_codes(rt, brand, event_id=done.event_id))
    _stock(rt, codes[:10], retailer.organization_id, main)
    _stock(rt, codes[10:], retailer.organization_id, other)
    return Shop(brand, retailer, main, other, codes[:10], codes[10:])


def upload(
    rt: Runtime, who: Principal, content: str | bytes, **options: Any
) -> imports.ImportResult:
    data = content.encode() if isinstance(content, str) else content
    return imports.run_import(rt, who, "sales", io.BytesIO(data), filename="pos.csv", **options)


def snapshot(rt: Runtime) -> list[tuple[Any, ...]]:
    with rt.db.read() as conn:
        rows = conn.execute(text("SELECT * FROM units ORDER BY id")).all()
        n_events = conn.execute(text("SELECT count(*) FROM events")).scalar_one()
    return [tuple(r) for r in rows] + [(n_events,)]


def test_a_pos_export_is_applied_once_with_one_event_per_store_and_day(
    rt: Runtime, shop: Shop
) -> None:
    c = shop.codes
    lines = [
        "\ufeffCode;Store;Sold At;Price",
        f"https://id.example.test/{c[0].lower()};Main Street;2026-11-20T09:15:00-08:00;24.99",
        f"{c[1]};main street;2026-11-20T18:30:00.123456Z;",
        f"https://id.example.test/01/{GTIN}/21/{c[2]};Main Street;2026-11-21T10:00:00+00:00;9.5",
        f"{c[3]};Harbor;2026-11-21T11:00:00+00:00;1",
    ]
    _stock(rt, [c[3]], shop.retailer.organization_id, shop.other)
    content = "\r\n".join(lines) + "\r\n"
    result = upload(rt, shop.retailer, content)

    assert (result.status, result.rows, result.problem_count) == ("applied", 4, 0)
    assert (result.encoding, result.delimiter) == ("utf-8-sig", ";")
    assert result.result["sold"] == 4 and len(result.result["events"]) == 3
    with rt.db.read() as conn:
        sold = {
            r.code: r for r in conn.execute(select(units).where(units.c.code.in_(c[:4]))).mappings()
        }
        assert {r["disposition"] for r in sold.values()} == {"retail_sold"}
        assert sold[c[0]]["sold_at"] == dt.datetime(2026, 11, 20, 17, 15, tzinfo=dt.UTC)
        assert sold[c[0]]["sale_price"] == Decimal("24.99")
        assert sold[c[1]]["sale_price"] is None
        assert sold[c[1]]["sold_at"] == dt.datetime(2026, 11, 20, 18, 30, 0, 123456, tzinfo=dt.UTC)
        assert sold[c[2]]["sale_price"] == Decimal("9.50")
        rows = conn.execute(
            select(events.c.event_time, events.c.document, events.c.id)
            .where(events.c.biz_step == "retail_selling")
            .order_by(events.c.id)
        ).all()
        members = conn.execute(
            select(units.c.code, event_units.c.event_row_id)
            .join(units, units.c.id == event_units.c.unit_id)
            .where(event_units.c.event_row_id.in_([r.id for r in rows]))
        ).all()
    # 2026-11-20 at Main Street (both sales), 2026-11-21 at Main Street, 2026-11-21 at Harbor
    assert [len(json.loads(r.document)["epcList"]) for r in rows] == [2, 1, 1]
    assert rows[0].event_time == dt.datetime(
        2026, 11, 20, 18, 30, 0, 123456, tzinfo=dt.UTC
    )  # the last
    assert sorted(m.code for m in members) == sorted(c[:4])
    assert audit.verify_chain(rt, shop.retailer).ok
    assert_valid_epcis(history.unit_epcis_document(rt, shop.retailer, c[0]))

    before = snapshot(rt)
    again = upload(rt, shop.retailer, content)  # the same file: the first answer, nothing new
    assert again.replayed and again.id == result.id and again.result == result.result
    assert snapshot(rt) == before
    keyed = upload(rt, shop.retailer, f"code,store\n{c[5]},Main Street\n", idempotency_key="k1")
    assert keyed.status == "applied"
    with pytest.raises(ConflictError):  # the same key for another file
        upload(rt, shop.retailer, f"code,store\n{c[6]},Main Street\n", idempotency_key="k1")
    assert imports.get_import(rt, shop.retailer, result.id).status == "applied"
    assert imports.list_imports(rt, shop.retailer).total >= 2


def test_a_dry_run_checks_everything_and_changes_nothing(rt: Runtime, shop: Shop) -> None:
    before = snapshot(rt)
    checked = upload(rt, shop.retailer, f"code,store\n{shop.codes[0]},Main Street\n", dry_run=True)
    assert (checked.status, checked.id, checked.result) == (
        "dry_run",
        None,
        {"sold": 1, "events": 1},
    )
    refused = upload(rt, shop.retailer, f"code,store\n{shop.codes[0]},Harbor\n", dry_run=True)
    assert refused.status == "dry_run" and refused.problem_count == 1
    assert snapshot(rt) == before
    assert imports.list_imports(rt, shop.retailer).total == 0


def _broken(
    shop: Shop, rt: Runtime
) -> list[tuple[str, bytes, list[tuple[int | None, str | None, str]]]]:
    c = shop.codes
    foreign_brand = make_org(rt)
    foreign = make_batch(rt, foreign_brand)
    foreign_code = sorted(
        serialization.iter_commissioned_codes(
            rt,
            foreign_brand,
            event_id=serialization.commission_units(
                rt, foreign_brand, batch_id=foreign.id, quantity=1
            ).event_id,
        )
    )[0]
    retail.sell(rt, shop.retailer, location_id=shop.main, codes=[c[9]])
    typo = c[0][:-1] + ("0" if c[0][-1] != "0" else "1")
    header = "code,store,sold_at,price\n"
    ok = f"{c[0]},Main Street,,\n"
    return [
        (
            "database",
            (
                header
                + ok
                + f"{foreign_code},Main Street,,\n"  # another brand's unit: just unknown
                + f"{c[9]},Main Street,,\n"  # sold already
                + f"{shop.at_other[0]},Main Street,,\n"  # at the other store
                + f"{typo},Main Street,,\n"  # a mistyped check character
            ).encode(),
            [
                (3, "code", "unknown code: not a unit you hold"),
                (4, "code", "the unit has already been sold"),
                (5, "code", "the unit is not at this store"),
                (6, "code", f"code '{typo}' fails its check character"),
            ],
        ),
        (
            "cells",
            (
                header
                + f"{c[1]},Nowhere,,\n"
                + f"{c[2]},Main Street,2099-01-01T00:00:00Z,\n"
                + f"{c[3]},Main Street,2026-11-20 10:00,\n"
                + f'{c[4]},Main Street,,"12,5"\n'
                + f"{c[5]},Main Street,,1.999\n"
                + f"{c[0]},Main Street,,\n"
                + f"{c[0].lower()},Main Street,,\n"
                + "=cmd|' /C calc'!A0,Main Street,,\n"
            ).encode(),
            [
                (2, "store", "no store of yours has this name"),
                (3, "sold_at", "is in the future"),
                (
                    4,
                    "sold_at",
                    "`2026-11-20 10:00` has no time zone: add one, e.g. `Z` or `-08:00`",
                ),
                (5, "price", "`12,5` is not a number: use a dot as decimal separator"),
                (6, "price", "has more than two decimals"),
                (8, "code", "the same unit is on row 7"),
                (9, "code", "which is not a unit code"),
            ],
        ),
        (
            "no code column",
            b"store,sold_at\nMain Street,\n",
            [(1, "code", "required column is missing")],
        ),
        ("empty", b"", [(None, None, "the file is empty: it needs a header row")]),
        ("header only", b"code,store\r\n", [(None, None, "the file has a header but no rows")]),
    ]


def test_broken_files_answer_every_problem_and_change_nothing(rt: Runtime, shop: Shop) -> None:
    cases = _broken(shop, rt)
    before = snapshot(rt)
    for name, data, expected in cases:
        result = upload(rt, shop.retailer, data)
        got = [(p["line"], p["column"], p["message"]) for p in result.problems]
        for want in expected:
            line, column, message = want
            assert any(g[0] == line and g[1] == column and message in g[2] for g in got), (
                name,
                want,
                got,
            )
        assert len(got) == len(expected), (name, got)
        assert result.status == "invalid" and result.problem_count == len(expected)
        assert snapshot(rt) == before, name
    assert imports.list_imports(rt, shop.retailer).total == len(cases)


def test_recalled_and_expired_units_are_refused_with_the_reason(rt: Runtime, shop: Shop) -> None:
    recall = recalls.create_recall(
        rt,
        shop.brand,
        RecallDraft("Recall", "contaminated", "I", Scope(unit_codes=(shop.codes[0],))),
    )
    recalls.activate(rt, shop.brand, recall.id)
    with rt.db.transaction() as conn:  # test setup: the batch expired on 2026-11-10
        conn.execute(text("UPDATE batches SET expires_on = '2026-11-10'"))
    result = upload(
        rt,
        shop.retailer,
        f"code,store,sold_at\n{shop.codes[0]},Main Street,2026-11-09T12:00:00Z\n"
        f"{shop.codes[1]},Main Street,2026-11-12T12:00:00Z\n"
        f"{shop.codes[2]},Main Street,2026-11-09T12:00:00Z\n",
    )
    assert [(p["line"], p["message"]) for p in result.problems] == [
        (2, "the unit is under recall"),
        (3, "the unit's batch expired on 2026-11-10, before this sale"),
    ]


def test_two_uploads_of_one_file_racing_apply_it_once(rt: Runtime, shop: Shop) -> None:
    content = f"code,store\n{shop.codes[0]},Main Street\n{shop.codes[1]},Main Street\n"
    results: list[imports.ImportResult] = []
    barrier = threading.Barrier(2)

    def go() -> None:
        barrier.wait()
        results.append(upload(rt, shop.retailer, content))

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.replayed for r in results) == [False, True]
    assert {r.id for r in results} == {results[0].id}
    with rt.db.read() as conn:
        n = conn.execute(text("SELECT count(*) FROM events WHERE biz_step = 'retail_selling'"))
        assert n.scalar_one() == 1


def test_an_unknown_kind_is_a_validation_error(rt: Runtime, shop: Shop) -> None:
    with pytest.raises(ValidationError):
        imports.run_import(rt, shop.retailer, "spaceships", io.BytesIO(b"code\nA\n"))
    assert imports.template("sales").startswith("code,store,sold_at,price\r\n")


def _upload_kind(rt: Runtime, who: Principal, kind: str, content: str) -> imports.ImportResult:
    return imports.run_import(rt, who, kind, io.BytesIO(content.encode()), filename=f"{kind}.csv")


def test_products_are_created_together_or_not_at_all(rt: Runtime, shop: Shop) -> None:
    good = (
        "Name,Category,Strain,Net Content,Net Content Unit,GTIN\n"
        "Sour Diesel 1 g,pre_roll,Sour Diesel,1,g,\n"
        "Gummies,EDIBLE,,10,each,00850000000018\n"
    )
    done = _upload_kind(rt, shop.brand, "products", good)
    assert done.status == "applied" and done.result["created"] == 2
    names = {p.name: p for p in catalog.list_products(rt, shop.brand).items}
    assert names["Gummies"].category == "edible" and names["Gummies"].gtin == "00850000000018"
    bad = (
        "name,category,net_content,net_content_unit,gtin\n"
        "Gummies,edible,,,\n"  # exists already
        "New one,flower,3.5,,\n"  # content without unit
        "Other,spaceship,,,\n"
        "Third,flower,,,00850000000017\n"  # bad check digit
        "Fourth,flower,,,00850000000018\n"  # taken GTIN
        "new ONE,flower,,,\n"
    )
    before = len(catalog.list_products(rt, shop.brand).items)
    refused = _upload_kind(rt, shop.brand, "products", bad)
    got = [(p["line"], p["column"]) for p in refused.problems]
    assert got == [
        (3, "net_content_unit"),
        (4, "category"),
        (5, "gtin"),
    ], refused.problems
    assert len(catalog.list_products(rt, shop.brand).items) == before
    # the file's own problems first; once they are fixed, the database's
    fixed = (
        bad.replace("New one,flower,3.5,,", "New one,flower,3.5,g,")
        .replace("spaceship", "other")
        .replace("00850000000017", "")
    )
    refused = _upload_kind(rt, shop.brand, "products", fixed)
    assert [(p["line"], p["column"]) for p in refused.problems] == [(7, "name")]
    refused = _upload_kind(rt, shop.brand, "products", fixed.replace("new ONE,flower,,,\n", ""))
    assert [(p["line"], p["column"], p["message"]) for p in refused.problems] == [
        (2, "name", "you already have a product with this name"),
        (6, "gtin", "this GTIN is already used by a product"),
    ]
    assert len(catalog.list_products(rt, shop.brand).items) == before


def test_a_serialization_request_file_commissions_every_batch_in_one_transaction(
    rt: Runtime, shop: Shop
) -> None:
    product = make_product(rt, shop.brand, gtin="00850000000025")
    a = make_batch(rt, shop.brand, product, lot_number="LOT-A")
    make_batch(rt, shop.brand, product, lot_number="LOT-B")
    done = _upload_kind(rt, shop.brand, "serialization", "lot_number,quantity\nLOT-A,5\nLOT-B,7\n")
    assert done.status == "applied" and done.result["units"] == 12
    codes = list(
        serialization.iter_commissioned_codes(
            rt, shop.brand, event_id=done.result["batches"][0]["event_id"]
        )
    )
    assert len(codes) == 5
    before = snapshot(rt)
    refused = _upload_kind(
        rt, shop.brand, "serialization", "lot,quantity\nLOT-A,3\nNOPE,2\nLOT-B,0\n"
    )
    assert [(p["line"], p["column"]) for p in refused.problems] == [(4, "quantity")]
    refused = _upload_kind(rt, shop.brand, "serialization", "lot,quantity\nLOT-A,3\nNOPE,2\n")
    assert [(p["line"], p["message"]) for p in refused.problems] == [
        (3, "no batch of yours has this lot")
    ]
    assert snapshot(rt) == before
    assert a.id


# ---------------------------------------------------------------------------------------
# Exports


def _csv(rt: Runtime, who: Principal, kind: str, flt: exports.ExportFilter | None = None) -> str:
    return "".join(exports.csv_chunks(kind, exports.export_rows(rt, who, kind, flt)))


def test_exports_are_scoped_formula_safe_and_read_back_as_imports(rt: Runtime, shop: Shop) -> None:
    with rt.db.transaction() as conn:  # test setup: a product name a spreadsheet would run
        conn.execute(text('UPDATE products SET name = \'=HYPERLINK("http://x","y")\''))
    sold = upload(
        rt,
        shop.retailer,
        f"code,store,sold_at,price\n{shop.codes[0]},Main Street,2026-11-20T10:00:00Z,1\n"
        f"{shop.codes[1]},Main Street,2026-11-21T10:00:00Z,12.5\n",
    )
    assert sold.status == "applied", sold.problems
    sales = _csv(rt, shop.retailer, "sales")
    assert sales.startswith("\ufeffcode,store,sold_at,price,")
    assert "'=HYPERLINK" in sales and ",=HYPERLINK" not in sales
    # an exported sales file is a valid sales file: every row reads, in the same order
    reading = Reading()
    rows = list(read_rows(io.BytesIO(sales.encode()), SALES, reading, max_rows=100))
    assert reading.ok, reading.problems
    assert [r["code"] for _, r in rows] == shop.codes[:2]
    assert [r["price"] for _, r in rows] == [Decimal("1.00"), Decimal("12.50")]
    brand_view = json.loads(
        "".join(exports.json_chunks("sales", exports.export_rows(rt, shop.brand, "sales")))
    )
    assert [r["code"] for r in brand_view] == shop.codes[:2]
    assert brand_view[0]["sold_at"] == "2026-11-20T10:00:00+00:00"

    units_csv = _csv(rt, shop.retailer, "units", exports.ExportFilter(disposition="retail_sold"))
    assert units_csv.count("\r\n") == 3  # header and two units
    stranger = make_org(rt)
    for kind in exports.COLUMNS:
        assert _csv(rt, stranger, kind).count("\r\n") == 1  # the header only
    events_csv = _csv(rt, shop.retailer, "events")
    assert events_csv.count("retail_selling") == 2
    with pytest.raises(ValidationError):
        exports.export_rows(rt, shop.retailer, "passwords")
    with pytest.raises(ValidationError):
        exports.export_rows(
            rt,
            shop.retailer,
            "units",
            exports.ExportFilter(since=dt.datetime(2026, 1, 1)),  # noqa: DTZ001 - the point
        )


def test_batches_with_lab_results_as_columns(rt: Runtime, shop: Shop) -> None:
    make_product(rt, shop.brand, name="Blue Dream 3.5 g", gtin="00850000000025")
    content = (
        "Product,Lot,Produced On,Expires On,Lab Status,Lab Name,Tested On,THC %,CBD %,"
        "terpene_myrcene_percent,Terpene Limonene Percent,panel_microbials,Panel Pesticides\n"
        "Blue Dream 3.5 g,BD-1,2026-11-01,2027-11-01,passed,Evergreen Labs,2026-11-05,21.5,0.3,"
        "0.8,0.4,pass,pass\n"
        "00850000000025,BD-2,2026-11-02,,,,,,,,,,\n"
    )
    done = _upload_kind(rt, shop.brand, "batches", content)
    assert done.status == "applied", done.problems
    first, second = (catalog.get_batch(rt, shop.brand, i) for i in done.result["batch_ids"])
    assert first.lot_number == "BD-1" and first.released
    assert {(a.kind.value, a.name, a.amount) for a in first.lab.analytes} == {
        ("cannabinoid", "total_thc", Decimal("21.5")),
        ("cannabinoid", "total_cbd", Decimal("0.3")),
        ("terpene", "myrcene", Decimal("0.8")),
        ("terpene", "limonene", Decimal("0.4")),
    }
    assert {(p.name, p.result.value) for p in first.lab.panels} == {
        ("microbials", "pass"),
        ("pesticides", "pass"),
    }
    assert second.lab.status.value == "pending" and not second.lab.analytes
    before = snapshot(rt)
    refused = _upload_kind(
        rt,
        shop.brand,
        "batches",
        "product,lot_number,lab_status,lab_name,tested_on,panel_microbials,thc_percent\n"
        "Blue Dream 3.5 g,BD-3,passed,Lab,2026-11-05,fail,\n"  # a failed panel cannot pass
        "Blue Dream 3.5 g,BD-4,passed,,,,101\n",  # no lab name or date; over 100 %
    )
    assert [(p["line"], p["column"]) for p in refused.problems] == [
        (2, "status"),
        (3, "thc_percent"),
    ]
    refused = _upload_kind(
        rt, shop.brand, "batches", "product,lot_number\nBlue Dream 3.5 g,BD-1\nNope,X-1\n"
    )
    assert [(p["line"], p["message"]) for p in refused.problems] == [
        (2, "this product already has a batch with this lot"),
        (3, "no product of yours has this name or GTIN"),
    ]
    assert snapshot(rt) == before


def test_a_recall_scope_list_adds_units_to_a_draft(rt: Runtime, shop: Shop) -> None:
    recall = recalls.create_recall(
        rt,
        shop.brand,
        RecallDraft("Seals", "damaged seals", "III", Scope(unit_codes=(shop.codes[0],))),
    )
    content = "Recall,Code\n" + "".join(
        f"{recall.number.lower()},https://id.example.test/{c}\n" for c in shop.codes[1:4]
    )
    done = _upload_kind(rt, shop.brand, "recall_scope", content)
    assert done.status == "applied" and done.result == {"recalls": {recall.number: 4}}
    assert recalls.preview(rt, shop.brand, recall.id).total == 4
    refused = _upload_kind(
        rt,
        shop.brand,
        "recall_scope",
        f"recall,code\nRC-2099-0001,{shop.codes[5]}\n{recall.number},{shop.at_other[0]}\n"
        f"{recall.number},{shop.codes[6]}\n{recall.number},{shop.codes[6]}\n",
    )
    assert [(p["line"], p["column"]) for p in refused.problems] == [(5, "code")]
    refused = _upload_kind(
        rt, shop.brand, "recall_scope", f"recall,code\nRC-2099-0001,{shop.codes[5]}\n"
    )
    assert [(p["line"], p["message"]) for p in refused.problems] == [
        (2, "no draft recall of yours has this number")
    ]
    other = make_org(rt)
    refused = _upload_kind(
        rt, other, "recall_scope", f"recall,code\n{recall.number},{shop.codes[5]}\n"
    )
    assert refused.problems[0]["message"] == "no draft recall of yours has this number"
    assert recalls.preview(rt, shop.brand, recall.id).total == 4
