"""recalls: definitions, the units each one covers, and how each unit's part ended

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import unitrace.storage.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, unitrace.storage.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "recalls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(length=5), nullable=False),
        sa.Column("retailer_instructions", sa.Text(), server_default="", nullable=False),
        sa.Column("consumer_instructions", sa.Text(), server_default="", nullable=False),
        sa.Column("status", sa.String(length=10), server_default="draft", nullable=False),
        sa.Column("scope", sa.Text(), server_default="{}", nullable=False),
        _time("created_at", nullable=False),
        sa.Column("created_by", sa.String(length=200), server_default="", nullable=False),
        _time("activated_at"),
        sa.Column("activated_by", sa.String(length=200), nullable=True),
        _time("closed_at"),
        sa.Column("closed_by", sa.String(length=200), nullable=True),
        sa.Column("unit_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("recalled_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("final_report", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('draft', 'active', 'closed')", name=op.f("ck_recalls_status")
        ),
        sa.CheckConstraint("severity IN ('I', 'II', 'III')", name=op.f("ck_recalls_severity")),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_recalls_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recalls")),
        sa.UniqueConstraint(
            "organization_id", "number", name=op.f("uq_recalls_organization_id_number")
        ),
    )
    op.create_index(
        "ix_recalls_organization_id_status", "recalls", ["organization_id", "status"], unique=False
    )
    op.create_table(
        "recall_scope_units",
        sa.Column("recall_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", _BIG, nullable=False),
        sa.ForeignKeyConstraint(
            ["recall_id"],
            ["recalls.id"],
            name=op.f("fk_recall_scope_units_recall_id_recalls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("recall_id", "unit_id", name=op.f("pk_recall_scope_units")),
    )
    op.create_table(
        "recall_units",
        sa.Column("recall_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", _BIG, nullable=False),
        sa.Column("disposition_before", sa.String(length=30), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=True),
        _time("outcome_at"),
        sa.Column("outcome_organization_id", sa.Integer(), nullable=True),
        sa.Column("outcome_location_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('quarantined', 'returned', 'released')",
            name=op.f("ck_recall_units_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["recall_id"], ["recalls.id"], name=op.f("fk_recall_units_recall_id_recalls")
        ),
        sa.PrimaryKeyConstraint("recall_id", "unit_id", name=op.f("pk_recall_units")),
    )
    op.create_index("ix_recall_units_unit_id", "recall_units", ["unit_id"], unique=False)
    op.create_table(
        "recall_events",
        sa.Column("recall_id", sa.Integer(), nullable=False),
        sa.Column("event_row_id", _BIG, nullable=False),
        sa.ForeignKeyConstraint(
            ["recall_id"], ["recalls.id"], name=op.f("fk_recall_events_recall_id_recalls")
        ),
        sa.PrimaryKeyConstraint("recall_id", "event_row_id", name=op.f("pk_recall_events")),
    )


def downgrade() -> None:
    op.drop_table("recall_events")
    op.drop_index("ix_recall_units_unit_id", table_name="recall_units")
    op.drop_table("recall_units")
    op.drop_table("recall_scope_units")
    op.drop_index("ix_recalls_organization_id_status", table_name="recalls")
    op.drop_table("recalls")
