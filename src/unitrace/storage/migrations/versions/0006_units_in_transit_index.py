"""units in transit: a partial index on units.shipment_id

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24

Units carry ``shipment_id`` only while a shipment carries them, so the index holds the
units in transit and nothing else: commissioning (which writes NULL) does not pay for it,
while receiving and voiding find a shipment's units with one index range.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_units_shipment_id",
        "units",
        ["shipment_id"],
        unique=False,
        sqlite_where=sa.text("shipment_id IS NOT NULL"),
        postgresql_where=sa.text("shipment_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_units_shipment_id", table_name="units")
