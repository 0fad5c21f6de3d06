"""Sell-through rollups: daily facts folded from the event log, and the reports over them.

Every receipt and sale at a store queues its event row in ``analytics_pending`` (one small
insert by the event log). :func:`fold` claims what is queued and, in a handful of set-based
statements, adds each event's units to the day's figures (``sales_daily``), or takes them
away again for an error declaration; sales also add how long their units were on the shelf
(``shelf_days_daily``, with what each sale added kept in ``sale_shelf_days`` so that undoing
it takes away exactly that). Reports then read the small daily tables, never the log.

:func:`sell_through_from_log` computes the same counts straight from the events; it is the
baseline of ``make bench-sellthrough`` and the yardstick the tests hold the rollups to.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Date,
    Integer,
    and_,
    case,
    cast,
    delete,
    exists,
    false,
    func,
    literal,
    literal_column,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from unitrace.storage.schema import (
    analytics_pending,
    batches,
    event_units,
    events,
    locations,
    organizations,
    products,
    sale_shelf_days,
    sales_daily,
    shelf_days_daily,
    units,
)
from unitrace.storage.supply import execute_counted

KEY = ("owner_id", "product_id", "batch_id", "store_id", "day")
_FOLD_LOCK = 0x756E6974  # "unit": serializes folds on PostgreSQL (SQLite writers already are)


def _add_into(
    conn: Connection,
    table: Any,
    key: Sequence[str],
    added: Sequence[str],
    source: Any,
) -> None:
    """INSERT the rows of ``source`` (columns: ``key`` then ``added``) into ``table``; where a
    key is already there, add ``added`` to what it holds."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    conn.execute(
        statement.from_select([*key, *added], source).on_conflict_do_update(
            index_elements=list(key),
            set_={name: table.c[name] + statement.excluded[name] for name in added},
        )
    )


def _day(conn: Connection, moment: Any) -> Any:
    if conn.dialect.name == "sqlite":
        return func.date(moment)
    return cast(func.timezone("UTC", moment), Date)


def _seconds_between(conn: Connection, later: Any, earlier: Any) -> Any:
    if conn.dialect.name == "sqlite":
        return cast(func.round((func.julianday(later) - func.julianday(earlier)) * 86_400), Integer)
    return cast(func.round(func.extract("epoch", later - earlier)), BigInteger)


def pending(conn: Connection) -> bool:
    """Whether any receipt or sale waits to be folded in."""
    return (
        conn.execute(select(literal(1)).select_from(analytics_pending).limit(1)).first() is not None
    )


def _first_declaration(e: Any) -> Any:
    """An event that counts in the fold: an ordinary one, or the first error declaration on
    its original (a second one must not take the units away twice)."""
    earlier = aliased(events)
    return (e.c.declares_error_on.is_(None)) | ~exists().where(
        earlier.c.declares_error_on == e.c.declares_error_on, earlier.c.id < e.c.id
    )


def _standing_receipt_time(conn: Connection, unit_id: Any, store_id: Any, before: Any) -> Any:
    """When ``unit_id`` was last received for sale at ``store_id`` no later than ``before``,
    by a receipt nobody declared wrong."""
    receipt, membership, declaring = aliased(events), aliased(event_units), aliased(events)
    return (
        select(func.max(receipt.c.event_time))
        .select_from(membership.join(receipt, receipt.c.id == membership.c.event_row_id))
        .where(
            membership.c.unit_id == unit_id,
            receipt.c.biz_step == "receiving",
            receipt.c.disposition == "sellable_accessible",
            receipt.c.biz_location_id == store_id,
            receipt.c.event_time <= before,
            receipt.c.error_declaration.is_(None),
            ~exists().where(declaring.c.declares_error_on == receipt.c.id),
        )
        .scalar_subquery()
    )


def fold(conn: Connection, *, limit: int = 1_000, unit_budget: int = 50_000) -> int:
    """Fold the oldest queued receipts and sales, up to ``limit`` events and about
    ``unit_budget`` units (always at least one event; the oldest first, so an event is
    never folded after its error declaration), into the daily figures; how many events it
    took.

    Runs in the caller's write transaction: the claimed events' facts, shelf days and their
    removal from the queue commit together, and a bounded batch keeps the transaction short.
    On PostgreSQL a transaction-scoped advisory lock makes concurrent folds queue behind
    each other (SQLite writers are serialized anyway)."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(_FOLD_LOCK)))
    queue = (
        select(
            analytics_pending.c.event_row_id,
            (
                func.sum(events.c.quantity).over(order_by=analytics_pending.c.event_row_id)
                - events.c.quantity
            ).label("before"),
        )
        .join(events, events.c.id == analytics_pending.c.event_row_id)
        .where(analytics_pending.c.claimed == false())
        .order_by(analytics_pending.c.event_row_id)
        .limit(limit)
        .subquery("queue")
    )
    # the oldest events, as many as fit in the budget (at least one)
    oldest = select(queue.c.event_row_id).where(queue.c.before < unit_budget)
    claimed = execute_counted(
        conn,
        update(analytics_pending)
        .where(analytics_pending.c.event_row_id.in_(oldest.scalar_subquery()))
        .values(claimed=true()),
    )
    if claimed == 0:
        return 0
    e = events
    store = aliased(locations)
    queued = (
        select(analytics_pending.c.event_row_id)
        .where(analytics_pending.c.claimed == true())
        .scalar_subquery()
    )
    sign = case((e.c.error_declaration.is_(None), 1), else_=-1)
    step, disposition = e.c.biz_step, e.c.disposition
    day = _day(conn, e.c.event_time)

    def signed(condition: Any) -> Any:
        return func.sum(case((condition, sign), else_=0))

    at_store = (
        e.join(store, and_(store.c.id == e.c.biz_location_id, store.c.kind == "store"))
        .join(event_units, event_units.c.event_row_id == e.c.id)
        .join(units, units.c.id == event_units.c.unit_id)
    )
    key_columns = (units.c.organization_id, units.c.product_id, units.c.batch_id)
    counts = (
        select(
            *key_columns,
            e.c.biz_location_id,
            day,
            signed(and_(step == "receiving", disposition == "sellable_accessible")),
            signed(and_(step == "retail_selling", disposition == "retail_sold")),
            signed(and_(step == "receiving", disposition == "returned")),
        )
        .select_from(at_store)
        .where(e.c.id.in_(queued), _first_declaration(e))
        .group_by(*key_columns, e.c.biz_location_id, day)
    )
    _add_into(conn, sales_daily, KEY, ("supplied", "sold", "returned"), counts)

    # each new sale: how long each of its units was on the shelf, kept per sale event
    received = _standing_receipt_time(
        conn, event_units.c.unit_id, e.c.biz_location_id, e.c.event_time
    )
    shelf = (
        select(
            e.c.id.label("event_row_id"),
            *key_columns,
            _seconds_between(conn, e.c.event_time, received).label("seconds"),
        )
        .select_from(at_store)
        .where(
            e.c.id.in_(queued),
            e.c.error_declaration.is_(None),
            step == "retail_selling",
            disposition == "retail_sold",
        )
        .subquery("shelf")
    )
    whole_days = (shelf.c.seconds / 86_400).label("days")
    shelf_group = (
        shelf.c.event_row_id,
        shelf.c.organization_id,
        shelf.c.product_id,
        shelf.c.batch_id,
        whole_days,
    )
    conn.execute(
        sale_shelf_days.insert().from_select(
            ["event_row_id", "owner_id", "product_id", "batch_id", "days", "units", "seconds"],
            select(*shelf_group, func.count(), func.sum(shelf.c.seconds))
            .where(shelf.c.seconds.is_not(None))
            .group_by(*shelf_group),
        )
    )

    # the shelf days of the claimed sales (or, for a declaration, of its original) by day
    s = sale_shelf_days
    shelf_key = (s.c.owner_id, s.c.product_id, s.c.batch_id, e.c.biz_location_id, day)
    contributed = e.join(s, s.c.event_row_id == func.coalesce(e.c.declares_error_on, e.c.id))
    where = (e.c.id.in_(queued), step == "retail_selling", _first_declaration(e))
    _add_into(
        conn,
        shelf_days_daily,
        (*KEY, "days"),
        ("units",),
        select(*shelf_key, s.c.days, func.sum(sign * s.c.units))
        .select_from(contributed)
        .where(*where)
        .group_by(*shelf_key, s.c.days),
    )
    _add_into(
        conn,
        sales_daily,
        KEY,
        ("shelf_units", "shelf_seconds"),
        select(*shelf_key, func.sum(sign * s.c.units), func.sum(sign * s.c.seconds))
        .select_from(contributed)
        .where(*where)
        .group_by(*shelf_key),
    )
    conn.execute(delete(analytics_pending).where(analytics_pending.c.claimed == true()))
    return claimed


# --- reports over the facts ------------------------------------------------------------

DIMENSIONS = ("product", "batch", "brand", "store", "retailer", "market")


def _day_bucket(conn: Connection, day: Any, period: str) -> Any:
    """The first day of the day, week (Monday) or month ``day`` falls in, as a date text."""
    if conn.dialect.name == "sqlite":
        if period == "day":
            return func.date(day)
        if period == "week":
            return func.date(day, "weekday 0", "-6 days")
        return func.date(day, "start of month")
    return func.to_char(func.date_trunc(period, day), "YYYY-MM-DD")


@dataclass(frozen=True, kw_only=True)
class Scope:
    """Whose figures: a brand's own units, a retailer's own stores, or a market's stores."""

    owner_id: int | None = None
    retailer_id: int | None = None
    market: str | None = None


def _dimensions(
    product: Any, batch: Any, owner: Any, place: Any, store: Any, retailer: Any
) -> dict[str, Any]:
    """The column each dimension groups by, given a source's columns and the store and
    retailer joined to it."""
    return {
        "product": product,
        "batch": batch,
        "brand": owner,
        "store": place,
        "retailer": store.c.organization_id,
        "market": retailer.c.market,
    }


def _grouped(
    conn: Connection,
    fact: Any,
    by: Sequence[str],
    scope: Scope,
    *,
    since: dt.date | None,
    until: dt.date | None,
    period: str | None,
) -> tuple[list[Any], Any, list[Any]]:
    """(group columns labelled by dimension, FROM clause, WHERE) for a fact table over the
    days ``[since, until)``."""
    store = aliased(locations, name="store")
    retailer = aliased(organizations, name="retailer")
    source: Any = fact
    needs_store = scope.retailer_id is not None or scope.market is not None
    needs_store |= bool({"retailer", "market"} & set(by))
    needs_retailer = scope.market is not None or "market" in by
    if needs_store:
        source = source.join(store, store.c.id == fact.c.store_id)
    if needs_retailer:
        source = source.join(retailer, retailer.c.id == store.c.organization_id)
    f = fact.c
    columns = _dimensions(f.product_id, f.batch_id, f.owner_id, f.store_id, store, retailer)
    group = [columns[name].label(name) for name in by]
    if period is not None:
        group.append(_day_bucket(conn, fact.c.day, period).label("period"))
    where = []
    if since is not None:
        where.append(fact.c.day >= since)
    if until is not None:
        where.append(fact.c.day < until)
    if scope.owner_id is not None:
        where.append(fact.c.owner_id == scope.owner_id)
    if scope.retailer_id is not None:
        where.append(store.c.organization_id == scope.retailer_id)
    if scope.market is not None:
        where.append(retailer.c.market == scope.market)
    return group, source, where


def facts(
    conn: Connection,
    by: Sequence[str],
    scope: Scope,
    *,
    since: dt.date | None,
    until: dt.date | None,
    period: str | None,
) -> list[dict[str, Any]]:
    """Supplied, sold, returned and shelf totals per group (and period) over the window."""
    f = sales_daily
    group, source, where = _grouped(conn, f, by, scope, since=since, until=until, period=period)
    totals = [
        func.sum(f.c[name]).label(name)
        for name in ("supplied", "sold", "returned", "shelf_units", "shelf_seconds")
    ]
    query = (
        select(*group, *totals)
        .select_from(source)
        .where(*where)
        .group_by(*group)
        .having(func.sum(f.c.supplied + f.c.sold + f.c.returned) != 0)
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def shelf_histogram(
    conn: Connection,
    by: Sequence[str],
    scope: Scope,
    *,
    since: dt.date | None,
    until: dt.date | None,
    period: str | None,
) -> list[dict[str, Any]]:
    """Per group (and period) and whole days on the shelf: how many sales took that long."""
    h = shelf_days_daily
    group, source, where = _grouped(conn, h, by, scope, since=since, until=until, period=period)
    query = (
        select(*group, h.c.days, func.sum(h.c.units).label("units"))
        .select_from(source)
        .where(*where)
        .group_by(*group, h.c.days)
        .having(func.sum(h.c.units) > 0)
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def on_hand(conn: Connection, by: Sequence[str], scope: Scope) -> list[dict[str, Any]]:
    """Units at a store now, for sale (disposition ``sellable_accessible``), per group.

    Counted first per owner, place, product and batch straight off the partial index
    ``ix_units_on_hand`` (in its order, so without a sort), then named and grouped."""
    # a literal, not a parameter: only then can the planner use the partial index, which
    # covers the query (a parameter makes SQLite read every on-hand unit's row: 10x slower)
    on_sale = units.c.disposition == literal_column("'sellable_accessible'")
    where = [on_sale, units.c.location_id.is_not(None)]
    if scope.owner_id is not None:
        where.append(units.c.organization_id == scope.owner_id)
    index_order = (
        units.c.organization_id,
        units.c.location_id,
        units.c.product_id,
        units.c.batch_id,
    )
    counted = (
        select(*index_order, func.count().label("n"))
        .where(*where)
        .group_by(*index_order)
        .subquery("counted")
    )
    store = aliased(locations, name="store")
    retailer = aliased(organizations, name="retailer")
    source = counted.join(
        store, and_(store.c.id == counted.c.location_id, store.c.kind == "store")
    ).join(retailer, retailer.c.id == store.c.organization_id)
    c = counted.c
    columns = _dimensions(
        c.product_id, c.batch_id, c.organization_id, c.location_id, store, retailer
    )
    group = [columns[name].label(name) for name in by]
    outer = []
    if scope.retailer_id is not None:
        outer.append(store.c.organization_id == scope.retailer_id)
    if scope.market is not None:
        outer.append(retailer.c.market == scope.market)
    query = (
        select(*group, func.sum(counted.c.n).label("on_hand"))
        .select_from(source)
        .where(*outer)
        .group_by(*group)
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def labels(conn: Connection, dimension: str, ids: Sequence[Any]) -> dict[Any, dict[str, Any]]:
    """What names each key of ``dimension``: names, cities, lots, the store's retailer."""
    if not ids:
        return {}
    if dimension == "market":
        return {market: {"market": market} for market in ids}
    if dimension == "product":
        query = select(products.c.id, products.c.name.label("product_name")).where(
            products.c.id.in_(ids)
        )
    elif dimension == "batch":
        query = (
            select(
                batches.c.id,
                batches.c.lot_number,
                products.c.id.label("product_id"),
                products.c.name.label("product_name"),
            )
            .join(products, products.c.id == batches.c.product_id)
            .where(batches.c.id.in_(ids))
        )
    elif dimension in ("brand", "retailer"):
        query = select(
            organizations.c.id,
            organizations.c.name.label(f"{dimension}_name"),
            *([organizations.c.market] if dimension == "retailer" else []),
        ).where(organizations.c.id.in_(ids))
    else:
        retailer = aliased(organizations)
        query = (
            select(
                locations.c.id,
                locations.c.name.label("store_name"),
                locations.c.city,
                retailer.c.id.label("retailer_id"),
                retailer.c.name.label("retailer_name"),
                retailer.c.market,
            )
            .join(retailer, retailer.c.id == locations.c.organization_id)
            .where(locations.c.id.in_(ids))
        )
    rows = conn.execute(query).mappings()
    return {row["id"]: {k: v for k, v in row.items() if k != "id"} for row in rows}


def sell_through_from_log(conn: Connection, *, owner_id: int) -> list[dict[str, Any]]:
    """Units supplied, sold and returned per product and store, counted straight from the
    events (each standing receipt or sale of a unit once), with no rollup."""
    declaring = aliased(events)
    store = aliased(locations)
    step, disposition = events.c.biz_step, events.c.disposition

    def unit_events(condition: Any) -> Any:
        return func.count(case((condition, 1)))

    query = (
        select(
            units.c.product_id,
            events.c.biz_location_id.label("store_id"),
            unit_events(and_(step == "receiving", disposition == "sellable_accessible")).label(
                "supplied"
            ),
            unit_events(and_(step == "retail_selling", disposition == "retail_sold")).label("sold"),
            unit_events(and_(step == "receiving", disposition == "returned")).label("returned"),
        )
        .select_from(
            events.join(
                store, and_(store.c.id == events.c.biz_location_id, store.c.kind == "store")
            )
            .join(event_units, event_units.c.event_row_id == events.c.id)
            .join(units, units.c.id == event_units.c.unit_id)
        )
        .where(
            step.in_(("receiving", "retail_selling")),
            events.c.error_declaration.is_(None),
            ~exists().where(declaring.c.declares_error_on == events.c.id),
            units.c.organization_id == owner_id,
        )
        .group_by(units.c.product_id, events.c.biz_location_id)
    )
    return [dict(r) for r in conn.execute(query).mappings()]
