"""Station registration and bearer tokens (stored hashed, compared in constant time).

A token works until it is revoked (``rfwatch central token revoke``/``rotate``: at
once, for every process, since each request looks the token up) or expires.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from centre.models import STATIONS, StationToken
from dsp.errors import ConfigError, ParameterError
from dsp.types import GeoPosition
from stations.batch import check_station_id

__all__ = [
    "hash_token",
    "issue_token",
    "register_station",
    "revoke_tokens",
    "rotate_token",
    "station_exists",
    "station_for_token",
]

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
    """Create or update the station's row (not committed).

    Raises
    ------
    ParameterError
        When ``station_id`` is not of the safe form (see
        :func:`stations.batch.check_station_id`).
    """
    check_station_id(station_id)
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
    if station_exists(session, station_id):
        session.execute(sa.update(STATIONS).where(STATIONS.c.id == station_id).values(**values))
    else:
        session.execute(
            sa.insert(STATIONS).values(id=station_id, created_at=datetime.now(UTC), **values)
        )


def station_exists(session: Session, station_id: str) -> bool:
    return session.execute(
        sa.select(STATIONS.c.id).where(STATIONS.c.id == station_id)
    ).first() is not None


def issue_token(
    session: Session,
    station_id: str,
    *,
    label: str | None = None,
    ttl_days: float | None = None,
) -> str:
    """A new random token for ``station_id`` (returned once; only its hash is kept).

    ``ttl_days``: the token stops working after so many days (None: never).
    """
    check_station_id(station_id)
    now = datetime.now(UTC)
    token = secrets.token_urlsafe(32)
    session.add(
        StationToken(
            token_sha256=hash_token(token),
            station_id=station_id,
            label=label,
            created_at=now,
            expires_at=None if ttl_days is None else now + timedelta(days=ttl_days),
        )
    )
    return token


def revoke_tokens(session: Session, station_id: str) -> int:
    """Revoke every live token of ``station_id`` at once; how many were revoked.

    Raises
    ------
    ParameterError
        When there is no such station.
    """
    check_station_id(station_id)
    if not station_exists(session, station_id):
        raise ParameterError(f"không có trạm / no station {station_id!r}")
    result = session.execute(
        sa.update(StationToken)
        .where(StationToken.station_id == station_id, StationToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    return int(result.rowcount or 0)


def rotate_token(
    session: Session, station_id: str, *, ttl_days: float | None = None
) -> str:
    """Revoke every token of ``station_id`` and issue a new one (in one transaction)."""
    revoke_tokens(session, station_id)
    return issue_token(session, station_id, label="rotated", ttl_days=ttl_days)


def station_for_token(session: Session, token: str) -> str | None:
    """The station a valid token belongs to (not revoked, not expired), or ``None``."""
    digest = hash_token(token)
    row = session.execute(
        sa.select(
            StationToken.token_sha256, StationToken.station_id, StationToken.expires_at
        ).where(StationToken.token_sha256 == digest, StationToken.revoked_at.is_(None))
    ).first()
    # The lookup is by hash, so timing does not reveal the token; compare anyway.
    if row is None or not hmac.compare_digest(row[0], digest):
        return None
    expires = row[2]
    if expires is not None:
        if expires.tzinfo is None:  # SQLite gives naive datetimes back
            expires = expires.replace(tzinfo=UTC)
        if expires <= datetime.now(UTC):
            return None
    return str(row[1])
