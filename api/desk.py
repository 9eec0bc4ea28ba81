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


def install(app: FastAPI) -> None:
    """Add the desk's routers to ``app``."""
    for router in routers():
        app.include_router(router)
