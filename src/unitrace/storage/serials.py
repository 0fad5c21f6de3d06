"""Serials a brand printed itself: staging an upload, checking it against the units there
are, and turning it into units with one INSERT … SELECT."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    insert,
    literal,
    select,
    true,
    update,
)

from unitrace.domain.model import Disposition
from unitrace.storage.schema import batches, products, units
from unitrace.storage.supply import execute_counted

_staging = MetaData()

# One row per serial in the file, with the unit code it gets; lives for one transaction.
staged_serials = Table(
    "import_serials",
    _staging,
    Column("line", Integer, nullable=False),
    Column("batch_id", Integer, nullable=False),
    Column("product_id", Integer, nullable=False),
    Column("serial", String(20), nullable=False),
    Column("code", String(20), nullable=False),
    Column("event_row_id", Integer),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)


def batches_by_lot(
    conn: Connection, organization_id: int, lots: Iterable[str]
) -> dict[str, list[dict[str, Any]]]:
    """The organization's batches with these lot numbers, with their product's id, name and
    GTIN (a lot number may exist for two products)."""
    rows = conn.execute(
        select(
            batches.c.id,
            batches.c.lot_number,
            batches.c.product_id,
            products.c.name.label("product_name"),
            products.c.gtin,
        )
        .join(products, products.c.id == batches.c.product_id)
        .where(
            batches.c.organization_id == organization_id,
            batches.c.lot_number.in_(sorted(set(lots))),
        )
    ).mappings()
    found: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(row["lot_number"], []).append(dict(row))
    return found


def stage(conn: Connection, rows: Sequence[tuple[int, int, int, str, str]]) -> None:
    """Create the staging table and fill it with ``(line, batch_id, product_id, serial,
    code)`` per row, in one executemany."""
    staged_serials.drop(conn, checkfirst=True)
    staged_serials.create(conn)
    if rows:
        names = ("line", "batch_id", "product_id", "serial", "code")
        conn.execute(insert(staged_serials), [dict(zip(names, r, strict=True)) for r in rows])


def taken(conn: Connection) -> list[tuple[int, str]]:
    """``(line, serial)`` of the staged serials a unit of the same product already has."""
    s = staged_serials
    rows = conn.execute(
        select(s.c.line, s.c.serial)
        .join(
            units,
            (units.c.product_id == s.c.product_id) & (units.c.external_serial == s.c.serial),
        )
        .order_by(s.c.line)
    )
    return [(int(line), str(serial)) for line, serial in rows]


def serials_of(conn: Connection, batch_id: int) -> list[str]:
    """The staged serials of one batch."""
    s = staged_serials
    return [
        str(v) for v in conn.execute(select(s.c.serial).where(s.c.batch_id == batch_id)).scalars()
    ]


def set_event(conn: Connection, batch_id: int, event_row_id: int) -> None:
    s = staged_serials
    conn.execute(update(s).where(s.c.batch_id == batch_id).values(event_row_id=event_row_id))


def insert_units(
    conn: Connection,
    *,
    organization_id: int,
    at: dt.datetime,
    guessable: bool,
) -> int:
    """One unit per staged serial, commissioned by its batch's event (``active``, at no
    location, as commissioning leaves them); returns how many were inserted."""
    s = staged_serials
    source = select(
        s.c.code,
        literal(organization_id),
        s.c.product_id,
        s.c.batch_id,
        literal(Disposition.ACTIVE.value),
        literal(organization_id),
        s.c.event_row_id,
        bindparam("at", at, type_=units.c.commissioned_at.type),
        bindparam("at2", at, type_=units.c.updated_at.type),
        s.c.serial,
        true() if guessable else literal(None, type_=units.c.serial_guessable.type),
    ).order_by(s.c.code)
    return execute_counted(
        conn,
        insert(units).from_select(
            [
                "code",
                "organization_id",
                "product_id",
                "batch_id",
                "disposition",
                "custodian_organization_id",
                "commission_event_id",
                "commissioned_at",
                "updated_at",
                "external_serial",
                "serial_guessable",
            ],
            source,
        ),
    )
