"""Products, batches, lab results and stored documents."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, delete, func, insert, select, update

from unitrace.domain.labels import LabelTemplate, QrForm
from unitrace.domain.model import (
    Analyte,
    AnalyteKind,
    Batch,
    Document,
    LabResults,
    LabStatus,
    Panel,
    PanelResult,
    Product,
)
from unitrace.errors import NotFoundError
from unitrace.storage.schema import (
    batch_analytes,
    batch_panels,
    batch_sources,
    batches,
    documents,
    products,
    units,
)


def _product(row: Row[Any]) -> Product:
    return Product(
        id=row.id,
        organization_id=row.organization_id,
        name=row.name,
        category=row.category,
        strain=row.strain,
        net_content=row.net_content,
        net_content_unit=row.net_content_unit,
        gtin=row.gtin,
        description=row.description,
        ingredients=row.ingredients,
        warnings=row.warnings,
        image_url=row.image_url,
        created_at=row.created_at,
        label_template=LabelTemplate(row.label_template),
        qr_form=QrForm(row.qr_form),
    )


def insert_product(conn: Connection, *, created_at: dt.datetime, **values: Any) -> int:
    result = conn.execute(insert(products).values(created_at=created_at, **values))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def get_product(conn: Connection, organization_id: int, product_id: int) -> Product:
    row = conn.execute(
        select(products).where(
            products.c.id == product_id, products.c.organization_id == organization_id
        )
    ).first()
    if row is None:
        raise NotFoundError(f"product {product_id} not found")
    return _product(row)


def list_products(
    conn: Connection, organization_id: int, *, limit: int, offset: int, search: str | None = None
) -> tuple[list[Product], int]:
    where = [products.c.organization_id == organization_id]
    if search:
        where.append(func.lower(products.c.name).contains(search.lower(), autoescape=True))
    total = conn.execute(select(func.count()).select_from(products).where(*where)).scalar_one()
    rows = conn.execute(
        select(products).where(*where).order_by(products.c.name).limit(limit).offset(offset)
    )
    return [_product(r) for r in rows], int(total)


def update_product(conn: Connection, organization_id: int, product_id: int, **values: Any) -> None:
    result = conn.execute(
        update(products)
        .where(products.c.id == product_id, products.c.organization_id == organization_id)
        .values(values)
    )
    if result.rowcount == 0:
        raise NotFoundError(f"product {product_id} not found")


def insert_document(conn: Connection, *, created_at: dt.datetime, **values: Any) -> int:
    result = conn.execute(insert(documents).values(created_at=created_at, **values))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def insert_batch(conn: Connection, *, created_at: dt.datetime, **values: Any) -> int:
    result = conn.execute(insert(batches).values(created_at=created_at, **values))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def replace_lab_results(
    conn: Connection,
    batch_id: int,
    *,
    status: LabStatus,
    lab_name: str | None,
    tested_on: dt.date | None,
    analytes: Sequence[Analyte],
    panels: Sequence[Panel],
) -> None:
    """Set a batch's lab results: the previous analytes and panels are replaced."""
    conn.execute(
        update(batches)
        .where(batches.c.id == batch_id)
        .values(lab_status=status.value, lab_name=lab_name, tested_on=tested_on)
    )
    conn.execute(delete(batch_analytes).where(batch_analytes.c.batch_id == batch_id))
    conn.execute(delete(batch_panels).where(batch_panels.c.batch_id == batch_id))
    if analytes:
        conn.execute(
            insert(batch_analytes),
            [
                {"batch_id": batch_id, "kind": a.kind.value, "name": a.name}
                | {"amount": a.amount, "unit": a.unit}
                for a in analytes
            ],
        )
    if panels:
        conn.execute(
            insert(batch_panels),
            [
                {"batch_id": batch_id, "name": p.name, "result": p.result.value, "notes": p.notes}
                for p in panels
            ],
        )


def insert_batch_sources(conn: Connection, batch_id: int, source_ids: Sequence[int]) -> None:
    if source_ids:
        conn.execute(
            insert(batch_sources),
            [{"batch_id": batch_id, "source_batch_id": s} for s in source_ids],
        )


def set_batch_coa(conn: Connection, batch_id: int, document_id: int) -> None:
    conn.execute(
        update(batches).where(batches.c.id == batch_id).values(coa_document_id=document_id)
    )


def existing_batch_ids(conn: Connection, organization_id: int, ids: Sequence[int]) -> set[int]:
    rows = conn.execute(
        select(batches.c.id).where(
            batches.c.id.in_(ids), batches.c.organization_id == organization_id
        )
    )
    return {r.id for r in rows}


def _batch_query() -> Any:
    unit_count = select(func.count()).where(units.c.batch_id == batches.c.id).scalar_subquery()
    return select(
        batches,
        unit_count.label("unit_count"),
        documents.c.filename.label("doc_filename"),
        documents.c.content_type.label("doc_content_type"),
        documents.c.sha256.label("doc_sha256"),
        documents.c.size.label("doc_size"),
    ).select_from(batches.outerjoin(documents, documents.c.id == batches.c.coa_document_id))


def _hydrate(conn: Connection, rows: Sequence[Row[Any]]) -> list[Batch]:
    ids = [r.id for r in rows]
    analytes: dict[int, list[Analyte]] = defaultdict(list)
    panels: dict[int, list[Panel]] = defaultdict(list)
    sources: dict[int, list[int]] = defaultdict(list)
    if ids:
        for a in conn.execute(
            select(batch_analytes)
            .where(batch_analytes.c.batch_id.in_(ids))
            .order_by(batch_analytes.c.kind, batch_analytes.c.amount.desc(), batch_analytes.c.name)
        ):
            analytes[a.batch_id].append(Analyte(AnalyteKind(a.kind), a.name, a.amount, a.unit))
        for p in conn.execute(
            select(batch_panels)
            .where(batch_panels.c.batch_id.in_(ids))
            .order_by(batch_panels.c.name)
        ):
            panels[p.batch_id].append(Panel(p.name, PanelResult(p.result), p.notes))
        for s in conn.execute(
            select(batch_sources)
            .where(batch_sources.c.batch_id.in_(ids))
            .order_by(batch_sources.c.source_batch_id)
        ):
            sources[s.batch_id].append(s.source_batch_id)
    return [
        Batch(
            id=r.id,
            organization_id=r.organization_id,
            product_id=r.product_id,
            lot_number=r.lot_number,
            produced_on=r.produced_on,
            expires_on=r.expires_on,
            lab=LabResults(
                status=LabStatus(r.lab_status),
                lab_name=r.lab_name,
                tested_on=r.tested_on,
                analytes=tuple(analytes[r.id]),
                panels=tuple(panels[r.id]),
            ),
            source_batch_ids=tuple(sources[r.id]),
            coa=(
                Document(
                    r.coa_document_id, r.doc_filename, r.doc_content_type, r.doc_sha256, r.doc_size
                )
                if r.coa_document_id
                else None
            ),
            unit_count=int(r.unit_count),
            created_at=r.created_at,
        )
        for r in rows
    ]


def get_batch(conn: Connection, organization_id: int, batch_id: int) -> Batch:
    row = conn.execute(
        _batch_query().where(batches.c.id == batch_id, batches.c.organization_id == organization_id)
    ).first()
    if row is None:
        raise NotFoundError(f"batch {batch_id} not found")
    return _hydrate(conn, [row])[0]


def lock_batch_row(conn: Connection, organization_id: int, batch_id: int) -> None:
    """Take a row lock on the batch (PostgreSQL) so lab results cannot change under us."""
    query = select(batches.c.id).where(
        batches.c.id == batch_id, batches.c.organization_id == organization_id
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    if conn.execute(query).first() is None:
        raise NotFoundError(f"batch {batch_id} not found")


def list_batches(
    conn: Connection,
    organization_id: int,
    *,
    limit: int,
    offset: int,
    product_id: int | None = None,
    lab_status: LabStatus | None = None,
) -> tuple[list[Batch], int]:
    where = [batches.c.organization_id == organization_id]
    if product_id is not None:
        where.append(batches.c.product_id == product_id)
    if lab_status is not None:
        where.append(batches.c.lab_status == lab_status.value)
    total = conn.execute(select(func.count()).select_from(batches).where(*where)).scalar_one()
    rows = conn.execute(
        _batch_query()
        .where(*where)
        .order_by(batches.c.created_at.desc(), batches.c.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return _hydrate(conn, rows), int(total)
