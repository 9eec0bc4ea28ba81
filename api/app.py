"""The centre's FastAPI application (ingest today; the full API and web pages later).

``create_app(config=...)`` opens the stores and builds the services when the app starts
(migrating the relational DB, opening the time-series store); tests and the demo
may hand in ready :class:`CentralServices` instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.deps import StationDep
from api.desk import install as install_desk
from api.live import LiveHub, SpectrumFrame
from api.routes import ingest as ingest_routes
from stations.batch import SpectrumItem
from stations.central import ComplianceHook, IngestService, reduce_spectrum
from storage.db import make_engine, make_session_factory
from storage.timeseries import TimeSeriesStore

__all__ = [
    "CentralConfig",
    "CentralServices",
    "LIVE_FRAME_MAX_BINS",
    "create_app",
    "open_central",
]

#: Live frames are reduced (max-hold) to at most this many bins.
LIVE_FRAME_MAX_BINS = 4096


@dataclass(frozen=True)
class CentralConfig:
    """What the centre needs to open its stores (built from settings by ``rfwatch``).

    ``timeseries`` holds the keyword arguments of :func:`storage.open_timeseries`
    (``backend``, ``path`` or ``influx_url``, ``database``, ...).
    """

    home: Path
    database_url: str
    timeseries: dict


@dataclass
class CentralServices:
    """What the centre's routes use: DB sessions, the time-series store, ingest, live hub."""

    sessions: sessionmaker[Session]
    timeseries: TimeSeriesStore
    ingest: IngestService
    hub: LiveHub
    engine: Engine | None = None

    def close(self) -> None:
        self.timeseries.close()
        if self.engine is not None:
            self.engine.dispose()


def live_publisher(hub: LiveHub):  # noqa: ANN201 - a closure
    """Adapt ingest's spectrum callback to live frames on ``hub``."""

    def publish(station_id: str, item: SpectrumItem) -> None:
        power, factor = reduce_spectrum(item.power_db(), LIVE_FRAME_MAX_BINS)
        hub.publish(
            SpectrumFrame(
                station_id=station_id,
                band=item.band,
                f_start_hz=item.f_start_hz + (factor - 1) * item.f_step_hz / 2,
                f_step_hz=item.f_step_hz * factor,
                power_db=tuple(power.tolist()),
                power_unit=item.power_unit,
                t_ns=item.t_start_ns,
                lat_deg=None if item.position is None else item.position.lat_deg,
                lon_deg=None if item.position is None else item.position.lon_deg,
            )
        )

    return publish


def open_central(
    config: CentralConfig,
    *,
    hub: LiveHub | None = None,
    compliance: ComplianceHook | None = None,
    migrate: bool = True,
) -> CentralServices:
    """Open the centre's stores and services (DB migrated to head when ``migrate``)."""
    from stations.compliance_hook import CaseComplianceHook
    from storage import open_timeseries
    from storage.migrations import upgrade

    Path(config.home).mkdir(parents=True, exist_ok=True)
    if migrate:
        upgrade(config.database_url)
    engine = make_engine(config.database_url)
    sessions = make_session_factory(engine)
    timeseries = open_timeseries(**config.timeseries)
    hub = hub or LiveHub()
    ingest = IngestService(
        timeseries=timeseries,
        sessions=sessions,
        compliance=compliance or CaseComplianceHook(sessions),
        evidence_dir=Path(config.home) / "evidence",
        on_spectrum=live_publisher(hub),
    )
    return CentralServices(
        sessions=sessions, timeseries=timeseries, ingest=ingest, hub=hub, engine=engine
    )


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
        # Swagger UI from local files (api.routes.pages), never from a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.services = services
    app.include_router(ingest_routes.router)
    install_desk(app)

    @app.get("/api/v1/health", tags=["meta"])
    def health(station_id: StationDep) -> dict[str, str]:
        """Liveness for a station's uplink; like every endpoint it checks who is asking."""
        return {"status": "ok", "station": station_id}

    return app
