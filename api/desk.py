"""The inspector's desk on the centre's app: users and roles, REST resources, live
spectrum and alarms, pages. :func:`install` adds it all to an app (one call from
:func:`api.app.create_app`)."""

from __future__ import annotations

from fastapi import FastAPI

__all__ = ["install"]


def install(app: FastAPI) -> None:
    """Add the desk's routers to ``app``."""
    from api.routes import alarms, auth, cases, live_ws, observations, pages, registry, users

    for module in (auth, users, cases, registry, observations, alarms, live_ws, pages):
        app.include_router(module.router)
