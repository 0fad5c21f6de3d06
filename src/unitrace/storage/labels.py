"""Labels: the units a label job covers, streamed; print jobs and the units each labelled."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, Select, exists, func, insert, literal, or_, select

from unitrace.domain.labels import PrintTemplate
from unitrace.domain.model import BatchLabelStatus, CheckStatus, LabelFormat, PrintJob
from unitrace.errors import NotFoundError
from unitrace.storage.schema import batches, containers, print_job_units, print_jobs, units

STREAM_CHUNK = 5_000  # rows fetched per round trip while labels render
IN_CHUNK = 900  # bound parameters per IN (…): under SQLite's default limit of 999


@dataclass(frozen=True)
class UnitScope:
    """Units of one organization picked set-wise: a batch (or a slice of it in
    commissioning order) or the contents of a container.

    ``max_unit_id`` freezes "every unit of the batch" at the moment a job starts, so
    units commissioned while labels render are neither printed nor recorded.
    """

    organization_id: int
    batch_id: int | None = None
    container_id: int | None = None
    offset: int = 0
    limit: int | None = None
    max_unit_id: int | None = None


def _scoped(scope: UnitScope) -> Select[Any]:
    query = select(units.c.id, units.c.code, units.c.external_serial).where(
        units.c.organization_id == scope.organization_id
    )
    if scope.batch_id is not None:
        query = query.where(units.c.batch_id == scope.batch_id)
    if scope.container_id is not None:
        query = query.where(units.c.parent_container_id == scope.container_id)
    if scope.max_unit_id is not None:
        query = query.where(units.c.id <= scope.max_unit_id)
    query = query.order_by(units.c.id)
    if scope.limit is not None or scope.offset:
        query = query.limit(scope.limit).offset(scope.offset)
    return query


def measure_scope(conn: Connection, scope: UnitScope) -> tuple[int, int | None]:
    """(how many units the scope holds, the highest unit id among them)."""
    picked = _scoped(scope).subquery()
    row = conn.execute(select(func.count(), func.max(picked.c.id))).one()
    return int(row[0]), (int(row[1]) if row[1] is not None else None)


def iter_scope_codes(conn: Connection, scope: UnitScope) -> Iterator[tuple[str, str | None]]:
    """``(code, serial its brand printed or None)`` of the scope's units in commissioning
    order, fetched a chunk at a time."""
    result = conn.execution_options(stream_results=True, yield_per=STREAM_CHUNK).execute(
        _scoped(scope)
    )
    for row in result:
        yield row.code, row.external_serial


def batches_of_scope(conn: Connection, scope: UnitScope) -> list[int]:
    picked = _scoped(scope).add_columns(units.c.batch_id).subquery()
    rows = conn.execute(select(picked.c.batch_id).distinct().order_by(picked.c.batch_id))
    return [int(r.batch_id) for r in rows]


def first_code_of_batch(conn: Connection, organization_id: int, batch_id: int) -> str | None:
    scope = UnitScope(organization_id, batch_id=batch_id, limit=1)
    row = conn.execute(_scoped(scope)).first()
    return row.code if row else None


def find_units_by_codes(
    conn: Connection, organization_id: int, codes: Sequence[str]
) -> dict[str, tuple[int, int, str | None]]:
    """``{code: (unit id, batch id, serial its brand printed)}`` for those of ``codes`` the
    organization owns."""
    found: dict[str, tuple[int, int, str | None]] = {}
    for start in range(0, len(codes), IN_CHUNK):
        rows = conn.execute(
            select(units.c.code, units.c.id, units.c.batch_id, units.c.external_serial).where(
                units.c.code.in_(codes[start : start + IN_CHUNK]),
                units.c.organization_id == organization_id,
            )
        )
        found.update({r.code: (int(r.id), int(r.batch_id), r.external_serial) for r in rows})
    return found


def container_exists(conn: Connection, organization_id: int, container_id: int) -> bool:
    row = conn.execute(
        select(containers.c.id).where(
            containers.c.id == container_id, containers.c.organization_id == organization_id
        )
    ).first()
    return row is not None


@dataclass(frozen=True)
class VisibleUnit:
    """A unit as a label of it needs: whose it is and what it belongs to."""

    code: str
    owner_organization_id: int
    product_id: int
    batch_id: int
    external_serial: str | None = None


def find_visible_unit(conn: Connection, organization_id: int, code: str) -> VisibleUnit | None:
    """The unit with this code if the organization owns it or holds it now."""
    row = conn.execute(
        select(
            units.c.code,
            units.c.organization_id,
            units.c.product_id,
            units.c.batch_id,
            units.c.external_serial,
        ).where(
            units.c.code == code,
            or_(
                units.c.organization_id == organization_id,
                units.c.custodian_organization_id == organization_id,
            ),
        )
    ).first()
    if row is None:
        return None
    return VisibleUnit(
        row.code, row.organization_id, row.product_id, row.batch_id, row.external_serial
    )


# --- print jobs ---------------------------------------------------------------------------


def insert_print_job(
    conn: Connection, *, selection: dict[str, Any], created_at: dt.datetime, **values: Any
) -> int:
    result = conn.execute(
        insert(print_jobs).values(
            selection=json.dumps(selection, sort_keys=True), created_at=created_at, **values
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def insert_job_units_from_scope(conn: Connection, job_id: int, scope: UnitScope) -> int:
    """Record the scope's units as labelled by the job: one INSERT … SELECT."""
    picked = _scoped(scope).subquery()
    statement = insert(print_job_units).from_select(
        ["print_job_id", "unit_id"], select(literal(job_id), picked.c.id)
    )
    # SQLAlchemy keeps an INSERT's row count only when asked to.
    return int(conn.execution_options(preserve_rowcount=True).execute(statement).rowcount)


def insert_job_units(conn: Connection, job_id: int, unit_ids: Iterable[int]) -> int:
    rows = [{"print_job_id": job_id, "unit_id": unit_id} for unit_id in unit_ids]
    if rows:
        conn.execute(insert(print_job_units), rows)
    return len(rows)


def units_outside_job(conn: Connection, job_id: int, unit_ids: Sequence[int]) -> set[int]:
    """Those of ``unit_ids`` that the job did not label."""
    inside: set[int] = set()
    for start in range(0, len(unit_ids), IN_CHUNK):
        rows = conn.execute(
            select(print_job_units.c.unit_id).where(
                print_job_units.c.print_job_id == job_id,
                print_job_units.c.unit_id.in_(unit_ids[start : start + IN_CHUNK]),
            )
        )
        inside.update(int(r.unit_id) for r in rows)
    return set(unit_ids) - inside


def count_scope_outside_job(conn: Connection, job_id: int, scope: UnitScope) -> int:
    """How many of the scope's units the job did not label."""
    picked = _scoped(scope).subquery()
    labelled = exists().where(
        print_job_units.c.print_job_id == job_id, print_job_units.c.unit_id == picked.c.id
    )
    return int(conn.execute(select(func.count()).select_from(picked).where(~labelled)).scalar_one())


_JOB_QUERY = select(print_jobs, batches.c.lot_number).select_from(
    print_jobs.outerjoin(batches, batches.c.id == print_jobs.c.batch_id)
)


def _job(row: Row[Any]) -> PrintJob:
    return PrintJob(
        id=row.id,
        organization_id=row.organization_id,
        format=LabelFormat(row.format),
        layout=row.layout,
        dpi=row.dpi,
        template=PrintTemplate(row.template),
        selection=json.loads(row.selection),
        batch_id=row.batch_id,
        lot_number=row.lot_number,
        quantity=row.quantity,
        check_status=CheckStatus(row.check_status),
        check_failures=row.check_failures,
        reprint_of_job_id=row.reprint_of_job_id,
        reason=row.reason,
        actor=row.actor,
        actor_user_id=row.actor_user_id,
        actor_api_key_id=row.actor_api_key_id,
        created_at=row.created_at,
        margin_left_mm=row.margin_left_mm,
        margin_top_mm=row.margin_top_mm,
    )


def get_print_job(conn: Connection, organization_id: int, job_id: int) -> PrintJob:
    row = conn.execute(
        _JOB_QUERY.where(print_jobs.c.id == job_id, print_jobs.c.organization_id == organization_id)
    ).first()
    if row is None:
        raise NotFoundError(f"print job {job_id} not found")
    return _job(row)


def list_print_jobs(
    conn: Connection,
    organization_id: int,
    *,
    limit: int,
    offset: int,
    batch_id: int | None = None,
    unit_id: int | None = None,
) -> tuple[list[PrintJob], int]:
    """Newest first; ``unit_id`` keeps the jobs that labelled that unit."""
    where = [print_jobs.c.organization_id == organization_id]
    if batch_id is not None:
        where.append(print_jobs.c.batch_id == batch_id)
    if unit_id is not None:
        where.append(
            exists().where(
                print_job_units.c.print_job_id == print_jobs.c.id,
                print_job_units.c.unit_id == unit_id,
            )
        )
    total = conn.execute(select(func.count()).select_from(print_jobs).where(*where)).scalar_one()
    rows = conn.execute(
        _JOB_QUERY.where(*where)
        .order_by(print_jobs.c.created_at.desc(), print_jobs.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [_job(r) for r in rows], int(total)


def batch_label_status(conn: Connection, organization_id: int, batch_id: int) -> BatchLabelStatus:
    total = conn.execute(
        select(func.count()).where(
            units.c.batch_id == batch_id, units.c.organization_id == organization_id
        )
    ).scalar_one()
    per_unit = (
        select(print_job_units.c.unit_id, func.count().label("n"))
        .join(units, units.c.id == print_job_units.c.unit_id)
        .where(units.c.batch_id == batch_id, units.c.organization_id == organization_id)
        .group_by(print_job_units.c.unit_id)
        .subquery()
    )
    printed, reprinted = conn.execute(
        select(func.count(), func.count().filter(per_unit.c.n > 1)).select_from(per_unit)
    ).one()
    jobs = conn.execute(
        select(func.count()).where(
            print_jobs.c.batch_id == batch_id, print_jobs.c.organization_id == organization_id
        )
    ).scalar_one()
    return BatchLabelStatus(batch_id, int(total), int(printed), int(reprinted), int(jobs))
