"""storage package (see docs/ARCHITECTURE.md).

Time series behind :class:`storage.timeseries.TimeSeriesStore` (InfluxDB in
:mod:`storage.influx`, SQLite in :mod:`storage.embedded`), opened through
:func:`open_timeseries`; the relational DB in :mod:`storage.db` with migrations in
:mod:`storage.migrations`. The factory functions are re-exported lazily, so
importing ``storage.db`` does not load the HTTP client.
"""

from __future__ import annotations

from typing import Any

__all__ = ["check_database", "check_influx", "open_timeseries"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from storage import factory

        return getattr(factory, name)
    raise AttributeError(f"module 'storage' has no attribute {name!r}")
