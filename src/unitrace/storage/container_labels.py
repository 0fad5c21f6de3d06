"""What a case or pallet holds, for its label: units at any depth by batch."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from unitrace.storage.schema import batches, products, units
from unitrace.storage.supply import units_in


@dataclass(frozen=True)
class BatchContent:
    product_name: str
    lot_number: str
    units: int


def contents_by_batch(conn: Connection, container_id: int) -> list[BatchContent]:
    """The units inside the container (at any depth), counted per batch, largest first."""
    query = (
        select(products.c.name, batches.c.lot_number, func.count().label("n"))
        .select_from(
            units.join(batches, batches.c.id == units.c.batch_id).join(
                products, products.c.id == units.c.product_id
            )
        )
        .where(units.c.id.in_(units_in([container_id])))
        .group_by(batches.c.id, products.c.name, batches.c.lot_number)
        .order_by(func.count().desc(), batches.c.id)
    )
    return [BatchContent(r.name, r.lot_number, int(r.n)) for r in conn.execute(query)]
