"""public scans, clone alerts, purchase registrations, problem reports; the instance key

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import datetime as dt
import secrets

import sqlalchemy as sa
from alembic import op

import unitrace.storage.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UTC = unitrace.storage.types.UTCDateTime(timezone=True)
BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _values(*names: str) -> str:
    return ", ".join(f"'{n}'" for n in names)


def upgrade() -> None:
    op.add_column(
        "organizations",
        sa.Column("public_verification", sa.Boolean(), server_default=sa.true(), nullable=False),
    )
    secrets_table = op.create_table(
        "instance_secrets",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_instance_secrets")),
    )
    # generated here, on this installation: never part of the repository
    op.bulk_insert(
        secrets_table,
        [
            {
                "name": "origin_key",
                "value": secrets.token_hex(32),
                "created_at": dt.datetime.now(dt.UTC),
            }
        ],
    )
    op.create_table(
        "public_scans",
        sa.Column("id", BIG, nullable=False),
        sa.Column("scanned_at", UTC, nullable=False),
        sa.Column("unit_id", BIG, nullable=True),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=20), nullable=True),
        sa.Column("verdict", sa.String(length=30), nullable=False),
        sa.Column("link_type", sa.String(length=40), server_default="gs1:pip", nullable=False),
        sa.Column("origin", sa.String(length=32), nullable=False),
        sa.Column("country", sa.String(length=2), server_default="", nullable=False),
        sa.Column("region", sa.String(length=50), server_default="", nullable=False),
        sa.Column("city", sa.String(length=100), server_default="", nullable=False),
        sa.Column("agent", sa.String(length=40), server_default="", nullable=False),
        sa.CheckConstraint(
            "verdict IN ("
            + _values(
                "authentic",
                "authentic_already_sold",
                "suspicious",
                "recalled",
                "expired",
                "destroyed",
                "unknown",
            )
            + ")",
            name=op.f("ck_public_scans_verdict"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_public_scans")),
    )
    op.create_index(
        "ix_public_scans_unit_id_scanned_at",
        "public_scans",
        ["unit_id", "scanned_at"],
        sqlite_where=sa.text("unit_id IS NOT NULL"),
        postgresql_where=sa.text("unit_id IS NOT NULL"),
    )
    op.create_index(
        "ix_public_scans_organization_id_scanned_at",
        "public_scans",
        ["organization_id", "scanned_at"],
    )
    op.create_index("ix_public_scans_scanned_at", "public_scans", ["scanned_at"])
    op.create_table(
        "scan_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", BIG, nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=15), server_default="open", nullable=False),
        sa.Column("detail", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("investigated_at", UTC, nullable=True),
        sa.Column("investigated_by", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.CheckConstraint(
            "reason IN ("
            + _values(
                "many_origins",
                "foreign_market",
                "destroyed_code",
                "decommissioned_code",
                "stolen_code",
            )
            + ")",
            name=op.f("ck_scan_alerts_reason"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'investigated')", name=op.f("ck_scan_alerts_status")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_scan_alerts_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_alerts")),
    )
    op.create_index(
        "ix_scan_alerts_organization_id_status", "scan_alerts", ["organization_id", "status"]
    )
    op.create_index(
        "ix_scan_alerts_open_unit_id_reason",
        "scan_alerts",
        ["unit_id", "reason"],
        unique=True,
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_table(
        "purchase_registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", BIG, nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("registered_at", UTC, nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=True),
        sa.Column("contact_email", sa.String(length=320), nullable=True),
        sa.Column("consent", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("contact_purged_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_purchase_registrations_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_registrations")),
        sa.UniqueConstraint("reference", name=op.f("uq_purchase_registrations_reference")),
        sa.UniqueConstraint("unit_id", name=op.f("uq_purchase_registrations_unit_id")),
    )
    op.create_index(
        "ix_purchase_registrations_organization_id",
        "purchase_registrations",
        ["organization_id"],
    )
    op.create_table(
        "problem_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", BIG, nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=True),
        sa.Column("contact_email", sa.String(length=320), nullable=True),
        sa.Column("consent", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("origin", sa.String(length=32), server_default="", nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("status", sa.String(length=10), server_default="open", nullable=False),
        sa.Column("closed_at", UTC, nullable=True),
        sa.Column("closed_by", sa.String(length=200), nullable=True),
        sa.Column("resolution", sa.Text(), server_default="", nullable=False),
        sa.Column("contact_purged_at", UTC, nullable=True),
        sa.CheckConstraint(
            "kind IN ('adverse_reaction', 'damaged', 'suspected_counterfeit', 'other')",
            name=op.f("ck_problem_reports_kind"),
        ),
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f("ck_problem_reports_status")),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_problem_reports_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_problem_reports")),
    )
    op.create_index(
        "ix_problem_reports_organization_id_status",
        "problem_reports",
        ["organization_id", "status"],
    )


def downgrade() -> None:
    op.drop_index("ix_problem_reports_organization_id_status", table_name="problem_reports")
    op.drop_table("problem_reports")
    op.drop_index("ix_purchase_registrations_organization_id", table_name="purchase_registrations")
    op.drop_table("purchase_registrations")
    op.drop_index("ix_scan_alerts_open_unit_id_reason", table_name="scan_alerts")
    op.drop_index("ix_scan_alerts_organization_id_status", table_name="scan_alerts")
    op.drop_table("scan_alerts")
    op.drop_index("ix_public_scans_scanned_at", table_name="public_scans")
    op.drop_index("ix_public_scans_organization_id_scanned_at", table_name="public_scans")
    op.drop_index("ix_public_scans_unit_id_scanned_at", table_name="public_scans")
    op.drop_table("public_scans")
    op.drop_table("instance_secrets")
    with op.batch_alter_table("organizations") as batch_op:
        batch_op.drop_column("public_verification")
