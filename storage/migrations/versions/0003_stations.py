"""Stations: station tokens (hashed) and the ingested-batch ledger (duplicate filter).

Revision ID: 0003_stations
Revises: 0002_compliance
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_stations"
down_revision = "0002_compliance"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "station_tokens",
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("label", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("token_sha256", name=op.f("pk_station_tokens")),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["stations.id"],
            name=op.f("fk_station_tokens_station_id_stations"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        op.f("ix_station_tokens_station_id"), "station_tokens", ["station_id"]
    )
    op.create_table(
        "ingested_batches",
        sa.Column("batch_id", sa.String(80), nullable=False),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("created_t_ns", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("n_items", sa.Integer(), nullable=False),
        sa.Column("thinned", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_ingested_batches")),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["stations.id"],
            name=op.f("fk_ingested_batches_station_id_stations"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        op.f("ix_ingested_batches_station_id"), "ingested_batches", ["station_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_ingested_batches_station_id", table_name="ingested_batches")
    op.drop_table("ingested_batches")
    op.drop_index("ix_station_tokens_station_id", table_name="station_tokens")
    op.drop_table("station_tokens")
