"""The centre's services, opened once per process: stores, ingest, live hub.

Each worker process of ``rfwatch central run --workers N`` opens its own; they share
the relational DB and the time-series store, never memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from centre.config import CentralConfig
from centre.ingest import ComplianceHook, IngestService, reduce_spectrum
from centre.live import LiveHub, SpectrumFrame
from stations.batch import SpectrumItem
from storage.db import make_engine, make_session_factory
from storage.timeseries import TimeSeriesStore

__all__ = ["CentralServices", "LIVE_FRAME_MAX_BINS", "live_publisher", "open_central"]


#: Live frames are reduced (max-hold) to at most this many bins.
LIVE_FRAME_MAX_BINS = 4096


@dataclass
class CentralServices:
    """What the centre's routes use: DB sessions, the time-series store, ingest, live hub."""

    sessions: sessionmaker[Session]
    timeseries: TimeSeriesStore
    ingest: IngestService
    hub: LiveHub
    engine: Engine | None = None
    config: CentralConfig | None = None

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
    from centre.compliance_hook import CaseComplianceHook
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
        compliance=compliance
        or CaseComplianceHook(
            sessions,
            registry_ttl_s=config.registry_ttl_s,
            evidence_window_s=config.evidence_window_s,
        ),
        evidence_dir=config.evidence_dir,
        on_spectrum=live_publisher(hub),
    )
    return CentralServices(
        sessions=sessions, timeseries=timeseries, ingest=ingest, hub=hub, engine=engine,
        config=config,
    )
