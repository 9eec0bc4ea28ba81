"""The registry a field kit carries: a station pulls the licences and foreign stations
with its own token, to classify and check what it measures offline.

Read-only, and only for the station the token belongs to (another station's id is
403; a user's token is not a station token: 403 too). The field kit's check opens no
case: the centre's check, on ingest, stays the one that does.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel

from api.deps import StationDep

__all__ = ["RegistrySnapshotPublic", "router"]

router = APIRouter(prefix="/api/v1/stations", tags=["stations"])


class RegistrySnapshotPublic(BaseModel):
    """The licences and foreign stations, as the import files' fields (JSON)."""

    station_id: str
    t_ns: int
    licences: list[dict]
    foreign: list[dict]


@router.get(
    "/{station_id}/registry",
    response_model=RegistrySnapshotPublic,
    responses={
        401: {"description": "no bearer token"},
        403: {"description": "token not valid, or another station's"},
    },
)
def station_registry(station_id: str, token_station: StationDep,
                     request: Request) -> RegistrySnapshotPublic:
    """Sổ đăng ký cho bộ đo di động / the registry a field kit carries (read-only)."""
    from compliance.registry import load_foreign_stations, load_licences

    if station_id != token_station:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=(f"Mã truy cập của trạm {token_station} không đọc được cho trạm khác"
                    f" / token of station {token_station} cannot read for another station"),
        )
    with request.app.state.services.sessions() as session:
        licences = load_licences(session)
        foreign = load_foreign_stations(session)
    return RegistrySnapshotPublic(
        station_id=station_id,
        t_ns=time.time_ns(),
        licences=[r.model_dump(mode="json") for r in licences],
        foreign=[r.model_dump(mode="json") for r in foreign],
    )
