"""lost units and counts that move or find stock: new CHECK values

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06

``units.disposition`` may be ``unknown`` (CBV's disposition for a unit marked lost); an
inventory count's difference may be resolved ``lost`` or ``moved_here``; a public scan of a
lost unit raises a ``lost_code`` alert: the CHECK constraints change (on SQLite the tables
are copied, as SQLite cannot alter a constraint). ``inventory_counts.event_id`` is the
cycle_counting event a count recorded when it closed (nullable: earlier counts have none).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

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
)
RESOLUTIONS = ("stolen", "received", "found", "noted")
ALERT_REASONS = (
    "many_origins",
    "foreign_market",
    "destroyed_code",
    "decommissioned_code",
    "stolen_code",
)

# (table, constraint name as in the model, column, values before, values after)
CHANGES = (
    ("units", "disposition", "disposition", DISPOSITIONS, (*DISPOSITIONS, "unknown")),
    (
        "inventory_count_differences",
        "resolution",
        "resolution",
        RESOLUTIONS,
        ("stolen", "lost", "received", "found", "moved_here", "noted"),
    ),
    ("scan_alerts", "reason", "reason", ALERT_REASONS, (*ALERT_REASONS, "lost_code")),
)


def _values(names: tuple[str, ...]) -> str:
    return ", ".join(f"'{n}'" for n in names)


def _replace(table: str, name: str, column: str, values: tuple[str, ...]) -> None:
    with op.batch_alter_table(table) as batch_op:
        batch_op.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
        batch_op.create_check_constraint(
            op.f(f"ck_{table}_{name}"), f"{column} IN ({_values(values)})"
        )


def upgrade() -> None:
    for table, name, column, _, after in CHANGES:
        _replace(table, name, column, after)
    op.add_column("inventory_counts", sa.Column("event_id", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inventory_counts") as batch_op:
        batch_op.drop_column("event_id")
    for table, name, column, before, _ in reversed(CHANGES):
        _replace(table, name, column, before)
