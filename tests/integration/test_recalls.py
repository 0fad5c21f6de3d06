"""Recalls through the services, on both databases: scope resolution for every kind of scope,
atomic activation, sales refused after (and while) a recall activates, confirmations,
release, destruction, closing, and the reach report against counts computed here."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select, text

from tests.epcis import assert_valid_epcis
from tests.factories import as_role, make_batch, make_location, make_org, make_product
from unitrace.domain.model import OrganizationKind, Principal, Role
from unitrace.domain.recalls import Scope
from unitrace.errors import (
    ConflictError,
    NotFoundError,
    OperationRefusedError,
    PermissionDeniedError,
    ValidationError,
)
from unitrace.services import audit, containers, recalls, retail, serialization, shipments
from unitrace.services.recalls import RecallDraft
from unitrace.services.runtime import Runtime
from unitrace.storage.schema import events, recall_units, units, webhook_deliveries

GTIN = "09506000134352"


def commission(rt: Runtime, brand: Principal, batch_id: int, quantity: int) -> list[str]:
    result = serialization.commission_units(rt, brand, batch_id=batch_id, quantity=quantity)
    return sorted(serialization.iter_commissioned_codes(rt, brand, event_id=result.event_id))


def ship(rt: Runtime, brand: Principal, retailer: Principal, store: int, items: list[str]) -> int:
    draft = shipments.create_shipment(
        rt,
        brand,
        destination_organization_id=retailer.organization_id,
        destination_location_id=store,
        items=items,
    )
    shipments.ship(rt, brand, draft.id)
    return draft.id


@dataclass
class World:
    brand: Principal
    retailer: Principal
    store: int
    other_brand: Principal
    regulator: Principal
    batch1: int  # product 1, produced 2026-11-01: 30 units
    batch2: int  # product 1, produced 2026-10-01: 6 units
    batch3: int  # product 2: 6 units
    product1: int
    pallet: str
    cases: list[str]
    at_store: list[str]  # batch 1, received at the store, in the pallet's cases
    sold: list[str]  # batch 1, sold at the store before any recall
    in_transit: list[str]  # batch 1, shipped, not received
    at_brand: list[str]  # batch 1, never shipped
    batch2_codes: list[str]
    batch3_codes: list[str]
    transit_shipment: int


@pytest.fixture
def world(rt: Runtime) -> World:
    brand = make_org(rt)
    retailer = make_org(rt, kind=OrganizationKind.RETAILER)
    store = make_location(rt, retailer)
    other = make_org(rt)
    regulator = make_org(rt, kind=OrganizationKind.REGULATOR)
    p1 = make_product(rt, brand, gtin=GTIN)
    p2 = make_product(rt, brand)
    b1 = make_batch(rt, brand, p1, produced_on=dt.date(2026, 11, 1))
    b2 = make_batch(rt, brand, p1, produced_on=dt.date(2026, 10, 1))
    b3 = make_batch(rt, brand, p2, produced_on=dt.date(2026, 11, 2))
    codes1 = commission(rt, brand, b1.id, 30)
    cases = []
    for i in range(2):
        case = containers.create_containers(rt, brand, kind="case")[0].code
        containers.pack(rt, brand, container=case, items=codes1[i * 6 : (i + 1) * 6])
        cases.append(case)
    pallet = containers.create_containers(rt, brand, kind="pallet")[0].code
    containers.pack(rt, brand, container=pallet, items=cases)
    received = ship(rt, brand, retailer, store, [pallet])
    shipments.receive(rt, retailer, received, scans=[pallet])
    sold = codes1[:3]
    retail.sell(rt, retailer, location_id=store, codes=sold)
    transit = ship(rt, brand, retailer, store, codes1[12:18])
    return World(
        brand=brand,
        retailer=retailer,
        store=store,
        other_brand=other,
        regulator=regulator,
        batch1=b1.id,
        batch2=b2.id,
        batch3=b3.id,
        product1=p1.id,
        pallet=pallet,
        cases=cases,
        at_store=codes1[3:12],
        sold=sold,
        in_transit=codes1[12:18],
        at_brand=codes1[18:],
        batch2_codes=commission(rt, brand, b2.id, 6),
        batch3_codes=commission(rt, brand, b3.id, 6),
        transit_shipment=transit,
    )


def draft(scope: Scope, **overrides: Any) -> RecallDraft:
    values: dict[str, Any] = {
        "title": "Aspergillus found in retest",
        "reason": "Lot failed a microbial retest",
        "severity": "I",
        "scope": scope,
        "retailer_instructions": "Pull from shelves and scan to confirm quarantine.",
        "consumer_instructions": "Do not consume. Return to the store for a refund.",
    }
    values.update(overrides)
    return RecallDraft(**values)


def dispositions(rt: Runtime, codes: list[str]) -> dict[str, str]:
    with rt.db.read() as conn:
        rows = conn.execute(
            select(units.c.code, units.c.disposition).where(units.c.code.in_(codes))
        )
        return {r.code: r.disposition for r in rows}


def expected_counts(w: World, **moved: int) -> dict[str, int]:
    base = {
        "destroyed": 0,
        "sold": len(w.sold),
        "released": 0,
        "returned": 0,
        "quarantined": 0,
        "in_transit": len(w.in_transit),
        "at_issuer": len(w.at_brand),
        "at_holder": len(w.at_store),
    }
    for key, n in moved.items():
        base[key] += n
    return base


# ---------------------------------------------------------------------------------------
# Scope


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        (lambda w: Scope(batch_ids=(w.batch1,)), lambda w: 30),
        (lambda w: Scope(product_ids=(w.product1,)), lambda w: 36),
        (
            lambda w: Scope(product_ids=(w.product1,), produced_from=dt.date(2026, 10, 15)),
            lambda w: 30,
        ),
        (
            lambda w: Scope(product_ids=(w.product1,), produced_to=dt.date(2026, 10, 15)),
            lambda w: 6,
        ),
        (
            lambda w: Scope(produced_from=dt.date(2026, 9, 1), produced_to=dt.date(2026, 12, 31)),
            lambda w: 42,
        ),
        # the pallet's current contents, through its cases: sold units left their case
        (lambda w: Scope(container_codes=(w.pallet.lower(),)), lambda w: 9),
        (lambda w: Scope(container_codes=(w.cases[1],)), lambda w: 6),
        (
            lambda w: Scope(
                batch_ids=(w.batch2,), unit_codes=(w.batch3_codes[0].lower(), w.batch3_codes[1])
            ),
            lambda w: 8,
        ),
        # overlapping selectors count a unit once
        (
            lambda w: Scope(
                batch_ids=(w.batch1,), container_codes=(w.pallet,), unit_codes=(w.sold[0],)
            ),
            lambda w: 30,
        ),
    ],
    ids=[
        "batch",
        "product",
        "product-from",
        "product-to",
        "date-range",
        "pallet-nested",
        "case",
        "batch-and-codes",
        "overlap",
    ],
)
def test_each_kind_of_scope_previews_exactly_the_units_it_covers(
    rt: Runtime, world: World, scope: Any, expected: Any
) -> None:
    recall = recalls.create_recall(rt, world.brand, draft(scope(world)))
    assert recall.status == "draft" and recall.number.startswith("RC-2026-")
    preview = recalls.preview(rt, world.brand, recall.id)
    assert preview.total == expected(world)
    assert preview.will_recall == preview.total - preview.by_disposition.get("retail_sold", 0)
    assert sum(h["units"] for h in preview.by_custodian) == preview.total
    # a draft changes nothing
    assert set(dispositions(rt, world.at_brand).values()) == {"active"}


def test_a_preview_says_where_the_units_are_now(rt: Runtime, world: World) -> None:
    recall = recalls.create_recall(rt, world.brand, draft(Scope(batch_ids=(world.batch1,))))
    preview = recalls.preview(rt, world.brand, recall.id)
    assert preview.by_disposition == {
        "retail_sold": 3,
        "sellable_accessible": 9,
        "in_transit": 6,
        "active": 12,
    }
    holders = {(h["organization_id"], h["location_id"]): h["units"] for h in preview.by_custodian}
    assert holders[(world.retailer.organization_id, world.store)] == 12  # 9 on sale + 3 sold
    assert sum(v for (org, _), v in holders.items() if org == world.brand.organization_id) == 18


def test_a_scope_naming_anything_unknown_or_foreign_is_refused_with_every_problem(
    rt: Runtime, world: World
) -> None:
    foreign = make_batch(rt, world.other_brand)
    foreign_code = commission(rt, world.other_brand, foreign.id, 1)[0]
    with pytest.raises(ValidationError) as exc:
        recalls.create_recall(
            rt,
            world.brand,
            draft(
                Scope(
                    batch_ids=(foreign.id, 999_999),
                    container_codes=("ZZZZZZZZZZZZZZ",),
                    unit_codes=(foreign_code, "not a code!"),
                )
            ),
        )
    fields = Counter(d["field"] for d in exc.value.details)
    assert fields == {"batch_ids": 2, "container_codes": 1, "unit_codes": 2}
    for bad in (
        draft(Scope()),
        draft(Scope(produced_from=dt.date(2026, 11, 2), produced_to=dt.date(2026, 11, 1))),
        draft(Scope(batch_ids=(world.batch1,)), severity="IV"),
        draft(Scope(batch_ids=(world.batch1,)), title=" "),
    ):
        with pytest.raises(ValidationError):
            recalls.create_recall(rt, world.brand, bad)
    with pytest.raises(OperationRefusedError):  # a retailer does not issue recalls
        recalls.create_recall(rt, world.retailer, draft(Scope(batch_ids=(world.batch1,))))
    assert recalls.list_recalls(rt, world.brand).total == 0


# ---------------------------------------------------------------------------------------
# Activation


def test_activation_flags_the_scope_at_once_and_sales_are_refused_everywhere(
    rt: Runtime, world: World
) -> None:
    recall = recalls.create_recall(rt, world.brand, draft(Scope(batch_ids=(world.batch1,))))
    with pytest.raises(PermissionDeniedError):  # activation takes an admin
        recalls.activate(rt, as_role(world.brand, Role.OPERATOR), recall.id)
    done = recalls.activate(rt, world.brand, recall.id)

    assert (done.units, done.flagged, done.holders_notified) == (30, 27, 2)
    assert done.recall.status == "active" and done.recall.recalled_count == 27
    states = dispositions(rt, world.at_store + world.in_transit + world.at_brand + world.sold)
    assert {states[c] for c in world.sold} == {"retail_sold"}
    assert {states[c] for c in world.at_store + world.in_transit + world.at_brand} == {"recalled"}
    with pytest.raises(OperationRefusedError) as refused:
        retail.sell(rt, world.retailer, location_id=world.store, codes=[world.at_store[0]])
    assert refused.value.details[0]["reason"] == "recalled"
    # the flagged units' previous disposition is kept; one holding event covers them all
    with rt.db.read() as conn:
        (event,) = conn.execute(select(events).where(events.c.biz_step == "holding")).mappings()
        document = json.loads(event["document"])
        assert document["disposition"].endswith("recalled")
        assert len(document["epcList"]) == 27
        deliveries = conn.execute(
            select(webhook_deliveries.c.payload).where(
                webhook_deliveries.c.topic == "recall.activated"
            )
        ).scalars()
        assert deliveries is not None
    assert done.event_id == event["event_id"]
    report = recalls.report(rt, world.brand, recall.id)
    assert report.counts == expected_counts(world)
    assert report.progress.to_secure == 27 and report.progress.secured == 12
    assert {s["code"] for s in report.sold} == set(world.sold)
    assert all(s["store"] and s["sold_at"] for s in report.sold)
    holder = next(h for h in report.holders if h.location_id == world.store)
    assert holder.counts == {"at_holder": 9, "sold": 3}
    assert audit.verify_chain(rt, world.brand).ok
    assert_valid_epcis(recalls.epcis_document(rt, world.brand, recall.id))
    with pytest.raises(ConflictError):
        recalls.activate(rt, world.brand, recall.id)


def test_a_second_recall_of_the_same_units_covers_them_without_flagging_them_again(
    rt: Runtime, world: World
) -> None:
    first = recalls.create_recall(rt, world.brand, draft(Scope(container_codes=(world.pallet,))))
    recalls.activate(rt, world.brand, first.id)
    second = recalls.create_recall(rt, world.brand, draft(Scope(batch_ids=(world.batch1,))))
    done = recalls.activate(rt, world.brand, second.id)
    assert (done.units, done.flagged) == (30, 18)
    assert recalls.report(rt, world.brand, second.id).counts == expected_counts(world)


def test_activating_a_recall_that_covers_nothing_changes_nothing(rt: Runtime, world: World) -> None:
    recall = recalls.create_recall(rt, world.brand, draft(Scope(container_codes=(world.cases[0],))))
    retail.sell(rt, world.retailer, location_id=world.store, codes=world.at_store[:3])
    with pytest.raises(ValidationError):
        recalls.activate(rt, world.brand, recall.id)
    assert recalls.get_recall(rt, world.brand, recall.id).status == "draft"
    with rt.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(recall_units)).scalar_one() == 0


def test_concurrent_activations_of_one_recall_apply_once(rt: Runtime, world: World) -> None:
    recall = recalls.create_recall(rt, world.brand, draft(Scope(batch_ids=(world.batch1,))))
    results: list[str] = []
    barrier = threading.Barrier(3)

    def attempt() -> None:
        barrier.wait()
        try:
            recalls.activate(rt, world.brand, recall.id)
            results.append("ok")
        except ConflictError:
            results.append("conflict")

    threads = [threading.Thread(target=attempt) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict", "conflict", "ok"]
    with rt.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(recall_units)).scalar_one() == 30
        holding = select(func.count()).where(events.c.biz_step == "holding")
        assert conn.execute(holding).scalar_one() == 1


def test_sales_racing_the_activation_either_happen_before_it_or_are_refused(
    rt: Runtime, world: World
) -> None:
    recall = recalls.create_recall(rt, world.brand, draft(Scope(batch_ids=(world.batch1,))))
    outcomes: dict[str, str] = {}
    barrier = threading.Barrier(len(world.at_store) + 1)

    def sell(code: str) -> None:
        barrier.wait()
        try:
            retail.sell(rt, world.retailer, location_id=world.store, codes=[code])
            outcomes[code] = "sold"
        except OperationRefusedError as exc:
            outcomes[code] = exc.details[0]["reason"]

    def activate() -> None:
        barrier.wait()
        recalls.activate(rt, world.brand, recall.id)

    threads = [threading.Thread(target=sell, args=(c,)) for c in world.at_store]
    threads.append(threading.Thread(target=activate))
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert set(outcomes.values()) <= {"sold", "recalled"}
    states = dispositions(rt, world.at_store)
    for code, outcome in outcomes.items():
        assert states[code] == ("retail_sold" if outcome == "sold" else "recalled")
    sold_now = sum(1 for o in outcomes.values() if o == "sold")
    report = recalls.report(rt, world.brand, recall.id)
    assert report.counts["sold"] == 3 + sold_now
    assert report.counts["at_holder"] == 9 - sold_now
    view = recalls.get_recall(rt, world.brand, recall.id)
    assert view.recalled_count == 27 - sold_now
    with rt.db.read() as conn:
        flagged = conn.execute(
            select(func.count()).where(recall_units.c.flagged.is_(True))
        ).scalar_one()
    assert flagged == 27 - sold_now


# ---------------------------------------------------------------------------------------
# Holders, receiving, confirmations


def test_holders_see_their_recalled_units_and_confirm_by_scanning(
    rt: Runtime, world: World
) -> None:
    recall = recalls.create_recall(rt, world.brand, draft(Scope(batch_ids=(world.batch1,))))
    recalls.activate(rt, world.brand, recall.id)
    (held,) = recalls.held(rt, world.retailer)
    assert (held.recall_id, held.units, held.confirmed, held.location_id) == (
        recall.id,
        9,
        0,
        world.store,
    )
    assert "quarantine" in held.retailer_instructions
    listed = recalls.held_codes(rt, world.retailer, recall.id)
    assert sorted(r["code"] for r in listed) == sorted(world.at_store)
    with pytest.raises(NotFoundError):  # a retailer does not read the brand's recall itself
        recalls.get_recall(rt, world.retailer, recall.id)

    scans = [f"https://id.example.test/{c.lower()}\n" for c in world.at_store[:4]]
    done = recalls.confirm(
        rt, world.retailer, codes=scans, action="quarantined", location_id=world.store
    )
    assert done.units == 4 and done.recall_id == recall.id
    recalls.confirm(rt, world.retailer, codes=world.at_store[4:6], action="returned")
    with pytest.raises(OperationRefusedError) as refused:  # the brand's unit, a sold one
        recalls.confirm(
            rt, world.retailer, codes=[world.at_brand[0], world.sold[0]], action="quarantined"
        )
    assert {d["code"]: d["reason"] for d in refused.value.details} == {
        world.at_brand[0]: "not_recalled_here",
        world.sold[0]: "not_recalled",
    }
    with pytest.raises(ValidationError):
        recalls.confirm(rt, world.retailer, codes=world.at_store[:1], action="lost")

    report = recalls.report(rt, world.brand, recall.id)
    assert report.counts == expected_counts(world, at_holder=-6, quarantined=4, returned=2)
    assert report.progress.secured == 12 + 6
    assert recalls.held(rt, world.retailer)[0].confirmed == 6
    assert audit.verify_chain(rt, world.retailer).ok


def test_units_recalled_in_transit_are_received_flagged_and_stay_recalled(
    rt: Runtime, world: World
) -> None:
    recall = recalls.create_recall(rt, world.brand, draft(Scope(batch_ids=(world.batch1,))))
    recalls.activate(rt, world.brand, recall.id)
    outcome = shipments.scan(rt, world.retailer, world.in_transit[0])
    assert outcome.result == "expected" and "under recall" in outcome.message
    report = shipments.receive(rt, world.retailer, world.transit_shipment, scans=world.in_transit)
    assert report.received == 6
    assert sorted(report.recalled_codes) == sorted(world.in_transit)
    assert set(dispositions(rt, world.in_transit).values()) == {"recalled"}
    counts = recalls.report(rt, world.brand, recall.id).counts
    assert counts == expected_counts(world, in_transit=-6, at_holder=6)
    # released later, they go on sale where they were received
    recalls.release(rt, world.brand, recall.id, reason="wrong lot", codes=world.in_transit[:1])
    assert dispositions(rt, world.in_transit[:1]) == {world.in_transit[0]: "sellable_accessible"}
    retail.sell(rt, world.retailer, location_id=world.store, codes=world.in_transit[:1])


# ---------------------------------------------------------------------------------------
# Ending a recall


def test_release_destroy_and_close(rt: Runtime, world: World) -> None:
    recall = recalls.create_recall(rt, world.brand, draft(Scope(batch_ids=(world.batch1,))))
    recalls.activate(rt, world.brand, recall.id)

    with pytest.raises(ValidationError):
        recalls.release(rt, world.brand, recall.id, reason=" ", codes=world.at_store[:1])
    with pytest.raises(NotFoundError):  # only the issuer releases
        recalls.release(rt, world.retailer, recall.id, reason="x", codes=world.at_store[:1])
    released = recalls.release(
        rt, world.brand, recall.id, reason="caught by mistake", codes=world.at_store[:2]
    )
    assert released.units == 2
    assert set(dispositions(rt, world.at_store[:2]).values()) == {"sellable_accessible"}
    retail.sell(rt, world.retailer, location_id=world.store, codes=world.at_store[:1])
    with pytest.raises(OperationRefusedError):  # already released: not recalled any more
        recalls.release(rt, world.brand, recall.id, reason="again", codes=world.at_store[:1])

    gone = recalls.destroy(rt, world.retailer, recall.id, codes=world.at_store[2:5])
    assert gone.units == 3
    mine = recalls.destroy(rt, world.brand, recall.id)  # everything the brand holds
    assert mine.units == len(world.at_brand)
    with pytest.raises(ValidationError):
        recalls.destroy(rt, world.brand, recall.id)
    states = dispositions(rt, world.at_store[2:5] + world.at_brand)
    assert set(states.values()) == {"destroyed"}
    with rt.db.read() as conn:
        parents = conn.execute(
            select(units.c.parent_container_id).where(units.c.code.in_(world.at_store[2:5]))
        ).scalars()
        assert set(parents) == {None}

    report = recalls.report(rt, world.brand, recall.id)
    # a released unit sold afterwards counts as sold; the other released one as released
    assert report.counts == expected_counts(
        world, at_holder=-5, released=1, sold=1, destroyed=15, at_issuer=-12
    )
    closed = recalls.close(rt, world.brand, recall.id)
    assert closed.status == "closed" and closed.final_report is not None
    assert closed.final_report["counts"] == report.counts
    with pytest.raises(ConflictError):
        recalls.close(rt, world.brand, recall.id)
    with pytest.raises(ConflictError):
        recalls.release(rt, world.brand, recall.id, reason="late", codes=world.at_store[5:6])
    document = recalls.epcis_document(rt, world.brand, recall.id)
    assert_valid_epcis(document)
    steps = [e["bizStep"].rsplit(":", 1)[-1] for e in document["epcisBody"]["eventList"]]
    assert steps == ["holding", "inspecting", "destroying", "destroying"]
    for org in (world.brand, world.retailer):
        assert audit.verify_chain(rt, org).ok


def test_the_report_export_lists_every_unit_with_its_category(rt: Runtime, world: World) -> None:
    recall = recalls.create_recall(rt, world.brand, draft(Scope(batch_ids=(world.batch1,))))
    with pytest.raises(ConflictError):
        recalls.report_rows(rt, world.brand, recall.id)
    recalls.activate(rt, world.brand, recall.id)
    rows = list(recalls.report_rows(rt, world.brand, recall.id))
    assert [r["code"] for r in rows] == sorted(
        world.sold + world.at_store + world.in_transit + world.at_brand
    )
    by_code = {r["code"]: r["category"] for r in rows}
    assert {by_code[c] for c in world.sold} == {"sold"}
    assert {by_code[c] for c in world.in_transit} == {"in_transit"}
    assert {by_code[c] for c in world.at_brand} == {"at_issuer"}
    assert Counter(by_code.values()) == {k: v for k, v in expected_counts(world).items() if v}
    assert set(rows[0]) == set(recalls.REPORT_COLUMNS)


def test_a_regulator_reads_every_recall_of_its_market_and_issues_its_own(
    rt: Runtime, world: World
) -> None:
    mine = recalls.create_recall(rt, world.brand, draft(Scope(batch_ids=(world.batch1,))))
    recalls.activate(rt, world.brand, mine.id)
    listed = recalls.list_recalls(rt, world.regulator)
    assert [r.id for r in listed.items] == [mine.id]
    assert recalls.report(rt, world.regulator, mine.id).counts == expected_counts(world)
    with pytest.raises(NotFoundError):  # read-only: it is not the regulator's recall
        recalls.close(rt, world.regulator, mine.id)
    assert recalls.list_recalls(rt, world.other_brand).total == 0
    with pytest.raises(NotFoundError):
        recalls.report(rt, world.other_brand, mine.id)
    # the regulator recalls a brand's batch of its market itself
    own = recalls.create_recall(rt, world.regulator, draft(Scope(batch_ids=(world.batch3,))))
    assert recalls.activate(rt, world.regulator, own.id).flagged == 6
    assert set(dispositions(rt, world.batch3_codes).values()) == {"recalled"}
    assert audit.verify_chain(rt, world.regulator).ok


def test_drafts_are_edited_and_discarded_only_while_drafts(rt: Runtime, world: World) -> None:
    recall = recalls.create_recall(rt, world.brand, draft(Scope(batch_ids=(world.batch2,))))
    edited = recalls.update_recall(
        rt,
        world.brand,
        recall.id,
        draft(Scope(unit_codes=tuple(world.batch3_codes[:3])), severity="ii"),
    )
    assert edited.severity == "II" and edited.scope["unit_code_count"] == 3
    assert recalls.preview(rt, world.brand, recall.id).total == 3
    recalls.discard_recall(rt, world.brand, recall.id)
    with pytest.raises(NotFoundError):
        recalls.get_recall(rt, world.brand, recall.id)
    other = recalls.create_recall(rt, world.brand, draft(Scope(batch_ids=(world.batch2,))))
    recalls.activate(rt, world.brand, other.id)
    with pytest.raises(ConflictError):
        recalls.update_recall(rt, world.brand, other.id, draft(Scope(batch_ids=(world.batch3,))))
    with pytest.raises(ConflictError):
        recalls.discard_recall(rt, world.brand, other.id)
    with rt.db.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM recall_scope_units")).scalar_one() == 0


def test_units_recalled_in_transit_come_back_recalled_when_the_shipment_is_voided(
    rt: Runtime, world: World
) -> None:
    recall = recalls.create_recall(rt, world.brand, draft(Scope(batch_ids=(world.batch1,))))
    recalls.activate(rt, world.brand, recall.id)
    shipments.void_shipment(rt, world.brand, world.transit_shipment, reason="recalled")
    with rt.db.read() as conn:
        rows = conn.execute(
            select(
                units.c.disposition, units.c.shipment_id, units.c.custodian_organization_id
            ).where(units.c.code.in_(world.in_transit))
        ).all()
    assert set(rows) == {("recalled", None, world.brand.organization_id)}
    counts = recalls.report(rt, world.brand, recall.id).counts
    assert counts == expected_counts(world, in_transit=-6, at_issuer=6)
    # released, they are what they were before they were shipped: in the brand's stock
    recalls.release(rt, world.brand, recall.id, reason="lab error", codes=world.in_transit)
    assert set(dispositions(rt, world.in_transit).values()) == {"active"}
    assert audit.verify_chain(rt, world.brand).ok


def test_an_activation_that_fails_at_its_last_step_leaves_nothing_behind(
    rt: Runtime, world: World
) -> None:
    recall = recalls.create_recall(rt, world.brand, draft(Scope(batch_ids=(world.batch1,))))
    before = dispositions(rt, world.at_store + world.at_brand + world.in_transit)
    with rt.db.read() as conn:
        events_before = conn.execute(select(func.count()).select_from(events)).scalar_one()
    # The database itself refuses the last write of the activation (linking its event).
    with rt.db.transaction() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_link BEFORE INSERT ON recall_events "
                    "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION refuse_link() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_link BEFORE INSERT ON recall_events "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_link()"
                )
            )
    try:
        with pytest.raises(Exception, match="refused by the test"):
            recalls.activate(rt, world.brand, recall.id)
    finally:
        with rt.db.transaction() as conn:
            conn.execute(
                text(
                    "DROP TRIGGER refuse_link"
                    + (" ON recall_events" if conn.dialect.name != "sqlite" else "")
                )
            )
            if conn.dialect.name != "sqlite":
                conn.execute(text("DROP FUNCTION refuse_link()"))
    assert dispositions(rt, world.at_store + world.at_brand + world.in_transit) == before
    assert recalls.get_recall(rt, world.brand, recall.id).status == "draft"
    with rt.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(recall_units)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(events)).scalar_one() == events_before
    assert audit.verify_chain(rt, world.brand).ok
    assert recalls.activate(rt, world.brand, recall.id).flagged == 27  # and then it works
