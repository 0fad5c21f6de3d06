"""labels: per-product label settings, print jobs and the units each job labelled

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import unitrace.storage.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_PRODUCT_COLUMNS = (
    ("label_template", "'qr_only', 'finished_goods'", "qr_only"),
    ("qr_form", "'digital_link', 'short_url'", "digital_link"),
)


def upgrade() -> None:
    op.create_table(
        "print_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_api_key_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=200), server_default="", nullable=False),
        sa.Column("format", sa.String(length=10), nullable=False),
        sa.Column("layout", sa.String(length=50), nullable=False),
        sa.Column("dpi", sa.Integer(), nullable=False),
        sa.Column("margin_left_mm", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("margin_top_mm", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("template", sa.String(length=20), nullable=False),
        sa.Column("selection", sa.Text(), server_default="{}", nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column(
            "check_status", sa.String(length=12), server_default="not_checked", nullable=False
        ),
        sa.Column("check_failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("reprint_of_job_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", unitrace.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "check_status IN ('not_checked', 'passed', 'failed')",
            name=op.f("ck_print_jobs_check_status"),
        ),
        sa.CheckConstraint(
            "format IN ('pdf', 'zpl', 'svg-zip', 'csv')", name=op.f("ck_print_jobs_format")
        ),
        sa.CheckConstraint(
            "template IN ('qr_only', 'finished_goods')", name=op.f("ck_print_jobs_template")
        ),
        sa.ForeignKeyConstraint(
            ["actor_api_key_id"],
            ["api_keys.id"],
            name=op.f("fk_print_jobs_actor_api_key_id_api_keys"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_user_id"], ["users.id"], name=op.f("fk_print_jobs_actor_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_print_jobs_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_print_jobs_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["reprint_of_job_id"],
            ["print_jobs.id"],
            name=op.f("fk_print_jobs_reprint_of_job_id_print_jobs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_print_jobs")),
    )
    with op.batch_alter_table("print_jobs", schema=None) as batch_op:
        batch_op.create_index("ix_print_jobs_batch_id", ["batch_id"], unique=False)
        batch_op.create_index(
            "ix_print_jobs_organization_id_created_at",
            ["organization_id", "created_at"],
            unique=False,
        )

    op.create_table(
        "print_job_units",
        sa.Column("print_job_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["print_job_id"],
            ["print_jobs.id"],
            name=op.f("fk_print_job_units_print_job_id_print_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("print_job_id", "unit_id", name=op.f("pk_print_job_units")),
    )
    with op.batch_alter_table("print_job_units", schema=None) as batch_op:
        batch_op.create_index("ix_print_job_units_unit_id", ["unit_id"], unique=False)

    # Plain ALTER TABLE … ADD COLUMN with the CHECK on the column: valid on SQLite and
    # PostgreSQL alike. A batch (copy-and-swap) migration would DROP the products table,
    # which SQLite refuses once batches reference it. Existing products take the defaults
    # (QR-only label, Digital Link when they have a GTIN): the labels they had before.
    for column, values, default in _PRODUCT_COLUMNS:
        op.execute(
            f"ALTER TABLE products ADD COLUMN {column} VARCHAR(20) DEFAULT '{default}' NOT NULL "
            f"CONSTRAINT ck_products_{column} CHECK ({column} IN ({values}))"
        )


def downgrade() -> None:
    for column, _values, _default in reversed(_PRODUCT_COLUMNS):
        op.execute(f"ALTER TABLE products DROP COLUMN {column}")

    with op.batch_alter_table("print_job_units", schema=None) as batch_op:
        batch_op.drop_index("ix_print_job_units_unit_id")
    op.drop_table("print_job_units")

    with op.batch_alter_table("print_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_print_jobs_organization_id_created_at")
        batch_op.drop_index("ix_print_jobs_batch_id")
    op.drop_table("print_jobs")
