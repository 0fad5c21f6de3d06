"""Serials a brand printed itself, imported as the ``serials`` upload kind, on both databases:
applied once with one commissioning event, a corpus of broken files each answered with its
exact problems and nothing changed, the guessable override, and the units found by GTIN and
serial wherever a scan names a unit."""

from __future__ import annotations

import csv as csv_module
import io
import secrets
import string
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text

from tests.factories import make_batch, make_location, make_org, make_product
from unitrace.domain import epcis
from unitrace.domain.codes import generate_code
from unitrace.domain.lifecycle import Operation
from unitrace.domain.model import LabStatus, OrganizationKind, Principal
from unitrace.domain.recalls import Scope
from unitrace.errors import NotFoundError, OperationRefusedError
from unitrace.services import (
    audit,
    catalog,
    exports,
    history,
    imports,
    labels,
    movement,
    recalls,
    retail,
    support,
    units,
    verification,
)
from unitrace.services.runtime import Runtime

GTIN = "09506000134352"
OTHER_GTIN = "00850000000025"
_ALPHABET = string.ascii_letters + string.digits


def random_serials(n: int, length: int = 16) -> list[str]:
    """Serials no reading takes for a unit code (14 characters): the tests of serials that
    read as codes choose theirs."""
    return ["".join(secrets.choice(_ALPHABET) for _ in range(length)) for _ in range(n)]


@dataclass
class Brand:
    who: Principal
    lot: str
    other_lot: str  # a batch of another product, with another GTIN


@pytest.fixture
def brand(rt: Runtime) -> Brand:
    who = make_org(rt)
    batch = make_batch(rt, who, make_product(rt, who, gtin=GTIN), lot_number="BD-1")
    other = make_batch(rt, who, make_product(rt, who, gtin=OTHER_GTIN), lot_number="OG-1")
    return Brand(who, batch.lot_number, other.lot_number)


def upload(rt: Runtime, who: Principal, content: str, **options: Any) -> imports.ImportResult:
    return imports.run_import(
        rt, who, "serials", io.BytesIO(content.encode()), filename="serials.csv", **options
    )


def csv(rows: list[tuple[str, str]], header: str = "lot_number,serial") -> str:
    out = io.StringIO()
    writer = csv_module.writer(out, lineterminator="\n")
    writer.writerows(rows)
    return header + "\n" + out.getvalue()


def snapshot(rt: Runtime) -> list[tuple[Any, ...]]:
    with rt.db.read() as conn:
        rows = conn.execute(text("SELECT * FROM units ORDER BY id")).all()
        n_events = conn.execute(text("SELECT count(*) FROM events")).scalar_one()
    return [tuple(r) for r in rows] + [(n_events,)]


def problems(result: imports.ImportResult) -> list[tuple[Any, ...]]:
    return [(p["line"], p["column"], p["value"], p["message"]) for p in result.problems]


def test_a_file_of_serials_becomes_units_with_codes_in_one_commissioning_event(
    rt: Runtime, brand: Brand
) -> None:
    serials = [*random_serials(4), "Ab!%&'()*+,-./:;<=>?"]
    done = upload(rt, brand.who, csv([(brand.lot, s) for s in serials]))

    assert (done.status, done.problem_count, done.result["units"]) == ("applied", 0, 5)
    assert done.result["guessable"] is False
    ((made,),) = [done.result["batches"]]
    assert (made["lot_number"], made["gtin"], made["quantity"]) == (brand.lot, GTIN, 5)
    with rt.db.read() as conn:
        rows = conn.execute(
            text("SELECT code, external_serial, serial_guessable, disposition FROM units")
        ).all()
    assert sorted(r[1] for r in rows) == sorted(serials)
    assert {r[2] for r in rows} == {None} and {r[3] for r in rows} == {"active"}
    assert all(len(r[0]) == 14 and r[0] not in serials for r in rows)  # codes of their own
    (event, *_) = history.unit_history(rt, brand.who, rows[0][0])
    assert event["eventID"] == made["event_id"]
    assert sorted(event["epcList"]) == sorted(epcis.unit_epc(s, GTIN) for s in serials)
    encoded = "Ab%21%25%26%27%28%29%2A%2B%2C-.%2F%3A%3B%3C%3D%3E%3F"
    assert f"https://id.gs1.org/01/{GTIN}/21/{encoded}" in event["epcList"]
    assert audit.verify_chain(rt, brand.who).ok


def test_the_same_file_again_answers_with_the_first_result_and_changes_nothing(
    rt: Runtime, brand: Brand
) -> None:
    content = csv([(brand.lot, s) for s in random_serials(3)])
    first = upload(rt, brand.who, content)
    before = snapshot(rt)
    again = upload(rt, brand.who, content)
    assert (again.replayed, again.id, again.result) == (True, first.id, first.result)
    assert snapshot(rt) == before


def test_a_dry_run_checks_everything_and_changes_nothing(rt: Runtime, brand: Brand) -> None:
    before = snapshot(rt)
    checked = upload(rt, brand.who, csv([(brand.lot, s) for s in random_serials(3)]), dry_run=True)
    assert (checked.status, checked.problem_count, checked.id) == ("dry_run", 0, None)
    assert checked.result == {
        "batches": 1,
        "units": 3,
        "allow_guessable": False,
        "guessable": False,
    }
    assert snapshot(rt) == before


def test_broken_files_are_answered_with_every_problem_and_change_nothing(
    rt: Runtime, brand: Brand
) -> None:
    (taken,) = random_serials(1)
    upload(rt, brand.who, csv([(brand.lot, taken)]))
    stranger = make_org(rt)
    foreign = make_batch(rt, stranger, make_product(rt, stranger, gtin="00614141000012"))
    no_gtin = make_batch(rt, brand.who, make_product(rt, brand.who), lot_number="NG-1")
    pending = make_batch(
        rt,
        brand.who,
        make_product(rt, brand.who, gtin="00012345600012"),
        lot_number="PD-1",
        lab=catalog.LabResultsDraft(status=LabStatus.PENDING),
    )
    good = random_serials(6)
    before = snapshot(rt)
    rows = [
        (brand.lot, good[0]),  # 2
        (brand.lot, "bad serial"),  # 3: a space is not in GS1 character set 82
        (brand.lot, "X" * 21),  # 4: too long
        (brand.lot, good[1]),  # 5
        (brand.lot, good[1]),  # 6: the same serial twice
        (brand.lot, taken),  # 7: already a unit of this GTIN
        (brand.other_lot, taken),  # 8: the same serial under another GTIN is fine
        (foreign.lot_number, good[2]),  # 9: another organization's batch
        (no_gtin.lot_number, good[3]),  # 10: a product without a GTIN
        (pending.lot_number, good[4]),  # 11: not released
        (brand.lot, good[5]),  # 12
    ]
    refused = upload(rt, brand.who, csv(rows))
    assert refused.status == "invalid"
    assert problems(refused) == [
        (
            3,
            "serial",
            "bad serial",
            "serial 'bad serial' has ' ' at position 4, which is not in GS1 character set 82 "
            "that AI 21 (serial) uses",
        ),
        (4, "serial", "X" * 21, "has 21 characters; at most 20"),
        (6, "serial", good[1], "the same serial is on row 5"),
    ]
    rows = [r for i, r in enumerate(rows, 2) if i not in (3, 4, 6)]
    refused = upload(rt, brand.who, csv(rows))
    name = catalog.get_product(rt, brand.who, no_gtin.product_id).name
    assert problems(refused) == [
        (6, "lot_number", foreign.lot_number, "no batch of yours has this lot"),
        (
            7,
            "lot_number",
            "NG-1",
            f"product {name!r} has no GTIN, and a serial is unique only under one: give the "
            "product its GTIN first",
        ),
        (
            8,
            "lot_number",
            "PD-1",
            "batch PD-1 has lab status 'pending'; only a batch that passed testing can be "
            "serialized",
        ),
    ]
    rows = [r for r in rows if r[0] in (brand.lot, brand.other_lot)]
    refused = upload(rt, brand.who, csv(rows))
    assert problems(refused) == [(4, "serial", taken, "this serial is already used for this GTIN")]
    assert snapshot(rt) == before
    fixed = upload(rt, brand.who, csv([r for r in rows if r != (brand.lot, taken)]))
    assert (fixed.status, fixed.result["units"]) == ("applied", 4)


def test_the_same_serial_in_two_lots_of_one_product_is_refused(rt: Runtime, brand: Brand) -> None:
    with rt.db.read() as conn:
        product_id = conn.execute(
            text("SELECT id FROM products WHERE gtin = :g"), {"g": GTIN}
        ).scalar_one()
    second = make_batch(rt, brand.who, catalog.get_product(rt, brand.who, product_id))
    (serial,) = random_serials(1)
    refused = upload(rt, brand.who, csv([(brand.lot, serial), (second.lot_number, serial)]))
    assert problems(refused) == [
        (3, "serial", serial, f"the same serial for GTIN {GTIN} is on row 2")
    ]


def test_guessable_serials_are_refused_unless_the_override_marks_them(
    rt: Runtime, brand: Brand
) -> None:
    counting = csv([(brand.lot, f"ACME{n:016d}") for n in range(1, 6)])
    refused = upload(rt, brand.who, counting)
    assert refused.status == "invalid"
    assert (
        problems(refused)
        == [
            (
                2,
                "serial",
                "ACME0000000000000001",
                "5 serials count up by 1 (ACME0000000000000001, ACME0000000000000002, …, "
                "ACME0000000000000005): one printed serial gives away the others; use random "
                "serials, or upload with the guessable override to accept them as weak evidence",
            ),
            (
                2,
                "serial",
                "ACME0000000000000001",
                "serial 'ACME0000000000000001' can be guessed: 20 characters of digits and "
                "upper-case letters (19 of them the same in every serial) carry about 5.2 bits, "
                "under the 40 needed; use random serials of at least 27 characters of these kinds, "
                "or upload with the guessable override to accept them as weak evidence",
            ),
        ][::-1]
    )
    short = upload(rt, brand.who, csv([(brand.lot, "48213977")]))
    assert problems(short) == [
        (
            2,
            "serial",
            "48213977",
            "serial '48213977' can be guessed: 8 characters of digits carry about 26.6 bits, "
            "under the 40 needed; use random serials of at least 13 characters of these "
            "kinds, or upload with the guessable override to accept them as weak evidence",
        )
    ]
    accepted = upload(rt, brand.who, counting, allow_guessable=True)
    assert accepted.status == "applied"
    assert (accepted.result["allow_guessable"], accepted.result["guessable"]) == (True, True)
    with rt.db.read() as conn:
        flags = conn.execute(text("SELECT DISTINCT serial_guessable FROM units")).scalars().all()
    assert [bool(f) for f in flags] == [True]


def test_units_are_found_by_gtin_and_serial_and_only_by_their_owner(
    rt: Runtime, brand: Brand
) -> None:
    a, b = random_serials(2)
    upload(rt, brand.who, csv([(brand.lot, a), (brand.other_lot, a), (brand.lot, b)]))
    with rt.db.read() as conn:
        found = movement.resolve(
            conn,
            brand.who,
            [f"https://brand.example/01/{GTIN}/21/{a}", f"(01){OTHER_GTIN}(21){a}"],
        )
        assert [i.gtin for i in found] == [GTIN, OTHER_GTIN]
        assert [i.printed for i in found] == [a, a]
        assert found[0].code != found[1].code
        stranger = make_org(rt)
        with pytest.raises(NotFoundError) as missing:
            movement.resolve(conn, stranger, [f"https://x.example/01/{GTIN}/21/{b}"])
    assert str(missing.value) == f"not found: (01){GTIN}(21){b}"
    view = units.get_unit_by_scan(rt, brand.who, f"https://x.example/01/{GTIN}/21/{b}")
    assert view.unit.external_serial == b


def test_labels_and_exports_carry_the_brands_serial(rt: Runtime, brand: Brand) -> None:
    serial = "Ab/7x%" + random_serials(1, 14)[0]
    upload(rt, brand.who, csv([(brand.lot, serial)]))
    view = units.get_unit_by_scan(rt, brand.who, f"(01){GTIN}(21){serial}")
    encoded = "Ab%2F7x%25" + serial[6:]
    assert (
        view.digital_link
        == f"{rt.settings.resolver_base_url}/01/{GTIN}/10/{brand.lot}/21/{encoded}"
    )
    svg = labels.unit_label_svg(rt, brand.who, view.unit.code)
    assert f"<title>{serial}</title>" in svg
    exported = "".join(
        exports.csv_chunks("units", exports.export_rows(rt, brand.who, "units", None))
    )
    header, row = exported.lstrip("\ufeff").splitlines()[:2]
    assert header.startswith("code,external_serial,product,gtin")
    assert row.startswith(f"{view.unit.code},{serial},")


def test_a_disposition_and_the_scan_lookup_take_a_brands_serial(rt: Runtime, brand: Brand) -> None:
    a, b = random_serials(2)
    upload(rt, brand.who, csv([(brand.lot, a), (brand.lot, b)]))
    changed = retail.change_disposition(
        rt,
        brand.who,
        operation=Operation.MARK_DAMAGED,
        codes=[f"https://brand.example/01/{GTIN}/10/{brand.lot}/21/{a}"],
    )
    assert changed.units == 1
    looked = support.scan_lookup(rt, brand.who, f"]d201{GTIN}21{a}")
    assert looked["view"].unit.external_serial == a
    assert looked["view"].unit.disposition.value == "damaged"
    damage = history.unit_history(rt, brand.who, looked["view"].unit.code)[-1]
    assert damage["epcList"] == [epcis.unit_epc(a, GTIN)]
    other = units.get_unit_by_scan(rt, brand.who, f"(01){GTIN}(21){b}")
    assert other.unit.disposition.value == "active"


def test_a_brands_serial_that_reads_as_a_unit_code_is_still_found_by_its_gtin(
    rt: Runtime, brand: Brand
) -> None:
    serial = generate_code()  # 14 characters whose last is a valid check character
    upload(rt, brand.who, csv([(brand.lot, serial)]))
    link = f"https://brand.example/01/{GTIN}/21/{serial}"
    with rt.db.read() as conn:
        (found,) = movement.resolve(conn, brand.who, [link])
    assert (found.printed, found.code != serial) == (serial, True)
    assert units.get_unit_by_scan(rt, brand.who, link).unit.id == found.id
    changed = retail.change_disposition(
        rt, brand.who, operation=Operation.MARK_DAMAGED, codes=[f"(01){GTIN}(21){serial}"]
    )
    assert changed.units == 1
    public = verification.verify(rt, serial, gtin=GTIN)
    assert (public.verdict.value, public.unit_id) == ("authentic", found.id)
    assert verification.verify(rt, serial).verdict.value == "unknown"  # by code: no such unit


def test_one_serial_that_reads_as_a_code_under_two_gtins_names_two_units(
    rt: Runtime, brand: Brand
) -> None:
    serial = generate_code().lower()  # read as a unit code first, then as each GTIN's serial
    upload(rt, brand.who, csv([(brand.lot, serial), (brand.other_lot, serial)]))
    scans = [f"https://brand.example/01/{GTIN}/21/{serial}", f"(01){OTHER_GTIN}(21){serial}"]
    with rt.db.read() as conn:
        found = movement.resolve(conn, brand.who, scans)
    assert [(i.gtin, i.printed) for i in found] == [(GTIN, serial), (OTHER_GTIN, serial)]
    assert found[0].id != found[1].id
    scope = Scope(unit_codes=tuple(scans))
    draft = recalls.RecallDraft(title="Mould", reason="Visible mould", severity="I", scope=scope)
    recall = recalls.create_recall(rt, brand.who, draft)
    assert recalls.activate(rt, brand.who, recall.id).units == 2
    with rt.db.read() as conn, pytest.raises(NotFoundError) as missing:
        movement.resolve(conn, make_org(rt), scans[:1])
    assert str(missing.value) == f"not found: (01){GTIN}(21){serial}"


def test_a_brands_serial_is_sold_returned_recalled_and_confirmed_by_its_scans(
    rt: Runtime, brand: Brand
) -> None:
    a, b, c = random_serials(3)
    upload(rt, brand.who, csv([(brand.lot, a), (brand.lot, b), (brand.lot, c)]))
    retailer = make_org(rt, kind=OrganizationKind.RETAILER)
    store = make_location(rt, retailer)
    with rt.db.transaction() as conn:  # test setup: on the shelf, as receiving would leave them
        conn.execute(
            text(
                "UPDATE units SET disposition = 'sellable_accessible', location_id = :s, "
                "custodian_organization_id = :o WHERE external_serial IS NOT NULL"
            ),
            {"s": store, "o": retailer.organization_id},
        )
    retail.sell(rt, retailer, location_id=store, codes=[f"]d201{GTIN}21{a}"])
    returned = retail.return_unit(
        rt, retailer, location_id=store, code=f"(01){GTIN}(21){a}", action="restock"
    )
    assert returned.code == units.get_unit_by_scan(rt, retailer, f"(01){GTIN}(21){a}").unit.code
    scope = Scope(unit_codes=(f"https://brand.example/01/{GTIN}/21/{b}", f"(01){GTIN}(21){c}"))
    draft = recalls.RecallDraft(title="Mould", reason="Visible mould", severity="I", scope=scope)
    recall = recalls.create_recall(rt, brand.who, draft)
    assert recalls.activate(rt, brand.who, recall.id).units == 2
    confirmed = recalls.confirm(
        rt, retailer, codes=[f"https://brand.example/01/{GTIN}/21/{b}"], action="quarantined"
    )
    assert confirmed.units == 1
    with pytest.raises(OperationRefusedError) as refused:
        recalls.confirm(rt, retailer, codes=[f"(01){GTIN}(21)NO-SUCH-1"], action="returned")
    assert f"(01){GTIN}(21)NO-SUCH-1" in str(refused.value)
    assert audit.verify_chain(rt, retailer).ok and audit.verify_chain(rt, brand.who).ok
