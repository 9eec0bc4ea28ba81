"""ORM classes of the centre: station tokens and the ingested-batch ledger.

The tables are created by migration ``0003_stations`` (ledger key and token expiry:
``0006_centre``). The ``stations`` table itself
comes from ``0001_foundation``; it is reached here through a lightweight Core table
(:data:`STATIONS`) so this module does not own its mapping.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base

__all__ = ["IngestedBatch", "STATIONS", "StationToken"]

#: The foundation's ``stations`` table (columns used here only).
STATIONS = sa.table(
    "stations",
    sa.column("id", sa.String),
    sa.column("name", sa.String),
    sa.column("kind", sa.String),
    sa.column("lat_deg", sa.Float),
    sa.column("lon_deg", sa.Float),
    sa.column("alt_m", sa.Float),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


class StationToken(Base):
    """A station's bearer token, stored only as its SHA-256 (tokens are 256-bit random,
    so a fast hash is enough: there is nothing to brute-force)."""

    __tablename__ = "station_tokens"

    token_sha256: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    # The foreign key to stations.id is in the migration; the ORM does not map stations.
    station_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    label: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    #: After this the token no longer works (``None``: never expires). 0006_centre.
    expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class IngestedBatch(Base):
    """Every batch the centre has taken in, by (station id, batch id): the duplicate
    filter, and the items of the batch the centre refused, with their reasons."""

    __tablename__ = "ingested_batches"

    # The foreign key to stations.id is in the migration; the ORM does not map stations.
    station_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    batch_id: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    seq: Mapped[int] = mapped_column(sa.BigInteger)
    created_t_ns: Mapped[int] = mapped_column(sa.BigInteger)
    received_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    n_items: Mapped[int] = mapped_column(sa.Integer)
    thinned: Mapped[int] = mapped_column(sa.Integer, default=0)
    n_rejected: Mapped[int] = mapped_column(sa.Integer, default=0)
    #: JSON list of ``{"index", "kind", "reason"}`` (``None`` when nothing was refused).
    rejected_json: Mapped[str | None] = mapped_column(sa.Text)
