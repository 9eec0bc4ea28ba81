"""The estimated location of a case's emitter, kept on the case.

- ``cases.location_json``: the ``location`` object of ``rfwatch cases list --json``
  (see :func:`compliance.location.location_json`), NULL while there is no estimate;
- ``cases.location_note``: why there is none ("one site only", ...);
- ``cases.location_ns``: when it was computed (UTC ns); recomputed when the case
  changed after that.

Revision ID: 0008_case_location
Revises: 0007_users
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_case_location"
down_revision = "0007_users"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("location_json", sa.Text(), nullable=True))
    op.add_column("cases", sa.Column("location_note", sa.Text(), nullable=True))
    op.add_column("cases", sa.Column("location_ns", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35, PostgreSQL): a batch rebuild
    # would drop the cases table's transition trigger.
    op.drop_column("cases", "location_ns")
    op.drop_column("cases", "location_note")
    op.drop_column("cases", "location_json")
