"""Selling, customer returns and undone sales, on real databases (SQLite, and PostgreSQL when
configured), including N terminals selling the same unit at the same moment."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select, text

from tests.factories import make_batch, make_org, make_product
from unitrace.adapters.clock import FixedClock
from unitrace.domain import epcis
from unitrace.domain.codes import generate_codes
from unitrace.domain.model import LocationKind, OrganizationKind, Principal
from unitrace.errors import (
    IdempotencyKeyReusedError,
    NotFoundError,
    OperationRefusedError,
)
from unitrace.services import audit, organizations, retail, serialization, webhooks
from unitrace.services.runtime import Runtime
from unitrace.storage.schema import event_units, events, units

GTIN = "09506000134352"


@dataclass
class World:
    brand: Principal
    retailer: Principal
    store: int  # the retailer's store A
    other_store: int  # the retailer's store B
    back_office: int  # the retailer's non-store location
    codes: list[str]


def commission(rt: Runtime, brand: Principal, quantity: int, **batch: Any) -> list[str]:
    product = make_product(rt, brand, gtin=batch.pop("gtin", None))
    made = make_batch(rt, brand, product, **batch)
    result = serialization.commission_units(rt, brand, batch_id=made.id, quantity=quantity)
    return sorted(serialization.iter_commissioned_codes(rt, brand, event_id=result.event_id))


def add_store(rt: Runtime, principal: Principal, name: str) -> int:
    draft = organizations.LocationDraft(name, LocationKind.STORE, city="Oakland")
    return organizations.create_location(rt, principal, draft).id


def facility_of(rt: Runtime, principal: Principal) -> int:
    with rt.db.read() as conn:
        return int(
            conn.execute(
                text("SELECT id FROM locations WHERE organization_id = :o AND kind = 'facility'"),
                {"o": principal.organization_id},
            ).scalar_one()
        )


def set_units(rt: Runtime, codes: Sequence[str], **values: Any) -> None:
    """Test setup, not a service: put units straight into a state (custody, place,
    disposition) that the shipping and recall services would otherwise produce."""
    assignments = ", ".join(f"{name} = :{name}" for name in values)
    with rt.db.transaction() as conn:
        for code in codes:
            conn.execute(
                text(f"UPDATE units SET {assignments} WHERE code = :code"),  # noqa: S608 - test names
                {**values, "code": code},
            )


def stock(rt: Runtime, codes: Sequence[str], holder: Principal, location_id: int) -> None:
    """Test setup: the units arrive on the shelves of ``location_id``, held by ``holder``."""
    set_units(
        rt,
        codes,
        custodian_organization_id=holder.organization_id,
        location_id=location_id,
        disposition="sellable_accessible",
    )


def units_snapshot(rt: Runtime) -> list[tuple[Any, ...]]:
    with rt.db.read() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT * FROM units ORDER BY id"))]


def unit_row(rt: Runtime, code: str) -> dict[str, Any]:
    with rt.db.read() as conn:
        return dict(conn.execute(select(units).where(units.c.code == code)).mappings().one())


def events_of(rt: Runtime, code: str, biz_step: str | None = None) -> list[dict[str, Any]]:
    query = (
        select(events)
        .join(event_units, event_units.c.event_row_id == events.c.id)
        .join(units, units.c.id == event_units.c.unit_id)
        .where(units.c.code == code)
        .order_by(events.c.id)
    )
    if biz_step:
        query = query.where(events.c.biz_step == biz_step)
    with rt.db.read() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def reasons(exc: pytest.ExceptionInfo[OperationRefusedError]) -> dict[str, str]:
    return {d["code"]: d["reason"] for d in exc.value.details}


def with_settings(rt: Runtime, **changes: Any) -> Runtime:
    return Runtime(
        settings=rt.settings.model_copy(update=changes),
        db=rt.db,
        files=rt.files,
        clock=rt.clock,
    )


def chain_ok(rt: Runtime, *principals: Principal) -> None:
    for principal in principals:
        report = audit.verify_chain(rt, principal)
        assert report.ok, report.broken


@pytest.fixture
def world(rt: Runtime) -> World:
    brand = make_org(rt)
    retailer = make_org(rt, kind=OrganizationKind.RETAILER)
    store = add_store(rt, retailer, "Store A")
    other = add_store(rt, retailer, "Store B")
    codes = commission(rt, brand, 12, gtin=GTIN)
    stock(rt, codes, retailer, store)
    return World(brand, retailer, store, other, facility_of(rt, retailer), codes)


# ---------------------------------------------------------------------------------------
# Selling


def test_a_sale_marks_the_unit_sold_and_records_one_retail_selling_event(
    rt: Runtime, world: World, clock: FixedClock
) -> None:
    code = world.codes[0]
    sale = retail.sell(rt, world.retailer, location_id=world.store, codes=[code], terminal="T1")

    assert sale.codes == (code,)
    assert not sale.replayed
    row = unit_row(rt, code)
    assert row["disposition"] == "retail_sold"
    assert row["sold_at"] == clock.now
    assert row["custodian_organization_id"] == world.retailer.organization_id
    assert row["location_id"] == world.store
    (event,) = events_of(rt, code, "retail_selling")
    assert event["event_id"] == sale.event_id
    assert event["disposition"] == "retail_sold"
    document = json.loads(event["document"])
    assert document["type"] == "ObjectEvent"
    assert document["action"] == "OBSERVE"
    assert document["epcList"] == [epcis.unit_epc(code, GTIN)]
    store_uri = epcis.location_uri(world.store, None)
    assert document["readPoint"] == {"id": store_uri}
    assert document["bizLocation"] == {"id": store_uri}
    assert json.loads(event["details"])["terminal"] == "T1"
    chain_ok(rt, world.retailer)


def test_a_basket_is_sold_in_one_event_and_its_units_leave_their_case(
    rt: Runtime, world: World
) -> None:
    basket = world.codes[:3]
    set_units(rt, basket[:1], parent_container_id=None)
    sale = retail.sell(rt, world.retailer, location_id=world.store, codes=basket)

    assert sorted(sale.codes) == sorted(basket)
    for code in basket:
        assert unit_row(rt, code)["disposition"] == "retail_sold"
        assert unit_row(rt, code)["parent_container_id"] is None
        assert [e["event_id"] for e in events_of(rt, code, "retail_selling")] == [sale.event_id]
    assert unit_row(rt, world.codes[3])["disposition"] == "sellable_accessible"


def test_every_refused_unit_of_a_basket_is_named_with_its_reason_and_nothing_is_sold(
    rt: Runtime, world: World
) -> None:
    ok, recalled, sold, stolen, damaged, destroyed, elsewhere = world.codes[:7]
    transit = world.codes[7]
    expired = commission(rt, world.brand, 1, expires_on=dt.date(2026, 12, 1))[0]
    stock(rt, [expired], world.retailer, world.store)
    with rt.db.transaction() as conn:  # test setup: the batch's expiry date was yesterday
        conn.execute(
            text(
                "UPDATE batches SET expires_on = :d "
                "WHERE id = (SELECT batch_id FROM units WHERE code = :c)"
            ),
            {"d": dt.date(2026, 11, 23), "c": expired},
        )
    retail.sell(rt, world.retailer, location_id=world.store, codes=[sold])
    set_units(rt, [recalled], disposition="recalled")
    set_units(rt, [stolen], disposition="stolen")
    set_units(rt, [damaged], disposition="damaged")
    set_units(rt, [destroyed], disposition="destroyed")
    set_units(rt, [elsewhere], location_id=world.other_store)
    _in_transit_to(rt, world, transit)
    before = units_snapshot(rt)

    basket = [ok, recalled, sold, stolen, damaged, destroyed, elsewhere, transit, expired]
    with pytest.raises(OperationRefusedError) as refused:
        retail.sell(rt, world.retailer, location_id=world.store, codes=basket)

    assert reasons(refused) == {
        recalled: "recalled",
        sold: "already_sold",
        stolen: "stolen",
        damaged: "damaged",
        destroyed: "destroyed",
        elsewhere: "not_at_this_store",
        transit: "in_transit",
        expired: "expired",
    }
    assert units_snapshot(rt) == before
    assert events_of(rt, ok, "retail_selling") == []


def _in_transit_to(rt: Runtime, world: World, code: str) -> None:
    """Test setup: the brand has shipped the unit to the retailer's store; not received."""
    with rt.db.transaction() as conn:
        shipment_id = conn.execute(
            text(
                "INSERT INTO shipments (organization_id, number, status, "
                "destination_organization_id, destination_location_id, created_at) "
                "VALUES (:b, 'SH-1', 'shipped', :r, :s, :t) RETURNING id"
            ),
            {
                "b": world.brand.organization_id,
                "r": world.retailer.organization_id,
                "s": world.store,
                "t": rt.clock(),
            },
        ).scalar_one()
    set_units(
        rt,
        [code],
        disposition="in_transit",
        custodian_organization_id=world.brand.organization_id,
        location_id=None,
        shipment_id=shipment_id,
    )


def test_a_unit_past_its_expiry_date_is_refused_although_still_on_sale(
    rt: Runtime, world: World, clock: FixedClock
) -> None:
    code = commission(rt, world.brand, 1, expires_on=dt.date(2026, 12, 1))[0]
    stock(rt, [code], world.retailer, world.store)
    clock.advance(days=8)  # 2026-12-02: the day after expiry
    with pytest.raises(OperationRefusedError) as refused:
        retail.sell(rt, world.retailer, location_id=world.store, codes=[code])
    assert reasons(refused) == {code: "expired"}
    assert unit_row(rt, code)["disposition"] == "sellable_accessible"


def test_selling_anywhere_but_a_store_is_refused_not_at_store(rt: Runtime, world: World) -> None:
    with pytest.raises(OperationRefusedError) as refused:
        retail.sell(rt, world.retailer, location_id=world.back_office, codes=world.codes[:2])
    assert set(reasons(refused).values()) == {"not_at_store"}
    assert unit_row(rt, world.codes[0])["disposition"] == "sellable_accessible"


def test_only_a_retailer_may_sell(rt: Runtime, world: World) -> None:
    brand_store = add_store(rt, world.brand, "Brand flagship")
    code = commission(rt, world.brand, 1)[0]
    stock(rt, [code], world.brand, brand_store)
    with pytest.raises(OperationRefusedError) as refused:
        retail.sell(rt, world.brand, location_id=brand_store, codes=[code])
    assert reasons(refused) == {code: "kind_not_permitted"}


def test_unknown_and_foreign_codes_are_not_found_and_named(rt: Runtime, world: World) -> None:
    rival = make_org(rt, kind=OrganizationKind.RETAILER)
    rival_store = add_store(rt, rival, "Rival")
    theirs = world.codes[5]
    stock(rt, [theirs], rival, rival_store)
    (unknown,) = generate_codes(1)
    with pytest.raises(NotFoundError) as missing:
        retail.sell(rt, world.retailer, location_id=world.store, codes=[world.codes[0], unknown])
    assert missing.value.details == [{"code": unknown}]
    assert unknown in str(missing.value)
    with pytest.raises(NotFoundError) as foreign:
        retail.sell(rt, world.retailer, location_id=world.store, codes=[theirs])
    assert foreign.value.details == [{"code": theirs}]
    with pytest.raises(NotFoundError):
        retail.sell(rt, rival, location_id=world.store, codes=[world.codes[0]])
    assert unit_row(rt, world.codes[0])["disposition"] == "sellable_accessible"


def test_a_refused_sale_of_a_recalled_unit_notifies_the_brand_and_the_retailer(
    rt: Runtime, world: World
) -> None:
    hooks = {
        who.organization_id: webhooks.create_webhook(
            rt, who, url="https://hooks.example.test/in", topics=["sale.refused"]
        ).webhook.id
        for who in (world.brand, world.retailer)
    }
    code = world.codes[0]
    set_units(rt, [code], disposition="recalled")
    with pytest.raises(OperationRefusedError):
        retail.sell(rt, world.retailer, location_id=world.store, codes=[code], terminal="T9")

    for who in (world.brand, world.retailer):
        deliveries, total = webhooks.list_deliveries(rt, who, webhook_id=hooks[who.organization_id])
        assert total == 1
        assert deliveries[0].topic == "sale.refused"
        payload = deliveries[0].payload
        assert payload["codes"] == [code]
        assert payload["reason"] == "recalled"
        assert payload["terminal"] == "T9"
        assert payload["store"]["id"] == world.store
    assert unit_row(rt, code)["disposition"] == "recalled"


def test_a_refusal_for_another_reason_notifies_nobody(rt: Runtime, world: World) -> None:
    hook = webhooks.create_webhook(
        rt, world.brand, url="https://hooks.example.test/in", topics=["*"]
    ).webhook.id
    set_units(rt, world.codes[:1], disposition="stolen")
    with pytest.raises(OperationRefusedError):
        retail.sell(rt, world.retailer, location_id=world.store, codes=world.codes[:1])
    assert webhooks.list_deliveries(rt, world.brand, webhook_id=hook)[1] == 0


def _race(n: int, attempt: Callable[[int], Any]) -> list[Any]:
    """Run ``attempt(i)`` in ``n`` threads released at the same instant; results or errors."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = attempt(i)
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.mark.xdist_group("retail-concurrency")
def test_eight_terminals_selling_the_same_unit_at_once_sell_it_exactly_once(
    rt: Runtime, world: World
) -> None:
    code = world.codes[0]
    results = _race(
        8,
        lambda i: retail.sell(
            rt, world.retailer, location_id=world.store, codes=[code], terminal=f"T{i}"
        ),
    )

    sales = [r for r in results if isinstance(r, retail.Sale)]
    refusals = [r for r in results if isinstance(r, OperationRefusedError)]
    assert len(sales) == 1, results
    assert len(refusals) == 7, results
    assert all(
        r.details == [{"code": code, "reason": "already_sold", "message": ANY}] for r in refusals
    )
    assert [e["event_id"] for e in events_of(rt, code, "retail_selling")] == [sales[0].event_id]
    assert unit_row(rt, code)["disposition"] == "retail_sold"
    chain_ok(rt, world.retailer)


class _Any:
    def __eq__(self, other: object) -> bool:
        return True


ANY = _Any()


def test_a_retry_with_the_same_key_returns_the_same_sale(rt: Runtime, world: World) -> None:
    code = world.codes[0]
    first = retail.sell(
        rt, world.retailer, location_id=world.store, codes=[code], idempotency_key="k-1"
    )
    again = retail.sell(
        rt, world.retailer, location_id=world.store, codes=[code], idempotency_key="k-1"
    )
    assert again.replayed and not first.replayed
    assert (again.event_id, again.codes, again.sold_at) == (
        first.event_id,
        first.codes,
        first.sold_at,
    )
    assert len(events_of(rt, code, "retail_selling")) == 1
    with pytest.raises(IdempotencyKeyReusedError):
        retail.sell(
            rt,
            world.retailer,
            location_id=world.store,
            codes=world.codes[1:2],
            idempotency_key="k-1",
        )
    assert unit_row(rt, world.codes[1])["disposition"] == "sellable_accessible"


@pytest.mark.xdist_group("retail-concurrency")
def test_concurrent_twins_with_one_key_get_one_sale(rt: Runtime, world: World) -> None:
    basket = world.codes[:2]
    results = _race(
        6,
        lambda _i: retail.sell(
            rt, world.retailer, location_id=world.store, codes=basket, idempotency_key="twin"
        ),
    )
    assert all(isinstance(r, retail.Sale) for r in results), results
    assert len({r.event_id for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert len(events_of(rt, basket[0], "retail_selling")) == 1


# ---------------------------------------------------------------------------------------
# Returns


def _sold(rt: Runtime, world: World, code: str, location_id: int | None = None) -> retail.Sale:
    return retail.sell(rt, world.retailer, location_id=location_id or world.store, codes=[code])


def test_a_return_within_the_window_restocks_the_unit_with_two_events(
    rt: Runtime, world: World, clock: FixedClock
) -> None:
    code = world.codes[0]
    _sold(rt, world, code)
    clock.advance(days=29)
    result = retail.return_unit(
        rt, world.retailer, location_id=world.store, code=code, action="restock"
    )

    assert result.disposition == "sellable_accessible"
    row = unit_row(rt, code)
    assert row["disposition"] == "sellable_accessible"
    assert row["sold_at"] is None
    steps = [(e["biz_step"], e["disposition"]) for e in events_of(rt, code)][-2:]
    assert steps == [("receiving", "returned"), ("stocking", "sellable_accessible")]
    # back on the shelf, it can be sold again
    assert _sold(rt, world, code).codes == (code,)
    chain_ok(rt, world.retailer)


def test_a_quarantined_return_is_not_sellable(rt: Runtime, world: World) -> None:
    code = world.codes[0]
    _sold(rt, world, code)
    result = retail.return_unit(
        rt, world.retailer, location_id=world.store, code=code, action="quarantine"
    )
    assert result.disposition == "non_sellable_other"
    steps = [(e["biz_step"], e["disposition"]) for e in events_of(rt, code)][-2:]
    assert steps == [("receiving", "returned"), ("holding", "non_sellable_other")]
    with pytest.raises(OperationRefusedError) as refused:
        _sold(rt, world, code)
    assert reasons(refused) == {code: "not_sellable"}


def test_a_return_after_the_window_is_refused(rt: Runtime, world: World, clock: FixedClock) -> None:
    code = world.codes[0]
    _sold(rt, world, code)
    clock.advance(days=30, seconds=1)
    before = units_snapshot(rt)
    with pytest.raises(OperationRefusedError) as refused:
        retail.return_unit(rt, world.retailer, location_id=world.store, code=code, action="restock")
    assert reasons(refused) == {code: "return_window_passed"}
    assert units_snapshot(rt) == before


def test_a_return_at_another_store_of_the_chain_depends_on_the_setting(
    rt: Runtime, world: World
) -> None:
    first, second = world.codes[:2]
    _sold(rt, world, first)
    _sold(rt, world, second)
    strict = with_settings(rt, returns_across_stores=False)
    with pytest.raises(OperationRefusedError) as refused:
        retail.return_unit(
            strict, world.retailer, location_id=world.other_store, code=first, action="restock"
        )
    assert reasons(refused) == {first: "sold_elsewhere"}

    retail.return_unit(
        rt, world.retailer, location_id=world.other_store, code=second, action="restock"
    )
    assert unit_row(rt, second)["location_id"] == world.other_store
    assert unit_row(rt, second)["disposition"] == "sellable_accessible"


def test_a_unit_never_sold_or_recalled_cannot_be_returned(rt: Runtime, world: World) -> None:
    never, recalled = world.codes[:2]
    _sold(rt, world, recalled)
    set_units(rt, [recalled], disposition="recalled")
    for code, why in ((never, "not_sold"), (recalled, "recalled")):
        with pytest.raises(OperationRefusedError) as refused:
            retail.return_unit(
                rt, world.retailer, location_id=world.store, code=code, action="restock"
            )
        assert reasons(refused) == {code: why}


def test_a_retried_return_is_answered_once(rt: Runtime, world: World) -> None:
    code = world.codes[0]
    _sold(rt, world, code)
    kwargs: dict[str, Any] = {"location_id": world.store, "code": code, "action": "restock"}
    first = retail.return_unit(rt, world.retailer, idempotency_key="r-1", **kwargs)
    again = retail.return_unit(rt, world.retailer, idempotency_key="r-1", **kwargs)
    assert again.replayed and again.return_event_id == first.return_event_id
    assert len(events_of(rt, code, "receiving")) == 1


# ---------------------------------------------------------------------------------------
# Undoing a sale


def test_an_undone_sale_is_declared_wrong_and_the_unit_is_back_on_sale(
    rt: Runtime, world: World, clock: FixedClock
) -> None:
    code = world.codes[0]
    sale = _sold(rt, world, code)
    clock.advance(minutes=5)
    undone = retail.undo_sale(rt, world.retailer, code=code, reason="wrong item scanned")

    assert undone.sale_event_id == sale.event_id
    assert unit_row(rt, code)["disposition"] == "sellable_accessible"
    rows = events_of(rt, code, "retail_selling")
    original, corrective, declaration = rows
    assert original["error_declaration"] is None  # history is never edited
    assert corrective["disposition"] == "sellable_accessible"
    assert json.loads(corrective["details"])["reason"] == "wrong item scanned"
    assert declaration["event_id"] == sale.event_id
    assert declaration["declares_error_on"] == original["id"]
    declared = json.loads(declaration["error_declaration"])
    assert declared["reason"] == "did_not_occur"
    assert declared["correctiveEventIDs"] == [corrective["event_id"]]
    assert list(undone.corrective_event_ids) == [corrective["event_id"]]
    chain_ok(rt, world.retailer)
    # the same unit sells again, and that sale can be undone in its turn
    _sold(rt, world, code)
    assert retail.undo_sale(rt, world.retailer, code=code).sale_event_id != sale.event_id


def test_undoing_one_unit_of_a_basket_keeps_the_rest_sold(rt: Runtime, world: World) -> None:
    first, second = world.codes[:2]
    sale = retail.sell(rt, world.retailer, location_id=world.store, codes=[first, second])
    undone = retail.undo_sale(rt, world.retailer, code=first)

    assert len(undone.corrective_event_ids) == 2
    assert unit_row(rt, first)["disposition"] == "sellable_accessible"
    assert unit_row(rt, second)["disposition"] == "retail_sold"
    resold = [e for e in events_of(rt, second, "retail_selling") if e["event_id"] != sale.event_id]
    assert [json.loads(e["document"])["epcList"] for e in resold] == [
        [epcis.unit_epc(second, GTIN)]
    ]
    # the rest of the basket can still be undone: its sale now is the corrective event
    assert retail.undo_sale(rt, world.retailer, code=second).sale_event_id == resold[0]["event_id"]
    assert unit_row(rt, second)["disposition"] == "sellable_accessible"
    chain_ok(rt, world.retailer)


def test_a_sale_cannot_be_undone_after_the_window(
    rt: Runtime, world: World, clock: FixedClock
) -> None:
    code = world.codes[0]
    _sold(rt, world, code)
    clock.advance(minutes=1441)
    with pytest.raises(OperationRefusedError) as refused:
        retail.undo_sale(rt, world.retailer, code=code)
    assert reasons(refused) == {code: "undo_window_passed"}
    assert unit_row(rt, code)["disposition"] == "retail_sold"


def test_another_organization_cannot_see_a_sale_to_undo_it(rt: Runtime, world: World) -> None:
    code = world.codes[0]
    _sold(rt, world, code)
    rival = make_org(rt, kind=OrganizationKind.RETAILER)
    for who in (rival, world.brand):
        with pytest.raises(NotFoundError):
            retail.undo_sale(rt, who, code=code)
    assert unit_row(rt, code)["disposition"] == "retail_sold"


def test_a_recalled_unit_sale_cannot_be_undone(rt: Runtime, world: World) -> None:
    recalled, unsold = world.codes[:2]
    _sold(rt, world, recalled)
    set_units(rt, [recalled], disposition="recalled")
    with pytest.raises(OperationRefusedError) as refused:
        retail.undo_sale(rt, world.retailer, code=recalled)
    assert reasons(refused) == {recalled: "recalled"}
    with pytest.raises(OperationRefusedError) as never:
        retail.undo_sale(rt, world.retailer, code=unsold)
    assert reasons(never) == {unsold: "not_sold"}
