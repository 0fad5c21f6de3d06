"""container labels: print jobs of case and pallet labels

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_BEFORE = "template IN ('qr_only', 'finished_goods')"
_AFTER = "template IN ('qr_only', 'finished_goods', 'container')"


def _replace_check(condition: str) -> None:
    # Batch mode: SQLite cannot alter a CHECK in place, so the table is copied; PostgreSQL
    # drops and adds the constraint.
    with op.batch_alter_table("print_jobs", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_print_jobs_template"), type_="check")
        batch_op.create_check_constraint("template", sa.text(condition))


def upgrade() -> None:
    _replace_check(_AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM print_jobs WHERE template = 'container'")
    _replace_check(_BEFORE)
