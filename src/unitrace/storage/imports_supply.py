"""CSV imports of the supply chain: the staging table of customer returns and its set-based
checks and writes; the look-ups of shipment manifests and receipts (organizations and
locations by name, shipments by number).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)

from unitrace.storage.imports import repeated_units, resolve_serials
from unitrace.storage.schema import (
    batches,
    locations,
    organizations,
    products,
    shipments,
    units,
)
from unitrace.storage.supply import execute_counted, printed_serial
from unitrace.storage.types import UTCDateTime

_staging = MetaData()

# One row per returned unit in the file; lives for one transaction.
staged_returns = Table(
    "import_returns",
    _staging,
    Column("line", Integer, nullable=False),
    Column("code", String(20)),  # NULL when the row names the unit by its brand's serial:
    Column("gtin", String(14)),  # then the GTIN and the serial it printed
    Column("serial", String(20)),
    Column("location_id", Integer, nullable=False),
    Column("returned_at", UTCDateTime(), nullable=False),
    Column("earliest_sale", UTCDateTime(), nullable=False),  # the return window's start
    Column("return_day", Date, nullable=False),
    Column("action", String(20), nullable=False),
    Column("grp", Integer, nullable=False),  # the events the return goes in: store, day, action
    Column("unit_id", Integer),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)

_RESTOCKED = "sellable_accessible"
_QUARANTINED = "non_sellable_other"
_SOLD = "retail_sold"


def stage_returns(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Create the staging table, fill it (one ``executemany``) and resolve the units: by
    code, then (two more statements, when some row has one) by brand's serial, which a code
    read under a GTIN that no unit has may also be."""
    staged_returns.drop(conn, checkfirst=True)
    staged_returns.create(conn)
    if rows:
        conn.execute(insert(staged_returns), list(rows))
    s = staged_returns
    conn.execute(
        update(s).values(
            unit_id=select(units.c.id).where(units.c.code == s.c.code).scalar_subquery()
        )
    )
    if any(r["serial"] is not None for r in rows):
        # a code read under a GTIN is its unit's when one has it, else perhaps a brand's serial
        conn.execute(
            update(s)
            .where(s.c.code.is_not(None), s.c.unit_id.is_not(None), s.c.serial.is_not(None))
            .values(gtin=None, serial=None)
        )
        resolve_serials(conn, s)


def repeated_returns(conn: Connection, organization_id: int) -> list[dict[str, Any]]:
    """Rows naming a unit of the organization's an earlier row names too, one of them by its
    brand's serial (see :func:`~unitrace.storage.imports.repeated_units`)."""
    return repeated_units(conn, staged_returns, _visible(organization_id))


def _visible(organization_id: int) -> Any:
    return or_(
        units.c.organization_id == organization_id,
        units.c.custodian_organization_id == organization_id,
    )


def drop_returns(conn: Connection) -> None:
    staged_returns.drop(conn, checkfirst=True)


def return_offenders(
    conn: Connection, organization_id: int, *, across_stores: bool, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """Staged returns that cannot be applied, by line (at most ``limit``), and how many.

    ``reason`` is, checked in this order: unknown (no such unit, or neither owned nor held by
    the organization), the unit's disposition when it is not sold, not_custodian (sold by
    someone else), sold_elsewhere (sold at another store, unless ``across_stores``),
    return_window_passed (sold before the window's start, or no sale time), before_sale
    (returned before it was sold), expired (restocked after its batch's expiry).
    """
    s = staged_returns
    visible = _visible(organization_id)
    elsewhere = false() if across_stores else units.c.location_id != s.c.location_id
    reason = case(
        (or_(units.c.id.is_(None), ~visible), literal("unknown")),
        (units.c.disposition != _SOLD, units.c.disposition),
        (units.c.custodian_organization_id != organization_id, literal("not_custodian")),
        (elsewhere, literal("sold_elsewhere")),
        (
            or_(units.c.sold_at.is_(None), units.c.sold_at < s.c.earliest_sale),
            literal("return_window_passed"),
        ),
        (units.c.sold_at > s.c.returned_at, literal("before_sale")),
        (
            and_(
                s.c.action == "restock",
                batches.c.expires_on.is_not(None),
                batches.c.expires_on < s.c.return_day,
            ),
            literal("expired"),
        ),
        else_=literal(None),
    ).label("reason")
    inner = (
        select(s.c.line, s.c.code, s.c.gtin, s.c.serial, batches.c.expires_on, reason)
        .select_from(s)
        .outerjoin(units, units.c.id == s.c.unit_id)
        .outerjoin(batches, batches.c.id == units.c.batch_id)
    ).subquery()
    bad = select(inner).where(inner.c.reason.is_not(None))
    total = conn.execute(select(func.count()).select_from(bad.subquery())).scalar_one()
    rows = conn.execute(bad.order_by(inner.c.line).limit(limit)).mappings()
    return [dict(r) for r in rows], int(total)


def staged_return_count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(staged_returns)).scalar_one())


def apply_returns(conn: Connection, organization_id: int, at: dt.datetime) -> int:
    """Take back every staged unit still sold and held by the organization: one UPDATE … FROM
    (restocked units go back on sale, the others are set aside); the row count."""
    s = staged_returns
    return execute_counted(
        conn,
        update(units)
        .where(
            units.c.id == s.c.unit_id,
            units.c.disposition == _SOLD,
            units.c.custodian_organization_id == organization_id,
        )
        .values(
            disposition=case((s.c.action == "restock", _RESTOCKED), else_=_QUARANTINED),
            previous_disposition="returned",
            location_id=s.c.location_id,
            parent_container_id=None,
            sold_at=None,
            sale_price=None,
            updated_at=at,
        ),
    )


def staged_return_epcs(conn: Connection) -> Iterator[tuple[int, str, str | None]]:
    """``(grp, printed serial, gtin)`` of every staged unit, by group and code."""
    s = staged_returns
    query = (
        select(s.c.grp, printed_serial(), products.c.gtin)
        .join(units, units.c.id == s.c.unit_id)
        .join(products, products.c.id == units.c.product_id)
        .order_by(s.c.grp, units.c.code)
    )
    for grp, code, gtin in conn.execute(query):
        yield int(grp), str(code), gtin


def group_units(grp: int) -> Any:
    """The staged units of one group, as a one-column SELECT (for event membership)."""
    return select(staged_returns.c.unit_id).where(staged_returns.c.grp == grp)


# ---------------------------------------------------------------------------------------
# Manifests and receipts


def organizations_named(conn: Connection, names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Organizations by lower-cased name: ``{"id", "name", "kind"}``."""
    if not names:
        return {}
    rows = conn.execute(
        select(organizations.c.id, organizations.c.name, organizations.c.kind).where(
            func.lower(organizations.c.name).in_(sorted({n.lower() for n in names}))
        )
    ).mappings()
    return {str(r["name"]).lower(): dict(r) for r in rows}


def locations_named(
    conn: Connection, organization_ids: Sequence[int]
) -> dict[tuple[int, str], int]:
    """The locations of these organizations by ``(organization id, lower-cased name)`` (the
    oldest when two share a name)."""
    if not organization_ids:
        return {}
    rows = conn.execute(
        select(locations.c.id, locations.c.organization_id, locations.c.name)
        .where(locations.c.organization_id.in_(sorted(set(organization_ids))))
        .order_by(locations.c.id.desc())
    )
    return {(int(org), str(name).strip().lower()): int(i) for i, org, name in rows}


def shipments_numbered(conn: Connection, numbers: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Shipments by number (numbers are random, not unique by constraint): each a dict of
    ``id``, ``number``, ``status``, ``destination_organization_id``."""
    if not numbers:
        return {}
    rows = conn.execute(
        select(
            shipments.c.id,
            shipments.c.number,
            shipments.c.status,
            shipments.c.destination_organization_id,
        ).where(shipments.c.number.in_(sorted(set(numbers))))
    ).mappings()
    found: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(str(row["number"]), []).append(dict(row))
    return found
