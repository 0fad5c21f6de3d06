"""The database schema as SQLAlchemy Core tables.

Alembic migrations in ``storage/migrations`` build this schema; a test runs
``alembic check`` on SQLite and PostgreSQL so the two never drift apart.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)

from unitrace.storage.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# Integer keys that may grow past 2**31 rows are BigInteger on PostgreSQL; on SQLite they
# must stay INTEGER so they alias the rowid.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def _values(enum_values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in enum_values)


ORG_KINDS = ("brand", "distributor", "retailer", "lab", "regulator")
ROLES = ("admin", "operator", "viewer")
LAB_STATUSES = ("pending", "passed", "failed")
LABEL_TEMPLATES = ("qr_only", "finished_goods")
# What a print job printed: a product's label template, or a case or pallet label.
PRINT_TEMPLATES = (*LABEL_TEMPLATES, "container")
QR_FORMS = ("digital_link", "short_url")
LABEL_FORMATS = ("pdf", "zpl", "svg-zip", "csv")
CHECK_STATUSES = ("not_checked", "passed", "failed")
DISPOSITIONS = (
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
    "non_sellable_other",
    "unknown",  # lost
)
CONTAINER_KINDS = ("case", "pallet")
SHIPMENT_STATUSES = (
    "draft",
    "shipped",
    "received",
    "received_with_discrepancies",
    "rejected",
    "voided",
    "cancelled",
)
SHIPMENT_UNIT_STATUSES = ("in_transit", "received", "missing", "rejected", "voided")
SCAN_RESULTS = ("expected", "unexpected", "already_received", "duplicate", "unknown")

organizations = Table(
    "organizations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("kind", String(20), nullable=False),
    Column("license_number", String(100), nullable=False),
    Column("market", String(50), nullable=False),
    Column("gs1_company_prefix", String(12)),
    Column("created_at", UTCDateTime(), nullable=False),
    # false: the organization's codes answer the public exactly like unknown codes
    Column("public_verification", Boolean, nullable=False, server_default=true()),
    CheckConstraint(f"kind IN ({_values(ORG_KINDS)})", name="kind"),
)

locations = Table(
    "locations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("organization_id", ForeignKey("organizations.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("address", String(500), nullable=False, server_default=""),
    Column("city", String(100), nullable=False, server_default=""),
    Column("gln", String(13), unique=True),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("organization_id", "name"),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("organization_id", ForeignKey("organizations.id"), nullable=False, index=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("is_active", Boolean, nullable=False, server_default=true()),
    Column("created_at", UTCDateTime(), nullable=False),
    CheckConstraint(f"role IN ({_values(ROLES)})", name="role"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("organization_id", ForeignKey("organizations.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("prefix", String(16), nullable=False, unique=True),
    Column("secret_hash", String(64), nullable=False),
    Column("role", String(20), nullable=False),
    Column("created_by_user_id", ForeignKey("users.id")),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_used_at", UTCDateTime()),
    Column("revoked_at", UTCDateTime()),
    CheckConstraint(f"role IN ({_values(ROLES)})", name="role"),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
)

documents = Table(
    "documents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("organization_id", ForeignKey("organizations.id"), nullable=False, index=True),
    Column("filename", String(255), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

products = Table(
    "products",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("organization_id", ForeignKey("organizations.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("category", String(50), nullable=False),
    Column("strain", String(200)),
    Column("net_content", Numeric(12, 3)),
    Column("net_content_unit", String(10)),
    Column("gtin", String(14), unique=True),
    Column("description", Text, nullable=False, server_default=""),
    Column("ingredients", Text, nullable=False, server_default=""),
    Column("warnings", Text, nullable=False, server_default=""),
    Column("image_url", String(500)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("label_template", String(20), nullable=False, server_default="qr_only"),
    Column("qr_form", String(20), nullable=False, server_default="digital_link"),
    UniqueConstraint("organization_id", "name"),
    CheckConstraint(f"label_template IN ({_values(LABEL_TEMPLATES)})", name="label_template"),
    CheckConstraint(f"qr_form IN ({_values(QR_FORMS)})", name="qr_form"),
)

batches = Table(
    "batches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("organization_id", ForeignKey("organizations.id"), nullable=False, index=True),
    Column("product_id", ForeignKey("products.id"), nullable=False),
    Column("lot_number", String(20), nullable=False),
    Column("produced_on", Date),
    Column("expires_on", Date),
    Column("lab_status", String(10), nullable=False, server_default="pending"),
    Column("lab_name", String(200)),
    Column("tested_on", Date),
    Column("coa_document_id", ForeignKey("documents.id")),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("product_id", "lot_number"),
    CheckConstraint(f"lab_status IN ({_values(LAB_STATUSES)})", name="lab_status"),
)

batch_sources = Table(
    "batch_sources",
    metadata,
    Column("batch_id", ForeignKey("batches.id", ondelete="CASCADE"), primary_key=True),
    Column("source_batch_id", ForeignKey("batches.id"), primary_key=True),
)

batch_analytes = Table(
    "batch_analytes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("batch_id", ForeignKey("batches.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("name", String(100), nullable=False),
    Column("amount", Numeric(12, 4), nullable=False),
    Column("unit", String(20), nullable=False),
    UniqueConstraint("batch_id", "kind", "name"),
    CheckConstraint("kind IN ('cannabinoid', 'terpene')", name="kind"),
)

batch_panels = Table(
    "batch_panels",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("batch_id", ForeignKey("batches.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("result", String(10), nullable=False),
    Column("notes", String(500), nullable=False, server_default=""),
    UniqueConstraint("batch_id", "name"),
    CheckConstraint("result IN ('pass', 'fail')", name="result"),
)

# The event log. Rows are only ever inserted: triggers refuse UPDATE and DELETE on both
# backends (migration 0003). ``event_id`` is the CBV 2.0 event hash of ``document`` (the
# EPCIS 2.0 event as recorded), so it is not unique: an error declaration repeats the ID of
# the event it declares wrong, and two events with identical content share it by design.
# ``seq``/``prev_hash``/``chain_hash`` chain each organization's events (docs/adr/0006).
events = Table(
    "events",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("event_id", String(100), nullable=False, index=True),
    Column("organization_id", ForeignKey("organizations.id"), nullable=False),
    Column("event_type", String(30), nullable=False),
    Column("action", String(10)),
    Column("biz_step", String(40)),
    Column("disposition", String(40)),
    Column("event_time", UTCDateTime(), nullable=False),
    Column("event_time_zone_offset", String(6), nullable=False, server_default="+00:00"),
    Column("record_time", UTCDateTime(), nullable=False),
    Column("read_point_id", ForeignKey("locations.id")),
    Column("biz_location_id", ForeignKey("locations.id")),
    Column("batch_id", ForeignKey("batches.id")),
    Column("quantity", Integer, nullable=False, server_default="0"),
    Column("actor_user_id", ForeignKey("users.id")),
    Column("actor_api_key_id", ForeignKey("api_keys.id")),
    Column("details", Text, nullable=False, server_default="{}"),  # JSON: further EPCIS fields
    Column("seq", BigInteger),
    Column("prev_hash", String(64)),
    Column("chain_hash", String(64)),
    Column("document", Text, nullable=False, server_default="{}"),
    Column("members_in_what", Boolean, nullable=False, server_default=false()),
    Column("error_declaration", Text),
    Column("declares_error_on", BigInteger().with_variant(Integer(), "sqlite")),
    Column("shipment_id", Integer),
    Index("ix_events_organization_id_event_time", "organization_id", "event_time"),
    # "has this event been declared wrong?": asked for every event a report counts
    Index(
        "ix_events_declares_error_on",
        "declares_error_on",
        sqlite_where=text("declares_error_on IS NOT NULL"),
        postgresql_where=text("declares_error_on IS NOT NULL"),
    ),
    UniqueConstraint("organization_id", "seq"),
)

# Head of each organization's hash chain: appending an event updates this row, which
# serializes one organization's appends (and only that organization's) on PostgreSQL.
event_chains = Table(
    "event_chains",
    metadata,
    Column("organization_id", ForeignKey("organizations.id"), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("head_hash", String(64), nullable=False),
)

# Which units and containers each event touched (everything inside a shipped pallet
# included), so a unit's timeline is one index range. No foreign keys, like units.
event_units = Table(
    "event_units",
    metadata,
    Column("unit_id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("event_row_id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Index("ix_event_units_event_row_id", "event_row_id"),
)

event_containers = Table(
    "event_containers",
    metadata,
    Column("container_id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("event_row_id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
)

containers = Table(
    "containers",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("code", String(20), nullable=False, unique=True),
    Column("organization_id", ForeignKey("organizations.id"), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("sscc", String(18), unique=True),
    Column("disposition", String(30), nullable=False, server_default="active"),
    Column("custodian_organization_id", ForeignKey("organizations.id"), nullable=False),
    Column("location_id", ForeignKey("locations.id")),
    Column("parent_container_id", ForeignKey("containers.id"), index=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("previous_disposition", String(30)),
    Column("shipment_id", Integer),
    CheckConstraint(f"kind IN ({_values(CONTAINER_KINDS)})", name="kind"),
    Index("ix_containers_custodian_organization_id", "custodian_organization_id"),
)

shipments = Table(
    "shipments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("organization_id", ForeignKey("organizations.id"), nullable=False),
    Column("number", String(40), nullable=False),
    Column("status", String(30), nullable=False, server_default="draft"),
    Column("source_location_id", ForeignKey("locations.id")),
    Column("destination_organization_id", ForeignKey("organizations.id"), nullable=False),
    Column("destination_location_id", ForeignKey("locations.id"), nullable=False),
    Column("expected_arrival", Date),
    Column("notes", Text, nullable=False, server_default=""),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("shipped_at", UTCDateTime()),
    Column("received_at", UTCDateTime()),
    Column("closed_at", UTCDateTime()),
    Column("unit_count", Integer, nullable=False, server_default="0"),
    UniqueConstraint("organization_id", "number"),
    CheckConstraint(f"status IN ({_values(SHIPMENT_STATUSES)})", name="status"),
    Index("ix_shipments_destination_organization_id", "destination_organization_id"),
)

# What the shipper put on the shipment: containers and loose units, top level only.
shipment_items = Table(
    "shipment_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("shipment_id", ForeignKey("shipments.id", ondelete="CASCADE"), nullable=False),
    Column("container_id", ForeignKey("containers.id")),
    Column("unit_id", BigInteger().with_variant(Integer(), "sqlite")),
    UniqueConstraint("shipment_id", "container_id"),
    UniqueConstraint("shipment_id", "unit_id"),
    CheckConstraint("(container_id IS NULL) <> (unit_id IS NULL)", name="one_item"),
)

# Every unit a shipped shipment carries (containers flattened) and what became of it.
shipment_units = Table(
    "shipment_units",
    metadata,
    Column("shipment_id", ForeignKey("shipments.id"), primary_key=True),
    Column("unit_id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("status", String(12), nullable=False, server_default="in_transit"),
    CheckConstraint(f"status IN ({_values(SHIPMENT_UNIT_STATUSES)})", name="status"),
    Index("ix_shipment_units_unit_id", "unit_id"),
)

# What the receiver scanned, one row per scan, classified against the manifest.
shipment_scans = Table(
    "shipment_scans",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("shipment_id", ForeignKey("shipments.id"), nullable=False, index=True),
    Column("raw", String(500), nullable=False),
    Column("code", String(20)),
    Column("unit_id", BigInteger().with_variant(Integer(), "sqlite")),
    Column("container_id", ForeignKey("containers.id")),
    Column("result", String(20), nullable=False),
    Column("units", Integer, nullable=False, server_default="0"),
    Column("rejected", Boolean, nullable=False, server_default=false()),
    Column("scanned_at", UTCDateTime(), nullable=False),
    Column("actor", String(200), nullable=False, server_default=""),
    CheckConstraint(f"result IN ({_values(SCAN_RESULTS)})", name="result"),
)

# Units are the one table that grows by millions of rows at a time. Every per-row check
# on insert costs: on PostgreSQL each foreign key is a trigger and an index probe per row
# (measured: one FK cuts COPY throughput from ~190k to ~110k rows/s, four to ~50k). So
# units carry no declared foreign keys and only the indexes reads need; the one write
# path (services.serialization) takes organization, product and batch from a batch row it
# has locked in the same transaction. See docs/adr/0004-units-table-without-foreign-keys.md.
units = Table(
    "units",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("code", String(20), nullable=False, unique=True),
    Column("organization_id", Integer, nullable=False),
    Column("product_id", Integer, nullable=False),
    Column("batch_id", Integer, nullable=False, index=True),
    Column("disposition", String(30), nullable=False),
    Column("custodian_organization_id", Integer, nullable=False),
    Column("location_id", Integer),
    Column("parent_container_id", BigInteger().with_variant(Integer(), "sqlite")),
    Column("commission_event_id", BigInteger().with_variant(Integer(), "sqlite"), nullable=False),
    Column("commissioned_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("previous_disposition", String(30)),
    Column("shipment_id", Integer),
    Column("sold_at", UTCDateTime()),
    Column("sale_price", Numeric(12, 2)),  # when a sale reports one (POS exports)
    # The serial a brand generated and printed (GS1 AI 21): unique per product, so per GTIN.
    Column("external_serial", String(20)),
    # True when the brand imported serials judged guessable, with the explicit override.
    Column("serial_guessable", Boolean),
    CheckConstraint(f"disposition IN ({_values(DISPOSITIONS)})", name="disposition"),
    # Partial: commissioning writes NULL here, so these cost nothing on the bulk insert path.
    Index(
        "ix_units_parent_container_id",
        "parent_container_id",
        sqlite_where=text("parent_container_id IS NOT NULL"),
        postgresql_where=text("parent_container_id IS NOT NULL"),
    ),
    Index(
        "ix_units_shipment_id",
        "shipment_id",
        sqlite_where=text("shipment_id IS NOT NULL"),
        postgresql_where=text("shipment_id IS NOT NULL"),
    ),
    # What is at a place and who holds it: an inventory count's "believed present" (closing
    # a count of one store must not read every unit). Commissioning pays about 4 % for it.
    Index("ix_units_location_id_custodian", "location_id", "custodian_organization_id"),
    # Units on hand for sale, by owner and place (sell-through's on-hand figure). Partial:
    # commissioning writes 'active', so only receipts at a store pay for it.
    Index(
        "ix_units_on_hand",
        "organization_id",
        "location_id",
        "product_id",
        "batch_id",
        sqlite_where=text("disposition = 'sellable_accessible'"),
        postgresql_where=text("disposition = 'sellable_accessible'"),
    ),
    # Partial as well: commissioning writes NULL and so never touches it; the resolver finds
    # (GTIN, serial) through products' unique GTIN and then this index.
    Index(
        "uq_units_product_id_external_serial",
        "product_id",
        "external_serial",
        unique=True,
        sqlite_where=text("external_serial IS NOT NULL"),
        postgresql_where=text("external_serial IS NOT NULL"),
    ),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("organization_id", ForeignKey("organizations.id"), nullable=False),
    Column("key", String(200), nullable=False),
    Column("operation", String(50), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("response", Text, nullable=False, server_default="{}"),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("organization_id", "key"),
)

# One row per label download: who printed what, how, and whether the pre-flight scan check
# passed. ``selection`` is the JSON of what was asked for (a batch, a range, codes, a
# container); the units actually printed are in print_job_units.
print_jobs = Table(
    "print_jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("organization_id", ForeignKey("organizations.id"), nullable=False),
    Column("actor_user_id", ForeignKey("users.id")),
    Column("actor_api_key_id", ForeignKey("api_keys.id")),
    Column("actor", String(200), nullable=False, server_default=""),
    Column("format", String(10), nullable=False),
    Column("layout", String(50), nullable=False),
    Column("dpi", Integer, nullable=False),
    Column("margin_left_mm", Numeric(6, 2)),
    Column("margin_top_mm", Numeric(6, 2)),
    Column("template", String(20), nullable=False),
    Column("selection", Text, nullable=False, server_default="{}"),
    Column("batch_id", ForeignKey("batches.id")),
    Column("quantity", Integer, nullable=False),
    Column("check_status", String(12), nullable=False, server_default="not_checked"),
    Column("check_failures", Integer, nullable=False, server_default="0"),
    Column("reprint_of_job_id", ForeignKey("print_jobs.id")),
    Column("reason", Text, nullable=False, server_default=""),
    Column("created_at", UTCDateTime(), nullable=False),
    CheckConstraint(f"format IN ({_values(LABEL_FORMATS)})", name="format"),
    CheckConstraint(f"check_status IN ({_values(CHECK_STATUSES)})", name="check_status"),
    CheckConstraint(f"template IN ({_values(PRINT_TEMPLATES)})", name="template"),
    Index("ix_print_jobs_organization_id_created_at", "organization_id", "created_at"),
    Index("ix_print_jobs_batch_id", "batch_id"),
)

# Which units each print job labelled. Like units, no foreign key on unit_id: a job of
# 100,000 labels is one INSERT … SELECT, and a per-row key probe would double its cost.
print_job_units = Table(
    "print_job_units",
    metadata,
    Column("print_job_id", ForeignKey("print_jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Index("ix_print_job_units_unit_id", "unit_id"),
)

# --- webhooks -----------------------------------------------------------------------------

WEBHOOK_DELIVERY_STATUSES = ("pending", "delivered", "failed")

# An organization's HTTPS endpoints. ``secret`` is kept (not hashed): every delivery is
# signed with it. ``topics`` is a JSON array of topic names, or ["*"].
webhooks = Table(
    "webhooks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("organization_id", ForeignKey("organizations.id"), nullable=False, index=True),
    Column("url", String(2000), nullable=False),
    Column("secret", String(200), nullable=False),
    Column("topics", Text, nullable=False, server_default="[]"),
    Column("is_active", Boolean, nullable=False, server_default=true()),
    Column("description", Text, nullable=False, server_default=""),
    Column("created_at", UTCDateTime(), nullable=False),
)

# The outbox: one row per notification per endpoint, written in the transaction of the change
# it reports, then POSTed (and retried) by the delivery loop.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("webhook_id", ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False),
    Column("topic", String(50), nullable=False),
    Column("payload", Text, nullable=False, server_default="{}"),
    Column("status", String(10), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("delivered_at", UTCDateTime()),
    CheckConstraint(f"status IN ({_values(WEBHOOK_DELIVERY_STATUSES)})", name="status"),
    Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    Index("ix_webhook_deliveries_webhook_id_id", "webhook_id", "id"),
)

RECALL_STATUSES = ("draft", "active", "closed")
RECALL_SEVERITIES = ("I", "II", "III")
RECALL_OUTCOMES = ("quarantined", "returned", "released")

# A recall: its definition (``scope`` is JSON, see domain.recalls.Scope) and its state.
recalls = Table(
    "recalls",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("organization_id", ForeignKey("organizations.id"), nullable=False),
    Column("number", String(40), nullable=False),
    Column("title", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("severity", String(5), nullable=False),
    Column("retailer_instructions", Text, nullable=False, server_default=""),
    Column("consumer_instructions", Text, nullable=False, server_default=""),
    Column("status", String(10), nullable=False, server_default="draft"),
    Column("scope", Text, nullable=False, server_default="{}"),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(200), nullable=False, server_default=""),
    Column("activated_at", UTCDateTime()),
    Column("activated_by", String(200)),
    Column("closed_at", UTCDateTime()),
    Column("closed_by", String(200)),
    Column("unit_count", Integer, nullable=False, server_default="0"),
    Column("recalled_count", Integer, nullable=False, server_default="0"),
    Column("final_report", Text),
    UniqueConstraint("organization_id", "number"),
    CheckConstraint(f"status IN ({_values(RECALL_STATUSES)})", name="status"),
    CheckConstraint(f"severity IN ({_values(RECALL_SEVERITIES)})", name="severity"),
    Index("ix_recalls_organization_id_status", "organization_id", "status"),
)

# Units a draft names one by one (explicit codes, resolved when the draft is saved).
recall_scope_units = Table(
    "recall_scope_units",
    metadata,
    Column("recall_id", ForeignKey("recalls.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", BigId, primary_key=True),
)

# Every unit an active or closed recall covers, fixed at activation, and how it ended.
recall_units = Table(
    "recall_units",
    metadata,
    Column("recall_id", ForeignKey("recalls.id"), primary_key=True),
    Column("unit_id", BigId, primary_key=True),
    Column("disposition_before", String(30), nullable=False),
    Column("flagged", Boolean, nullable=False),  # this recall made the unit `recalled`
    Column("outcome", String(12)),
    Column("outcome_at", UTCDateTime()),
    Column("outcome_organization_id", Integer),
    Column("outcome_location_id", Integer),
    CheckConstraint(f"outcome IN ({_values(RECALL_OUTCOMES)})", name="outcome"),
    Index("ix_recall_units_unit_id", "unit_id"),
)

# The events a recall recorded (activation, confirmations, releases, destructions).
recall_events = Table(
    "recall_events",
    metadata,
    Column("recall_id", ForeignKey("recalls.id"), primary_key=True),
    Column("event_row_id", BigId, primary_key=True),
)

IMPORT_STATUSES = ("running", "applied", "invalid", "failed")

# CSV uploads: what was sent (content hash), what became of it, and its answer for a retry.
# ``applied_hash`` is set only once a file is applied: the unique constraint makes a second
# application of the same file by the same organization impossible, even when two race.
imports = Table(
    "imports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("organization_id", ForeignKey("organizations.id"), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("filename", String(300), nullable=False, server_default=""),
    Column("content_sha256", String(64), nullable=False),
    Column("applied_hash", String(64)),
    Column("idempotency_key", String(200)),
    Column("status", String(10), nullable=False),
    Column("rows", Integer, nullable=False, server_default="0"),
    Column("done_rows", Integer, nullable=False, server_default="0"),
    Column("problem_count", Integer, nullable=False, server_default="0"),
    Column("problems", Text, nullable=False, server_default="[]"),
    Column("result", Text, nullable=False, server_default="{}"),
    Column("actor", String(200), nullable=False, server_default=""),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime()),
    UniqueConstraint("organization_id", "kind", "applied_hash"),
    UniqueConstraint("organization_id", "idempotency_key"),
    CheckConstraint(f"status IN ({_values(IMPORT_STATUSES)})", name="status"),
    Index("ix_imports_organization_id_created_at", "organization_id", "created_at"),
)

# --- The public side: scans of printed codes, clone alerts, registrations, problem reports.

SCAN_VERDICTS = (
    "authentic",
    "authentic_already_sold",
    "suspicious",
    "recalled",
    "expired",
    "destroyed",
    "unknown",
)
ALERT_REASONS = (
    "many_origins",
    "foreign_market",
    "destroyed_code",
    "decommissioned_code",
    "stolen_code",
    "lost_code",
)
ALERT_STATUSES = ("open", "investigated")
PROBLEM_KINDS = ("adverse_reaction", "damaged", "suspected_counterfeit", "other")
PROBLEM_STATUSES = ("open", "closed")
NullableBigId = BigInteger().with_variant(Integer(), "sqlite")

# Secrets generated by the installation itself (migration 0009), never shipped in the
# repository: the key that turns a client address into an anonymous origin.
instance_secrets = Table(
    "instance_secrets",
    metadata,
    Column("name", String(50), primary_key=True),
    Column("value", String(128), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

# Every public scan: when, what it answered, and a coarse, anonymous origin (a keyed hash
# of the truncated address, city-level place when the proxy supplies it, a browser family).
public_scans = Table(
    "public_scans",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("scanned_at", UTCDateTime(), nullable=False),
    Column("unit_id", NullableBigId),  # NULL: the code was unknown or private
    Column("organization_id", Integer),
    Column("code", String(20)),
    Column("verdict", String(30), nullable=False),
    Column("link_type", String(40), nullable=False, server_default="gs1:pip"),
    Column("origin", String(32), nullable=False),
    Column("country", String(2), nullable=False, server_default=""),
    Column("region", String(50), nullable=False, server_default=""),
    Column("city", String(100), nullable=False, server_default=""),
    Column("agent", String(40), nullable=False, server_default=""),
    CheckConstraint(f"verdict IN ({_values(SCAN_VERDICTS)})", name="verdict"),
    Index(
        "ix_public_scans_unit_id_scanned_at",
        "unit_id",
        "scanned_at",
        sqlite_where=text("unit_id IS NOT NULL"),
        postgresql_where=text("unit_id IS NOT NULL"),
    ),
    Index("ix_public_scans_organization_id_scanned_at", "organization_id", "scanned_at"),
    Index("ix_public_scans_scanned_at", "scanned_at"),
)

# A code that looks cloned or misused; one open alert per unit and reason.
scan_alerts = Table(
    "scan_alerts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("organization_id", ForeignKey("organizations.id"), nullable=False),
    Column("unit_id", NullableBigId, nullable=False),
    Column("reason", String(30), nullable=False),
    Column("status", String(15), nullable=False, server_default="open"),
    Column("detail", Text, nullable=False, server_default=""),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("investigated_at", UTCDateTime()),
    Column("investigated_by", String(200)),
    Column("note", Text, nullable=False, server_default=""),
    CheckConstraint(f"reason IN ({_values(ALERT_REASONS)})", name="reason"),
    CheckConstraint(f"status IN ({_values(ALERT_STATUSES)})", name="status"),
    Index("ix_scan_alerts_organization_id_status", "organization_id", "status"),
    Index(
        "ix_scan_alerts_open_unit_id_reason",
        "unit_id",
        "reason",
        unique=True,
        sqlite_where=text("status = 'open'"),
        postgresql_where=text("status = 'open'"),
    ),
)

# A consumer's proof of purchase: one per unit, contact details only with consent.
purchase_registrations = Table(
    "purchase_registrations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("organization_id", ForeignKey("organizations.id"), nullable=False),
    Column("unit_id", NullableBigId, nullable=False, unique=True),
    Column("reference", String(20), nullable=False, unique=True),
    Column("registered_at", UTCDateTime(), nullable=False),
    Column("contact_name", String(200)),
    Column("contact_email", String(320)),
    Column("consent", Boolean, nullable=False, server_default=false()),
    Column("contact_purged_at", UTCDateTime()),
    Index("ix_purchase_registrations_organization_id", "organization_id"),
)

# "Report a problem": lands in the brand's inbox, linked to the unit (and so its history).
problem_reports = Table(
    "problem_reports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("organization_id", ForeignKey("organizations.id"), nullable=False),
    Column("unit_id", NullableBigId, nullable=False),
    Column("batch_id", Integer, nullable=False),
    Column("kind", String(30), nullable=False),
    Column("message", Text, nullable=False),
    Column("contact_name", String(200)),
    Column("contact_email", String(320)),
    Column("consent", Boolean, nullable=False, server_default=false()),
    Column("origin", String(32), nullable=False, server_default=""),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("status", String(10), nullable=False, server_default="open"),
    Column("closed_at", UTCDateTime()),
    Column("closed_by", String(200)),
    Column("resolution", Text, nullable=False, server_default=""),
    Column("contact_purged_at", UTCDateTime()),
    CheckConstraint(f"kind IN ({_values(PROBLEM_KINDS)})", name="kind"),
    CheckConstraint(f"status IN ({_values(PROBLEM_STATUSES)})", name="status"),
    Index("ix_problem_reports_organization_id_status", "organization_id", "status"),
)

# Sell-through rollups (docs/analytics.md). Receiving and selling events at stores wait in
# analytics_pending until a report folds them in: each event adds its units, an error
# declaration takes its original's units away again, so the daily figures stay equal to what
# the event log says without a counter any write path updates.
analytics_pending = Table(
    "analytics_pending",
    metadata,
    Column("event_row_id", BigId, primary_key=True, autoincrement=False),
    Column("claimed", Boolean, nullable=False, server_default=false()),
)

# Per unit owner (brand), product, batch, store and UTC day: units received there for sale,
# sold, brought back; and, for the sales, how many had a known receipt and their total
# seconds on the shelf (for the mean).
sales_daily = Table(
    "sales_daily",
    metadata,
    Column("owner_id", Integer, primary_key=True),
    Column("product_id", Integer, primary_key=True),
    Column("batch_id", Integer, primary_key=True),
    Column("store_id", Integer, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("supplied", Integer, nullable=False, server_default="0"),
    Column("sold", Integer, nullable=False, server_default="0"),
    Column("returned", Integer, nullable=False, server_default="0"),
    Column("shelf_units", Integer, nullable=False, server_default="0"),
    Column("shelf_seconds", BigInteger, nullable=False, server_default="0"),
    Index("ix_sales_daily_store_id_day", "store_id", "day"),
)

# The same key plus whole days on the shelf: how many sales of the day took that long.
shelf_days_daily = Table(
    "shelf_days_daily",
    metadata,
    Column("owner_id", Integer, primary_key=True),
    Column("product_id", Integer, primary_key=True),
    Column("batch_id", Integer, primary_key=True),
    Column("store_id", Integer, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("days", Integer, primary_key=True),
    Column("units", Integer, nullable=False, server_default="0"),
    Index("ix_shelf_days_daily_store_id_day", "store_id", "day"),
)

# What each sale event added to shelf_days_daily, kept so that declaring the sale wrong takes
# away exactly that, whatever receipts were recorded in between.
sale_shelf_days = Table(
    "sale_shelf_days",
    metadata,
    Column("event_row_id", BigId, primary_key=True, autoincrement=False),
    Column("owner_id", Integer, primary_key=True),
    Column("product_id", Integer, primary_key=True),
    Column("batch_id", Integer, primary_key=True),
    Column("days", Integer, primary_key=True),
    Column("units", Integer, nullable=False),
    Column("seconds", BigInteger, nullable=False),
)

# --- Inventory counts: what was scanned at one location, and the differences found.

COUNT_STATUSES = ("open", "closed")
DIFFERENCE_KINDS = ("missing", "unexpected", "wrong_location")
DIFFERENCE_RESOLUTIONS = ("stolen", "lost", "received", "found", "moved_here", "noted")

# A count of one of an organization's locations; the figures are frozen when it closes.
inventory_counts = Table(
    "inventory_counts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("organization_id", ForeignKey("organizations.id"), nullable=False),
    Column("location_id", ForeignKey("locations.id"), nullable=False),
    Column("status", String(10), nullable=False, server_default="open"),
    Column("note", String(500), nullable=False, server_default=""),
    Column("opened_at", UTCDateTime(), nullable=False),
    Column("opened_by", String(200), nullable=False, server_default=""),
    Column("closed_at", UTCDateTime()),
    Column("closed_by", String(200)),
    Column("scanned", Integer, nullable=False, server_default="0"),  # distinct codes
    Column("matched", Integer, nullable=False, server_default="0"),
    Column("missing", Integer, nullable=False, server_default="0"),
    Column("unexpected", Integer, nullable=False, server_default="0"),
    Column("wrong_location", Integer, nullable=False, server_default="0"),
    Column("event_id", String(100)),  # the cycle_counting event recorded when it closed
    CheckConstraint(f"status IN ({_values(COUNT_STATUSES)})", name="status"),
    Index(
        "ix_inventory_counts_organization_id_location_id_closed_at",
        "organization_id",
        "location_id",
        "closed_at",
    ),
)

# Every distinct code scanned in a count (a case counts every unit in it), with its area.
# ``unit_id`` is NULL for a code that names no unit the counting organization may see.
inventory_count_scans = Table(
    "inventory_count_scans",
    metadata,
    Column("count_id", ForeignKey("inventory_counts.id"), primary_key=True),
    Column("code", String(50), primary_key=True),  # a unit code, or an unknown code as read
    Column("unit_id", NullableBigId),
    Column("area", String(100), nullable=False, server_default=""),
    Column("scanned_at", UTCDateTime(), nullable=False),
    Column("actor", String(200), nullable=False, server_default=""),
    Index("ix_inventory_count_scans_count_id_unit_id", "count_id", "unit_id"),
)

# The differences frozen when a count closes, and how each was resolved (once).
inventory_count_differences = Table(
    "inventory_count_differences",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("count_id", ForeignKey("inventory_counts.id"), nullable=False),
    Column("code", String(50), nullable=False),
    Column("unit_id", NullableBigId),  # NULL for unknown codes: nothing about them is shown
    Column("kind", String(15), nullable=False),
    Column("reason", String(40), nullable=False),
    Column("disposition", String(30)),  # the unit's at close
    Column("location_id", Integer),  # where the unit was believed to be, at close
    Column("shipment_id", Integer),  # the shipment carrying a unit not received
    Column("resolution", String(10)),
    Column("resolution_note", String(500), nullable=False, server_default=""),
    Column("resolved_at", UTCDateTime()),
    Column("resolved_by", String(200)),
    Column("event_id", String(100)),  # the EPCIS eventID the resolution recorded
    UniqueConstraint("count_id", "code"),
    CheckConstraint(f"kind IN ({_values(DIFFERENCE_KINDS)})", name="kind"),
    CheckConstraint(f"resolution IN ({_values(DIFFERENCE_RESOLUTIONS)})", name="resolution"),
)
