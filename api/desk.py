"""The inspector's desk on the centre's app: users and roles, REST resources, live
spectrum and alarms, pages. :func:`install` adds it all to an app (one call from
:func:`api.app.create_app`)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

__all__ = ["install", "routers"]


def routers() -> list[APIRouter]:
    """The desk's routers (one per resource)."""
    from api.routes import alarms, auth, cases, live_ws, observations, pages, registry, users

    return [m.router for m in (auth, users, cases, registry, observations, alarms, live_ws,
                               pages)]


_WEBSOCKETS = """

**WebSocket** (not expressible in OpenAPI 3; the access token goes in the
``access_token`` query parameter, a refused one closes with code 1008):

- ``/api/v1/live/{station_id}?band=`` (permission ``spectra:read``): binary live
  spectrum frames, little-endian: ``4s`` magic ``RFW1``, ``u16`` header length (56),
  ``u16`` flags (bit 0: dBm, else dBFS), ``i64`` t_ns, ``f64`` f_start_hz, ``f64``
  f_step_hz, ``u32`` n_bins, ``20s`` band; then n_bins ``int16`` centi-dB (-32768: none).
- ``/api/v1/alarms/ws`` (permission ``alarms:read``): JSON text messages
  ``{"type": "new_case"|"new_finding", "case_id", "status", "class", "f_hz",
  "severity", "finding_kinds", "last_seen", "finding_id"}``.
"""


def install(app: FastAPI) -> None:
    """Add the desk's routers to ``app`` and describe its WebSockets in the OpenAPI."""
    for router in routers():
        app.include_router(router)
    app.description = (app.description or "") + _WEBSOCKETS
