"""Recalls: definitions, the set of units in scope, activation, outcomes and the reach report.

Everything that touches many units is one statement over a set: the scope is a UNION of
id SELECTs (batches, products by production date, container trees, explicit units), and
activation, release, destruction and the report are each one INSERT/UPDATE/GROUP BY over it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    and_,
    case,
    false,
    func,
    insert,
    literal,
    select,
    true,
    union,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from unitrace.domain.recalls import Scope
from unitrace.storage.schema import (
    batches,
    containers,
    locations,
    organizations,
    products,
    recall_events,
    recall_scope_units,
    recall_units,
    recalls,
    units,
)
from unitrace.storage.supply import container_tree, execute_counted

_CHUNK = 5_000


# ---------------------------------------------------------------------------------------
# Recall rows


def insert_recall(conn: Connection, **values: Any) -> int:
    result = conn.execute(insert(recalls).values(**values))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def count_recalls(conn: Connection, organization_id: int) -> int:
    return int(
        conn.execute(
            select(func.count()).where(recalls.c.organization_id == organization_id)
        ).scalar_one()
    )


def get_recall(conn: Connection, recall_id: int, *, lock: bool = False) -> dict[str, Any] | None:
    query = select(recalls, organizations.c.name.label("issuer_name")).join(
        organizations, organizations.c.id == recalls.c.organization_id
    )
    query = query.where(recalls.c.id == recall_id)
    if lock:
        query = query.with_for_update(of=recalls)
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def list_recalls(
    conn: Connection,
    *,
    organization_ids: Select[Any] | Sequence[int] | None,
    status: str | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    """Recalls issued by ``organization_ids`` (None: every one), newest first."""
    where: list[ColumnElement[bool]] = []
    if organization_ids is not None:
        where.append(recalls.c.organization_id.in_(organization_ids))
    if status is not None:
        where.append(recalls.c.status == status)
    total = conn.execute(select(func.count()).select_from(recalls).where(*where)).scalar_one()
    rows = conn.execute(
        select(recalls, organizations.c.name.label("issuer_name"))
        .join(organizations, organizations.c.id == recalls.c.organization_id)
        .where(*where)
        .order_by(recalls.c.id.desc())
        .limit(limit)
        .offset(offset)
    ).mappings()
    return [dict(r) for r in rows], int(total)


def update_recall(conn: Connection, recall_id: int, expected: str, **values: Any) -> int:
    """Change the recall if it is still in status ``expected``; the row count."""
    result = conn.execute(
        update(recalls)
        .where(recalls.c.id == recall_id, recalls.c.status == expected)
        .values(**values)
    )
    return int(result.rowcount)


def delete_draft(conn: Connection, recall_id: int) -> int:
    conn.execute(recall_scope_units.delete().where(recall_scope_units.c.recall_id == recall_id))
    result = conn.execute(
        recalls.delete().where(recalls.c.id == recall_id, recalls.c.status == "draft")
    )
    return int(result.rowcount)


def market_organizations(market: str) -> Select[Any]:
    return select(organizations.c.id).where(organizations.c.market == market)


# ---------------------------------------------------------------------------------------
# Scope


def unit_ids_by_code(
    conn: Connection, codes: Sequence[str], owners: ColumnElement[bool]
) -> dict[str, int]:
    """Ids of the units with these codes that ``owners`` admits, in chunks."""
    found: dict[str, int] = {}
    for start in range(0, len(codes), _CHUNK):
        chunk = list(codes[start : start + _CHUNK])
        rows = conn.execute(select(units.c.code, units.c.id).where(units.c.code.in_(chunk), owners))
        found.update({r.code: int(r.id) for r in rows})
    return found


def container_ids_by_code(
    conn: Connection, codes: Sequence[str], organization_ids: Select[Any] | None
) -> dict[str, int]:
    """Containers by code (or SSCC) that ``organization_ids`` own (None: any)."""
    where: list[ColumnElement[bool]] = [
        (containers.c.code.in_(list(codes))) | (containers.c.sscc.in_(list(codes)))
    ]
    if organization_ids is not None:
        where.append(containers.c.organization_id.in_(organization_ids))
    found: dict[str, int] = {}
    for row in conn.execute(
        select(containers.c.code, containers.c.sscc, containers.c.id).where(*where)
    ):
        found[row.code] = int(row.id)
        if row.sscc:
            found[row.sscc] = int(row.id)
    return found


def existing_batches(conn: Connection, ids: Sequence[int], issuers: Any) -> set[int]:
    """Of these batch ids, those the ``issuers`` (ids or a SELECT of them) own."""
    if not ids:
        return set()
    return set(
        conn.execute(
            select(batches.c.id).where(
                batches.c.id.in_(list(ids)), batches.c.organization_id.in_(issuers)
            )
        ).scalars()
    )


def existing_products(conn: Connection, ids: Sequence[int], issuers: Any) -> set[int]:
    if not ids:
        return set()
    return set(
        conn.execute(
            select(products.c.id).where(
                products.c.id.in_(list(ids)), products.c.organization_id.in_(issuers)
            )
        ).scalars()
    )


def active_recalls_of(conn: Connection, unit_ids: Sequence[int]) -> list[int]:
    """Active recalls covering any of these units, oldest first."""
    return [
        int(i)
        for i in conn.execute(
            select(recall_units.c.recall_id)
            .where(
                recall_units.c.unit_id.in_(list(unit_ids)),
                recall_units.c.recall_id.in_(active_recall_ids()),
            )
            .distinct()
            .order_by(recall_units.c.recall_id)
        ).scalars()
    ]


def replace_scope_units(conn: Connection, recall_id: int, unit_ids: Sequence[int]) -> None:
    conn.execute(recall_scope_units.delete().where(recall_scope_units.c.recall_id == recall_id))
    rows = [{"recall_id": recall_id, "unit_id": u} for u in sorted(set(unit_ids))]
    for start in range(0, len(rows), _CHUNK):
        conn.execute(insert(recall_scope_units), rows[start : start + _CHUNK])


def scope_ids(
    recall_id: int,
    scope: Scope,
    container_ids: Sequence[int],
    owners: ColumnElement[bool],
) -> Select[Any]:
    """A one-column SELECT of the id of every unit in scope (see domain.recalls)."""
    parts: list[Select[Any]] = []
    if scope.batch_ids:
        parts.append(
            select(units.c.id.label("id")).where(units.c.batch_id.in_(scope.batch_ids), owners)
        )
    if scope.by_production:
        chosen: list[ColumnElement[bool]] = []
        if scope.product_ids:
            chosen.append(batches.c.product_id.in_(scope.product_ids))
        if scope.produced_from is not None:
            chosen.append(batches.c.produced_on >= scope.produced_from)
        if scope.produced_to is not None:
            chosen.append(batches.c.produced_on <= scope.produced_to)
        parts.append(
            select(units.c.id.label("id")).where(
                units.c.batch_id.in_(select(batches.c.id).where(*chosen)), owners
            )
        )
    if container_ids:
        tree = container_tree(list(container_ids), "recall_tree")
        parts.append(
            select(units.c.id.label("id")).where(
                units.c.parent_container_id.in_(select(tree.c.id)), owners
            )
        )
    if scope.unit_codes:
        parts.append(
            select(recall_scope_units.c.unit_id.label("id")).where(
                recall_scope_units.c.recall_id == recall_id
            )
        )
    if not parts:
        return select(units.c.id.label("id")).where(false())
    if len(parts) == 1:
        return parts[0]
    return select(union(*parts).subquery().c.id)


def _in(ids: Select[Any]) -> ColumnElement[bool]:
    sub = ids.subquery()
    return units.c.id.in_(select(sub.c[0]))


def preview(
    conn: Connection, ids: Select[Any], recallable: Sequence[str]
) -> tuple[dict[str, int], list[dict[str, Any]], int]:
    """Units in scope ``(by disposition, by custodian and location, how many to flag)``."""
    rows = conn.execute(
        select(
            units.c.disposition,
            units.c.custodian_organization_id,
            units.c.location_id,
            func.count().label("n"),
        )
        .where(_in(ids))
        .group_by(units.c.disposition, units.c.custodian_organization_id, units.c.location_id)
    ).all()
    by_disposition: dict[str, int] = {}
    holders: dict[tuple[int, int | None], int] = {}
    flag = 0
    for disposition, custodian, location, n in rows:
        by_disposition[disposition] = by_disposition.get(disposition, 0) + int(n)
        if disposition in recallable:
            flag += int(n)
        key = (int(custodian), location)
        holders[key] = holders.get(key, 0) + int(n)
    names = place_names(conn, holders)
    by_custodian = [
        {
            "organization_id": org,
            "organization_name": names.get((org, loc), ("", None, None))[0],
            "location_id": loc,
            "location_name": names.get((org, loc), ("", None, None))[1],
            "city": names.get((org, loc), ("", None, None))[2],
            "units": n,
        }
        for (org, loc), n in sorted(holders.items(), key=lambda kv: (-kv[1], kv[0][0]))
    ]
    return by_disposition, by_custodian, flag


def place_names(
    conn: Connection, keys: Any
) -> dict[tuple[int, int | None], tuple[str, str | None, str | None]]:
    """``(organization name, location name, city)`` for ``(organization id, location id)``."""
    org_ids = sorted({k[0] for k in keys})
    loc_ids = sorted({k[1] for k in keys if k[1] is not None})
    orgs = dict(
        conn.execute(
            select(organizations.c.id, organizations.c.name).where(organizations.c.id.in_(org_ids))
        ).all()
    )
    locs = {
        r.id: (r.name, r.city)
        for r in conn.execute(
            select(locations.c.id, locations.c.name, locations.c.city).where(
                locations.c.id.in_(loc_ids)
            )
        )
    }
    out: dict[tuple[int, int | None], tuple[str, str | None, str | None]] = {}
    for org, loc in keys:
        name, city = locs.get(loc, (None, None)) if loc is not None else (None, None)
        out[(org, loc)] = (str(orgs.get(org, "")), name, city)
    return out


# ---------------------------------------------------------------------------------------
# Activation and outcomes


def add_recall_units(
    conn: Connection, recall_id: int, ids: Select[Any], recallable: Sequence[str]
) -> int:
    """Fix the recall's units (every unit in scope) with their disposition now."""
    flagged = units.c.disposition.in_(list(recallable))
    return execute_counted(
        conn,
        insert(recall_units).from_select(
            ["recall_id", "unit_id", "disposition_before", "flagged"],
            select(
                literal(recall_id),
                units.c.id,
                units.c.disposition,
                case((flagged, true()), else_=false()),
            ).where(_in(ids)),
        ),
    )


def flagged_ids(recall_id: int) -> Select[Any]:
    return select(recall_units.c.unit_id).where(
        recall_units.c.recall_id == recall_id, recall_units.c.flagged.is_(True)
    )


# Dispositions whose unit's previous one outlives a recall and its release: in transit
# (before shipping, for a void) and lost (before it was lost, for mark_found).
_KEEPS_PREVIOUS = ("in_transit", "unknown")


def flag_units(conn: Connection, recall_id: int, recallable: Sequence[str], at: dt.datetime) -> int:
    """Recall the recall's flagged units still recallable: one UPDATE; its row count."""
    return execute_counted(
        conn,
        update(units)
        .where(units.c.id.in_(flagged_ids(recall_id)), units.c.disposition.in_(list(recallable)))
        .values(
            disposition="recalled",
            # a unit in transit keeps its disposition before shipping there (a void needs
            # it), a lost one its disposition before it was lost (found again, it goes back)
            previous_disposition=case(
                (units.c.disposition.in_(_KEEPS_PREVIOUS), units.c.previous_disposition),
                else_=units.c.disposition,
            ),
            updated_at=at,
        ),
    )


def unflag_changed(conn: Connection, recall_id: int) -> int:
    """Units another transaction changed between the snapshot and the UPDATE (a sale that
    committed first): this recall did not flag them; keep their disposition as it is now."""
    now_disposition = (
        select(units.c.disposition).where(units.c.id == recall_units.c.unit_id).scalar_subquery()
    )
    return execute_counted(
        conn,
        update(recall_units)
        .where(
            recall_units.c.recall_id == recall_id,
            recall_units.c.flagged.is_(True),
            now_disposition != "recalled",
        )
        .values(flagged=False, disposition_before=now_disposition),
    )


def recall_unit_ids(
    recall_id: int, *conditions: ColumnElement[bool], codes: Sequence[str] | None = None
) -> Select[Any]:
    """Ids of the recall's units (joined to ``units`` for ``conditions``)."""
    query = (
        select(units.c.id)
        .join(recall_units, recall_units.c.unit_id == units.c.id)
        .where(recall_units.c.recall_id == recall_id, *conditions)
    )
    if codes is not None:
        query = query.where(units.c.code.in_(list(codes)))
    return query


def release_units(conn: Connection, recall_id: int, ids: Select[Any], at: dt.datetime) -> int:
    """Put units back to their disposition before the recall; one UPDATE."""
    before = (
        select(recall_units.c.disposition_before)
        .where(recall_units.c.recall_id == recall_id, recall_units.c.unit_id == units.c.id)
        .scalar_subquery()
    )
    sub = ids.subquery()
    return execute_counted(
        conn,
        update(units)
        .where(units.c.id.in_(select(sub.c[0])), units.c.disposition == "recalled")
        .values(
            disposition=before,
            previous_disposition=case(
                (before.in_(_KEEPS_PREVIOUS), units.c.previous_disposition),
                else_=literal("recalled"),
            ),
            updated_at=at,
        ),
    )


def dispositions_before(conn: Connection, recall_id: int, ids: Select[Any]) -> dict[str, list[int]]:
    sub = ids.subquery()
    rows = conn.execute(
        select(recall_units.c.disposition_before, recall_units.c.unit_id).where(
            recall_units.c.recall_id == recall_id,
            recall_units.c.unit_id.in_(select(sub.c[0])),
        )
    )
    out: dict[str, list[int]] = {}
    for disposition, unit_id in rows:
        out.setdefault(str(disposition), []).append(int(unit_id))
    return out


def set_outcome(
    conn: Connection,
    recall_ids: Select[Any] | Sequence[int],
    ids: Select[Any],
    outcome: str,
    *,
    at: dt.datetime,
    organization_id: int,
    location_id: int | None,
) -> int:
    sub = ids.subquery()
    return execute_counted(
        conn,
        update(recall_units)
        .where(
            recall_units.c.recall_id.in_(recall_ids),
            recall_units.c.unit_id.in_(select(sub.c[0])),
        )
        .values(
            outcome=outcome,
            outcome_at=at,
            outcome_organization_id=organization_id,
            outcome_location_id=location_id,
        ),
    )


def active_recall_ids() -> Select[Any]:
    return select(recalls.c.id).where(recalls.c.status == "active")


def units_in_active_recalls(conn: Connection, codes: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The units with these codes that an active recall covers, with their state."""
    rows = conn.execute(
        select(
            units.c.id,
            units.c.code,
            units.c.disposition,
            units.c.custodian_organization_id,
            units.c.location_id,
            units.c.organization_id,
        ).where(
            units.c.code.in_(list(codes)),
            units.c.id.in_(
                select(recall_units.c.unit_id).where(
                    recall_units.c.recall_id.in_(active_recall_ids())
                )
            ),
        )
    ).mappings()
    return {r["code"]: dict(r) for r in rows}


# ---------------------------------------------------------------------------------------
# Reach


def reach_groups(conn: Connection, recall_id: int) -> list[dict[str, Any]]:
    """The recall's units grouped by what decides their category and holder."""
    rows = conn.execute(
        select(
            units.c.disposition,
            recall_units.c.outcome,
            (units.c.shipment_id.is_not(None)).label("in_transit"),
            units.c.custodian_organization_id,
            units.c.location_id,
            func.count().label("n"),
        )
        .join(units, units.c.id == recall_units.c.unit_id)
        .where(recall_units.c.recall_id == recall_id)
        .group_by(
            units.c.disposition,
            recall_units.c.outcome,
            units.c.shipment_id.is_not(None),
            units.c.custodian_organization_id,
            units.c.location_id,
        )
    ).mappings()
    return [dict(r) for r in rows]


_REACH_ROW = (
    select(
        units.c.code,
        products.c.name.label("product"),
        products.c.gtin,
        batches.c.lot_number,
        units.c.disposition,
        recall_units.c.disposition_before,
        recall_units.c.flagged,
        recall_units.c.outcome,
        recall_units.c.outcome_at,
        (units.c.shipment_id.is_not(None)).label("in_transit"),
        units.c.custodian_organization_id,
        organizations.c.name.label("holder"),
        units.c.location_id,
        locations.c.name.label("location"),
        locations.c.city,
        units.c.sold_at,
    )
    .select_from(recall_units)
    .join(units, units.c.id == recall_units.c.unit_id)
    .join(products, products.c.id == units.c.product_id)
    .join(batches, batches.c.id == units.c.batch_id)
    .join(organizations, organizations.c.id == units.c.custodian_organization_id)
    .outerjoin(locations, locations.c.id == units.c.location_id)
)


def reach_rows(
    conn: Connection,
    recall_id: int,
    *conditions: ColumnElement[bool],
    limit: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Every unit of the recall with its state, by code (streamed)."""
    query = _REACH_ROW.where(recall_units.c.recall_id == recall_id, *conditions).order_by(
        units.c.code
    )
    if limit is not None:
        query = query.limit(limit)
    # on the statement, not the connection: Connection.execution_options() changes the
    # connection itself, and later statements of the transaction would stream too
    result = conn.execute(query.execution_options(stream_results=True, yield_per=5_000))
    for row in result.mappings():
        yield dict(row)


def sold_condition() -> ColumnElement[bool]:
    return units.c.disposition == "retail_sold"


def held_by(organization_id: int) -> ColumnElement[bool]:
    return and_(
        units.c.custodian_organization_id == organization_id, units.c.disposition == "recalled"
    )


def held_recalled(conn: Connection, organization_id: int) -> list[dict[str, Any]]:
    """Per active recall: how many recalled units ``organization_id`` holds, by location."""
    rows = conn.execute(
        select(
            recalls.c.id,
            recalls.c.number,
            recalls.c.title,
            recalls.c.severity,
            recalls.c.retailer_instructions,
            recalls.c.activated_at,
            organizations.c.name.label("issuer_name"),
            units.c.location_id,
            locations.c.name.label("location_name"),
            func.count().label("n"),
            func.sum(case((recall_units.c.outcome.is_not(None), 1), else_=0)).label("confirmed"),
        )
        .select_from(recall_units)
        .join(recalls, recalls.c.id == recall_units.c.recall_id)
        .join(organizations, organizations.c.id == recalls.c.organization_id)
        .join(units, units.c.id == recall_units.c.unit_id)
        .outerjoin(locations, locations.c.id == units.c.location_id)
        .where(recalls.c.status == "active", held_by(organization_id))
        .group_by(
            recalls.c.id,
            recalls.c.number,
            recalls.c.title,
            recalls.c.severity,
            recalls.c.retailer_instructions,
            recalls.c.activated_at,
            organizations.c.name,
            units.c.location_id,
            locations.c.name,
        )
        .order_by(recalls.c.id.desc(), units.c.location_id)
    ).mappings()
    return [dict(r) for r in rows]


def holders_of_flagged(conn: Connection, recall_id: int) -> dict[int, list[str]]:
    """Codes of the flagged units per holding organization."""
    rows = conn.execute(
        select(units.c.custodian_organization_id, units.c.code)
        .join(recall_units, recall_units.c.unit_id == units.c.id)
        .where(recall_units.c.recall_id == recall_id, recall_units.c.flagged.is_(True))
        .order_by(units.c.custodian_organization_id, units.c.code)
    )
    out: dict[int, list[str]] = {}
    for org, code in rows:
        out.setdefault(int(org), []).append(str(code))
    return out


def owners_of(conn: Connection, recall_id: int) -> list[int]:
    return [
        int(o)
        for o in conn.execute(
            select(units.c.organization_id)
            .join(recall_units, recall_units.c.unit_id == units.c.id)
            .where(recall_units.c.recall_id == recall_id)
            .distinct()
        ).scalars()
    ]


def active_recall_for_unit(conn: Connection, unit_id: int) -> dict[str, Any] | None:
    """The newest active recall covering the unit: what a consumer and a till are told."""
    row = (
        conn.execute(
            select(
                recalls.c.id,
                recalls.c.number,
                recalls.c.title,
                recalls.c.severity,
                recalls.c.reason,
                recalls.c.consumer_instructions,
                recalls.c.retailer_instructions,
                recalls.c.activated_at,
            )
            .join(recall_units, recall_units.c.recall_id == recalls.c.id)
            .where(recall_units.c.unit_id == unit_id, recalls.c.status == "active")
            .order_by(recalls.c.id.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def update_disposition_before(conn: Connection, unit_ids: Select[Any], disposition: str) -> int:
    """After a recalled unit in transit is received: released, it goes on sale there."""
    sub = unit_ids.subquery()
    return execute_counted(
        conn,
        update(recall_units)
        .where(
            recall_units.c.unit_id.in_(select(sub.c[0])),
            recall_units.c.recall_id.in_(active_recall_ids()),
        )
        .values(disposition_before=disposition),
    )


def add_event(conn: Connection, recall_id: int, event_row_id: int) -> None:
    conn.execute(insert(recall_events).values(recall_id=recall_id, event_row_id=event_row_id))


def event_row_ids(conn: Connection, recall_id: int) -> list[int]:
    return [
        int(i)
        for i in conn.execute(
            select(recall_events.c.event_row_id)
            .where(recall_events.c.recall_id == recall_id)
            .order_by(recall_events.c.event_row_id)
        ).scalars()
    ]


def restore_before_shipping(conn: Connection, unit_ids: Select[Any]) -> int:
    """Recalled units of a voided shipment: released later, they go back to what they were
    before shipping (kept in ``units.previous_disposition``), not in transit."""
    sub = unit_ids.subquery()
    before = (
        select(units.c.previous_disposition)
        .where(units.c.id == recall_units.c.unit_id)
        .scalar_subquery()
    )
    return execute_counted(
        conn,
        update(recall_units)
        .where(
            recall_units.c.unit_id.in_(select(sub.c[0])),
            recall_units.c.recall_id.in_(active_recall_ids()),
            recall_units.c.disposition_before == "in_transit",
        )
        .values(disposition_before=before),
    )


def find_recall_by_number(
    conn: Connection, organization_id: int, number: str
) -> dict[str, Any] | None:
    row = (
        conn.execute(
            select(recalls).where(
                recalls.c.organization_id == organization_id,
                func.upper(recalls.c.number) == number.strip().upper(),
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def add_scope_units(conn: Connection, recall_id: int, unit_ids: Sequence[int]) -> int:
    """Add units to a draft's explicit scope (those already there stay once); how many it
    names now."""
    there = set(
        conn.execute(
            select(recall_scope_units.c.unit_id).where(recall_scope_units.c.recall_id == recall_id)
        ).scalars()
    )
    rows = [{"recall_id": recall_id, "unit_id": u} for u in unit_ids if u not in there]
    for start in range(0, len(rows), _CHUNK):
        conn.execute(insert(recall_scope_units), rows[start : start + _CHUNK])
    return len(there) + len(rows)
