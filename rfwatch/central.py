"""Composition of the centre process (``rfwatch central run``): stores checked, the DB
migrated once, then one or N uvicorn worker processes serving the same app.

With ``--workers N`` uvicorn starts N processes that each import
:func:`app_factory`; they read their settings from the environment (``RFWATCH_*``,
which the parent has set from its own options), open their own connections and share
PostgreSQL and InfluxDB, never memory. Exactly-once and case folding hold across them
through the database (see :mod:`centre.ingest`).
"""

from __future__ import annotations

import os

from fastapi import FastAPI
from sqlalchemy.engine import make_url

from dsp.errors import ConfigError, StorageError
from rfwatch.settings import Settings, load_settings

__all__ = ["app_factory", "prepare_centre"]

_START_HINT = (
    "khởi động dịch vụ (scripts/services.sh start) hoặc sửa cài đặt / start it "
    "(scripts/services.sh start, or your own service) or fix the setting"
)


def prepare_centre(settings: Settings, *, workers: int) -> None:
    """Check the stores, migrate the DB; one line naming the store and the fix if not.

    Raises
    ------
    ConfigError
        A store is down, or ``workers`` > 1 on the embedded (single-process) stores.
    """
    from storage.factory import check_influx
    from storage.migrations import upgrade

    db = make_url(settings.database_url)
    shown = db.render_as_string(hide_password=True)
    if workers > 1 and (
        db.get_backend_name() == "sqlite" or settings.timeseries_backend != "influx"
    ):
        raise ConfigError(
            f"--workers {workers} cần PostgreSQL và InfluxDB / --workers > 1 needs PostgreSQL "
            "(RFWATCH_DB_URL) and InfluxDB (RFWATCH_TIMESERIES_BACKEND=influx): the embedded "
            "stores serve one process"
        )
    if settings.timeseries_backend == "influx":
        inf = settings.influx
        ok, text = check_influx(
            inf.url, database=inf.database, username=inf.username,
            password=inf.password.get_secret_value() if inf.password else None,
            token=inf.token.get_secret_value() if inf.token else None,
        )
        if not ok:
            raise ConfigError(f"{text} — {_START_HINT} (RFWATCH_INFLUX__URL)")
    if db.get_backend_name() == "sqlite" and db.database:
        from pathlib import Path

        Path(db.database).parent.mkdir(parents=True, exist_ok=True)
    try:
        upgrade(settings.database_url)
    except StorageError as err:
        raise ConfigError(
            f"CSDL {db.get_backend_name()} không dùng được / the database {shown} cannot be "
            f"used: {str(err).split(': ', 1)[-1][:200]} — {_START_HINT} (RFWATCH_DB_URL)"
        ) from err


def export_settings(settings: Settings) -> None:
    """Put what the CLI decided (the home folder) into the environment of the workers."""
    os.environ["RFWATCH_HOME"] = str(settings.home.resolve())


def app_factory() -> FastAPI:
    """The centre's app for one worker process (uvicorn ``--factory``)."""
    from api.app import create_app
    from rfwatch.logs import configure_logging

    settings = load_settings()
    configure_logging(os.environ.get("RFWATCH_LOG__LEVEL", settings.log.level),
                      settings.log.format)
    return create_app(config=settings.central_config(), migrate=False)
