"""units by place and holder: what an inventory count believes is on a location's shelves

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_units_location_id_custodian",
        "units",
        ["location_id", "custodian_organization_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_units_location_id_custodian", table_name="units")
