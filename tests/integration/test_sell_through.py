"""Sell-through from the event log, compared with figures worked out from the scenario."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import statistics
import time
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import make_batch, make_location, make_org, make_product
from tests.sell_through_data import commission, deliver, one_store_selling
from unitrace.adapters.clock import FixedClock
from unitrace.domain.model import LocationKind, OrganizationKind, Principal
from unitrace.errors import UnitraceError, ValidationError
from unitrace.services import analytics, organizations, retail, serialization, shipments
from unitrace.services.runtime import Runtime
from unitrace.storage import sellthrough as rollups


def test_sell_through_counts_what_the_events_say_and_nothing_undone(
    rt: Runtime, clock: FixedClock
) -> None:
    brand, other_brand = make_org(rt), make_org(rt)
    retailer = make_org(rt, kind=OrganizationKind.RETAILER)
    north, south = make_location(rt, retailer), make_location(rt, retailer)
    product, codes = commission(rt, brand, 10)
    other_product, other_codes = commission(rt, other_brand, 3)
    deliver(rt, brand, retailer, north, codes[:6])
    deliver(rt, brand, retailer, south, codes[6:10])
    deliver(rt, other_brand, retailer, north, other_codes)
    clock.advance(days=3)
    retail.sell(rt, retailer, location_id=north, codes=codes[:3])
    retail.sell(rt, retailer, location_id=south, codes=[codes[6]])
    retail.sell(rt, retailer, location_id=north, codes=[other_codes[0]])
    retail.return_unit(rt, retailer, location_id=north, code=codes[0], action="restock")
    retail.undo_sale(rt, retailer, code=codes[6], reason="rang up the wrong jar")

    # worked out from the scenario above, independently of the service
    supplied = Counter({(product, north): 6, (product, south): 4, (other_product, north): 3})
    sold = Counter({(product, north): 3, (other_product, north): 1})  # the south sale was undone
    returned = Counter({(product, north): 1})

    def figures(rows: list[analytics.SellThroughRow]) -> dict[tuple[int, int], tuple[int, ...]]:
        return {(r.product_id, r.store_id): (r.supplied, r.sold, r.returned) for r in rows}

    expected = {key: (supplied[key], sold[key], returned[key]) for key in supplied}
    brand_rows = analytics.sell_through(rt, brand)
    assert figures(brand_rows) == {k: v for k, v in expected.items() if k[0] == product}
    north_row = next(r for r in brand_rows if r.store_id == north)
    assert (north_row.net_sold, north_row.sell_through) == (2, round(2 / 6, 4))
    south_row = next(r for r in brand_rows if r.store_id == south)
    assert south_row.sell_through == 0.0
    assert figures(analytics.sell_through(rt, retailer)) == expected
    assert figures(analytics.sell_through(rt, other_brand)) == {(other_product, north): (3, 1, 0)}
    # a window that starts after the deliveries sees only the sales and the return, and
    # the stock that did not move in it
    later = analytics.sell_through(rt, retailer, since=clock.now - dt.timedelta(hours=1))
    assert figures(later) == {
        (product, north): (0, 3, 1),
        (other_product, north): (0, 1, 0),
        (product, south): (0, 0, 0),
    }
    # on hand now: delivered, less sold, plus the restocked return; the undone sale is back
    on_hand = {(r.product_id, r.store_id): r.on_hand for r in later}
    assert on_hand == {(product, north): 6 - 3 + 1, (product, south): 4, (other_product, north): 2}
    assert analytics.sell_through(rt, make_org(rt)) == []


def test_days_on_shelf_run_from_the_last_receipt_at_the_store_to_each_sale(
    rt: Runtime, clock: FixedClock
) -> None:
    brand = make_org(rt)
    retailer = make_org(rt, kind=OrganizationKind.RETAILER)
    north, south = make_location(rt, retailer), make_location(rt, retailer)
    _, codes = commission(rt, brand, 6)
    deliver(rt, brand, retailer, north, codes[:4])
    deliver(rt, brand, retailer, south, codes[4:])
    clock.advance(days=3)
    retail.sell(rt, retailer, location_id=north, codes=codes[:3])
    retail.sell(rt, retailer, location_id=south, codes=[codes[4]])
    retail.undo_sale(rt, retailer, code=codes[4], reason="wrong jar")
    retail.return_unit(rt, retailer, location_id=north, code=codes[0], action="restock")
    clock.advance(days=10)
    retail.sell(rt, retailer, location_id=north, codes=[codes[0]])  # sold again, 13 days in

    rows = {r.store_id: r for r in analytics.sell_through(rt, brand)}
    # worked out: sales at north 3, 3, 3 and 13 days after the delivery; none stand at south
    assert rows[north].median_days == 3.0
    assert rows[north].mean_days == 5.5
    assert rows[north].shelf_days == {
        "days_0_7": 3, "days_8_14": 1, "days_15_30": 0, "days_31_60": 0, "days_over_60": 0,
    }  # fmt: skip
    assert (rows[south].median_days, rows[south].shelf_days) == (None, None)
    recent = {r.store_id: r for r in analytics.sell_through(rt, brand, since=clock.now)}
    assert (recent[north].sold, recent[north].median_days) == (1, 13.0)


def test_a_bad_window_is_refused(rt: Runtime) -> None:
    brand = make_org(rt)
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    with pytest.raises(ValidationError, match="until must be after since"):
        analytics.sell_through(rt, brand, since=now, until=now)
    with pytest.raises(ValidationError, match="time zone"):
        analytics.sell_through(rt, brand, since=dt.datetime(2026, 12, 1))  # noqa: DTZ001


def _monday(day: dt.date) -> str:
    return (day - dt.timedelta(days=day.weekday())).isoformat()


def test_figures_by_batch_brand_retailer_market_and_week(rt: Runtime, clock: FixedClock) -> None:
    brand = make_org(rt, name="Green Valley")
    west = make_org(rt, kind=OrganizationKind.RETAILER, name="West Shops")
    east = make_org(rt, kind=OrganizationKind.RETAILER, name="East Shops", market="NV")
    north, south = make_location(rt, west), make_location(rt, west)
    vegas = make_location(rt, east)
    product = make_product(rt, brand)
    first, second = make_batch(rt, brand, product), make_batch(rt, brand, product)
    ones = _commission(rt, brand, first.id, 7)
    twos = _commission(rt, brand, second.id, 3)
    deliver(rt, brand, west, north, ones[:5])
    deliver(rt, brand, west, south, twos)
    deliver(rt, brand, east, vegas, ones[5:])
    delivered_on = clock.now.date()
    clock.advance(days=1)
    retail.sell(rt, west, location_id=north, codes=ones[:2])
    first_sales = clock.now.date()
    clock.advance(days=7)
    retail.sell(rt, west, location_id=south, codes=[twos[0]])
    retail.sell(rt, east, location_id=vegas, codes=[ones[5]])
    later_sales = clock.now.date()

    def figures(rows: list[analytics.SellThroughRow], name: str) -> dict[Any, tuple[int, ...]]:
        return {getattr(r, name): (r.supplied, r.sold, r.returned) for r in rows}

    by_batch = analytics.sell_through(rt, brand, by="batch")
    assert figures(by_batch, "lot_number") == {
        first.lot_number: (7, 3, 0),
        second.lot_number: (3, 1, 0),
    }
    assert {r.product_name for r in by_batch} == {product.name}
    by_retailer = analytics.sell_through(rt, brand, by="retailer")
    assert figures(by_retailer, "retailer_name") == {
        "West Shops": (8, 3, 0),
        "East Shops": (2, 1, 0),
    }
    assert {r.retailer_name: r.market for r in by_retailer} == {
        "West Shops": "CA",
        "East Shops": "NV",
    }
    assert figures(analytics.sell_through(rt, brand, by="market"), "market") == {
        "CA": (8, 3, 0),
        "NV": (2, 1, 0),
    }
    # a retailer sees the brand's figures in its own stores only
    assert figures(analytics.sell_through(rt, west, by="brand"), "brand_name") == {
        "Green Valley": (8, 3, 0)
    }
    # per week: the weeks (Mondays) worked out from the days things happened
    weekly: dict[str, list[int]] = {}
    for day, supplied, sold in ((delivered_on, 10, 0), (first_sales, 0, 2), (later_sales, 0, 2)):
        counts = weekly.setdefault(_monday(day), [0, 0])
        counts[0] += supplied
        counts[1] += sold
    rows = analytics.sell_through(rt, brand, by="product", period="week")
    assert {r.period: [r.supplied, r.sold] for r in rows} == weekly
    assert all(r.on_hand is None for r in rows)
    # weeks of supply: 6 on hand, 4 sold in the last 28 days = 1 a week
    (total,) = analytics.sell_through(rt, brand, by="product")
    assert (total.on_hand, total.weeks_of_supply) == (6, 6.0)
    # per day, with a window: only what happened on those days
    window = analytics.sell_through(
        rt, brand, by="store", period="day", since=first_sales, until=later_sales
    )
    assert [(r.store_id, r.period, r.sold) for r in window] == [(north, first_sales.isoformat(), 2)]


def test_a_regulator_sees_its_market_at_market_level_only(rt: Runtime) -> None:
    brand = make_org(rt)
    west = make_org(rt, kind=OrganizationKind.RETAILER)
    east = make_org(rt, kind=OrganizationKind.RETAILER, market="NV")
    california = make_org(rt, kind=OrganizationKind.REGULATOR)
    nevada = make_org(rt, kind=OrganizationKind.REGULATOR, market="NV")
    _, codes = commission(rt, brand, 5)
    deliver(rt, brand, west, make_location(rt, west), codes[:3])
    deliver(rt, brand, east, make_location(rt, east), codes[3:])
    rows = analytics.sell_through(rt, california, by="market,brand")
    assert [(r.market, r.brand_id, r.supplied, r.on_hand) for r in rows] == [
        ("CA", brand.organization_id, 3, 3)
    ]
    assert [r.supplied for r in analytics.sell_through(rt, nevada, by="market")] == [2]
    for refused in ("store", "batch", "product,store"):
        with pytest.raises(ValidationError, match="cannot group by"):
            analytics.sell_through(rt, california, by=refused)


def test_bad_groupings_and_periods_are_refused(rt: Runtime) -> None:
    brand = make_org(rt)
    with pytest.raises(ValidationError, match="cannot group by 'colour'"):
        analytics.sell_through(rt, brand, by="product,colour")
    with pytest.raises(ValidationError, match="each dimension once"):
        analytics.sell_through(rt, brand, by="store,store")
    with pytest.raises(ValidationError, match="at least one"):
        analytics.sell_through(rt, brand, by=" , ")
    with pytest.raises(ValidationError, match="period must be one of"):
        analytics.sell_through(rt, brand, period="fortnight")


def _commission(rt: Runtime, brand: Principal, batch_id: int, n: int) -> list[str]:
    done = serialization.commission_units(rt, brand, batch_id=batch_id, quantity=n)
    return sorted(serialization.iter_commissioned_codes(rt, brand, event_id=done.event_id))


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["sell", "return", "undo", "redeliver", "wait", "fold"]),
        st.integers(min_value=0, max_value=5),
    ),
    min_size=1,
    max_size=14,
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=OPERATIONS)
def test_the_daily_figures_always_equal_the_event_log_whenever_they_are_folded(
    rt: Runtime, clock: FixedClock, operations: list[tuple[str, int]]
) -> None:
    """Sales, returns, undone sales and a second delivery, folded in at random moments
    (a declaration often lands in a later fold than the sale it undoes): the rollups must
    always add up to the counts taken straight from the events."""
    brand = make_org(rt)
    retailer = make_org(rt, kind=OrganizationKind.RETAILER)
    north, south = make_location(rt, retailer), make_location(rt, retailer)
    _, codes = commission(rt, brand, 6)
    deliver(rt, brand, retailer, north, codes[:4])
    deliver(rt, brand, retailer, south, codes[4:])
    where = {code: (north if i < 4 else south) for i, code in enumerate(codes)}
    for name, i in operations:
        code = codes[i]
        try:
            if name == "sell":
                retail.sell(rt, retailer, location_id=where[code], codes=[code])
            elif name == "return":
                retail.return_unit(
                    rt, retailer, location_id=where[code], code=code, action="restock"
                )
            elif name == "undo":
                retail.undo_sale(rt, retailer, code=code, reason="wrong jar")
            elif name == "redeliver" and where[code] == south:
                # back to the brand, then to the other store
                back = shipments.create_shipment(
                    rt, retailer, destination_organization_id=brand.organization_id,
                    destination_location_id=_facility(rt, brand), items=[code],
                )  # fmt: skip
                shipments.ship(rt, retailer, back.id)
                shipments.receive(rt, brand, back.id, scans=[code])
                deliver(rt, brand, retailer, north, [code])
                where[code] = north
            elif name == "wait":
                clock.advance(days=i + 1)
            elif name == "fold":
                analytics.refresh(rt)
        except UnitraceError:
            pass  # not possible in the unit's state: nothing happened
    rows = analytics.sell_through(rt, brand)
    with rt.db.read() as conn:
        expected = {
            (r["product_id"], r["store_id"]): (r["supplied"], r["sold"], r["returned"])
            for r in rollups.sell_through_from_log(conn, owner_id=brand.organization_id)
        }
    assert {(r.product_id, r.store_id): (r.supplied, r.sold, r.returned) for r in rows} == expected
    for row in rows:
        # every standing sale had a receipt at its store: each has its days on the shelf
        assert sum((row.shelf_days or {}).values()) == row.sold
        assert (row.median_days is None) == (row.sold == 0)


def _facility(rt: Runtime, principal: Principal) -> int:
    (site,) = [
        loc
        for loc in organizations.list_locations(rt, principal)
        if loc.kind is LocationKind.FACILITY
    ]
    return site.id


def test_the_server_folds_new_sales_in_the_background(rt: Runtime) -> None:
    shop = one_store_selling(rt)
    analytics.refresh(rt)
    retail.sell(rt, shop.retailer, location_id=shop.store, codes=[shop.codes[1]])
    with rt.db.read() as conn:
        assert rollups.pending(conn)  # the sale waits in the queue
    quick = dataclasses.replace(
        rt, settings=rt.settings.model_copy(update={"analytics_fold_seconds": 0.05})
    )
    folder = analytics.Folder(quick)
    folder.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with rt.db.read() as conn:
                if not rollups.pending(conn):
                    break
            time.sleep(0.05)
    finally:
        folder.close()
    with rt.db.read() as conn:
        assert not rollups.pending(conn)
        assert rollups.fold(conn) == 0  # nothing left for a report to fold
    (row,) = analytics.sell_through(rt, shop.brand)
    assert (row.supplied, row.sold) == (4, 2)


def test_a_fold_in_small_batches_equals_one_fold(rt: Runtime, clock: FixedClock) -> None:
    brand = make_org(rt)
    retailer = make_org(rt, kind=OrganizationKind.RETAILER)
    store = make_location(rt, retailer)
    _, codes = commission(rt, brand, 8)
    deliver(rt, brand, retailer, store, codes)
    for code in codes[:5]:
        clock.advance(days=2)
        retail.sell(rt, retailer, location_id=store, codes=[code])
    retail.undo_sale(rt, retailer, code=codes[4], reason="wrong jar")
    with rt.db.transaction() as conn:
        assert rollups.fold(conn, unit_budget=1) == 1  # the 8-unit receipt: at least one event
        assert rollups.fold(conn, unit_budget=3) == 3  # three one-unit sales
    batches = 0
    while True:
        with rt.db.transaction() as conn:
            if rollups.fold(conn, limit=1) == 0:
                break
        batches += 1
    assert batches == 4  # two sales, the undo (its correction, its declaration)
    (row,) = analytics.sell_through(rt, brand)
    assert (row.supplied, row.sold, row.on_hand) == (8, 4, 4)
    # sold 2, 4, 6 and 8 days after the receipt (the one at 10 was undone)
    assert row.shelf_days == {
        "days_0_7": 3, "days_8_14": 1, "days_15_30": 0, "days_31_60": 0, "days_over_60": 0,
    }  # fmt: skip
    assert (row.median_days, row.mean_days) == (5.0, 5.0)


def test_a_generated_market_matches_figures_worked_out_independently(
    rt: Runtime, clock: FixedClock
) -> None:
    """Two brands, three retailers in two markets, six stores and 2,400 units moving through
    shipments, baskets at the tills over three weeks, returns (restocked or quarantined):
    every grouping the report offers is compared with figures tallied here as things
    happened."""
    rng = random.Random(20261206)
    brands = [make_org(rt, name=f"Brand {b}") for b in "AB"]
    retailers = [
        make_org(rt, kind=OrganizationKind.RETAILER, name=f"Shop {r}", market=market)
        for r, market in (("X", "CA"), ("Y", "CA"), ("Z", "NV"))
    ]
    stores = [(retailer, make_location(rt, retailer)) for retailer in retailers for _ in "12"]
    market_of = {r.organization_id: m for r, m in zip(retailers, ("CA", "CA", "NV"), strict=True)}
    tally: Counter[tuple[str, ...]] = Counter()  # (figure, dimension, key...) -> count
    where: dict[str, tuple[Principal, int]] = {}
    owner: dict[str, tuple[Principal, int, int]] = {}  # code -> brand, product, batch
    shelf: dict[str, dt.datetime] = {}
    days_on_shelf: dict[tuple[int, int], list[int]] = {}

    def count(figure: str, code: str, n: int = 1) -> None:
        brand, product, batch = owner[code]
        retailer, store = where[code]
        for key in (
            ("product_store", product, store),
            ("batch", batch),
            ("retailer", retailer.organization_id),
            ("market", market_of[retailer.organization_id]),
            ("brand_of_retailer", retailer.organization_id, brand.organization_id),
        ):
            tally[(figure, str(brand.organization_id), *map(str, key))] += n

    for brand in brands:
        for _ in range(2):
            product = make_product(rt, brand)
            for _ in range(2):
                batch = make_batch(rt, brand, product)
                for code in _commission(rt, brand, batch.id, 300):
                    owner[code] = (brand, product.id, batch.id)
    codes = sorted(owner)
    rng.shuffle(codes)
    for i, (retailer, store) in enumerate(stores):
        chunk = codes[i * 400 : (i + 1) * 400]
        for brand in brands:
            mine = [c for c in chunk if owner[c][0] == brand]
            deliver(rt, brand, retailer, store, mine)
            for code in mine:
                where[code] = (retailer, store)
                shelf[code] = clock.now
                count("supplied", code)
    on_shelf = set(codes)
    sold: set[str] = set()
    for _ in range(21):
        clock.advance(days=1)
        for retailer, store in stores:
            here = sorted(c for c in on_shelf if where[c][1] == store)
            basket = rng.sample(here, k=min(len(here), rng.randint(5, 25)))
            if not basket:
                continue
            retail.sell(rt, retailer, location_id=store, codes=basket)
            for code in basket:
                on_shelf.discard(code)
                sold.add(code)
                count("sold", code)
                key = (owner[code][1], store)
                days_on_shelf.setdefault(key, []).append((clock.now - shelf[code]).days)
            if rng.random() < 0.5 and sold:
                back = rng.choice(sorted(c for c in sold if where[c][1] == store) or [basket[0]])
                action = rng.choice(["restock", "quarantine"])
                retail.return_unit(rt, retailer, location_id=store, code=back, action=action)
                sold.discard(back)
                count("returned", back)
                if action == "restock":
                    on_shelf.add(back)

    def figures(rows: list[analytics.SellThroughRow], *names: str) -> dict[tuple[str, ...], int]:
        out: dict[tuple[str, ...], int] = {}
        for r in rows:
            for figure in ("supplied", "sold", "returned"):
                if getattr(r, figure):
                    out[(figure, *(str(getattr(r, n)) for n in names))] = getattr(r, figure)
        return out

    def expected(brand: Principal, dimension: str) -> dict[tuple[str, ...], int]:
        return {
            (figure, *rest): n
            for (figure, name, dim, *rest), n in tally.items()
            if name == str(brand.organization_id) and dim == dimension
        }

    # brands: by product and store, batch, retailer, market
    for brand in brands:
        by = analytics.sell_through
        assert figures(by(rt, brand), "product_id", "store_id") == expected(brand, "product_store")
        assert figures(by(rt, brand, by="batch"), "batch_id") == expected(brand, "batch")
        assert figures(by(rt, brand, by="retailer"), "retailer_id") == expected(brand, "retailer")
        assert figures(by(rt, brand, by="market"), "market") == expected(brand, "market")
        assert {k[0] for k in expected(brand, "market")} == {"supplied", "sold", "returned"}
        # on hand: what is still on a shelf (restocked returns included)
        on_hand = Counter((owner[c][1], where[c][1]) for c in on_shelf if owner[c][0] == brand)
        rows = by(rt, brand)
        assert {(r.product_id, r.store_id): r.on_hand for r in rows} == {
            key: on_hand[key] for key in {(r.product_id, r.store_id) for r in rows}
        }
        for r in rows:
            days = days_on_shelf.get((r.product_id, r.store_id), [])
            assert r.median_days == (statistics.median(days) if days else None)
    # a retailer sees both brands in its own stores only
    shop_x = retailers[0]
    seen = figures(analytics.sell_through(rt, shop_x, by="brand"), "brand_id")
    want: Counter[tuple[str, ...]] = Counter()
    for (figure, _name, dim, *rest), n in tally.items():
        if dim == "brand_of_retailer" and rest[0] == str(shop_x.organization_id):
            want[(figure, rest[1])] += n
    assert seen == dict(want)
