"""The public side: the one-statement unit lookup behind every scan, the facts a consumer
page shows, the scan log, clone alerts, purchase registrations and problem reports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    bindparam,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from unitrace.storage.engine import Database
from unitrace.storage.schema import (
    batch_analytes,
    batch_panels,
    batches,
    documents,
    events,
    instance_secrets,
    locations,
    organizations,
    problem_reports,
    products,
    public_scans,
    purchase_registrations,
    recalls,
    scan_alerts,
    shipment_units,
    shipments,
    units,
)
from unitrace.storage.supply import execute_counted
from unitrace.storage.types import UTCDateTime

# One indexed probe of units by code plus constant-time subqueries: everything a verdict
# needs that can change from one scan to the next. Batch and product facts are cached by
# the service, keyed by batch.
_LOOKUP_SELECT = """
    SELECT u.id, u.organization_id, u.batch_id, u.disposition, u.sold_at,
           o.public_verification,
           CASE WHEN u.disposition = 'retail_sold'
                THEN (SELECT l.city FROM locations l WHERE l.id = u.location_id) END AS sold_city,
           (SELECT min(a.reason) FROM scan_alerts a
             WHERE a.unit_id = u.id AND a.status = 'open') AS alert_reason,
           (SELECT max(ru.recall_id) FROM recall_units ru
              JOIN recalls r ON r.id = ru.recall_id
             WHERE ru.unit_id = u.id AND r.status = 'active') AS recall_id,
           u.code, u.external_serial, u.serial_guessable
      FROM units u JOIN organizations o ON o.id = u.organization_id
"""
_LOOKUP = text(_LOOKUP_SELECT + " WHERE u.code = :code").columns(sold_at=UTCDateTime())
# A serial its brand printed: the GTIN's product (products.gtin is unique), then the partial
# unique index on (product_id, external_serial) — one indexed statement as well.
_LOOKUP_SERIAL = text(
    _LOOKUP_SELECT  # noqa: S608 - constant text; the values are bound parameters
    + " WHERE u.product_id = (SELECT p.id FROM products p WHERE p.gtin = :gtin)"
    + " AND u.external_serial = :serial"
).columns(sold_at=UTCDateTime())


_LOOKUP_FIELDS = (
    "id",
    "organization_id",
    "batch_id",
    "disposition",
    "sold_at",
    "public_verification",
    "sold_city",
    "alert_reason",
    "recall_id",
    "code",
    "external_serial",
    "serial_guessable",
)
_SQLITE_LOOKUP = str(_LOOKUP).replace(":code", "?")
_SQLITE_LOOKUP_SERIAL = str(_LOOKUP_SERIAL).replace(":gtin", "?").replace(":serial", "?")


def lookup_unit(conn: Connection, code: str) -> dict[str, Any] | None:
    """The scan-time facts of the unit with this (canonical) code, whoever owns it."""
    row = conn.execute(_LOOKUP, {"code": code}).mappings().first()
    return _facts(dict(row)) if row else None


def lookup_serial(conn: Connection, gtin: str, serial: str) -> dict[str, Any] | None:
    """:func:`lookup_unit` for the unit whose brand printed ``serial`` under ``gtin``."""
    row = conn.execute(_LOOKUP_SERIAL, {"gtin": gtin, "serial": serial}).mappings().first()
    return _facts(dict(row)) if row else None


def _facts(found: dict[str, Any]) -> dict[str, Any]:
    found["public_verification"] = bool(found["public_verification"])
    found["serial_guessable"] = bool(found["serial_guessable"])
    return found


def _fast(db: Database, sql: str, args: tuple[str, ...]) -> dict[str, Any] | None:
    row = db.raw_reader().execute(sql, args).fetchone()
    if row is None:
        return None
    found = dict(zip(_LOOKUP_FIELDS, row, strict=True))
    if found["sold_at"] is not None:
        found["sold_at"] = dt.datetime.fromisoformat(found["sold_at"]).replace(tzinfo=dt.UTC)
    return _facts(found)


def lookup_unit_fast(db: Database, code: str) -> dict[str, Any] | None:
    """:func:`lookup_unit` for the public scan path: on SQLite straight through this
    thread's DBAPI connection (the same statement), elsewhere through Core."""
    if db.dialect != "sqlite":
        with db.single_read() as conn:
            return lookup_unit(conn, code)
    return _fast(db, _SQLITE_LOOKUP, (code,))


def lookup_serial_fast(db: Database, gtin: str, serial: str) -> dict[str, Any] | None:
    """:func:`lookup_serial` on the public scan path, as :func:`lookup_unit_fast` does."""
    if db.dialect != "sqlite":
        with db.single_read() as conn:
            return lookup_serial(conn, gtin, serial)
    return _fast(db, _SQLITE_LOOKUP_SERIAL, (gtin, serial))


# What the public sees of a product and its brand (a unit's page, a GTIN link).
_PRODUCT_AND_BRAND = (
    products.c.name.label("product_name"),
    products.c.category,
    products.c.strain,
    products.c.net_content,
    products.c.net_content_unit,
    products.c.gtin,
    products.c.image_url,
    products.c.description,
    products.c.warnings,
    organizations.c.name.label("brand_name"),
    organizations.c.license_number.label("brand_license"),
    organizations.c.market.label("brand_market"),
)


def batch_facts(conn: Connection, batch_id: int) -> dict[str, Any] | None:
    """Product, batch, brand and lab facts of one batch, for the consumer page."""
    row = (
        conn.execute(
            select(
                batches.c.id.label("batch_id"),
                batches.c.lot_number,
                batches.c.produced_on,
                batches.c.expires_on,
                batches.c.lab_status,
                batches.c.lab_name,
                batches.c.tested_on,
                documents.c.filename.label("coa_filename"),
                documents.c.sha256.label("coa_sha256"),
                documents.c.content_type.label("coa_content_type"),
                *_PRODUCT_AND_BRAND,
            )
            .select_from(
                batches.join(products, products.c.id == batches.c.product_id)
                .join(organizations, organizations.c.id == batches.c.organization_id)
                .outerjoin(documents, documents.c.id == batches.c.coa_document_id)
            )
            .where(batches.c.id == batch_id)
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    facts = dict(row)
    facts["analytes"] = [
        dict(r)
        for r in conn.execute(
            select(
                batch_analytes.c.kind,
                batch_analytes.c.name,
                batch_analytes.c.amount,
                batch_analytes.c.unit,
            )
            .where(batch_analytes.c.batch_id == batch_id)
            .order_by(batch_analytes.c.kind, batch_analytes.c.amount.desc(), batch_analytes.c.name)
        ).mappings()
    ]
    facts["panels"] = [
        dict(r)
        for r in conn.execute(
            select(batch_panels.c.name, batch_panels.c.result)
            .where(batch_panels.c.batch_id == batch_id)
            .order_by(batch_panels.c.name)
        ).mappings()
    ]
    return facts


def recall_notice(conn: Connection, recall_id: int) -> dict[str, Any] | None:
    """What a consumer is told about an active recall."""
    row = (
        conn.execute(
            select(
                recalls.c.number,
                recalls.c.title,
                recalls.c.severity,
                recalls.c.reason,
                recalls.c.consumer_instructions,
                recalls.c.activated_at,
                recalls.c.status,
            ).where(recalls.c.id == recall_id)
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def public_event_rows(conn: Connection, row_ids: Sequence[int]) -> list[dict[str, Any]]:
    """When, what step, and in which city: the public summary of a unit's events."""
    if not row_ids:
        return []
    place = func.coalesce(events.c.biz_location_id, events.c.read_point_id)
    rows = conn.execute(
        select(
            events.c.id,
            events.c.event_time,
            events.c.biz_step,
            events.c.disposition,
            events.c.error_declaration,
            locations.c.city,
            organizations.c.kind.label("organization_kind"),
        )
        .select_from(
            events.outerjoin(locations, locations.c.id == place).join(
                organizations, organizations.c.id == events.c.organization_id
            )
        )
        .where(events.c.id.in_(list(row_ids)))
        .order_by(events.c.event_time, events.c.id)
    ).mappings()
    return [dict(r) for r in rows]


# --- The instance key


def instance_secret(conn: Connection, name: str) -> str | None:
    return conn.execute(
        select(instance_secrets.c.value).where(instance_secrets.c.name == name)
    ).scalar_one_or_none()


def insert_instance_secret(conn: Connection, name: str, value: str, at: dt.datetime) -> None:
    conn.execute(insert(instance_secrets).values(name=name, value=value, created_at=at))


# --- The scan log


_SCAN_COLUMNS = (
    "scanned_at",
    "unit_id",
    "organization_id",
    "code",
    "verdict",
    "link_type",
    "origin",
    "country",
    "region",
    "city",
    "agent",
)
_SQLITE_INSERT_SCANS = (
    f"INSERT INTO public_scans ({', '.join(_SCAN_COLUMNS)}) "  # noqa: S608 - constant names
    f"VALUES ({', '.join('?' * len(_SCAN_COLUMNS))})"
)


def insert_scans(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Append scans: one executemany statement for the whole batch.

    On SQLite straight through the driver, with timestamps in the form ``UTCDateTime``
    stores: the writer shares the process with the request path, and Core's per-row
    parameter processing held the interpreter long enough to stall it."""
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        conn.execute(insert(public_scans), list(rows))
        return
    values = [
        (
            r["scanned_at"].astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ", "microseconds"),
            *(r[c] for c in _SCAN_COLUMNS[1:]),
        )
        for r in rows
    ]
    conn.connection.driver_connection.executemany(_SQLITE_INSERT_SCANS, values)  # type: ignore[union-attr]


def purge_scans(conn: Connection, before: dt.datetime) -> int:
    return execute_counted(conn, delete(public_scans).where(public_scans.c.scanned_at < before))


def _insert_ignoring_duplicates(conn: Connection) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(scan_alerts).on_conflict_do_nothing()
    return sqlite.insert(scan_alerts).on_conflict_do_nothing()


def _last_investigated(reason: str) -> Any:
    """When an alert of this reason on the unit was last closed (scans before it are done)."""
    return (
        select(func.max(scan_alerts.c.investigated_at))
        .where(
            scan_alerts.c.unit_id == units.c.id,
            scan_alerts.c.reason == reason,
            scan_alerts.c.status == "investigated",
        )
        .scalar_subquery()
    )


def raise_many_origin_alerts(
    conn: Connection,
    unit_ids: Sequence[int],
    *,
    since: dt.datetime,
    max_origins: int,
    now: dt.datetime,
) -> int:
    """Alert on each sold unit scanned since its sale (and since ``since``) from more than
    ``max_origins`` distinct origins; one statement for all the units."""
    if not unit_ids:
        return 0
    origin_count = (
        select(func.count(func.distinct(public_scans.c.origin)))
        .where(
            public_scans.c.unit_id == units.c.id,
            public_scans.c.scanned_at >= since,
            public_scans.c.scanned_at >= units.c.sold_at,
            or_(
                _last_investigated("many_origins").is_(None),
                public_scans.c.scanned_at > _last_investigated("many_origins"),
            ),
        )
        .scalar_subquery()
    )
    chosen = select(
        units.c.organization_id,
        units.c.id,
        literal("many_origins"),
        literal("open"),
        literal(f"scanned after its sale from more than {max_origins} distinct origins"),
        bindparam("now", now, type_=UTCDateTime()),
        literal(""),
    ).where(
        units.c.id.in_(list(unit_ids)),
        units.c.disposition == "retail_sold",
        origin_count > max_origins,
    )
    statement = _insert_ignoring_duplicates(conn).from_select(
        ["organization_id", "unit_id", "reason", "status", "detail", "created_at", "note"],
        chosen,
    )
    return execute_counted(conn, statement)


def raise_alerts(conn: Connection, alerts: Iterable[dict[str, Any]]) -> None:
    """Insert alerts (organization_id, unit_id, reason, detail, created_at) unless the same
    unit already has an open alert for the same reason."""
    rows = [a | {"status": "open", "note": ""} for a in alerts]
    if rows:
        conn.execute(_insert_ignoring_duplicates(conn), rows)


def unit_markets(conn: Connection, unit_ids: Sequence[int]) -> dict[int, set[str]]:
    """Each unit's markets: its brand's, and those of every organization it was shipped to."""
    if not unit_ids:
        return {}
    ids = list(unit_ids)
    found: dict[int, set[str]] = {i: set() for i in ids}
    brand = select(units.c.id, organizations.c.market).join(
        organizations, organizations.c.id == units.c.organization_id
    )
    shipped = (
        select(shipment_units.c.unit_id, organizations.c.market)
        .join(shipments, shipments.c.id == shipment_units.c.shipment_id)
        .join(organizations, organizations.c.id == shipments.c.destination_organization_id)
    )
    for unit_id, market in conn.execute(brand.where(units.c.id.in_(ids))):
        found[int(unit_id)].add(str(market).upper())
    for unit_id, market in conn.execute(shipped.where(shipment_units.c.unit_id.in_(ids))):
        found[int(unit_id)].add(str(market).upper())
    return found


def _alerts_query() -> Any:
    scans = (
        select(func.count())
        .select_from(public_scans)
        .where(public_scans.c.unit_id == scan_alerts.c.unit_id)
        .scalar_subquery()
    )
    return (
        select(
            scan_alerts,
            units.c.code,
            units.c.disposition,
            batches.c.lot_number,
            products.c.name.label("product_name"),
            scans.label("scan_count"),
        )
        .join(units, units.c.id == scan_alerts.c.unit_id)
        .join(batches, batches.c.id == units.c.batch_id)
        .join(products, products.c.id == units.c.product_id)
    )


def list_alerts(
    conn: Connection,
    organization_id: int,
    *,
    status: str | None,
    limit: int,
    offset: int,
    unit_id: int | None = None,
) -> tuple[list[dict[str, Any]], int]:
    where = [scan_alerts.c.organization_id == organization_id]
    if status:
        where.append(scan_alerts.c.status == status)
    if unit_id is not None:
        where.append(scan_alerts.c.unit_id == unit_id)
    rows = conn.execute(
        _alerts_query().where(*where).order_by(scan_alerts.c.id.desc()).limit(limit).offset(offset)
    ).mappings()
    total = conn.execute(select(func.count()).select_from(scan_alerts).where(*where)).scalar_one()
    return [dict(r) for r in rows], int(total)


def get_alert(conn: Connection, organization_id: int, alert_id: int) -> dict[str, Any] | None:
    row = (
        conn.execute(
            _alerts_query().where(
                scan_alerts.c.id == alert_id, scan_alerts.c.organization_id == organization_id
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def mark_alert_investigated(
    conn: Connection, organization_id: int, alert_id: int, *, by: str, note: str, at: dt.datetime
) -> int:
    return execute_counted(
        conn,
        update(scan_alerts)
        .where(
            scan_alerts.c.id == alert_id,
            scan_alerts.c.organization_id == organization_id,
            scan_alerts.c.status == "open",
        )
        .values(status="investigated", investigated_at=at, investigated_by=by, note=note),
    )


def unit_scans(conn: Connection, unit_id: int, limit: int = 200) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(
            public_scans.c.scanned_at,
            public_scans.c.verdict,
            public_scans.c.origin,
            public_scans.c.country,
            public_scans.c.region,
            public_scans.c.city,
            public_scans.c.agent,
            public_scans.c.link_type,
        )
        .where(public_scans.c.unit_id == unit_id)
        .order_by(public_scans.c.scanned_at.desc(), public_scans.c.id.desc())
        .limit(limit)
    ).mappings()
    return [dict(r) for r in rows]


def scan_counts(conn: Connection, organization_id: int, since: dt.datetime) -> dict[str, int]:
    rows = conn.execute(
        select(public_scans.c.verdict, func.count())
        .where(
            public_scans.c.organization_id == organization_id,
            public_scans.c.scanned_at >= since,
        )
        .group_by(public_scans.c.verdict)
    )
    return {str(v): int(n) for v, n in rows}


# --- Registrations and problem reports


def find_registration(conn: Connection, unit_id: int) -> dict[str, Any] | None:
    row = (
        conn.execute(
            select(purchase_registrations).where(purchase_registrations.c.unit_id == unit_id)
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def insert_registration(conn: Connection, **values: Any) -> int:
    """Insert a registration; 0 when the unit already has one (two racing registrations:
    the unique constraint lets exactly one win)."""
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = (
        dialect_insert(purchase_registrations)
        .values(**values)
        .on_conflict_do_nothing()
        .returning(purchase_registrations.c.id)
    )
    return 0 if conn.execute(statement).first() is None else 1


def insert_problem_report(conn: Connection, **values: Any) -> int:
    return int(
        conn.execute(insert(problem_reports).values(**values)).inserted_primary_key[0]  # type: ignore[index]
    )


def count_recent_reports(conn: Connection, unit_id: int, origin: str, since: dt.datetime) -> int:
    return int(
        conn.execute(
            select(func.count())
            .select_from(problem_reports)
            .where(
                problem_reports.c.unit_id == unit_id,
                problem_reports.c.origin == origin,
                problem_reports.c.created_at >= since,
            )
        ).scalar_one()
    )


def list_problem_reports(
    conn: Connection, organization_id: int, *, status: str | None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    where = [problem_reports.c.organization_id == organization_id]
    if status:
        where.append(problem_reports.c.status == status)
    rows = conn.execute(
        select(
            problem_reports,
            units.c.code,
            units.c.disposition,
            batches.c.lot_number,
            products.c.name.label("product_name"),
        )
        .join(units, units.c.id == problem_reports.c.unit_id)
        .join(batches, batches.c.id == problem_reports.c.batch_id)
        .join(products, products.c.id == batches.c.product_id)
        .where(*where)
        .order_by(problem_reports.c.id.desc())
        .limit(limit)
        .offset(offset)
    ).mappings()
    total = conn.execute(
        select(func.count()).select_from(problem_reports).where(*where)
    ).scalar_one()
    return [dict(r) for r in rows], int(total)


def get_problem_report(
    conn: Connection, organization_id: int, report_id: int
) -> dict[str, Any] | None:
    row = (
        conn.execute(
            select(
                problem_reports,
                units.c.code,
                units.c.disposition,
                batches.c.lot_number,
                products.c.name.label("product_name"),
            )
            .join(units, units.c.id == problem_reports.c.unit_id)
            .join(batches, batches.c.id == problem_reports.c.batch_id)
            .join(products, products.c.id == batches.c.product_id)
            .where(
                problem_reports.c.id == report_id,
                problem_reports.c.organization_id == organization_id,
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def close_problem_report(
    conn: Connection,
    organization_id: int,
    report_id: int,
    *,
    by: str,
    resolution: str,
    at: dt.datetime,
) -> int:
    return execute_counted(
        conn,
        update(problem_reports)
        .where(
            problem_reports.c.id == report_id,
            problem_reports.c.organization_id == organization_id,
            problem_reports.c.status == "open",
        )
        .values(status="closed", closed_at=at, closed_by=by, resolution=resolution),
    )


def purge_contacts(conn: Connection, before: dt.datetime, at: dt.datetime) -> int:
    """Forget the contact details of registrations and reports older than ``before``."""
    count = 0
    for table, stamp in (
        (purchase_registrations, purchase_registrations.c.registered_at),
        (problem_reports, problem_reports.c.created_at),
    ):
        count += execute_counted(
            conn,
            update(table)
            .where(
                stamp < before,
                table.c.contact_purged_at.is_(None),
                or_(table.c.contact_name.is_not(None), table.c.contact_email.is_not(None)),
            )
            .values(contact_name=None, contact_email=None, contact_purged_at=at),
        )
    return count


def find_public_batch(conn: Connection, gtin: str, lot: str | None) -> dict[str, Any] | None:
    """The product (and with ``lot`` the batch) of a GTIN, if its brand is public.

    Returns ``{"product_id", "batch_id"}`` (``batch_id`` None without a lot)."""
    product = (
        conn.execute(
            select(products.c.id, organizations.c.public_verification)
            .join(organizations, organizations.c.id == products.c.organization_id)
            .where(products.c.gtin == gtin)
        )
        .mappings()
        .first()
    )
    if product is None or not product["public_verification"]:
        return None
    batch_id = None
    if lot is not None:
        batch_id = conn.execute(
            select(batches.c.id).where(
                batches.c.product_id == product["id"], batches.c.lot_number == lot
            )
        ).scalar_one_or_none()
        if batch_id is None:
            return None
    return {"product_id": int(product["id"]), "batch_id": batch_id}


def product_facts(conn: Connection, product_id: int) -> dict[str, Any]:
    """Product and brand facts (no batch), for a GTIN-only link."""
    row = (
        conn.execute(
            select(
                *_PRODUCT_AND_BRAND,
            )
            .join(organizations, organizations.c.id == products.c.organization_id)
            .where(products.c.id == product_id)
        )
        .mappings()
        .one()
    )
    return dict(row)
