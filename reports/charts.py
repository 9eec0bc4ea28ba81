"""Evidence pictures for the reports, drawn with matplotlib (Agg, PNG bytes).

- :func:`spectrum_png`: the max-hold spectrum around a case with the licence mask;
- :func:`waterfall_png`: power over frequency and UTC time;
- :func:`map_png`: stations, a field kit's drive and emitter estimates with their
  95 % circles (local east/north metres drawn on longitude/latitude axes);
- :func:`heatmap_png`: a survey heatmap like rtl_power's ``heatmap.py`` but with UTC
  times on the axis and the hop seams removed (:func:`flatten_hop_seams`).

The licence mask
----------------
Drawn relative to the strongest bin inside the licensed channel: 0 dB within
``f_licence ± Bn/2`` (Bn, the necessary bandwidth of the licence's emission
designator) and −26 dB outside it, so an emission whose −26 dB bandwidth
(ITU-R SM.328 x-dB bandwidth) exceeds Bn, or whose centre is off the licensed
frequency, is seen to cross it. A picture for people, not a measurement: the
findings carry the measured and permitted values.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # no display on a server; must precede pyplot
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from reports.data import (  # noqa: E402
    LocationEstimate,
    SpectrumSeries,
    StationInfo,
    TrackPoint,
)
from reports.i18n import Lang, text  # noqa: E402

__all__ = [
    "MASK_DROP_DB",
    "align_segment_floors",
    "align_sweep_floors",
    "find_seams",
    "flatten_hop_seams",
    "remove_seams",
    "heatmap_png",
    "map_png",
    "spectrum_png",
    "waterfall_png",
]

MASK_DROP_DB = 26.0
_DPI = 110


def _png(fig: plt.Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _utc(t_ns: np.ndarray) -> np.ndarray:
    """Matplotlib date numbers of UTC ns (timezone-aware, drawn in UTC)."""
    return mdates.date2num([dt.datetime.fromtimestamp(t / 1e9, tz=dt.UTC) for t in t_ns])


def _no_data(title: str, lang: Lang) -> bytes:
    fig, ax = plt.subplots(figsize=(7, 1.2))
    ax.axis("off")
    ax.text(0.5, 0.5, f"{title}: {text('no_data', lang)}", ha="center", va="center")
    return _png(fig)


def spectrum_png(
    series: SpectrumSeries, lang: Lang, *, f_hz: float, bw_hz: float,
    licence_f_hz: float | None = None, licence_bw_hz: float | None = None,
) -> bytes:
    """Max-hold spectrum around ``f_hz`` (± a few bandwidths) with the licence mask."""
    span_hz = max(6 * max(bw_hz, licence_bw_hz or 0.0), 40 * float(np.median(np.diff(
        series.f_hz))) if series.f_hz.size > 1 else 1e5)
    keep = np.abs(series.f_hz - f_hz) <= span_hz / 2
    if not keep.any() or not np.isfinite(series.power).any():
        return _no_data(text("fig_spectrum", lang), lang)
    with np.errstate(all="ignore"):
        hold = np.nanmax(np.where(np.isfinite(series.power), series.power, -np.inf), axis=0)
    f = series.f_hz[keep] / 1e6
    p = hold[keep]
    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    ax.plot(f, p, lw=1.0, color="#1f4e79", label=text("lg_spectrum", lang))
    if licence_f_hz is not None and licence_bw_hz is not None:
        inside = np.abs(series.f_hz - licence_f_hz) <= max(licence_bw_hz / 2,
                                                             span_hz / 400)
        ref = float(np.nanmax(hold[inside])) if inside.any() else float(np.nanmax(p))
        lo = (licence_f_hz - licence_bw_hz / 2) / 1e6
        hi = (licence_f_hz + licence_bw_hz / 2) / 1e6
        x = [min(f[0], lo - (hi - lo)), lo, lo, hi, hi, max(f[-1], hi + (hi - lo))]
        y = [ref - MASK_DROP_DB, ref - MASK_DROP_DB, ref, ref, ref - MASK_DROP_DB,
             ref - MASK_DROP_DB]
        ax.plot(x, y, color="#c00000", lw=1.2, ls="--", label=text("lg_mask", lang))
        ax.axvline(licence_f_hz / 1e6, color="#c00000", lw=0.8, ls=":",
                   label=text("lg_licensed_f", lang))
    ax.set_xlabel(text("ax_f_mhz", lang))
    ax.set_ylabel(text("ax_power", lang, unit=series.unit))
    ax.set_title(f"{text('fig_spectrum', lang)} — {series.station_id} ({series.band})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper right")
    ax.ticklabel_format(axis="x", useOffset=False)
    return _png(fig)


def _time_image(ax: plt.Axes, f_mhz: np.ndarray, t_ns: np.ndarray, power: np.ndarray,
                unit: str, lang: Lang) -> None:
    t = _utc(t_ns)
    if t.size == 1:
        t = np.array([t[0] - 1 / 86400, t[0] + 1 / 86400])
        power = np.vstack([power, power])
    finite = power[np.isfinite(power)]
    vmin, vmax = (np.percentile(finite, [2, 99.8]) if finite.size else (0, 1))
    mesh = ax.pcolormesh(f_mhz, t, power, shading="nearest", cmap="viridis", vmin=vmin,
                         vmax=vmax)
    locator = mdates.AutoDateLocator(tz=dt.UTC, minticks=3, maxticks=7)
    ax.yaxis.set_major_locator(locator)
    ax.yaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d\n%H:%M:%S", tz=dt.UTC))
    ax.set_xlim(float(f_mhz[0]), float(f_mhz[-1]))
    ax.set_ylim(float(t[-1]), float(t[0]))  # newest at the bottom, as a waterfall falls
    ax.set_xlabel(text("ax_f_mhz", lang))
    ax.set_ylabel(text("ax_time_utc", lang))
    ax.ticklabel_format(axis="x", useOffset=False)
    plt.colorbar(mesh, ax=ax, label=text("ax_power", lang, unit=unit), pad=0.01)


def waterfall_png(series: SpectrumSeries, lang: Lang, *, f_hz: float | None = None,
                  bw_hz: float | None = None) -> bytes:
    """Waterfall (frequency across, UTC time down) of one station's stored spectra."""
    if series.t_ns.size == 0:
        return _no_data(text("fig_waterfall", lang), lang)
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    # Hops swept under AGC sit at different dBFS levels: align their floors (as in the
    # heatmap) so the emissions, not the hop boundaries, stand out.
    flat = remove_seams(series.power)
    if series.unit == "dBFS":
        flat = align_sweep_floors(flat)
    _time_image(ax, series.f_hz / 1e6, series.t_ns, flat, series.unit, lang)
    if f_hz is not None:
        half = (bw_hz or 0.0) / 2
        for edge in (f_hz - half, f_hz + half) if half else (f_hz,):
            ax.axvline(edge / 1e6, color="white", lw=0.7, ls="--")
    ax.set_title(f"{text('fig_waterfall', lang)} — {series.station_id} ({series.band})")
    return _png(fig)


def flatten_hop_seams(power: np.ndarray, hop_starts: Sequence[int]) -> np.ndarray:
    """Remove the seams of a hopped survey: the tuner's in-hop response.

    Every hop of a sweep shows the same shape across its bins (the roll-off of the
    tuner's and decimator's filters towards the hop edges, the DC notch), which in a
    heatmap draws a stripe at each hop boundary. With at least three hops of the
    same length, the response is estimated as the median, over all sweeps and hops,
    of each in-hop bin's deviation from its hop's median power, and subtracted.
    Medians keep emissions (which occupy a few hops at most) out of the estimate.

    Parameters
    ----------
    power:
        ``[sweep, bin]`` powers in dB (NaN where not measured).
    hop_starts:
        First bin of each hop on the stitched grid, rising.

    Returns
    -------
    numpy.ndarray
        A copy with the in-hop response removed (unchanged with fewer than three
        hops of one length).
    """
    power = np.array(power, dtype=np.float64, copy=True)
    starts = sorted(int(s) for s in hop_starts)
    ends = starts[1:] + [power.shape[1]]
    lengths = [e - s for s, e in zip(starts, ends, strict=True)]
    if not lengths:
        return power
    length = max(set(lengths), key=lengths.count)
    hops = [s for s, n in zip(starts, lengths, strict=True) if n == length]
    if len(hops) < 3 or length < 2:
        return power
    stack = np.stack([power[:, s:s + length] for s in hops])  # hop, sweep, bin
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            dev = stack - np.nanmedian(stack, axis=2, keepdims=True)
            response = np.nanmedian(dev.reshape(-1, length), axis=0)
    response = np.nan_to_num(response - np.nanmedian(response))
    for s in hops:
        power[:, s:s + length] -= response
    return power


def find_seams(power: np.ndarray, *, min_step_db: float = 3.0, half_width: int = 6,
               min_fraction: float = 0.3) -> list[int]:
    """Bins where a hopped sweep's hops meet, found from the data alone.

    Hops tuned under AGC (or at different gains) sit at different dBFS levels, so
    their noise floors step at the hop boundary, at the same bin in sweep after
    sweep. Candidate bin ``b`` takes the step between the medians of the
    ``half_width`` bins either side; a seam is where that step exceeds
    ``min_step_db`` in at least ``min_fraction`` of the sweeps (an emission's edge
    moves or comes and goes; a seam stays) and its spread over the sweeps is
    locally greatest (with one sweep: the step itself). Returns the first bin of
    each new segment, rising.
    """
    p = np.asarray(power, dtype=np.float64)
    n_t, n_b = p.shape
    w = int(half_width)
    if n_b < 4 * w or n_t == 0:
        return []
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        left = np.stack([np.nanmedian(p[:, b - w:b], axis=1) for b in range(w, n_b - w + 1)],
                        axis=1)
        right = np.stack([np.nanmedian(p[:, b:b + w], axis=1) for b in range(w, n_b - w + 1)],
                         axis=1)
    signed = right - left
    step = np.abs(signed)
    hits = np.mean(np.nan_to_num(step) > min_step_db, axis=0)
    # Where the windows straddle a boundary exactly, the step is the gain difference
    # of two hops, which changes from sweep to sweep; a filter's roll-off near the edge
    # adds the same bias to every sweep. So the spread of the signed step over sweeps
    # peaks at the boundary itself, whatever the in-hop shape.
    score = np.nanstd(signed, axis=0) if n_t > 2 else np.nanmedian(step, axis=0)
    # Steps between neighbouring bins, for placing each seam on the exact bin.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        jump = np.nanmedian(np.abs(np.diff(p, axis=1)), axis=0)  # jump[j]: bin j -> j+1
    seams: list[int] = []
    for i in range(hits.size):
        if hits[i] < min_fraction:
            continue
        lo, hi = max(0, i - w), min(hits.size, i + w + 1)
        if score[i] >= np.max(score[lo:hi]):
            b = i + w
            near = np.arange(max(1, b - w), min(n_b, b + w + 1))
            b = int(near[np.argmax(np.nan_to_num(jump[near - 1]))])
            if not seams or b - seams[-1] > w:
                seams.append(b)
    return seams


def align_segment_floors(power: np.ndarray, starts: Sequence[int], *,
                         percentile: float = 20.0) -> np.ndarray:
    """Shift each segment of each sweep so its noise floor (``percentile`` of its
    bins: emissions occupy the top of the distribution) matches the sweep's floor."""
    p = np.array(power, dtype=np.float64, copy=True)
    edges = [0] + [int(s) for s in sorted(starts) if 0 < int(s) < p.shape[1]] + [p.shape[1]]
    if len(edges) <= 2:
        return p
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        target = np.nanpercentile(p, percentile, axis=1)
        for a, b in zip(edges[:-1], edges[1:], strict=True):
            floor = np.nanpercentile(p[:, a:b], percentile, axis=1)
            p[:, a:b] += np.nan_to_num(target - floor)[:, None]
    return p


def remove_seams(power: np.ndarray, hop_starts: Sequence[int] = ()) -> np.ndarray:
    """Seams out of a survey for a heatmap: the in-hop response flattened
    (:func:`flatten_hop_seams`) where the hops are known, and each hop's (or each
    detected segment's, :func:`find_seams`) noise floor aligned to the sweep's; the
    two bins at a detected boundary are interpolated from their neighbours."""
    if hop_starts:
        return align_segment_floors(flatten_hop_seams(power, hop_starts), hop_starts)
    p = np.array(power, dtype=np.float64, copy=True)
    starts = find_seams(p)
    p = align_segment_floors(p, starts)
    # Stored spectra are max-held down to 256 bins, so the bin on each side of a
    # detected boundary may hold the louder hop's level: draw them from their outer
    # neighbours instead (a seam, not an emission).
    for b in starts:
        if 2 <= b < p.shape[1] - 1:
            left, right = p[:, b - 2], p[:, b + 1]
            p[:, b - 1] = left + (right - left) / 3
            p[:, b] = left + 2 * (right - left) / 3
    return p


def align_sweep_floors(power: np.ndarray, *, percentile: float = 20.0) -> np.ndarray:
    """Shift each sweep so its noise floor matches the median floor of all sweeps.

    For dBFS surveys under AGC only: the gain changes from sweep to sweep, so the
    sweeps' levels are not comparable anyway, and aligned floors let the emissions
    show. Never used on calibrated (dBm) data, whose levels mean something.
    """
    p = np.array(power, dtype=np.float64, copy=True)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        floors = np.nanpercentile(p, percentile, axis=1)
        target = np.nanmedian(floors)
    return p + np.nan_to_num(target - floors)[:, None]


def heatmap_png(
    f_hz: np.ndarray, t_ns: np.ndarray, power: np.ndarray, lang: Lang, *, unit: str,
    title: str, hop_starts: Sequence[int] = (),
) -> bytes:
    """A survey heatmap (rtl_power ``heatmap.py`` style) with UTC times, seams removed."""
    if t_ns.size == 0 or power.size == 0:
        return _no_data(title, lang)
    flat = remove_seams(power, hop_starts)
    if unit == "dBFS":
        flat = align_sweep_floors(flat)
    height = min(7.0, 3.0 + 0.01 * t_ns.size)
    fig, ax = plt.subplots(figsize=(7.5, height))
    _time_image(ax, f_hz / 1e6, t_ns, flat, unit, lang)
    ax.set_title(f"{text('fig_heatmap', lang)} — {title}")
    return _png(fig)


def map_png(
    stations: Sequence[StationInfo], track: Sequence[TrackPoint],
    estimates: Sequence[LocationEstimate], lang: Lang,
) -> bytes:
    """Stations, drive track and emitter estimates with their 95 % circles."""
    placed = [s for s in stations if s.lat_deg is not None and s.lon_deg is not None]
    if not placed and not track and not estimates:
        return _no_data(text("fig_map", lang), lang)
    fig, ax = plt.subplots(figsize=(6.5, 5.0))
    if track:
        ax.plot([p.lon_deg for p in track], [p.lat_deg for p in track], ".", ms=2,
                color="#7f7f7f", label=text("lg_track", lang))
    for s in placed:
        ax.plot(s.lon_deg, s.lat_deg, "^", ms=8, color="#1f4e79")
        ax.annotate(s.id, (s.lon_deg, s.lat_deg), textcoords="offset points", xytext=(4, 4),
                    fontsize=7)
    if placed:
        ax.plot([], [], "^", color="#1f4e79", label=text("lg_station", lang))
    for k, e in enumerate(estimates):
        ring = np.array(e.ring_lon_lat(120))
        ax.fill(ring[:, 0], ring[:, 1], color="#c00000", alpha=0.15)
        ax.plot(e.lon_deg, e.lat_deg, "x", color="#c00000", ms=9,
                label=text("lg_estimate", lang) if k == 0 else None)
    lat0 = np.mean([p for p in [s.lat_deg for s in placed] + [e.lat_deg for e in estimates]
                    + [p.lat_deg for p in track]])
    ax.set_aspect(1 / math.cos(math.radians(float(lat0))))
    ax.set_xlabel(text("ax_lon", lang))
    ax.set_ylabel(text("ax_lat", lang))
    ax.set_title(text("fig_map", lang))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    ax.ticklabel_format(useOffset=False)
    return _png(fig)
