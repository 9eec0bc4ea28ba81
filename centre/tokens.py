"""Station registration and bearer tokens (stored hashed, compared in constant time)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from centre.models import STATIONS, StationToken
from dsp.errors import ConfigError
from dsp.types import GeoPosition

__all__ = ["hash_token", "issue_token", "register_station", "station_for_token"]

#: Config kind -> the foundation's ``stations.kind`` values.
_DB_KIND = {"fixed": "fixed", "border": "fixed", "field_kit": "field_kit"}


def hash_token(token: str) -> str:
    """SHA-256 hex of a token (what the database keeps)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def register_station(
    session: Session,
    station_id: str,
    *,
    name: str,
    kind: str,
    position: GeoPosition | None,
) -> None:
    """Create or update the station's row (not committed)."""
    if kind not in _DB_KIND:
        raise ConfigError(f"unknown station kind {kind!r}")
    pos = position or GeoPosition(0.0, 0.0)
    values = {
        "name": name,
        "kind": _DB_KIND[kind],
        "lat_deg": pos.lat_deg,
        "lon_deg": pos.lon_deg,
        "alt_m": pos.alt_m,
    }
    exists = session.execute(
        sa.select(STATIONS.c.id).where(STATIONS.c.id == station_id)
    ).first()
    if exists:
        session.execute(sa.update(STATIONS).where(STATIONS.c.id == station_id).values(**values))
    else:
        session.execute(
            sa.insert(STATIONS).values(id=station_id, created_at=datetime.now(UTC), **values)
        )


def issue_token(session: Session, station_id: str, *, label: str | None = None) -> str:
    """A new random token for ``station_id`` (returned once; only its hash is kept)."""
    token = secrets.token_urlsafe(32)
    session.add(
        StationToken(
            token_sha256=hash_token(token),
            station_id=station_id,
            label=label,
            created_at=datetime.now(UTC),
        )
    )
    return token


def station_for_token(session: Session, token: str) -> str | None:
    """The station a valid (not revoked) token belongs to, or ``None``."""
    digest = hash_token(token)
    row = session.execute(
        sa.select(StationToken.token_sha256, StationToken.station_id).where(
            StationToken.token_sha256 == digest, StationToken.revoked_at.is_(None)
        )
    ).first()
    # The lookup is by hash, so timing does not reveal the token; compare anyway.
    if row is None or not hmac.compare_digest(row[0], digest):
        return None
    return str(row[1])
