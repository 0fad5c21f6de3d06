"""SQL for inventory counts: the count, the distinct codes scanned, the frozen differences.

Scans go in with one ``INSERT … SELECT`` (a case's units included through the recursive
container query) and one ``executemany`` for codes that name no visible unit; closing writes
the missing units with one ``INSERT … SELECT`` and reads every scanned unit's facts with one
query. Every read takes the counting organization's id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)

from unitrace.errors import NotFoundError
from unitrace.storage.schema import (
    inventory_count_differences,
    inventory_count_scans,
    inventory_counts,
    locations,
    products,
    shipments,
    units,
)
from unitrace.storage.supply import execute_counted

counts, scans, differences = inventory_counts, inventory_count_scans, inventory_count_differences

_COUNT = select(inventory_counts, locations.c.name.label("location_name")).join(
    locations, locations.c.id == inventory_counts.c.location_id
)


def insert_count(
    conn: Connection,
    *,
    organization_id: int,
    location_id: int,
    note: str,
    opened_at: dt.datetime,
    opened_by: str,
) -> int:
    result = conn.execute(
        insert(counts).values(
            organization_id=organization_id,
            location_id=location_id,
            note=note,
            opened_at=opened_at,
            opened_by=opened_by,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def get_count(
    conn: Connection, organization_id: int, count_id: int, *, lock: bool = False
) -> dict[str, Any]:
    """The organization's count ``count_id``; with ``lock`` its row is held until the
    transaction ends (PostgreSQL; SQLite writers hold the file)."""
    if lock:
        conn.execute(
            select(counts.c.id)
            .where(counts.c.id == count_id, counts.c.organization_id == organization_id)
            .with_for_update()
        )
    row = (
        conn.execute(
            _COUNT.where(counts.c.id == count_id, counts.c.organization_id == organization_id)
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFoundError(f"inventory count {count_id} not found")
    return dict(row)


def _count_filters(
    organization_id: int,
    location_id: int | None,
    status: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [counts.c.organization_id == organization_id]
    if location_id is not None:
        where.append(counts.c.location_id == location_id)
    if status is not None:
        where.append(counts.c.status == status)
    if since is not None or until is not None:
        # a window is about closed counts: when their figures were frozen
        where.append(counts.c.closed_at.is_not(None))
    if since is not None:
        where.append(counts.c.closed_at >= since)
    if until is not None:
        where.append(counts.c.closed_at < until)
    return where


def list_counts(
    conn: Connection,
    organization_id: int,
    *,
    location_id: int | None = None,
    status: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    """The organization's counts, newest first, and how many match."""
    where = _count_filters(organization_id, location_id, status, since, until)
    total = conn.execute(select(func.count()).select_from(counts).where(*where)).scalar_one()
    rows = conn.execute(
        _COUNT.where(*where).order_by(counts.c.id.desc()).limit(limit).offset(offset)
    ).mappings()
    return [dict(r) for r in rows], int(total)


def closed_counts(
    conn: Connection,
    organization_id: int,
    *,
    location_id: int | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> list[dict[str, Any]]:
    """Closed counts in the window, oldest first (the accuracy history)."""
    where = _count_filters(organization_id, location_id, "closed", since, until)
    rows = conn.execute(_COUNT.where(*where).order_by(counts.c.closed_at, counts.c.id)).mappings()
    return [dict(r) for r in rows]


# --- scans --------------------------------------------------------------------------------


def known_codes(conn: Connection, count_id: int, codes: Sequence[str]) -> set[str]:
    """Which of ``codes`` the count has already."""
    if not codes:
        return set()
    found = conn.execute(
        select(scans.c.code).where(scans.c.count_id == count_id, scans.c.code.in_(list(codes)))
    )
    return set(found.scalars())


def insert_scanned_units(
    conn: Connection, count_id: int, ids: Select[Any], *, area: str, at: dt.datetime, actor: str
) -> int:
    """Add every unit of ``ids`` the count does not have yet, in one statement; how many."""
    sub = ids.subquery()
    query = select(
        literal(count_id),
        units.c.code,
        units.c.id,
        literal(area),
        literal(at, counts.c.opened_at.type),
        literal(actor),
    ).where(
        units.c.id.in_(select(sub.c[0])),
        ~exists().where(scans.c.count_id == count_id, scans.c.code == units.c.code),
    )
    statement = insert(scans).from_select(
        ["count_id", "code", "unit_id", "area", "scanned_at", "actor"], query
    )
    return execute_counted(conn, statement)


def insert_scanned_codes(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Codes that name no unit the counter may see (one executemany)."""
    if rows:
        conn.execute(insert(scans), list(rows))


def add_scanned(conn: Connection, count_id: int, added: int) -> None:
    conn.execute(
        update(counts).where(counts.c.id == count_id).values(scanned=counts.c.scanned + added)
    )


# --- closing ------------------------------------------------------------------------------


def insert_missing(
    conn: Connection, count_id: int, organization_id: int, location_id: int, on_hand: Iterable[str]
) -> int:
    """Every unit believed present and not scanned, as a ``missing`` difference; how many."""
    query = select(
        literal(count_id),
        units.c.code,
        units.c.id,
        literal("missing"),
        literal("not_scanned"),
        units.c.disposition,
        units.c.location_id,
    ).where(
        units.c.custodian_organization_id == organization_id,
        units.c.location_id == location_id,
        units.c.disposition.in_(sorted(on_hand)),
        ~exists().where(scans.c.count_id == count_id, scans.c.unit_id == units.c.id),
    )
    statement = insert(differences).from_select(
        ["count_id", "code", "unit_id", "kind", "reason", "disposition", "location_id"], query
    )
    return execute_counted(conn, statement)


def scanned_facts(conn: Connection, count_id: int) -> list[dict[str, Any]]:
    """Every code scanned, with its unit's custody, place and shipment (None when unknown)."""
    rows = conn.execute(
        select(
            scans.c.code,
            scans.c.unit_id,
            units.c.organization_id,
            units.c.custodian_organization_id,
            units.c.disposition,
            units.c.location_id,
            units.c.shipment_id,
            shipments.c.destination_organization_id,
        )
        .select_from(scans)
        .outerjoin(units, units.c.id == scans.c.unit_id)
        .outerjoin(shipments, shipments.c.id == units.c.shipment_id)
        .where(scans.c.count_id == count_id)
    ).mappings()
    return [dict(r) for r in rows]


def insert_differences(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        conn.execute(insert(differences), list(rows))


def close_count(conn: Connection, count_id: int, **values: Any) -> int:
    """Close the count if it is still open; the row count."""
    result = conn.execute(
        update(counts)
        .where(counts.c.id == count_id, counts.c.status == "open")
        .values(status="closed", **values)
    )
    return int(result.rowcount)


# --- differences --------------------------------------------------------------------------

_PLACE = locations.alias("place")


def list_differences(
    conn: Connection, count_id: int, *, code: str | None = None
) -> list[dict[str, Any]]:
    """The count's differences (or the one for ``code``) with product and place, by kind and
    code."""
    query = (
        select(
            differences,
            products.c.name.label("product_name"),
            _PLACE.c.name.label("location_name"),
        )
        .select_from(differences)
        .outerjoin(units, units.c.id == differences.c.unit_id)
        .outerjoin(products, products.c.id == units.c.product_id)
        .outerjoin(_PLACE, _PLACE.c.id == differences.c.location_id)
        .where(differences.c.count_id == count_id)
        .order_by(differences.c.kind, differences.c.code)
    )
    if code is not None:
        query = query.where(differences.c.code == code)
    return [dict(r) for r in conn.execute(query).mappings()]


def unresolved_on_shipment(conn: Connection, count_id: int, shipment_id: int) -> list[str]:
    """Codes of the count's unresolved ``not_received`` differences carried by a shipment."""
    rows = conn.execute(
        select(differences.c.code)
        .where(
            differences.c.count_id == count_id,
            differences.c.shipment_id == shipment_id,
            differences.c.reason == "not_received",
            differences.c.resolution.is_(None),
        )
        .order_by(differences.c.code)
    )
    return list(rows.scalars())


def resolve_differences(
    conn: Connection, count_id: int, codes: Sequence[str], **values: Any
) -> int:
    """Record a resolution on unresolved differences; the row count."""
    result = conn.execute(
        update(differences)
        .where(
            and_(
                differences.c.count_id == count_id,
                differences.c.code.in_(list(codes)),
                differences.c.resolution.is_(None),
            )
        )
        .values(**values)
    )
    return int(result.rowcount)


def resolved_counts(conn: Connection, count_ids: Sequence[int]) -> dict[int, int]:
    """How many differences of each count are resolved."""
    if not count_ids:
        return {}
    rows = conn.execute(
        select(differences.c.count_id, func.count())
        .where(differences.c.count_id.in_(list(count_ids)), differences.c.resolution.is_not(None))
        .group_by(differences.c.count_id)
    )
    return {int(r[0]): int(r[1]) for r in rows}


# --- moving and counting stock --------------------------------------------------------------


def movable_to(location_id: int) -> list[ColumnElement[bool]]:
    """A unit on no shipment still in transit and not already at ``location_id`` (a unit
    with no location is elsewhere)."""
    return [
        units.c.shipment_id.is_(None),
        or_(units.c.location_id.is_(None), units.c.location_id != location_id),
    ]


def counted_present(
    count_id: int, organization_id: int, location_id: int, on_hand: Iterable[str]
) -> Select[Any]:
    """Ids of the count's scanned units believed present (the matched ones), one column."""
    return select(scans.c.unit_id).where(
        scans.c.count_id == count_id,
        exists().where(
            units.c.id == scans.c.unit_id,
            units.c.custodian_organization_id == organization_id,
            units.c.location_id == location_id,
            units.c.disposition.in_(sorted(on_hand)),
        ),
    )
