"""Band licences: a licence row may cover a frequency block (``f_low_hz``..``f_high_hz``).

Both columns are NULL for a point licence; together they make a band licence (giấy
phép băng tần) of a mobile operator, whose carriers inside the block it explains
(``compliance.classify``). A CHECK keeps the pair together and ordered.

Revision ID: 0005_band_licences
Revises: 0004_legal_coordination
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_band_licences"
down_revision = "0004_legal_coordination"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("licences") as batch:
        batch.add_column(sa.Column("f_low_hz", sa.Float(), nullable=True))
        batch.add_column(sa.Column("f_high_hz", sa.Float(), nullable=True))
        batch.create_check_constraint(
            op.f("ck_licences_block"),
            # IS NOT NULL spelled out: a CHECK passes on NULL, so a half block must be
            # made FALSE, not unknown.
            "(f_low_hz IS NULL AND f_high_hz IS NULL) OR (f_low_hz IS NOT NULL AND "
            "f_high_hz IS NOT NULL AND f_low_hz > 0 AND f_high_hz > f_low_hz)",
        )


def downgrade() -> None:
    with op.batch_alter_table("licences") as batch:
        batch.drop_constraint(op.f("ck_licences_block"), type_="check")
        batch.drop_column("f_high_hz")
        batch.drop_column("f_low_hz")
