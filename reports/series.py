"""Stored spectra and field-kit tracks read back from the time-series store.

:func:`load_spectra` rebuilds a station's sweeps of a band as a ``[time, bin]``
array from the ``spectrum`` measurement (256 bins a sweep, ``f_hz`` per bin); sweeps
whose grids differ (a narrower sweep in the same band, or a grid moved by more than a
quarter bin) become separate series. :func:`load_track` collects the GPS-tagged
points a field kit wrote with its measurements.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from storage import names
from storage.timeseries import TimeSeriesStore

__all__ = ["SpectrumSeries", "TrackPoint", "load_spectra", "load_track"]

NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class TrackPoint:
    """Where a field kit was (a GPS-tagged measurement)."""

    station_id: str
    t_ns: int
    lat_deg: float
    lon_deg: float


@dataclass(frozen=True, slots=True)
class SpectrumSeries:
    """Stored spectra of one station and band: ``power[t, bin]`` on ``f_hz[bin]``."""

    station_id: str
    band: str
    unit: str
    f_hz: np.ndarray
    t_ns: np.ndarray
    power: np.ndarray


def load_track(ts: TimeSeriesStore, station_ids: Sequence[str], t0_ns: int,
               t1_ns: int) -> list[TrackPoint]:
    """GPS-tagged measurement points of field kits (``channel_power`` and ``emission``),
    one per time and station, in time order."""
    if not station_ids:
        return []
    seen: dict[tuple[str, int], list[float | None]] = {}
    for measurement in (names.CHANNEL_POWER, names.EMISSION):
        for i, fname in enumerate((names.FIELD_LAT_DEG, names.FIELD_LON_DEG)):
            for r in ts.query(measurement, fname, t_start_ns=t0_ns, t_end_ns=t1_ns,
                              tags={names.TAG_STATION: list(station_ids)},
                              group_by=(names.TAG_STATION,)):
                if isinstance(r.value, int | float):
                    key = (r.tags.get(names.TAG_STATION, ""), r.t_ns)
                    seen.setdefault(key, [None, None])[i] = float(r.value)
    points = [TrackPoint(sid, t_ns, lat, lon) for (sid, t_ns), (lat, lon) in seen.items()
              if lat is not None and lon is not None]
    points.sort(key=lambda p: (p.station_id, p.t_ns))
    return points


def load_spectra(
    ts: TimeSeriesStore, station_id: str, t0_ns: int, t1_ns: int, *,
    band: str | None = None, f_hz: float | None = None, max_rows: int | None = None,
) -> list[SpectrumSeries]:
    """Stored spectra of a station, one series per band (or only ``band``, or only the
    bands whose grid covers ``f_hz``), with the dBm field where it exists, else dBFS.

    With ``max_rows``, when a band has more sweeps than that, they are max-held over
    ``(t1 - t0) / max_rows`` windows in the store (a month of sweeps becomes a
    picture's worth of rows); each row's time is then its window's start.
    """
    tags: dict[str, str] = {names.TAG_STATION: station_id}
    if band is not None:
        tags[names.TAG_BAND] = band
    agg: dict = {}
    if max_rows is not None:
        # Count the sweeps (bin 0 of each): only more than max_rows are windowed.
        counts = ts.query(names.SPECTRUM, names.FIELD_F_HZ, t_start_ns=t0_ns, t_end_ns=t1_ns,
                          tags={**tags, names.TAG_F_BIN: "0"}, aggregate="count",
                          group_by=(names.TAG_BAND,))
        if max((int(r.value) for r in counts if isinstance(r.value, int | float)),
               default=0) > max_rows:
            agg = {"window_ns": max(NS, -(-(t1_ns - t0_ns) // max_rows))}
    freq_rows = ts.query(names.SPECTRUM, names.FIELD_F_HZ, t_start_ns=t0_ns, t_end_ns=t1_ns,
                         tags=tags, group_by=(names.TAG_BAND, names.TAG_F_BIN),
                         **({"aggregate": "mean", **agg} if agg else {}))
    # band -> sweep time -> bin -> frequency. A band's sweeps may differ in span (a
    # field kit's narrow sweep, a fixed site's wide one): one series per grid.
    sweeps: dict[str, dict[int, dict[int, float]]] = {}
    for r in freq_rows:
        if isinstance(r.value, int | float):
            sweeps.setdefault(r.tags[names.TAG_BAND], {}).setdefault(r.t_ns, {})[
                int(r.tags[names.TAG_F_BIN])] = float(r.value)
    out: list[SpectrumSeries] = []
    for b, by_time in sorted(sweeps.items()):
        # Sweeps on one grid up to a fraction of a bin (ppm corrections move it a little).
        grids: list[tuple[np.ndarray, list[int]]] = []
        for t_ns in sorted(by_time):
            grid = by_time[t_ns]
            f_t = np.array([grid[k] for k in sorted(grid)])
            for f_g, members in grids:
                step = float(np.median(np.diff(f_g))) if f_g.size > 1 else 1.0
                if f_g.size == f_t.size and np.all(np.abs(f_g - f_t) < 0.25 * abs(step)):
                    members.append(t_ns)
                    break
            else:
                grids.append((f_t, [t_ns]))
        power_rows = None
        unit = "dBFS"
        for f, times in grids:
            if f_hz is not None and not (f.min() <= f_hz <= f.max()):
                continue
            if power_rows is None:
                power_rows = []
                for u, fname in (("dBm", names.FIELD_POWER_DBM),
                                 ("dBFS", names.FIELD_POWER_DBFS)):
                    power_rows = ts.query(names.SPECTRUM, fname, t_start_ns=t0_ns,
                                          t_end_ns=t1_ns, tags={**tags, names.TAG_BAND: b},
                                          group_by=(names.TAG_F_BIN,),
                                          **({"aggregate": "max", **agg} if agg else {}))
                    if power_rows:
                        unit = u
                        break
            times = sorted(times)
            t_index = {t: i for i, t in enumerate(times)}
            power = np.full((len(times), f.size), np.nan)
            for r in power_rows:
                i = t_index.get(r.t_ns)
                k = int(r.tags[names.TAG_F_BIN])
                if i is not None and k < f.size and isinstance(r.value, int | float):
                    power[i, k] = float(r.value)
            out.append(SpectrumSeries(station_id, b, unit, f, np.array(times, dtype=np.int64),
                                      power))
    return out
