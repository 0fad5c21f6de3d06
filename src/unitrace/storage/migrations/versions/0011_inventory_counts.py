"""inventory counts: a count per store or area, its scans, and the differences found

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import unitrace.storage.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

UTC = unitrace.storage.types.UTCDateTime(timezone=True)
BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _values(*names: str) -> str:
    return ", ".join(f"'{n}'" for n in names)


def upgrade() -> None:
    op.create_table(
        "inventory_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), server_default="open", nullable=False),
        sa.Column("note", sa.String(length=500), server_default="", nullable=False),
        sa.Column("opened_at", UTC, nullable=False),
        sa.Column("opened_by", sa.String(length=200), server_default="", nullable=False),
        sa.Column("closed_at", UTC, nullable=True),
        sa.Column("closed_by", sa.String(length=200), nullable=True),
        sa.Column("scanned", sa.Integer(), server_default="0", nullable=False),
        sa.Column("matched", sa.Integer(), server_default="0", nullable=False),
        sa.Column("missing", sa.Integer(), server_default="0", nullable=False),
        sa.Column("unexpected", sa.Integer(), server_default="0", nullable=False),
        sa.Column("wrong_location", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint(
            f"status IN ({_values('open', 'closed')})", name=op.f("ck_inventory_counts_status")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_inventory_counts_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_inventory_counts_location_id_locations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_counts")),
    )
    op.create_index(
        "ix_inventory_counts_organization_id_location_id_closed_at",
        "inventory_counts",
        ["organization_id", "location_id", "closed_at"],
    )
    op.create_table(
        "inventory_count_scans",
        sa.Column("count_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("unit_id", BIG, nullable=True),
        sa.Column("area", sa.String(length=100), server_default="", nullable=False),
        sa.Column("scanned_at", UTC, nullable=False),
        sa.Column("actor", sa.String(length=200), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["count_id"],
            ["inventory_counts.id"],
            name=op.f("fk_inventory_count_scans_count_id_inventory_counts"),
        ),
        sa.PrimaryKeyConstraint("count_id", "code", name=op.f("pk_inventory_count_scans")),
    )
    op.create_index(
        "ix_inventory_count_scans_count_id_unit_id",
        "inventory_count_scans",
        ["count_id", "unit_id"],
    )
    op.create_table(
        "inventory_count_differences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("count_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("unit_id", BIG, nullable=True),
        sa.Column("kind", sa.String(length=15), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("disposition", sa.String(length=30), nullable=True),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.Column("shipment_id", sa.Integer(), nullable=True),
        sa.Column("resolution", sa.String(length=10), nullable=True),
        sa.Column("resolution_note", sa.String(length=500), server_default="", nullable=False),
        sa.Column("resolved_at", UTC, nullable=True),
        sa.Column("resolved_by", sa.String(length=200), nullable=True),
        sa.Column("event_id", sa.String(length=100), nullable=True),
        sa.CheckConstraint(
            f"kind IN ({_values('missing', 'unexpected', 'wrong_location')})",
            name=op.f("ck_inventory_count_differences_kind"),
        ),
        sa.CheckConstraint(
            f"resolution IN ({_values('stolen', 'received', 'found', 'noted')})",
            name=op.f("ck_inventory_count_differences_resolution"),
        ),
        sa.ForeignKeyConstraint(
            ["count_id"],
            ["inventory_counts.id"],
            name=op.f("fk_inventory_count_differences_count_id_inventory_counts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_count_differences")),
        sa.UniqueConstraint(
            "count_id", "code", name=op.f("uq_inventory_count_differences_count_id_code")
        ),
    )


def downgrade() -> None:
    op.drop_table("inventory_count_differences")
    op.drop_index("ix_inventory_count_scans_count_id_unit_id", table_name="inventory_count_scans")
    op.drop_table("inventory_count_scans")
    op.drop_index(
        "ix_inventory_counts_organization_id_location_id_closed_at", table_name="inventory_counts"
    )
    op.drop_table("inventory_counts")
