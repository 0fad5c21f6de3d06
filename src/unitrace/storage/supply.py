"""Set-based SQL for moving units: what a scan names, what a container holds, bulk updates.

Everything here works on *sets* expressed as one-column SELECTs: "the units inside these
pallets and these loose units" is one recursive query, and changing ten thousand units is
one UPDATE whose row count the caller checks, never a loop of single-row statements.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Connection,
    Select,
    and_,
    false,
    func,
    insert,
    or_,
    select,
    union,
    update,
)

from unitrace.storage.prepared import date_from_db, time_from_db
from unitrace.storage.schema import (
    batches,
    containers,
    locations,
    products,
    units,
)


@dataclass(frozen=True)
class Item:
    """A unit or container found by its code, with what the rules need to know about it."""

    kind: str  # "unit" or "container"
    id: int
    code: str
    organization_id: int
    custodian_organization_id: int
    disposition: str
    parent_container_id: int | None
    location_id: int | None
    shipment_id: int | None
    gtin: str | None = None  # units
    sscc: str | None = None  # containers
    container_kind: str | None = None  # case or pallet
    expires_on: dt.date | None = None  # units: their batch's expiry
    sold_at: dt.datetime | None = None
    previous_disposition: str | None = None
    product_name: str | None = None
    lot_number: str | None = None
    external_serial: str | None = None  # units: the serial their brand printed, if its own

    @property
    def printed(self) -> str:
        """The serial on the unit's label: its brand's own when it has one, else its code."""
        return self.external_serial or self.code


# Everything the rules need to know about a unit, in one query (and one constructor below).
UNIT_ITEM = (
    select(
        units.c.id,
        units.c.code,
        units.c.organization_id,
        units.c.custodian_organization_id,
        units.c.disposition,
        units.c.parent_container_id,
        units.c.location_id,
        units.c.shipment_id,
        units.c.sold_at,
        units.c.previous_disposition,
        products.c.gtin,
        products.c.name.label("product_name"),
        batches.c.lot_number,
        batches.c.expires_on,
        units.c.external_serial,
    )
    .join(products, products.c.id == units.c.product_id)
    .join(batches, batches.c.id == units.c.batch_id)
)


def unit_item(row: Any) -> Item:
    """An Item from a row of ``UNIT_ITEM``'s columns (as the driver returned them)."""
    return Item(
        kind="unit",
        id=row["id"],
        code=row["code"],
        organization_id=row["organization_id"],
        custodian_organization_id=row["custodian_organization_id"],
        disposition=row["disposition"],
        parent_container_id=row["parent_container_id"],
        location_id=row["location_id"],
        shipment_id=row["shipment_id"],
        gtin=row["gtin"],
        expires_on=date_from_db(row["expires_on"]),
        sold_at=time_from_db(row["sold_at"]),
        previous_disposition=row["previous_disposition"],
        product_name=row["product_name"],
        lot_number=row["lot_number"],
        external_serial=row["external_serial"],
    )


def printed_serial() -> Any:
    """The serial on a unit's label, labelled ``code``: the brand's own when it printed one,
    else the unitrace code. Events name units by it, so a scan of the label matches them."""
    return func.coalesce(units.c.external_serial, units.c.code).label("code")


def find_units_by_serial(
    conn: Connection, pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], Item]:
    """Units by ``(GTIN, serial their brand printed)``, whoever they belong to, in one query:
    per GTIN its product (products.gtin is unique), then index seeks on the unique
    ``(product_id, external_serial)`` (a row-value IN would scan the index instead)."""
    by_gtin: dict[str, set[str]] = defaultdict(set)
    for gtin, serial in pairs:
        by_gtin[gtin].add(serial)
    if not by_gtin:
        return {}
    wanted = or_(
        *(
            and_(
                units.c.product_id
                == select(products.c.id).where(products.c.gtin == gtin).scalar_subquery(),
                units.c.external_serial.in_(sorted(serials)),
            )
            for gtin, serials in sorted(by_gtin.items())
        )
    )
    rows = conn.execute(UNIT_ITEM.where(wanted)).mappings()
    return {(row["gtin"], row["external_serial"]): unit_item(row) for row in rows}


def find_items(conn: Connection, codes: Iterable[str]) -> dict[str, Item]:
    """Units and containers by code, whoever they belong to (callers apply visibility)."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    found: dict[str, Item] = {}
    for row in conn.execute(UNIT_ITEM.where(units.c.code.in_(wanted))).mappings():
        found[row["code"]] = unit_item(row)
    rest = [c for c in wanted if c not in found]
    if rest:
        for box in conn.execute(select(containers).where(containers.c.code.in_(rest))):
            found[box.code] = container_item(box)
    return found


def container_item(row: Any) -> Item:
    return Item(
        kind="container",
        id=row.id,
        code=row.code,
        organization_id=row.organization_id,
        custodian_organization_id=row.custodian_organization_id,
        disposition=row.disposition,
        parent_container_id=row.parent_container_id,
        location_id=row.location_id,
        shipment_id=row.shipment_id,
        sscc=row.sscc,
        container_kind=row.kind,
        previous_disposition=row.previous_disposition,
    )


def find_container_by_sscc(conn: Connection, sscc: str) -> Item | None:
    row = conn.execute(select(containers).where(containers.c.sscc == sscc)).first()
    return container_item(row) if row else None


def get_container_row(conn: Connection, container_id: int) -> Item:
    row = conn.execute(select(containers).where(containers.c.id == container_id)).one()
    return container_item(row)


# ---------------------------------------------------------------------------------------
# Sets


def container_tree(roots: Sequence[int], name: str = "tree") -> CTE:
    """The containers ``roots`` and everything nested inside them, at any depth."""
    base = select(containers.c.id.label("id")).where(containers.c.id.in_(list(roots) or [-1]))
    tree = base.cte(name, recursive=True)
    # UNION, not UNION ALL: a container reached twice is listed once (and a cycle ends).
    return tree.union(select(containers.c.id).where(containers.c.parent_container_id == tree.c.id))


def containers_in(roots: Sequence[int], name: str = "tree") -> Select[Any]:
    tree = container_tree(roots, name)
    return select(tree.c.id)


def units_in(roots: Sequence[int], loose: Sequence[int] = (), name: str = "tree") -> Select[Any]:
    """Units inside the containers ``roots`` (at any depth) plus the ``loose`` units.

    ``name`` names the recursive query: two sets used in one statement need two names.
    """
    parts: list[Select[Any]] = []
    if roots:
        tree = container_tree(roots, name)
        parts.append(
            select(units.c.id.label("id")).where(units.c.parent_container_id.in_(select(tree.c.id)))
        )
    if loose:
        parts.append(select(units.c.id.label("id")).where(units.c.id.in_(list(loose))))
    if not parts:
        return select(units.c.id.label("id")).where(false())
    if len(parts) == 1:
        return parts[0]
    return select(union(*parts).subquery().c.id)


def units_where(ids: Select[Any], *conditions: ColumnElement[bool]) -> Select[Any]:
    """The units of the set ``ids`` that also satisfy ``conditions``."""
    return select(units.c.id).where(units.c.id.in_(ids), *conditions)


def ancestors(conn: Connection, container_id: int) -> list[int]:
    """The container's parents, innermost first."""
    base = select(containers.c.parent_container_id.label("id")).where(
        containers.c.id == container_id
    )
    up = base.cte("up", recursive=True)
    up = up.union_all(
        select(containers.c.parent_container_id).where(
            containers.c.id == up.c.id, containers.c.parent_container_id.is_not(None)
        )
    )
    return [int(i) for i in conn.execute(select(up.c.id)).scalars() if i is not None]


def count(conn: Connection, ids: Select[Any]) -> int:
    return int(conn.execute(select(func.count()).select_from(ids.subquery())).scalar_one())


def unit_offenders(
    conn: Connection, ids: Select[Any], ok: ColumnElement[bool], limit: int = 20
) -> list[Item]:
    """Up to ``limit`` units of the set that do not satisfy ``ok``, by code."""
    sub = ids.subquery()
    rows = conn.execute(
        UNIT_ITEM.where(units.c.id.in_(select(sub.c[0])), ~ok).order_by(units.c.code).limit(limit)
    ).mappings()
    return [unit_item(r) for r in rows]


def execute_counted(conn: Connection, statement: Any) -> int:
    """Run a DML statement and return how many rows it changed.

    Python's sqlite3 reports ``rowcount`` -1 for statements that start with ``WITH`` (the
    recursive container queries), so on SQLite the count comes from ``total_changes``.
    """
    if conn.dialect.name != "sqlite":
        # preserve_rowcount: SQLAlchemy keeps rowcount for INSERT … SELECT only when asked
        return int(conn.execution_options(preserve_rowcount=True).execute(statement).rowcount)
    raw = conn.connection.driver_connection
    before = raw.total_changes  # type: ignore[union-attr]
    conn.execute(statement)
    return int(raw.total_changes - before)  # type: ignore[union-attr]


def update_units(
    conn: Connection,
    ids: Select[Any],
    where: Sequence[ColumnElement[bool]],
    values: Mapping[str, Any],
) -> int:
    """One UPDATE of every unit in ``ids`` that still satisfies ``where``; its row count."""
    sub = ids.subquery()
    return execute_counted(
        conn, update(units).where(units.c.id.in_(select(sub.c[0])), *where).values(**values)
    )


def update_containers(
    conn: Connection,
    ids: Select[Any],
    where: Sequence[ColumnElement[bool]],
    values: Mapping[str, Any],
) -> int:
    sub = ids.subquery()
    return execute_counted(
        conn,
        update(containers).where(containers.c.id.in_(select(sub.c[0])), *where).values(**values),
    )


def expired_codes(conn: Connection, ids: Select[Any], today: dt.date) -> list[str]:
    """Codes (up to 20) of units in the set whose batch has expired."""
    sub = ids.subquery()
    rows = conn.execute(
        select(units.c.code)
        .join(batches, batches.c.id == units.c.batch_id)
        .where(
            units.c.id.in_(select(sub.c[0])),
            batches.c.expires_on.is_not(None),
            batches.c.expires_on < today,
        )
        .order_by(units.c.code)
        .limit(20)
    )
    return list(rows.scalars())


# ---------------------------------------------------------------------------------------
# Containers


def insert_containers(
    conn: Connection,
    codes: Sequence[str],
    *,
    organization_id: int,
    kind: str,
    location_id: int | None,
    sscc: str | None,
    at: dt.datetime,
) -> list[int]:
    rows = [
        {
            "code": code,
            "organization_id": organization_id,
            "kind": kind,
            "sscc": sscc,
            "disposition": "active",
            "custodian_organization_id": organization_id,
            "location_id": location_id,
            "created_at": at,
            "updated_at": at,
        }
        for code in codes
    ]
    conn.execute(insert(containers), rows)
    return [
        int(i)
        for i in conn.execute(
            select(containers.c.id)
            .where(containers.c.code.in_(list(codes)))
            .order_by(containers.c.id)
        ).scalars()
    ]


def container_summary(conn: Connection, container_id: int) -> dict[str, Any]:
    """Direct children and total units (at any depth) of one container."""
    children = [
        container_item(r)
        for r in conn.execute(
            select(containers)
            .where(containers.c.parent_container_id == container_id)
            .order_by(containers.c.code)
        )
    ]
    direct_units = list(
        conn.execute(
            select(units.c.code)
            .where(units.c.parent_container_id == container_id)
            .order_by(units.c.code)
            .limit(500)
        ).scalars()
    )
    total = count(conn, units_in([container_id]))
    return {"children": children, "direct_units": direct_units, "total_units": total}


def list_containers(
    conn: Connection,
    organization_id: int,
    *,
    limit: int,
    offset: int,
    kind: str | None = None,
    top_level_only: bool = False,
) -> tuple[list[Item], int]:
    where: list[ColumnElement[bool]] = [
        (containers.c.organization_id == organization_id)
        | (containers.c.custodian_organization_id == organization_id)
    ]
    if kind:
        where.append(containers.c.kind == kind)
    if top_level_only:
        where.append(containers.c.parent_container_id.is_(None))
    total = conn.execute(select(func.count()).select_from(containers).where(and_(*where))).scalar()
    rows = conn.execute(
        select(containers)
        .where(and_(*where))
        .order_by(containers.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [container_item(r) for r in rows], int(total or 0)


# ---------------------------------------------------------------------------------------
# Names for events and views


def location_gln(conn: Connection, location_id: int | None) -> str | None:
    if location_id is None:
        return None
    return conn.execute(select(locations.c.gln).where(locations.c.id == location_id)).scalar()
