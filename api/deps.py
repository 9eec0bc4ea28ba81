"""Typed dependencies of the API (``Annotated[..., Depends(...)]``).

The app keeps its services on ``app.state`` (built once in :func:`api.app.create_app`);
routes get them through these dependencies, never from globals.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from centre.ingest import IngestService
from centre.live import LiveHub
from centre.tokens import station_for_token

__all__ = [
    "HubDep",
    "IngestDep",
    "SessionDep",
    "StationDep",
    "authenticated_station",
    "get_hub",
    "get_ingest",
    "get_session",
]

_bearer = HTTPBearer(auto_error=False)


def get_session(request: Request) -> Iterator[Session]:
    """A relational session for one request."""
    session = request.app.state.services.sessions()
    try:
        yield session
    finally:
        session.close()


def get_ingest(request: Request) -> IngestService:
    return request.app.state.services.ingest


def get_hub(request: Request) -> LiveHub:
    return request.app.state.services.hub


SessionDep = Annotated[Session, Depends(get_session)]
IngestDep = Annotated[IngestService, Depends(get_ingest)]
HubDep = Annotated[LiveHub, Depends(get_hub)]


def authenticated_station(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The station id of the request's bearer token.

    401 when there is no bearer token, 403 when the token is unknown or revoked.
    The lookup uses its own short session: a request waiting for ingest must not
    hold a pooled DB connection meanwhile.
    """
    if credentials is None or not credentials.credentials:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="Thiếu mã truy cập / missing bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    with request.app.state.services.sessions() as session:
        station_id = station_for_token(session, credentials.credentials)
    if station_id is None:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail="Mã truy cập không hợp lệ / token not valid",
        )
    return station_id


StationDep = Annotated[str, Depends(authenticated_station)]
