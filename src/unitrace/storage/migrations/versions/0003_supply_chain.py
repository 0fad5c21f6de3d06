"""supply chain: containers, shipments, receipts, event membership and the hash chain

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import unitrace.storage.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_OLD_DISPOSITIONS = (
    "active",
    "in_transit",
    "sellable_accessible",
    "retail_sold",
    "returned",
    "recalled",
    "destroyed",
    "inactive",
    "stolen",
    "damaged",
    "expired",
)
_OLD = ", ".join(f"'{d}'" for d in _OLD_DISPOSITIONS)
_NEW = _OLD + ", 'non_sellable_other'"

# The event log and its membership tables only ever grow: the database itself refuses
# UPDATE and DELETE (and TRUNCATE on PostgreSQL), whatever client is connected.
_APPEND_ONLY = ("events", "event_units", "event_containers")


def _create_append_only() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION unitrace_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP "
            "USING ERRCODE = 'insufficient_privilege'; END $$"
        )
        for table in _APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION unitrace_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION unitrace_append_only()"
            )
        return
    for table in _APPEND_ONLY:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {verb} refused'); END"
            )


def _drop_append_only() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS unitrace_append_only()")
        return
    for table in _APPEND_ONLY:
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")


def upgrade() -> None:
    op.create_table(
        "event_containers",
        sa.Column(
            "container_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "event_row_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.PrimaryKeyConstraint("container_id", "event_row_id", name=op.f("pk_event_containers")),
    )
    op.create_table(
        "event_units",
        sa.Column("unit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "event_row_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.PrimaryKeyConstraint("unit_id", "event_row_id", name=op.f("pk_event_units")),
    )
    op.create_index("ix_event_units_event_row_id", "event_units", ["event_row_id"])
    op.create_table(
        "event_chains",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_event_chains_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("organization_id", name=op.f("pk_event_chains")),
    )
    op.create_table(
        "shipments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=30), server_default="draft", nullable=False),
        sa.Column("source_location_id", sa.Integer(), nullable=True),
        sa.Column("destination_organization_id", sa.Integer(), nullable=False),
        sa.Column("destination_location_id", sa.Integer(), nullable=False),
        sa.Column("expected_arrival", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", unitrace.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("shipped_at", unitrace.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("received_at", unitrace.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", unitrace.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("unit_count", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'shipped', 'received', 'received_with_discrepancies', 'rejected', 'voided', 'cancelled')",
            name=op.f("ck_shipments_status"),
        ),
        sa.ForeignKeyConstraint(
            ["destination_location_id"],
            ["locations.id"],
            name=op.f("fk_shipments_destination_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["destination_organization_id"],
            ["organizations.id"],
            name=op.f("fk_shipments_destination_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_shipments_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["source_location_id"],
            ["locations.id"],
            name=op.f("fk_shipments_source_location_id_locations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipments")),
        sa.UniqueConstraint(
            "organization_id", "number", name=op.f("uq_shipments_organization_id_number")
        ),
    )
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_shipments_destination_organization_id",
            ["destination_organization_id"],
            unique=False,
        )

    op.create_table(
        "shipment_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column(
            "container_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("unit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.CheckConstraint(
            "(container_id IS NULL) <> (unit_id IS NULL)", name=op.f("ck_shipment_items_one_item")
        ),
        sa.ForeignKeyConstraint(
            ["container_id"],
            ["containers.id"],
            name=op.f("fk_shipment_items_container_id_containers"),
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name=op.f("fk_shipment_items_shipment_id_shipments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipment_items")),
        sa.UniqueConstraint(
            "shipment_id", "container_id", name=op.f("uq_shipment_items_shipment_id_container_id")
        ),
        sa.UniqueConstraint(
            "shipment_id", "unit_id", name=op.f("uq_shipment_items_shipment_id_unit_id")
        ),
    )
    op.create_table(
        "shipment_scans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("raw", sa.String(length=500), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=True),
        sa.Column("unit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "container_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("result", sa.String(length=20), nullable=False),
        sa.Column("units", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rejected", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("scanned_at", unitrace.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), server_default="", nullable=False),
        sa.CheckConstraint(
            "result IN ('expected', 'unexpected', 'already_received', 'duplicate', 'unknown')",
            name=op.f("ck_shipment_scans_result"),
        ),
        sa.ForeignKeyConstraint(
            ["container_id"],
            ["containers.id"],
            name=op.f("fk_shipment_scans_container_id_containers"),
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipments.id"], name=op.f("fk_shipment_scans_shipment_id_shipments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipment_scans")),
    )
    with op.batch_alter_table("shipment_scans", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_shipment_scans_shipment_id"), ["shipment_id"], unique=False
        )

    op.create_table(
        "shipment_units",
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sa.String(length=12), server_default="in_transit", nullable=False),
        sa.CheckConstraint(
            "status IN ('in_transit', 'received', 'missing', 'rejected', 'voided')",
            name=op.f("ck_shipment_units_status"),
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipments.id"], name=op.f("fk_shipment_units_shipment_id_shipments")
        ),
        sa.PrimaryKeyConstraint("shipment_id", "unit_id", name=op.f("pk_shipment_units")),
    )
    with op.batch_alter_table("shipment_units", schema=None) as batch_op:
        batch_op.create_index("ix_shipment_units_unit_id", ["unit_id"], unique=False)

    with op.batch_alter_table("containers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous_disposition", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("shipment_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            "ix_containers_custodian_organization_id", ["custodian_organization_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_containers_parent_container_id"), ["parent_container_id"], unique=False
        )

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("chain_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("document", sa.Text(), server_default="{}", nullable=False))
        batch_op.add_column(
            sa.Column("members_in_what", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("error_declaration", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "declares_error_on",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("shipment_id", sa.Integer(), nullable=True))
        batch_op.alter_column(
            "event_id",
            existing_type=sa.VARCHAR(length=45),
            type_=sa.String(length=100),
            existing_nullable=False,
        )
        batch_op.drop_constraint(batch_op.f("uq_events_event_id"), type_="unique")
        batch_op.create_index(batch_op.f("ix_events_event_id"), ["event_id"], unique=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_events_organization_id_seq"), ["organization_id", "seq"]
        )

    with op.batch_alter_table("units", schema=None, recreate="always") as batch_op:
        batch_op.drop_constraint(op.f("ck_units_disposition"), type_="check")
        batch_op.create_check_constraint("disposition", sa.text(f"disposition IN ({_NEW})"))
        batch_op.add_column(sa.Column("previous_disposition", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("shipment_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("sold_at", unitrace.storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            "ix_units_parent_container_id",
            ["parent_container_id"],
            unique=False,
            sqlite_where=sa.text("parent_container_id IS NOT NULL"),
            postgresql_where=sa.text("parent_container_id IS NOT NULL"),
        )
    _create_append_only()


def downgrade() -> None:
    _drop_append_only()
    with op.batch_alter_table("units", schema=None, recreate="always") as batch_op:
        batch_op.drop_constraint(op.f("ck_units_disposition"), type_="check")
        batch_op.create_check_constraint("disposition", sa.text(f"disposition IN ({_OLD})"))
        batch_op.drop_index(
            "ix_units_parent_container_id",
            sqlite_where=sa.text("parent_container_id IS NOT NULL"),
            postgresql_where=sa.text("parent_container_id IS NOT NULL"),
        )
        batch_op.drop_column("sold_at")
        batch_op.drop_column("shipment_id")
        batch_op.drop_column("previous_disposition")

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_events_organization_id_seq"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_events_event_id"))
        batch_op.create_unique_constraint(batch_op.f("uq_events_event_id"), ["event_id"])
        batch_op.alter_column(
            "event_id",
            existing_type=sa.String(length=100),
            type_=sa.VARCHAR(length=45),
            existing_nullable=False,
        )
        batch_op.drop_column("shipment_id")
        batch_op.drop_column("declares_error_on")
        batch_op.drop_column("error_declaration")
        batch_op.drop_column("members_in_what")
        batch_op.drop_column("document")
        batch_op.drop_column("chain_hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("seq")

    with op.batch_alter_table("containers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_containers_parent_container_id"))
        batch_op.drop_index("ix_containers_custodian_organization_id")
        batch_op.drop_column("shipment_id")
        batch_op.drop_column("previous_disposition")

    with op.batch_alter_table("shipment_units", schema=None) as batch_op:
        batch_op.drop_index("ix_shipment_units_unit_id")

    op.drop_table("shipment_units")
    with op.batch_alter_table("shipment_scans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shipment_scans_shipment_id"))

    op.drop_table("shipment_scans")
    op.drop_table("shipment_items")
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_index("ix_shipments_destination_organization_id")

    op.drop_table("shipments")
    op.drop_table("event_chains")
    op.drop_table("event_units")
    op.drop_table("event_containers")
