"""imports: CSV uploads, their outcome and the answer a retry gets; units.sale_price

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import unitrace.storage.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("filename", sa.String(length=300), server_default="", nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("applied_hash", sa.String(length=64), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("rows", sa.Integer(), server_default="0", nullable=False),
        sa.Column("done_rows", sa.Integer(), server_default="0", nullable=False),
        sa.Column("problem_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("problems", sa.Text(), server_default="[]", nullable=False),
        sa.Column("result", sa.Text(), server_default="{}", nullable=False),
        sa.Column("actor", sa.String(length=200), server_default="", nullable=False),
        sa.Column("created_at", unitrace.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", unitrace.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'applied', 'invalid', 'failed')",
            name=op.f("ck_imports_status"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_imports_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imports")),
        sa.UniqueConstraint(
            "organization_id",
            "kind",
            "applied_hash",
            name=op.f("uq_imports_organization_id_kind_applied_hash"),
        ),
        sa.UniqueConstraint(
            "organization_id",
            "idempotency_key",
            name=op.f("uq_imports_organization_id_idempotency_key"),
        ),
    )
    # a plain ADD COLUMN on both databases: the units table is not rebuilt
    op.add_column("units", sa.Column("sale_price", sa.Numeric(12, 2), nullable=True))
    op.create_index(
        "ix_imports_organization_id_created_at",
        "imports",
        ["organization_id", "created_at"],
        unique=False,
    )


def downgrade() -> None:
    with op.batch_alter_table("units") as batch_op:
        batch_op.drop_column("sale_price")
    op.drop_index("ix_imports_organization_id_created_at", table_name="imports")
    op.drop_table("imports")
