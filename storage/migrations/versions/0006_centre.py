"""Centre: the ingest ledger keyed by (station id, batch id), with the items it
rejected; token expiry.

Revision ID: 0006_centre
Revises: 0005_band_licences

The ledger was keyed by batch id alone, so one station's batch id could shadow
another's. The table is rebuilt (rename, create, copy, drop): the portable way to
change a primary key on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_centre"
down_revision = "0005_band_licences"
branch_labels = None
depends_on = None

_COLUMNS = "batch_id, station_id, seq, created_t_ns, received_at, n_items, thinned"


def _ledger(name: str, *, composite: bool) -> None:
    pk = ("station_id", "batch_id") if composite else ("batch_id",)
    op.create_table(
        name,
        sa.Column("batch_id", sa.String(80), nullable=False),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("created_t_ns", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("n_items", sa.Integer(), nullable=False),
        sa.Column("thinned", sa.Integer(), nullable=False, server_default="0"),
        *([sa.Column("n_rejected", sa.Integer(), nullable=False, server_default="0"),
           sa.Column("rejected_json", sa.Text(), nullable=True)] if composite else []),
        sa.PrimaryKeyConstraint(*pk, name=op.f(f"pk_{name}")),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["stations.id"],
            name=op.f(f"fk_{name}_station_id_stations"),
            ondelete="CASCADE",
        ),
    )


def _rename_aside(old: str, new: str) -> None:
    """Rename a ledger table out of the way (PostgreSQL: its primary-key index too,
    whose name is unique in the schema)."""
    op.rename_table(old, new)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {new} RENAME CONSTRAINT pk_{old} TO pk_{new}")


def upgrade() -> None:
    op.drop_index("ix_ingested_batches_station_id", table_name="ingested_batches")
    _rename_aside("ingested_batches", "ingested_batches_0003")
    _ledger("ingested_batches", composite=True)
    op.execute(
        f"INSERT INTO ingested_batches ({_COLUMNS}) "
        f"SELECT {_COLUMNS} FROM ingested_batches_0003"
    )
    op.drop_table("ingested_batches_0003")
    with op.batch_alter_table("station_tokens") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("station_tokens") as batch:
        batch.drop_column("expires_at")
    _rename_aside("ingested_batches", "ingested_batches_0006")
    _ledger("ingested_batches", composite=False)
    # Batch ids are UUIDs: the same id under two stations does not happen in practice;
    # keep the first should it have.
    op.execute(
        f"INSERT INTO ingested_batches ({_COLUMNS}) SELECT {_COLUMNS} FROM "
        "ingested_batches_0006 AS a WHERE NOT EXISTS (SELECT 1 FROM ingested_batches_0006 "
        "AS b WHERE b.batch_id = a.batch_id AND b.station_id < a.station_id)"
    )
    op.drop_table("ingested_batches_0006")
    op.create_index(op.f("ix_ingested_batches_station_id"), "ingested_batches", ["station_id"])
