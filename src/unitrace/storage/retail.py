"""SQL for the store counter: the selling location, the sale itself, the events a unit's sale
left behind, and the custody conditions the disposition changes check set-based."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    bindparam,
    case,
    exists,
    literal,
    select,
    update,
)

from unitrace.storage.prepared import Prepared, db_date, db_time
from unitrace.storage.schema import (
    batches,
    event_units,
    events,
    locations,
    organizations,
    products,
    shipments,
    units,
)
from unitrace.storage.supply import UNIT_ITEM, Item, find_items, printed_serial, unit_item


@dataclass(frozen=True)
class Place:
    """One of an organization's locations, with the kind of organization that owns it."""

    id: int
    kind: str
    name: str
    gln: str | None
    organization_kind: str


# The sale path runs these for every sale: built once, so each execution skips building
# the statement and its cache key (most of the cost of a one-row statement).
_PLACE = (
    select(
        locations.c.id,
        locations.c.kind,
        locations.c.name,
        locations.c.gln,
        organizations.c.kind.label("organization_kind"),
    )
    .join(organizations, organizations.c.id == locations.c.organization_id)
    .where(
        locations.c.id == bindparam("location_id"),
        locations.c.organization_id == bindparam("organization_id"),
    )
)


_PREPARED_PLACE = Prepared(_PLACE)


def find_place(conn: Connection, organization_id: int, location_id: int) -> Place | None:
    """The organization's location ``location_id`` (None for anyone else's), in one query."""
    row = _PREPARED_PLACE.one(conn, location_id=location_id, organization_id=organization_id)
    return Place(*row) if row is not None else None


def location_kinds(conn: Connection, location_ids: Sequence[int]) -> dict[int, str]:
    rows = conn.execute(
        select(locations.c.id, locations.c.kind).where(locations.c.id.in_(list(location_ids)))
    )
    return {int(r.id): str(r.kind) for r in rows}


def store_ids(organization_id: int) -> Select[Any]:
    """The organization's store locations, as a one-column SELECT."""
    return select(locations.c.id).where(
        locations.c.organization_id == organization_id, locations.c.kind == "store"
    )


def shipment_destinations(conn: Connection, shipment_ids: Sequence[int]) -> dict[int, int]:
    """``shipment id -> destination organization`` for the given shipments."""
    if not shipment_ids:
        return {}
    rows = conn.execute(
        select(shipments.c.id, shipments.c.destination_organization_id).where(
            shipments.c.id.in_(list(shipment_ids))
        )
    )
    return {int(r.id): int(r.destination_organization_id) for r in rows}


def mark_sold(
    conn: Connection,
    unit_ids: Sequence[int],
    *,
    organization_id: int,
    location_id: int,
    at: dt.datetime,
) -> set[int]:
    """Sell the units that are still on sale in this store: one conditional UPDATE; the ids
    of the units it sold.

    A unit sold a moment ago by another terminal no longer matches ``disposition =
    'sellable_accessible'`` (on PostgreSQL the second UPDATE waits for the first to commit,
    then re-checks the condition), so it is not among the ids returned.
    """
    if len(unit_ids) == 1:  # the common sale: one prepared statement, no list expansion
        cursor = _MARK_ONE_SOLD.run(
            conn,
            id=unit_ids[0],
            org=organization_id,
            store=location_id,
            at=db_time(conn, at),
        )
        try:
            return {int(r[0]) for r in cursor.fetchall()}
        finally:
            cursor.close()
    result = conn.execute(
        _MARK_SOLD,
        {"ids": list(unit_ids), "org": organization_id, "store": location_id, "at": at},
    )
    return {int(i) for i in result.scalars()}


_MARK_SOLD = (
    update(units)
    .where(
        units.c.id.in_(bindparam("ids", expanding=True)),
        units.c.disposition == "sellable_accessible",
        units.c.custodian_organization_id == bindparam("org"),
        units.c.location_id == bindparam("store"),
    )
    .values(
        disposition="retail_sold",
        previous_disposition="sellable_accessible",
        sold_at=bindparam("at", type_=units.c.sold_at.type),
        parent_container_id=None,
        updated_at=bindparam("at", type_=units.c.updated_at.type),
    )
    .returning(units.c.id)
)


_MARK_ONE_SOLD = Prepared(
    update(units)
    .where(
        units.c.id == bindparam("id"),
        units.c.disposition == "sellable_accessible",
        units.c.custodian_organization_id == bindparam("org"),
        units.c.location_id == bindparam("store"),
    )
    .values(
        disposition="retail_sold",
        previous_disposition="sellable_accessible",
        sold_at=bindparam("at"),
        parent_container_id=None,
        updated_at=bindparam("at"),
    )
    .returning(units.c.id)
)


# The whole of an ordinary sale in one statement: the unit, by code, still on sale, held by
# this retailer at this store, its batch not expired — sold, with what the event needs.
# Zero rows means "not like that": the caller then takes the careful path that says why.
_SELL_ONE = Prepared(
    update(units)
    .where(
        units.c.code == bindparam("code"),
        units.c.disposition == "sellable_accessible",
        units.c.custodian_organization_id == bindparam("org"),
        units.c.location_id == bindparam("store"),
        exists(
            select(literal(1))
            .select_from(
                locations.join(organizations, organizations.c.id == locations.c.organization_id)
            )
            .where(
                locations.c.id == bindparam("store"),
                locations.c.organization_id == bindparam("org"),
                locations.c.kind == "store",
                organizations.c.kind == "retailer",
            )
        ),
        ~exists(
            select(literal(1)).where(
                batches.c.id == units.c.batch_id, batches.c.expires_on < bindparam("today")
            )
        ),
    )
    .values(
        disposition="retail_sold",
        previous_disposition="sellable_accessible",
        sold_at=bindparam("at"),
        parent_container_id=None,
        updated_at=bindparam("at"),
    )
    .returning(
        units.c.id,
        select(products.c.gtin).where(products.c.id == units.c.product_id).scalar_subquery(),
        select(locations.c.gln).where(locations.c.id == bindparam("store")).scalar_subquery(),
    )
)


def sell_one(
    conn: Connection, *, code: str, organization_id: int, location_id: int, at: dt.datetime
) -> tuple[int, str | None, str | None] | None:
    """Sell the unit ``code`` if it may simply be sold here: ``(unit id, gtin, store gln)``.

    None means nothing changed (unknown, not on sale, elsewhere, expired, not a store …).
    """
    row = _SELL_ONE.one(
        conn,
        code=code,
        org=organization_id,
        store=location_id,
        at=db_time(conn, at),
        today=db_date(conn, at.date()),
    )
    return None if row is None else (int(row[0]), row[1], row[2])


def update_sold_unit(
    conn: Connection,
    unit_id: int,
    *,
    organization_id: int,
    where: Sequence[ColumnElement[bool]] = (),
    values: dict[str, Any],
) -> int:
    """Change one sold unit held by the organization, if it is still sold; the row count."""
    result = conn.execute(
        update(units)
        .where(
            units.c.id == unit_id,
            units.c.disposition == "retail_sold",
            units.c.custodian_organization_id == organization_id,
            *where,
        )
        .values(**values)
    )
    return int(result.rowcount)


def unit_step_events(
    conn: Connection, organization_id: int, unit_id: int, biz_step: str
) -> list[dict[str, Any]]:
    """The organization's events at ``biz_step`` that touched the unit, oldest first
    (error declarations included: they share the membership of the event they declare)."""
    rows = conn.execute(
        select(events)
        .join(event_units, event_units.c.event_row_id == events.c.id)
        .where(
            event_units.c.unit_id == unit_id,
            events.c.organization_id == organization_id,
            events.c.biz_step == biz_step,
        )
        .order_by(events.c.id)
    )
    return [dict(r) for r in rows.mappings()]


def event_unit_ids(event_row_id: int, *, except_unit_id: int | None = None) -> Select[Any]:
    """The units an event touched (but ``except_unit_id``), as a one-column SELECT."""
    query = select(event_units.c.unit_id.label("id")).where(
        event_units.c.event_row_id == event_row_id
    )
    if except_unit_id is not None:
        query = query.where(event_units.c.unit_id != except_unit_id)
    return query


def unit_codes(conn: Connection, ids: Select[Any]) -> set[str]:
    """The codes of the units in the set."""
    sub = ids.subquery()
    return set(conn.execute(select(units.c.code).where(units.c.id.in_(select(sub.c[0])))).scalars())


def unit_epc_parts(conn: Connection, ids: Select[Any]) -> list[tuple[str, str | None]]:
    """``(printed serial, gtin)`` of every unit in the set (the brand's own serial where it
    has one, else the code: what its EPC carries), by code."""
    sub = ids.subquery()
    rows = conn.execute(
        select(printed_serial(), products.c.gtin)
        .join(products, products.c.id == units.c.product_id)
        .where(units.c.id.in_(select(sub.c[0])))
        .order_by(units.c.code)
    )
    return [(r.code, r.gtin) for r in rows]


def unit_guard(
    sources: Sequence[str],
    *,
    custodian_organization_id: int | None,
    at_stores_of: int | None = None,
) -> list[ColumnElement[bool]]:
    """Conditions a unit must still meet for a disposition change: one of ``sources``, held
    by ``custodian_organization_id`` (None: anyone, for a regulator), and when
    ``at_stores_of`` is given, at one of that organization's stores."""
    where: list[ColumnElement[bool]] = [units.c.disposition.in_(list(sources))]
    if custodian_organization_id is not None:
        where.append(units.c.custodian_organization_id == custodian_organization_id)
    if at_stores_of is not None:
        where.append(units.c.location_id.in_(store_ids(at_stores_of)))
    return where


def previous_disposition_now() -> Any:
    """The value that keeps a unit's current disposition as its previous one, in an UPDATE."""
    return units.c.disposition


def disposition_restored(allowed: Sequence[str], otherwise: str) -> Any:
    """The value that puts a unit back in its previous disposition, in an UPDATE: one of
    ``allowed``, else ``otherwise`` (a unit whose previous disposition was not kept)."""
    previous = units.c.previous_disposition
    return case((previous.in_(list(allowed)), previous), else_=literal(otherwise))


def units_by_disposition(conn: Connection, ids: Select[Any]) -> dict[str, Select[Any]]:
    """The units of ``ids`` grouped by their disposition now, each group as a SELECT of ids."""
    sub = ids.subquery()
    rows = conn.execute(
        select(units.c.disposition).where(units.c.id.in_(select(sub.c[0]))).distinct()
    )
    return {
        d: select(units.c.id).where(units.c.id.in_(select(sub.c[0])), units.c.disposition == d)
        for d in sorted(r.disposition for r in rows)
    }


_UNIT_BY_CODE = Prepared(UNIT_ITEM.where(units.c.code == bindparam("code")))
_UNIT_ITEM_COLUMNS = tuple(UNIT_ITEM.selected_columns.keys())


def find_units(conn: Connection, codes: Sequence[str]) -> dict[str, Item]:
    """Items by code, whoever holds them; one code (the till's lookup) in a prepared query."""
    if len(codes) == 1:
        row = _UNIT_BY_CODE.one(conn, code=codes[0])
        if row is None:
            return {}
        return {row[1]: unit_item(dict(zip(_UNIT_ITEM_COLUMNS, row, strict=True)))}
    return find_items(conn, codes)
