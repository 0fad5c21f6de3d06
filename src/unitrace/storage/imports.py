"""CSV imports: the uploads table, a per-transaction staging table, and the set-based checks
and writes of each kind.

A large file is staged row by row into a temporary table with the driver's bulk path
(``executemany`` on SQLite, ``COPY`` on PostgreSQL); everything after that — finding every
problem, applying the file — is a handful of statements over the staged set.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    and_,
    case,
    cast,
    func,
    insert,
    literal,
    literal_column,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from unitrace.storage.schema import (
    batch_analytes,
    batch_panels,
    batches,
    event_units,
    imports,
    locations,
    products,
    units,
)
from unitrace.storage.supply import execute_counted, printed_serial

_staging = MetaData()

# One row per sale in the file; lives for one transaction.
staged_sales = Table(
    "import_sales",
    _staging,
    Column("line", Integer, nullable=False),
    Column("code", String(20)),  # NULL when the row names the unit by its brand's serial:
    Column("gtin", String(14)),  # then the GTIN and the serial it printed
    Column("serial", String(20)),
    Column("location_id", Integer, nullable=False),
    # microseconds since 1970-01-01 UTC, and cents (-1: no price): plain integers travel into
    # the staging table at the driver's full speed; SQL turns them into a time and a price
    Column("sold_us", BigInteger, nullable=False),
    Column("cents", BigInteger, nullable=False),
    Column("grp", Integer, nullable=False),  # the event the sale goes in: store and day
    Column("unit_id", Integer),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)

# Which event each group of staged sales became.
staged_events = Table(
    "import_events",
    _staging,
    Column("grp", Integer, primary_key=True),
    Column("event_row_id", Integer, nullable=False),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)


# ---------------------------------------------------------------------------------------
# Uploads


def find_applied(
    conn: Connection, organization_id: int, kind: str, content_sha256: str, key: str | None
) -> dict[str, Any] | None:
    """The applied import of the same file, or with the same idempotency key."""
    match = imports.c.applied_hash == content_sha256
    if key is not None:
        match = or_(match, imports.c.idempotency_key == key)
    row = (
        conn.execute(
            select(imports)
            .where(
                imports.c.organization_id == organization_id,
                imports.c.kind == kind,
                imports.c.status == "applied",
                match,
            )
            .order_by(imports.c.id)
            .limit(1)
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def key_used(conn: Connection, organization_id: int, key: str) -> dict[str, Any] | None:
    row = (
        conn.execute(
            select(imports).where(
                imports.c.organization_id == organization_id, imports.c.idempotency_key == key
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def insert_import(conn: Connection, **values: Any) -> int:
    """Record an upload; ``IntegrityError`` when the same file (or key) was applied."""
    result = conn.execute(insert(imports).values(**values))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def get_import(conn: Connection, organization_id: int, import_id: int) -> dict[str, Any] | None:
    row = (
        conn.execute(
            select(imports).where(
                imports.c.id == import_id, imports.c.organization_id == organization_id
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def list_imports(
    conn: Connection, organization_id: int, *, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    where = imports.c.organization_id == organization_id
    total = conn.execute(select(func.count()).select_from(imports).where(where)).scalar_one()
    rows = conn.execute(
        select(imports).where(where).order_by(imports.c.id.desc()).limit(limit).offset(offset)
    ).mappings()
    return [dict(r) for r in rows], int(total)


__all__ = ["IntegrityError"]


# ---------------------------------------------------------------------------------------
# Staging


def stage_sales(
    conn: Connection,
    rows: Iterable[tuple[Any, ...]],
    serial_rows: Sequence[tuple[Any, ...]] = (),
) -> None:
    """Create the staging table and fill it: ``(line, code, location_id, sold_us, cents,
    grp)`` per row, ``sold_us`` microseconds since 1970 (UTC), ``cents`` -1 for no price;
    ``unit_id`` is then the id of the unit with that code (NULL when there is none).
    ``serial_rows`` are ``(line, gtin, serial, location_id, sold_us, cents, grp)``: rows that
    name a unit by its brand's serial, resolved after the others by one statement."""
    for table in (staged_sales, staged_events):
        table.drop(conn, checkfirst=True)
        table.create(conn)
    _stage_coded_sales(conn, rows)
    if serial_rows:
        names = ("line", "gtin", "serial", "location_id", "sold_us", "cents", "grp")
        conn.execute(insert(staged_sales), [dict(zip(names, r, strict=True)) for r in serial_rows])
        resolve_serials(conn, staged_sales)


def _stage_coded_sales(conn: Connection, rows: Iterable[tuple[Any, ...]]) -> None:
    raw = conn.connection.driver_connection
    columns = ("line", "code", "location_id", "sold_us", "cents", "grp")
    cursor = raw.cursor()  # type: ignore[union-attr]
    try:
        if conn.dialect.name == "postgresql":
            with cursor.copy(f"COPY import_sales ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            _resolve_staged_units(conn)
            return
        # SQLite: the unit's id is looked up as each row goes in, not by a second pass
        cursor.executemany(
            f"INSERT INTO import_sales ({', '.join(columns)}, unit_id) "  # noqa: S608
            "VALUES (?, ?, ?, ?, ?, ?, (SELECT id FROM units WHERE code = ?2))",
            rows,
        )
    finally:
        cursor.close()


def resolve_serials(conn: Connection, staged: Table) -> None:
    """Fill ``unit_id`` of the staged rows that name a unit by ``(gtin, serial)``: one
    UPDATE, each row a seek on ``products.gtin`` then on the unique ``(product_id,
    external_serial)``, whoever the unit belongs to (the checks decide what is visible)."""
    conn.execute(
        update(staged)
        .where(staged.c.serial.is_not(None), staged.c.unit_id.is_(None))
        .values(
            unit_id=select(units.c.id)
            .join(products, products.c.id == units.c.product_id)
            .where(products.c.gtin == staged.c.gtin, units.c.external_serial == staged.c.serial)
            .correlate(staged)
            .scalar_subquery()
        )
    )


_alternates = Table(
    "import_alternates",
    _staging,
    Column("line", Integer, primary_key=True),
    Column("gtin", String(14), nullable=False),
    Column("serial", String(20), nullable=False),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)


def unresolved_codes(conn: Connection) -> Iterator[tuple[int, str]]:
    """``(line, code)`` of the staged sales naming a code no unit has, by line."""
    s = staged_sales
    rows = select(s.c.line, s.c.code).where(s.c.unit_id.is_(None), s.c.code.is_not(None))
    return ((line, code) for line, code in conn.execute(rows.order_by(s.c.line)))


def resolve_alternates(
    conn: Connection, staged: Table, alternates: Sequence[tuple[int, str, str]]
) -> None:
    """Give the staged rows that named a code no unit has the ``(line, gtin, serial)`` their
    cells also read as, and look those up as brands' serials (see :func:`resolve_serials`):
    a few statements whatever their number."""
    _alternates.drop(conn, checkfirst=True)
    _alternates.create(conn)
    names = ("line", "gtin", "serial")
    conn.execute(insert(_alternates), [dict(zip(names, a, strict=True)) for a in alternates])
    a = _alternates
    of_line = a.c.line == staged.c.line
    conn.execute(
        update(staged)
        .where(staged.c.unit_id.is_(None), staged.c.line.in_(select(a.c.line)))
        .values(
            gtin=select(a.c.gtin).where(of_line).scalar_subquery(),
            serial=select(a.c.serial).where(of_line).scalar_subquery(),
        )
    )
    _alternates.drop(conn)
    resolve_serials(conn, staged)


def repeated_units(
    conn: Connection, staged: Table, visible: ColumnElement[bool]
) -> list[dict[str, Any]]:
    """Staged rows naming a unit an earlier row names too, where one of them names it by its
    brand's serial (repeats of the same code or serial are found while reading), with the
    earlier row as ``first``; only units ``visible`` admits, by line."""
    s = staged
    by_serial = select(s.c.unit_id).where(s.c.serial.is_not(None), s.c.unit_id.is_not(None))
    inner = (
        select(
            s.c.line,
            s.c.code,
            s.c.gtin,
            s.c.serial,
            func.min(s.c.line).over(partition_by=s.c.unit_id).label("first"),
        )
        .join(units, units.c.id == s.c.unit_id)
        .where(s.c.unit_id.in_(by_serial), visible)
    ).subquery()
    rows = conn.execute(
        select(inner).where(inner.c.line > inner.c.first).order_by(inner.c.line)
    ).mappings()
    return [dict(r) for r in rows]


def _sold_at(conn: Connection) -> Any:
    """The staged sale time as the database stores times (see ``UTCDateTime``)."""
    us = staged_sales.c.sold_us
    if conn.dialect.name == "sqlite":
        seconds = func.datetime(us // 1_000_000, "unixepoch")  # twice strftime's speed
        return seconds.op("||")(func.printf(".%06d", us % 1_000_000))
    return func.to_timestamp(0) + us * literal_column("interval '1 microsecond'")


def _price() -> Any:
    cents = staged_sales.c.cents
    return case((cents < 0, null()), else_=cast(cents, Numeric(14, 0)) / 100)


def staged_epcs(conn: Connection) -> Iterator[tuple[int, str, str | None]]:
    """``(grp, serial, gtin)`` of every staged unit (its printed serial: see
    :func:`~unitrace.storage.supply.printed_serial`), by group and code (streamed)."""
    query = (
        select(staged_sales.c.grp, printed_serial(), products.c.gtin)
        .join(units, units.c.id == staged_sales.c.unit_id)
        .join(products, products.c.id == units.c.product_id)
        .order_by(staged_sales.c.grp, units.c.code)
    )
    if conn.dialect.name != "sqlite":
        result = conn.execute(query.execution_options(stream_results=True, yield_per=10_000))
        for grp, code, gtin in result:
            yield int(grp), str(code), gtin
        return
    # SQLite: a million rows straight from the driver's cursor (plain tuples already)
    sql = str(query.compile(dialect=conn.dialect))
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
        while chunk := cursor.fetchmany(10_000):
            yield from chunk
    finally:
        cursor.close()


def add_group_members(conn: Connection, events: Sequence[tuple[int, int]]) -> int:
    """Event membership of every staged unit, ``events`` being ``(grp, event row id)``: one
    INSERT … SELECT."""
    conn.execute(insert(staged_events), [{"grp": g, "event_row_id": e} for g, e in events])
    return execute_counted(
        conn,
        insert(event_units).from_select(
            ["unit_id", "event_row_id"],
            select(staged_sales.c.unit_id, staged_events.c.event_row_id).join(
                staged_events, staged_events.c.grp == staged_sales.c.grp
            ),
        ),
    )


@contextmanager
def lean_cache(conn: Connection, mib: int = 32) -> Iterator[None]:
    """A smaller SQLite page cache while a large file is applied: the writes walk the tables
    in order, so a big cache buys little, and the process stays small."""
    if conn.dialect.name != "sqlite":
        yield
        return
    raw = conn.connection.driver_connection
    (before,) = raw.execute("PRAGMA main.cache_size").fetchone()  # type: ignore[union-attr]
    raw.execute(f"PRAGMA main.cache_size=-{int(mib) * 1024}")  # type: ignore[union-attr]
    raw.execute(f"PRAGMA temp.cache_size=-{int(mib) * 1024}")  # type: ignore[union-attr]
    try:
        yield
    finally:
        raw.execute(f"PRAGMA main.cache_size={int(before)}")  # type: ignore[union-attr]


def drop_staging(conn: Connection) -> None:
    for table in (staged_events, staged_sales):
        table.drop(conn, checkfirst=True)


def _resolve_staged_units(conn: Connection) -> None:
    """Fill ``unit_id`` from the code (one UPDATE over the staged rows)."""
    conn.execute(
        update(staged_sales).values(
            unit_id=select(units.c.id).where(units.c.code == staged_sales.c.code).scalar_subquery()
        )
    )


def repeated_sales(conn: Connection, organization_id: int) -> list[dict[str, Any]]:
    """Rows naming a unit the organization holds that an earlier row names too, one of them
    by its brand's serial (see :func:`repeated_units`)."""
    return repeated_units(conn, staged_sales, units.c.custodian_organization_id == organization_id)


def sale_offenders(
    conn: Connection, organization_id: int, *, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """Staged sales that cannot be applied, by line (at most ``limit``), and how many.

    ``reason`` is one of: unknown (no such unit, or not yours to sell), the unit's
    disposition when it is not on sale, elsewhere (at another place than the row's store),
    expired (batch past its expiry on the sale day).
    """
    s = staged_sales
    visible = units.c.custodian_organization_id == organization_id
    sale_day = (
        func.date(s.c.sold_us // 1_000_000, "unixepoch")
        if conn.dialect.name == "sqlite"
        else func.date(func.timezone("UTC", _sold_at(conn)))
    )
    reason = case(
        (or_(units.c.id.is_(None), ~visible), literal("unknown")),
        (units.c.disposition != "sellable_accessible", units.c.disposition),
        (units.c.location_id != s.c.location_id, literal("elsewhere")),
        (
            and_(batches.c.expires_on.is_not(None), batches.c.expires_on < sale_day),
            literal("expired"),
        ),
        else_=literal(None),
    ).label("reason")
    inner = (
        select(
            s.c.line,
            s.c.code,
            s.c.gtin,
            s.c.serial,
            units.c.location_id.label("unit_location_id"),
            batches.c.expires_on,
            reason,
        )
        .select_from(s)
        .outerjoin(units, units.c.id == s.c.unit_id)
        .outerjoin(batches, batches.c.id == units.c.batch_id)
    ).subquery()
    bad = select(inner).where(inner.c.reason.is_not(None))
    rows = [dict(r) for r in conn.execute(bad.order_by(inner.c.line).limit(limit)).mappings()]
    if len(rows) < limit:  # all of them: no second pass over the staged rows to count
        return rows, len(rows)
    total = conn.execute(select(func.count()).select_from(bad.subquery())).scalar_one()
    return rows, int(total)


def staged_count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(staged_sales)).scalar_one())


def apply_sales(conn: Connection, organization_id: int, at: dt.datetime) -> int:
    """Sell every staged unit still on sale where the row says: one UPDATE … FROM."""
    s = staged_sales
    return execute_counted(
        conn,
        update(units)
        .where(
            units.c.id == s.c.unit_id,
            units.c.disposition == "sellable_accessible",
            units.c.custodian_organization_id == organization_id,
            units.c.location_id == s.c.location_id,
        )
        .values(
            disposition="retail_sold",
            previous_disposition="sellable_accessible",
            sold_at=_sold_at(conn),
            sale_price=_price(),
            parent_container_id=None,
            updated_at=at,
        ),
    )


def store_lookup(conn: Connection, organization_id: int) -> dict[str, int]:
    """The organization's stores by lower-cased name, GLN and id (as text)."""
    rows = conn.execute(
        select(locations.c.id, locations.c.name, locations.c.gln).where(
            locations.c.organization_id == organization_id, locations.c.kind == "store"
        )
    )
    found: dict[str, int] = {}
    for location_id, name, gln in rows:
        found[str(name).strip().lower()] = int(location_id)
        if gln:
            found[str(gln)] = int(location_id)
        found[str(location_id)] = int(location_id)
    return found


def existing_product_keys(
    conn: Connection, organization_id: int, names: Sequence[str], gtins: Sequence[str]
) -> tuple[set[str], set[str]]:
    """Of these names (lower-cased) and GTINs, those already used by the organization's
    products (GTINs: by anyone's, they are global)."""
    taken_names = {
        str(n).lower()
        for n in conn.execute(
            select(products.c.name).where(
                products.c.organization_id == organization_id,
                func.lower(products.c.name).in_([n.lower() for n in names]),
            )
        ).scalars()
    }
    taken_gtins = (
        set(conn.execute(select(products.c.gtin).where(products.c.gtin.in_(list(gtins)))).scalars())
        if gtins
        else set()
    )
    return taken_names, {str(g) for g in taken_gtins}


def insert_products(conn: Connection, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert the products (one statement) and return their ids, in the order given."""
    conn.execute(insert(products), list(rows))
    org = rows[0]["organization_id"]
    names = [r["name"] for r in rows]
    found = dict(
        conn.execute(
            select(products.c.name, products.c.id).where(
                products.c.organization_id == org, products.c.name.in_(names)
            )
        ).all()
    )
    return [int(found[n]) for n in names]


def batches_by_lot(
    conn: Connection, organization_id: int, lots: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    """The organization's batches with these lot numbers (a lot may exist for two products)."""
    rows = conn.execute(
        select(batches.c.id, batches.c.lot_number, products.c.gtin)
        .join(products, products.c.id == batches.c.product_id)
        .where(batches.c.organization_id == organization_id, batches.c.lot_number.in_(list(lots)))
    ).mappings()
    found: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(row["lot_number"], []).append(dict(row))
    return found


def product_refs(conn: Connection, organization_id: int) -> dict[str, int]:
    """The organization's products by lower-cased name and by GTIN."""
    found: dict[str, int] = {}
    rows = conn.execute(
        select(products.c.id, products.c.name, products.c.gtin).where(
            products.c.organization_id == organization_id
        )
    )
    for product_id, name, gtin in rows:
        found[str(name).lower()] = int(product_id)
        if gtin:
            found[str(gtin)] = int(product_id)
    return found


def existing_lots(
    conn: Connection, organization_id: int, pairs: Sequence[tuple[int, str]]
) -> set[tuple[int, str]]:
    """Of these ``(product id, lot number)`` pairs, those that already have a batch."""
    if not pairs:
        return set()
    rows = conn.execute(
        select(batches.c.product_id, batches.c.lot_number).where(
            batches.c.organization_id == organization_id,
            batches.c.lot_number.in_(sorted({lot for _, lot in pairs})),
        )
    )
    return {(int(p), str(lot)) for p, lot in rows} & set(pairs)


def insert_batches(conn: Connection, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert the batches (one statement) and return their ids, in the order given."""
    conn.execute(insert(batches), list(rows))
    keys = [(r["product_id"], r["lot_number"]) for r in rows]
    found = {
        (int(p), str(lot)): int(i)
        for i, p, lot in conn.execute(
            select(batches.c.id, batches.c.product_id, batches.c.lot_number).where(
                batches.c.organization_id == rows[0]["organization_id"],
                batches.c.lot_number.in_(sorted({lot for _, lot in keys})),
            )
        )
    }
    return [found[k] for k in keys]


def insert_lab_rows(
    conn: Connection, analytes: Sequence[dict[str, Any]], panels: Sequence[dict[str, Any]]
) -> None:
    if analytes:
        conn.execute(insert(batch_analytes), list(analytes))
    if panels:
        conn.execute(insert(batch_panels), list(panels))
