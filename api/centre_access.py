"""The one module through which the desk's routes reach the centre's pieces.

The centre (ingest, tokens, live hub) is being moved into its own package; keeping
every import of it here means only this file follows the move.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from sqlalchemy.orm import Session, sessionmaker

from api.live import LiveHub, SpectrumFrame, Subscription
from centre.models import STATIONS, IngestedBatch
from storage.timeseries import TimeSeriesStore

__all__ = [
    "IngestedBatch",
    "LiveHub",
    "STATIONS",
    "SpectrumFrame",
    "Subscription",
    "evidence_root",
    "hub",
    "sessions",
    "timeseries",
]


def _services(request_or_app):  # noqa: ANN001, ANN202 - Request, WebSocket or FastAPI
    app = getattr(request_or_app, "app", request_or_app)
    return app.state.services


def sessions(request: Request) -> sessionmaker[Session]:
    return _services(request).sessions


def timeseries(request: Request) -> TimeSeriesStore:
    return _services(request).timeseries


def hub(request_or_app) -> LiveHub:  # noqa: ANN001
    return _services(request_or_app).hub


def evidence_root(request: Request) -> Path:
    """The centre's evidence folder (where ingest keeps station evidence)."""
    app = request.app
    explicit = getattr(app.state, "evidence_dir", None)
    if explicit is not None:
        return Path(explicit)
    return Path(_services(request).ingest._evidence_dir)
