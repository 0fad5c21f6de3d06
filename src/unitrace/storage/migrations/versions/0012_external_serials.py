"""externally generated serials: units whose printed serial a brand generated

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06

``units.external_serial`` is the GS1 AI 21 serial a brand printed itself, unique per product
(and so per GTIN) through a partial unique index that units without one never touch.
``units.serial_guessable`` marks units imported with serials judged guessable, on purpose.
Both are nullable, so adding them rewrites nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("units", sa.Column("external_serial", sa.String(length=20), nullable=True))
    op.add_column("units", sa.Column("serial_guessable", sa.Boolean(), nullable=True))
    op.create_index(
        "uq_units_product_id_external_serial",
        "units",
        ["product_id", "external_serial"],
        unique=True,
        sqlite_where=sa.text("external_serial IS NOT NULL"),
        postgresql_where=sa.text("external_serial IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_units_product_id_external_serial", table_name="units")
    with op.batch_alter_table("units") as batch_op:
        batch_op.drop_column("serial_guessable")
        batch_op.drop_column("external_serial")
