"""sell-through rollups: daily facts per unit owner, product, batch and store, kept exact from the event log

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
KEY = ("owner_id", "product_id", "batch_id", "store_id", "day")


def _key_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "analytics_pending",
        sa.Column("event_row_id", BIG, autoincrement=False, nullable=False),
        sa.Column("claimed", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("event_row_id", name=op.f("pk_analytics_pending")),
    )
    op.create_table(
        "sales_daily",
        *_key_columns(),
        sa.Column("supplied", sa.Integer(), server_default="0", nullable=False),
        sa.Column("sold", sa.Integer(), server_default="0", nullable=False),
        sa.Column("returned", sa.Integer(), server_default="0", nullable=False),
        sa.Column("shelf_units", sa.Integer(), server_default="0", nullable=False),
        sa.Column("shelf_seconds", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint(*KEY, name=op.f("pk_sales_daily")),
    )
    op.create_index("ix_sales_daily_store_id_day", "sales_daily", ["store_id", "day"])
    op.create_table(
        "shelf_days_daily",
        *_key_columns(),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("units", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint(*KEY, "days", name=op.f("pk_shelf_days_daily")),
    )
    op.create_index("ix_shelf_days_daily_store_id_day", "shelf_days_daily", ["store_id", "day"])
    op.create_table(
        "sale_shelf_days",
        sa.Column("event_row_id", BIG, autoincrement=False, nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "event_row_id",
            "owner_id",
            "product_id",
            "batch_id",
            "days",
            name=op.f("pk_sale_shelf_days"),
        ),
    )
    op.create_index(
        "ix_units_on_hand",
        "units",
        ["organization_id", "location_id", "product_id", "batch_id"],
        unique=False,
        sqlite_where=sa.text("disposition = 'sellable_accessible'"),
        postgresql_where=sa.text("disposition = 'sellable_accessible'"),
    )
    op.create_index(
        "ix_events_declares_error_on",
        "events",
        ["declares_error_on"],
        unique=False,
        sqlite_where=sa.text("declares_error_on IS NOT NULL"),
        postgresql_where=sa.text("declares_error_on IS NOT NULL"),
    )
    # every receipt and sale already recorded waits to be folded in by the first report
    op.execute(
        "INSERT INTO analytics_pending (event_row_id, claimed) "
        "SELECT id, false FROM events WHERE biz_step IN ('receiving', 'retail_selling') "
        "AND biz_location_id IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_index("ix_events_declares_error_on", table_name="events")
    op.drop_index("ix_units_on_hand", table_name="units")
    op.drop_table("sale_shelf_days")
    op.drop_index("ix_shelf_days_daily_store_id_day", table_name="shelf_days_daily")
    op.drop_table("shelf_days_daily")
    op.drop_index("ix_sales_daily_store_id_day", table_name="sales_daily")
    op.drop_table("sales_daily")
    op.drop_table("analytics_pending")
