"""The centre's FastAPI application (ingest today; the full API and web pages later).

``create_app(config=...)`` opens the stores and builds the services when the app starts
(migrating the relational DB, opening the time-series store); tests and the demo
may hand in ready :class:`CentralServices` instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.deps import StationDep
from api.routes import ingest as ingest_routes
from centre.config import CentralConfig
from centre.services import LIVE_FRAME_MAX_BINS, CentralServices, open_central

__all__ = [
    "CentralConfig",
    "CentralServices",
    "LIVE_FRAME_MAX_BINS",
    "create_app",
    "open_central",
]


def create_app(
    *, config: CentralConfig | None = None, services: CentralServices | None = None
) -> FastAPI:
    """The centre's app. Give ``services`` (kept open by the caller) or ``config``
    (opened when the app starts, closed when it stops)."""
    if services is None and config is None:
        raise ValueError("create_app needs config or services")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = None
        if getattr(app.state, "services", None) is None:
            assert config is not None
            own = open_central(config)
            app.state.services = own
        try:
            yield
        finally:
            if own is not None:
                own.close()
                app.state.services = None

    app = FastAPI(
        title="rfwatch",
        description="Giám sát tuân thủ phổ tần / spectrum compliance monitoring — centre",
        lifespan=lifespan,
    )
    app.state.services = services
    app.include_router(ingest_routes.router)

    @app.get("/api/v1/health", tags=["meta"])
    def health(station_id: StationDep) -> dict[str, str]:
        """Liveness for a station's uplink; like every endpoint it checks who is asking."""
        return {"status": "ok", "station": station_id}

    return app
