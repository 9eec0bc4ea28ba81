"""Stations and their health, stored spectra (latest, history), emissions."""

from __future__ import annotations

import time
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Query, Request, status

from api import centre_access
from api.authz import CurrentUser, Require
from api.schemas.common import responses
from api.schemas.observations import EmissionPublic, SpectrumPublic, StationPublic
from compliance.cases import ns_to_iso
from storage import names

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["observations"])
NS = 1_000_000_000
_LOOKBACK_S = 366 * 86400
_TIME = Query(ge=0, le=4_102_444_800 * NS, description="UTC ns")


def _window(start_ns: int | None, end_ns: int | None, lookback_s: float) -> tuple[int, int]:
    end = end_ns if end_ns is not None else time.time_ns() + 86400 * NS
    start = start_ns if start_ns is not None else max(0, end - int(lookback_s * NS))
    if start >= end:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            "start_ns phải trước end_ns / start_ns must be before end_ns")
    return start, end


@router.get("/stations", response_model=list[StationPublic], responses=responses(401, 403))
def list_stations(request: Request,
                  _user: Annotated[CurrentUser, Depends(Require("stations:read"))]
                  ) -> list[StationPublic]:
    """Trạm và tình trạng / stations, their last batch and newest health values."""
    st = centre_access.STATIONS
    ib = centre_access.IngestedBatch
    with centre_access.sessions(request)() as session:
        rows = session.execute(sa.select(st.c.id, st.c.name, st.c.kind, st.c.lat_deg,
                                         st.c.lon_deg).order_by(st.c.id)).all()
        last = dict(session.execute(sa.select(ib.station_id, sa.func.max(ib.received_at))
                                    .group_by(ib.station_id)).all())
        counts = dict(session.execute(sa.select(ib.station_id, sa.func.count())
                                      .group_by(ib.station_id)).all())
    ts = centre_access.timeseries(request)
    t0, t1 = _window(None, None, _LOOKBACK_S)
    out = []
    for sid, name, kind, lat, lon in rows:
        health: dict = {}
        for fname in (names.FIELD_OVERLOADS, names.FIELD_DROPPED, names.FIELD_OUTBOX_DEPTH,
                      names.FIELD_CPU, names.FIELD_TEMP_C, names.FIELD_GPS_FIX, names.FIELD_PPM,
                      "state", "gap_s"):
            got = ts.query(names.STATION_HEALTH, fname, t_start_ns=t0, t_end_ns=t1,
                           tags={names.TAG_STATION: sid}, aggregate="last")
            if got:
                health[fname] = got[-1].value
        when = last.get(sid)
        out.append(StationPublic(
            id=sid, name=name, kind=kind, lat_deg=lat, lon_deg=lon,
            last_batch=None if when is None else when.isoformat().replace("+00:00", "Z"),
            batches=int(counts.get(sid, 0)), health=health))
    return out


def _spectra(request: Request, station: str, band: str, t0: int, t1: int) -> dict[int, dict]:
    ts = centre_access.timeseries(request)
    tags = {names.TAG_STATION: station, names.TAG_BAND: band}
    by_t: dict[int, dict] = {}
    for unit, fname in (("dBm", names.FIELD_POWER_DBM), ("dBFS", names.FIELD_POWER_DBFS)):
        rows = ts.query(names.SPECTRUM, fname, t_start_ns=t0, t_end_ns=t1, tags=tags,
                        group_by=(names.TAG_F_BIN,))
        for r in rows:
            if r.value is None:
                continue
            entry = by_t.setdefault(r.t_ns, {"unit": unit, "p": {}, "f": {}})
            entry["p"][int(r.tags.get(names.TAG_F_BIN, 0))] = float(r.value)
    if by_t:
        for r in ts.query(names.SPECTRUM, names.FIELD_F_HZ, t_start_ns=min(by_t),
                          t_end_ns=max(by_t) + 1, tags=tags, group_by=(names.TAG_F_BIN,)):
            if r.t_ns in by_t and r.value is not None:
                by_t[r.t_ns]["f"][int(r.tags.get(names.TAG_F_BIN, 0))] = float(r.value)
    return by_t


def _public(station: str, band: str, t_ns: int, entry: dict) -> SpectrumPublic:
    bins = sorted(k for k in entry["p"] if k in entry["f"])
    return SpectrumPublic(station=station, band=band, t=ns_to_iso(t_ns), t_ns=t_ns,
                          unit=entry["unit"], f_hz=[entry["f"][k] for k in bins],
                          power_db=[entry["p"][k] for k in bins])


_ID = Query(min_length=1, max_length=64)


@router.get("/spectra/latest", response_model=SpectrumPublic,
            responses=responses(401, 403, 404, 422))
def latest_spectrum(request: Request,
                    _user: Annotated[CurrentUser, Depends(Require("spectra:read"))],
                    station: Annotated[str, _ID], band: Annotated[str, _ID],
                    lookback_s: Annotated[float, Query(gt=0, le=10 * 366 * 86400)] = _LOOKBACK_S,
                    ) -> SpectrumPublic:
    """Phổ mới nhất / the newest stored spectrum of a station and band."""
    t0, t1 = _window(None, None, lookback_s)
    by_t = _spectra(request, station, band, t0, t1)
    if not by_t:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"không có phổ / no spectrum of {station} {band}")
    t = max(by_t)
    return _public(station, band, t, by_t[t])


@router.get("/spectra/history", response_model=list[SpectrumPublic],
            responses=responses(401, 403, 422))
def spectrum_history(request: Request,
                     _user: Annotated[CurrentUser, Depends(Require("spectra:read"))],
                     station: Annotated[str, _ID], band: Annotated[str, _ID],
                     start_ns: Annotated[int | None, _TIME] = None,
                     end_ns: Annotated[int | None, _TIME] = None,
                     limit: Annotated[int, Query(ge=1, le=2000)] = 200) -> list[SpectrumPublic]:
    """Lịch sử phổ / stored spectra of a band in ``[start_ns, end_ns)``, newest
    ``limit``, oldest first."""
    t0, t1 = _window(start_ns, end_ns, _LOOKBACK_S)
    by_t = _spectra(request, station, band, t0, t1)
    times = sorted(by_t)[-limit:]
    return [_public(station, band, t, by_t[t]) for t in times]


@router.get("/emissions", response_model=list[EmissionPublic], response_model_by_alias=True,
            responses=responses(401, 403, 422))
def list_emissions(request: Request,
                   _user: Annotated[CurrentUser, Depends(Require("spectra:read"))],
                   station: Annotated[str | None, Query(max_length=64)] = None,
                   emitter_class: Annotated[str | None, Query(alias="class", max_length=16)] = None,
                   start_ns: Annotated[int | None, _TIME] = None,
                   end_ns: Annotated[int | None, _TIME] = None,
                   limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> list[dict]:
    """Phát xạ đã đo / measured emissions (newest ``limit``, oldest first)."""
    t0, t1 = _window(start_ns, end_ns, _LOOKBACK_S)
    ts = centre_access.timeseries(request)
    tags: dict = {}
    if station:
        tags[names.TAG_STATION] = station
    if emitter_class:
        tags[names.TAG_CLASS] = emitter_class
    group = (names.TAG_STATION, names.TAG_CLASS)
    cols: dict[str, dict] = {}
    for fname in (names.FIELD_F_HZ, names.FIELD_BW_HZ, names.FIELD_POWER_DBM,
                  names.FIELD_POWER_DBFS, names.FIELD_SNR_DB):
        for r in ts.query(names.EMISSION, fname, t_start_ns=t0, t_end_ns=t1, tags=tags or None,
                          group_by=group):
            key = (r.t_ns, r.tags.get(names.TAG_STATION, ""), r.tags.get(names.TAG_CLASS, ""))
            cols.setdefault(key, {})[fname] = r.value
    out = []
    for (t_ns, sid, cls), v in sorted(cols.items())[-limit:]:
        dbm = v.get(names.FIELD_POWER_DBM)
        out.append(EmissionPublic(
            station=sid, emitter_class=cls, t=ns_to_iso(t_ns), t_ns=t_ns,
            f_hz=v.get(names.FIELD_F_HZ), bw_hz=v.get(names.FIELD_BW_HZ),
            power_db=dbm if dbm is not None else v.get(names.FIELD_POWER_DBFS),
            unit="dBm" if dbm is not None else "dBFS", snr_db=v.get(names.FIELD_SNR_DB),
        ).model_dump(by_alias=True))
    return out
