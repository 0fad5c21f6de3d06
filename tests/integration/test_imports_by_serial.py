"""Sales, returns and recall scope uploads that name units by the serial their brand printed,
on both databases: a file mixing unit codes, Digital Links and element strings applies (and
replays); an unknown serial, another organization's serial and a unit named both by code and
by serial are each answered with their row's problem, and nothing changes."""

from __future__ import annotations

import io
import secrets
import string
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text

from tests.factories import make_batch, make_org, make_product
from unitrace.domain import epcis
from unitrace.domain.codes import InvalidCodeError, generate_code, normalize_code
from unitrace.domain.model import LocationKind, OrganizationKind, Principal
from unitrace.domain.recalls import Scope
from unitrace.services import audit, history, imports, organizations, recalls, serialization
from unitrace.services.runtime import Runtime

GTIN = "09506000134352"
STRANGER_GTIN = "00614141000012"
OTHER_GTIN = "00850000000025"  # the brand's second product
_ALPHABET = string.ascii_letters + string.digits


def _serial(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def _looks_like_a_code() -> str:
    """14 letters and digits a quick reading takes for a unit code, its check character
    wrong: only the Digital Link's GTIN says it is a brand's serial."""
    while True:
        serial = "".join(secrets.choice("0123456789ABCDEFGHJKMNPQRSTVWXYZ") for _ in range(14))
        try:
            normalize_code(serial)
        except InvalidCodeError:
            return serial


def _a_code() -> str:
    """14 letters and digits that read as a unit code, check character and all: no unit has
    that code, so a Digital Link naming it is tried as the brand's serial."""
    return generate_code()


@dataclass
class World:
    brand: Principal
    retailer: Principal
    store: int
    codes: list[str]  # units commissioned by the brand, by unitrace code
    serials: list[str]  # units imported with the brand's serials (GTIN)
    by_serial: dict[str, str]  # their unitrace codes by serial
    stranger_serial: str  # a unit of another brand (STRANGER_GTIN), held by that brand


def _upload(rt: Runtime, who: Principal, kind: str, content: str) -> imports.ImportResult:
    return imports.run_import(rt, who, kind, io.BytesIO(content.encode()), filename=f"{kind}.csv")


@pytest.fixture
def world(rt: Runtime) -> World:
    brand = make_org(rt)
    batch = make_batch(rt, brand, make_product(rt, brand, gtin=GTIN), lot_number="BD-1")
    done = serialization.commission_units(rt, brand, batch_id=batch.id, quantity=3)
    codes = sorted(serialization.iter_commissioned_codes(rt, brand, event_id=done.event_id))
    serials = [_serial(16), "Ab/7x%" + _serial(12), _looks_like_a_code(), _serial(18), _a_code()]
    listed = "".join(f"BD-1,{s}\n" for s in serials)
    assert _upload(rt, brand, "serials", "lot_number,serial\n" + listed).status == "applied"
    stranger = make_org(rt)
    other = make_batch(rt, stranger, make_product(rt, stranger, gtin=STRANGER_GTIN))
    stranger_serial = _serial(16)
    made = _upload(
        rt, stranger, "serials", f"lot_number,serial\n{other.lot_number},{stranger_serial}\n"
    )
    assert made.status == "applied"
    retailer = make_org(rt, kind=OrganizationKind.RETAILER)
    store = organizations.create_location(
        rt, retailer, organizations.LocationDraft("Main Street", LocationKind.STORE, city="Oakland")
    ).id
    with rt.db.transaction() as conn:  # test setup: on the shelf, as receiving would leave them
        conn.execute(
            text(
                "UPDATE units SET disposition = 'sellable_accessible', location_id = :s, "
                "custodian_organization_id = :o WHERE organization_id = :b"
            ),
            {"s": store, "o": retailer.organization_id, "b": brand.organization_id},
        )
        by_serial: dict[str, str] = {
            str(serial): str(code)
            for serial, code in conn.execute(
                text("SELECT external_serial, code FROM units WHERE external_serial IS NOT NULL")
            ).all()
        }
    return World(brand, retailer, store, codes, serials, by_serial, stranger_serial)


def snapshot(rt: Runtime) -> list[tuple[Any, ...]]:
    with rt.db.read() as conn:
        rows = [tuple(r) for r in conn.execute(text("SELECT * FROM units ORDER BY id")).all()]
        for table in ("events", "event_units", "recall_scope_units"):
            rows.append((table, conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()))  # noqa: S608
    return rows


def problems(result: imports.ImportResult) -> list[tuple[Any, ...]]:
    return [(p["line"], p["column"], p["value"], p["message"]) for p in result.problems]


def _link(serial: str) -> str:
    return f"https://brand.example/01/{GTIN}/21/{serial.replace('%', '%25').replace('/', '%2F')}"


def _mixed(world: World) -> list[str]:
    """Every unit of the brand, named the ways a scanner's export names them."""
    s = world.serials
    return [
        world.codes[0],
        f"https://id.example.test/{world.codes[1].lower()}",
        f"https://id.example.test/01/{GTIN}/21/{world.codes[2]}",  # a unit code in a link
        _link(s[0]),
        f"https://brand.example/01/{GTIN}/10/BD-1/21/Ab%2F7x%25{s[1][6:]}",
        _link(s[2]),  # reads like a unit code, is the brand's serial
        f"(01){GTIN}(21){s[3]}",
        _link(s[4]),  # reads as a unit code, check character and all: the brand's serial
    ]


def _units(rt: Runtime, world: World) -> list[tuple[str, str]]:
    with rt.db.read() as conn:
        return [
            (str(code), str(disposition))
            for code, disposition in conn.execute(
                text(
                    "SELECT code, disposition FROM units WHERE organization_id = :b ORDER BY code"
                ),
                {"b": world.brand.organization_id},
            ).all()
        ]


def _broken(world: World, header: str, row: str, good: str) -> list[tuple[str, list[Any]]]:
    """Files with one problem each, and the problem; ``row`` formats a cell into a row."""
    unknown, code_like = _serial(16), _a_code()
    named_twice = world.by_serial[world.serials[0]]
    return [
        (
            header + row.format(good) + row.format(_link(unknown)),
            [(3, "code", f"(01){GTIN}(21){unknown}")],
        ),
        (
            header
            + row.format(f"(01){STRANGER_GTIN}(21){world.stranger_serial}")
            + row.format(good),
            [(2, "code", f"(01){STRANGER_GTIN}(21){world.stranger_serial}")],
        ),
        (
            header
            + row.format(_link(world.serials[0]))
            + row.format(good)
            + row.format(named_twice.lower()),
            [(4, "code", named_twice, "the same unit is on row 2")],
        ),
        (
            header + row.format(named_twice) + row.format(f"]d201{GTIN}21{world.serials[0]}"),
            [(3, "code", f"(01){GTIN}(21){world.serials[0]}", "the same unit is on row 2")],
        ),
        (
            header + row.format(good) + row.format(f"(01){GTIN}(21){code_like}"),
            [(3, "code", f"(01){GTIN}(21){code_like}")],
        ),
        (
            header
            + row.format(_link(world.serials[3]))
            + row.format(f"(01){GTIN}(21){world.serials[3]}"),
            [(3, "code", f"(01){GTIN}(21){world.serials[3]}", "the same unit is on row 2")],
        ),
    ]


def _check_broken(
    rt: Runtime, who: Principal, kind: str, cases: list[tuple[str, list[Any]]], unknown: str
) -> None:
    before = snapshot(rt)
    for content, expected in cases:
        result = _upload(rt, who, kind, content)
        assert result.status == "invalid", content
        full = [e if len(e) == 4 else (*e, unknown) for e in expected]
        assert problems(result) == full, content
        assert result.problem_count == len(full)
        assert snapshot(rt) == before, content


def test_a_sales_file_naming_units_by_code_and_by_brand_serial_sells_them_once(
    rt: Runtime, world: World
) -> None:
    content = "code,store\n" + "".join(f"{cell},Main Street\n" for cell in _mixed(world))
    done = _upload(rt, world.retailer, "sales", content)
    assert (done.status, done.problem_count, done.result["sold"]) == ("applied", 0, 8)
    assert {d for _, d in _units(rt, world)} == {"retail_sold"}
    (event_id,) = done.result["events"]
    sold = history.unit_history(rt, world.retailer, world.by_serial[world.serials[1]])[-1]
    assert sold["eventID"] == event_id
    assert sorted(sold["epcList"]) == sorted(
        [epcis.unit_epc(c, GTIN) for c in world.codes]
        + [epcis.unit_epc(s, GTIN) for s in world.serials]
    )
    before = snapshot(rt)
    again = _upload(rt, world.retailer, "sales", content)
    assert (again.replayed, again.id, again.result) == (True, done.id, done.result)
    assert snapshot(rt) == before
    assert audit.verify_chain(rt, world.retailer).ok


def test_broken_sales_files_name_each_row_and_change_nothing(rt: Runtime, world: World) -> None:
    cases = _broken(world, "code,store\n", "{},Main Street\n", world.codes[0])
    _check_broken(rt, world.retailer, "sales", cases, "unknown code: not a unit you hold")


def test_a_returns_file_naming_units_by_code_and_by_brand_serial_takes_them_back(
    rt: Runtime, world: World
) -> None:
    cells = _mixed(world)
    sold = _upload(
        rt, world.retailer, "sales", "code,store\n" + "".join(f"{c},Main Street\n" for c in cells)
    )
    assert sold.status == "applied"
    content = "code,store,action\n" + "".join(
        f"{cell},Main Street,{'quarantine' if cell == cells[3] else 'restock'}\n"
        for cell in reversed(cells)
    )
    done = _upload(rt, world.retailer, "returns", content)
    assert (done.status, done.problem_count, done.result["returned"]) == ("applied", 0, 8)
    quarantined = world.by_serial[world.serials[0]]  # named by its Digital Link
    assert _units(rt, world) == sorted(
        (code, "non_sellable_other" if code == quarantined else "sellable_accessible")
        for code, _ in _units(rt, world)
    )
    before = snapshot(rt)
    again = _upload(rt, world.retailer, "returns", content)
    assert (again.replayed, again.id, again.result) == (True, done.id, done.result)
    assert snapshot(rt) == before


def test_broken_returns_files_name_each_row_and_change_nothing(rt: Runtime, world: World) -> None:
    cells = _mixed(world)
    sold = _upload(
        rt, world.retailer, "sales", "code,store\n" + "".join(f"{c},Main Street\n" for c in cells)
    )
    assert sold.status == "applied"
    cases = _broken(world, "code,store\n", "{},Main Street\n", world.codes[0])
    _check_broken(rt, world.retailer, "returns", cases, "unknown code: not a unit you sold")


def _draft(rt: Runtime, world: World) -> recalls.RecallView:
    return recalls.create_recall(
        rt,
        world.brand,
        recalls.RecallDraft("Seals", "damaged seals", "III", Scope(unit_codes=(world.codes[0],))),
    )


def test_a_recall_scope_list_naming_units_by_brand_serial_adds_them(
    rt: Runtime, world: World
) -> None:
    recall = _draft(rt, world)
    content = "recall,code\n" + "".join(f"{recall.number},{cell}\n" for cell in _mixed(world))
    done = _upload(rt, world.brand, "recall_scope", content)
    assert (done.status, done.result) == ("applied", {"recalls": {recall.number: 8}})
    assert recalls.preview(rt, world.brand, recall.id).total == 8
    before = snapshot(rt)
    again = _upload(rt, world.brand, "recall_scope", content)
    assert (again.replayed, again.id, again.result) == (True, done.id, done.result)
    assert snapshot(rt) == before


def test_broken_recall_scope_lists_name_each_row_and_change_nothing(
    rt: Runtime, world: World
) -> None:
    recall = _draft(rt, world)
    cases = _broken(world, "recall,code\n", f"{recall.number},{{}}\n", world.codes[0])
    _check_broken(rt, world.brand, "recall_scope", cases, "unknown code: not one of your units")
    assert recalls.preview(rt, world.brand, recall.id).total == 1


def _one_serial_two_gtins(rt: Runtime, world: World) -> str:
    """The world's code-like serial, printed on a unit of the brand's second product too."""
    serial = world.serials[4]
    batch = make_batch(rt, world.brand, make_product(rt, world.brand, gtin=OTHER_GTIN))
    listed = f"lot_number,serial\n{batch.lot_number},{serial}\n"
    assert _upload(rt, world.brand, "serials", listed).status == "applied"
    with rt.db.transaction() as conn:  # test setup: on the shelf, as receiving would leave them
        conn.execute(
            text(
                "UPDATE units SET disposition = 'sellable_accessible', location_id = :s, "
                "custodian_organization_id = :o WHERE batch_id = :b"
            ),
            {"s": world.store, "o": world.retailer.organization_id, "b": batch.id},
        )
    return serial


def test_one_code_like_serial_under_two_gtins_is_two_units_in_sales_and_returns(
    rt: Runtime, world: World
) -> None:
    serial = _one_serial_two_gtins(rt, world)
    cells = [_link(serial), f"(01){OTHER_GTIN}(21){serial}"]
    sales = "code,store\n" + "".join(f"{c},Main Street\n" for c in cells)
    sold = _upload(rt, world.retailer, "sales", sales)
    assert (sold.status, sold.result["sold"]) == ("applied", 2)
    with rt.db.read() as conn:
        gtins = conn.execute(
            text(
                "SELECT p.gtin FROM units u JOIN products p ON p.id = u.product_id "
                "WHERE u.external_serial = :s AND u.disposition = 'retail_sold' ORDER BY p.gtin"
            ),
            {"s": serial},
        ).scalars()
        assert list(gtins) == sorted([GTIN, OTHER_GTIN])
    returns = "code,store\n" + "".join(f"{c},Main Street\n" for c in reversed(cells))
    returned = _upload(rt, world.retailer, "returns", returns)
    assert (returned.status, returned.result["returned"]) == ("applied", 2)


def test_a_code_like_serial_named_twice_under_one_gtin_is_one_unit_named_twice(
    rt: Runtime, world: World
) -> None:
    serial = _one_serial_two_gtins(rt, world)
    other = f"(01){OTHER_GTIN}(21){serial}"
    twice = [
        ([_link(serial), other, f"]d201{OTHER_GTIN}21{serial}"], (4, other, 3)),
        # read as the same code under the same GTIN: shown as that code, as for any label
        ([_link(serial), other, f"(01){GTIN}(21){serial}"], (4, serial, 2)),
    ]
    for kind, header in (("sales", "code,store\n"), ("returns", "code,store\n")):
        for cells, (line, shown, first) in twice:
            before = snapshot(rt)
            done = _upload(
                rt, world.retailer, kind, header + "".join(f"{c},Main Street\n" for c in cells)
            )
            assert done.status == "invalid", (kind, cells)
            assert problems(done)[:1] == [
                (line, "code", shown, f"the same unit is on row {first}")
            ], (kind, cells)
            assert snapshot(rt) == before
