"""The centre's FastAPI application: the request body limit, the routers, error answers.

``create_app(config=...)`` opens the stores and builds the services when the app starts
(migrating the relational DB, opening the time-series store); tests and the demo
may hand in ready :class:`CentralServices` instead.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError

from api.deps import StationDep
from api.desk import install as install_desk
from api.limits import BodyLimitMiddleware
from api.routes import ingest as ingest_routes
from api.routes import station_registry as station_registry_routes
from centre.config import DEFAULT_BODY_LIMIT_BYTES, CentralConfig
from centre.services import LIVE_FRAME_MAX_BINS, CentralServices, open_central
from dsp.errors import StorageError

log = logging.getLogger(__name__)

__all__ = [
    "CentralConfig",
    "CentralServices",
    "LIVE_FRAME_MAX_BINS",
    "create_app",
    "open_central",
]


def _routers() -> list[APIRouter]:
    """The API's routers (one module per resource under ``api/routes``): add new ones here."""
    return [ingest_routes.router, station_registry_routes.router]


def create_app(
    *,
    config: CentralConfig | None = None,
    services: CentralServices | None = None,
    body_limit_bytes: int | None = None,
    migrate: bool = True,
) -> FastAPI:
    """The centre's app. Give ``services`` (kept open by the caller) or ``config``
    (opened when the app starts, closed when it stops).

    ``body_limit_bytes``: the request body limit (default: the config's, else 8 MiB).
    ``migrate``: migrate the DB when the app starts (worker processes do not: the
    parent did it once).
    """
    if services is None and config is None:
        raise ValueError("create_app needs config or services")
    cfg = config or services.config  # type: ignore[union-attr]
    limit = body_limit_bytes or (cfg.body_limit_bytes if cfg else DEFAULT_BODY_LIMIT_BYTES)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = None
        if getattr(app.state, "services", None) is None:
            assert config is not None
            own = open_central(config, migrate=migrate)
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
        # Swagger UI from local files (api.routes.pages), never from a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.services = services
    app.add_middleware(BodyLimitMiddleware, limit_bytes=limit)
    for router in _routers():
        app.include_router(router)
    install_desk(app)
    install_error_handlers(app)

    @app.get("/api/v1/health", tags=["meta"])
    def health(station_id: StationDep) -> dict[str, str]:
        """Liveness for a station's uplink; like every endpoint it checks who is asking."""
        return {"status": "ok", "station": station_id}

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version,
                                 description=app.description, routes=app.routes)
            ingest_routes.document_body(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def install_error_handlers(app: FastAPI) -> None:
    """Errors as short JSON: validation never echoes input; store errors are 503;
    anything unexpected is logged with its traceback and answered 500 without detail."""

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = []
        for e in exc.errors():
            detail.append({
                "loc": [str(p)[:64] for p in e.get("loc", ())][:8],
                "msg": str(e.get("msg", ""))[:300],
                "type": str(e.get("type", ""))[:64],
            })
        return JSONResponse({"detail": detail[:20]}, status_code=422)

    @app.exception_handler(StorageError)
    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def store_down(request: Request, exc: Exception) -> JSONResponse:
        log.error("store error on %s %s: %s", request.method, request.url.path, exc)
        return JSONResponse(
            {"detail": "kho dữ liệu không sẵn sàng / a store is unavailable, try again later"},
            status_code=503,
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse({"detail": "lỗi máy chủ / internal error"}, status_code=500)
