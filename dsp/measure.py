"""Measurements of one emission (ITU-R SM.443 / SM.328) on a power spectrum.

Conventions (see :class:`dsp.types.Spectrum`): ``power_db[i]`` is scaled so a tone
centred on bin ``i`` reads its power there, and the window's equivalent noise
bandwidth is ``rbw_hz``. Summing the linear bin powers therefore counts every watt
``ENBW_bins = rbw_hz / f_step_hz`` times, so the power in a band is
``sum(P_bin) / ENBW_bins`` (Parseval), and a noise bin reads ``N0 * rbw_hz`` where
``N0`` is the noise power spectral density.

Per emission (the bins ``[a, b)`` of its extent):

- integrated power ``S = sum(P_bin - N_bin) / ENBW_bins`` (noise subtracted);
- centre frequency: the power-weighted mean of the noise-subtracted bins, and the
  midpoint of the x-dB points;
- occupied bandwidth by the beta/2 method (SM.443 Annex 1, SM.328): the edges
  leave ``beta/2`` (0.5 %) of the noise-subtracted power below and above;
- x-dB bandwidth (SM.443 Annex 2, default x = 26 dB): between the outermost points
  ``x`` dB below the peak bin, linearly interpolated between bins;
- peak power (the highest bin), SNR ``= S / (N0 * max(bw_99, rbw))`` (the noise in
  the emission's own bandwidth) and the field strength
  ``E(dBuV/m) = P(dBm) + 107 + AF(dB/m) + cable loss`` (50 ohm,
  :func:`dsp.calibration.field_strength_dbuv_m`) where an antenna factor is
  known and the spectrum is calibrated (dBm).

Every frequency and bandwidth has the bin width ``f_step_hz`` as its resolution
(``Emission.f_resolution_hz``).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from dsp.calibration import field_strength_dbuv_m
from dsp.types import Emission, Spectrum

__all__ = [
    "BETA_DEFAULT",
    "AntennaFactor",
    "enbw_bins",
    "channel_power",
    "emission_extent",
    "occupied_bandwidth",
    "xdb_bandwidth",
    "measure_emission",
]

#: beta of the occupied bandwidth: 1 % outside (0.5 % each side), the 99 % bandwidth.
BETA_DEFAULT = 0.01
#: An antenna factor in dB/m: one number, or a function of frequency (Hz).
AntennaFactor = float | Callable[[float], float]


def enbw_bins(spectrum: Spectrum) -> float:
    """The window's equivalent noise bandwidth in bins (``rbw_hz / f_step_hz``)."""
    if not (spectrum.f_step_hz > 0 and spectrum.rbw_hz > 0):
        raise ValueError(
            f"spectrum needs f_step_hz > 0 and rbw_hz > 0, got {spectrum.f_step_hz!r}, "
            f"{spectrum.rbw_hz!r}"
        )
    return spectrum.rbw_hz / spectrum.f_step_hz


def channel_power(spectrum: Spectrum, f_low_hz: float, f_high_hz: float) -> float:
    """Total power in the channel ``[f_low_hz, f_high_hz]``, in ``spectrum.power_unit`` (dB).

    Each bin covers ``f +- f_step/2``; bins cut by a channel edge count in
    proportion to their overlap. The sum of linear bin powers is divided by the
    window ENBW in bins. Noise is not subtracted (channel power is everything in
    the channel).

    Examples
    --------
    >>> import numpy as np
    >>> from dsp.types import Spectrum
    >>> p = np.full(100, -60.0, np.float32)  # 1 nW per bin, ENBW 1.5 bins
    >>> s = Spectrum(0.0, 1e3, p, "dBm", 1.5e3, 0, 1)
    >>> round(channel_power(s, 10e3 - 500, 39e3 + 500), 3)  # 30 bins / 1.5 = 20 nW
    -46.99
    """
    if not (math.isfinite(f_low_hz) and math.isfinite(f_high_hz)):
        raise ValueError("f_low_hz and f_high_hz must be finite")
    if f_high_hz <= f_low_hz:
        raise ValueError(f"f_high_hz ({f_high_hz}) must be above f_low_hz ({f_low_hz})")
    step = spectrum.f_step_hz
    lo_edges = spectrum.f_hz() - step / 2
    overlap = np.clip(np.minimum(lo_edges + step, f_high_hz) - np.maximum(lo_edges, f_low_hz),
                      0.0, step) / step
    if not overlap.any():
        raise ValueError(
            f"channel {f_low_hz:.0f}-{f_high_hz:.0f} Hz lies outside the spectrum "
            f"({spectrum.f_start_hz:.0f}-{spectrum.f_stop_hz:.0f} Hz)"
        )
    lin = 10.0 ** (np.asarray(spectrum.power_db, dtype=np.float64) / 10.0)
    return float(10.0 * np.log10(np.sum(lin * overlap) / enbw_bins(spectrum)))


def emission_extent(
    power_db: np.ndarray,
    noise_floor_db: np.ndarray,
    start: int,
    stop: int,
    *,
    lo_limit: int = 0,
    hi_limit: int | None = None,
    edge_db: float = 0.25,
) -> tuple[int, int]:
    """Grow the detected bins ``[start, stop)`` over the emission's skirts.

    The beta/2 method needs the skirts that lie below the detection threshold
    (0.5 % of the power each side). The range grows outwards while the power,
    smoothed over ``max(3, width // 8)`` bins, stays ``edge_db`` dB above the floor,
    by at most ``max(4, width // 2)`` bins a side, then by a further
    ``max(1, width // 16)`` bins of margin, never past ``[lo_limit, hi_limit)``
    (the neighbouring emissions) nor into missing (NaN) bins. Extra noise bins
    cost little: the floor is subtracted before integrating.
    """
    n = np.asarray(power_db).size
    hi_limit = n if hi_limit is None else hi_limit
    if not 0 <= lo_limit <= start < stop <= hi_limit <= n:
        raise ValueError(f"bad range: {lo_limit} <= {start} < {stop} <= {hi_limit} <= {n}")
    width = stop - start
    grow = max(4, width // 2)
    margin = max(1, width // 16)
    smooth = max(3, width // 8)
    # work on the neighbourhood the range can reach, not the whole spectrum
    reach = grow + margin + smooth
    lo_limit = max(lo_limit, start - reach)
    hi_limit = min(hi_limit, stop + reach)
    p = np.asarray(power_db[lo_limit:hi_limit], dtype=np.float64)
    lin = np.where(np.isfinite(p), 10.0 ** (np.nan_to_num(p, nan=-400.0) / 10.0), 0.0)
    if smooth > 1:
        from scipy.ndimage import uniform_filter1d

        lin = uniform_filter1d(lin, size=min(smooth, lin.size), mode="nearest")
    with np.errstate(divide="ignore"):
        excess = 10.0 * np.log10(lin) - np.asarray(noise_floor_db[lo_limit:hi_limit])
    ok = np.isfinite(p)
    above = ok & (excess > edge_db)
    a, b = start - lo_limit, stop - lo_limit

    def run_length(flags: np.ndarray) -> int:  # leading True values
        return int(flags.size if flags.all() else np.argmin(flags))

    a -= run_length(above[max(0, a - grow):a][::-1])
    b += run_length(above[b:min(p.size, b + grow)])
    a -= run_length(ok[max(0, a - margin):a][::-1])
    b += run_length(ok[b:min(p.size, b + margin)])
    return lo_limit + a, lo_limit + b


def occupied_bandwidth(
    f_hz: np.ndarray, power_lin: np.ndarray, *, beta: float = BETA_DEFAULT
) -> tuple[float, float]:
    """Edges of the beta/2 occupied bandwidth of noise-subtracted bin powers.

    Parameters
    ----------
    f_hz:
        Bin centres (uniform step), Hz.
    power_lin:
        Noise-subtracted linear bin powers (may be slightly negative from noise).
    beta:
        Fraction of the power outside the band, split equally below and above.

    Returns
    -------
    (float, float)
        Lower and upper edge in Hz; each bin's power is spread evenly over its width.

    Examples
    --------
    >>> import numpy as np
    >>> f = np.arange(100) * 1.0
    >>> p = np.zeros(100); p[20:80] = 1.0
    >>> [round(x, 2) for x in occupied_bandwidth(f, p)]
    [19.8, 79.2]
    """
    if not 0.0 < beta < 1.0:
        raise ValueError(f"beta must be in (0, 1), got {beta!r}")
    f = np.asarray(f_hz, dtype=np.float64)
    p = np.asarray(power_lin, dtype=np.float64)
    if f.shape != p.shape or f.size < 1:
        raise ValueError("f_hz and power_lin must be non-empty and of the same shape")
    step = f[1] - f[0] if f.size > 1 else 1.0
    edges = np.concatenate(([f[0] - step / 2], f + step / 2))
    cum = np.concatenate(([0.0], np.cumsum(p)))
    total = cum[-1]
    if not total > 0:
        raise ValueError("no power above the noise in this range")
    target = beta / 2 * total

    def crossing(c: np.ndarray, e: np.ndarray) -> float:
        i = int(np.argmax(c >= target))  # first edge index at or past the target
        if i == 0:
            return float(e[0])
        frac = (target - c[i - 1]) / (c[i] - c[i - 1])
        return float(e[i - 1] + frac * (e[i] - e[i - 1]))

    f_low = crossing(cum, edges)
    f_high = crossing((total - cum)[::-1], edges[::-1])
    return f_low, f_high


def xdb_bandwidth(
    f_hz: np.ndarray, power_db: np.ndarray, x_db: float = 26.0
) -> tuple[float, float, bool]:
    """Edges of the x-dB bandwidth: the outermost points ``x_db`` below the peak bin.

    Returns ``(f_low_hz, f_high_hz, limited)``; ``limited`` is True when a side never
    falls ``x_db`` below the peak inside the given range (the edge is then the
    range's outer bin edge: the bandwidth is a lower bound).

    Examples
    --------
    >>> import numpy as np
    >>> f = np.arange(7) * 1.0
    >>> p = np.array([-40, -30, -10, 0, -10, -30, -40.0])
    >>> xdb_bandwidth(f, p, 20.0)
    (1.5, 4.5, False)
    """
    if not (math.isfinite(x_db) and x_db > 0):
        raise ValueError(f"x_db must be finite and > 0, got {x_db!r}")
    f = np.asarray(f_hz, dtype=np.float64)
    p = np.asarray(power_db, dtype=np.float64)
    if f.shape != p.shape or f.size < 1:
        raise ValueError("f_hz and power_db must be non-empty and of the same shape")
    step = f[1] - f[0] if f.size > 1 else 1.0
    level = p.max() - x_db
    above = np.flatnonzero(p >= level)
    i_lo, i_hi = int(above[0]), int(above[-1])
    limited = False
    if i_lo == 0:
        f_low, limited = f[0] - step / 2, True
    else:
        frac = (level - p[i_lo - 1]) / (p[i_lo] - p[i_lo - 1])
        f_low = f[i_lo - 1] + frac * step
    if i_hi == f.size - 1:
        f_high, limited = f[-1] + step / 2, True
    else:
        frac = (p[i_hi] - level) / (p[i_hi] - p[i_hi + 1])
        f_high = f[i_hi] + frac * step
    return float(f_low), float(f_high), limited


def _antenna_factor(af_db_m: AntennaFactor, f_hz: float) -> float:
    value = af_db_m(f_hz) if callable(af_db_m) else af_db_m
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"antenna factor at {f_hz:.0f} Hz is not finite: {value!r}")
    return value


def measure_emission(
    spectrum: Spectrum,
    noise_floor_db: np.ndarray,
    start: int,
    stop: int,
    *,
    x_db: float = 26.0,
    beta: float = BETA_DEFAULT,
    af_db_m: AntennaFactor | None = None,
    cable_loss_db: float = 0.0,
    t_first_ns: int | None = None,
    t_last_ns: int | None = None,
    flags: tuple[str, ...] = (),
) -> Emission:
    """Measure the emission occupying bins ``[start, stop)`` (its full extent).

    Parameters
    ----------
    spectrum:
        The spectrum.
    noise_floor_db:
        Noise floor per bin (same unit as the spectrum).
    start, stop:
        The emission's bins, skirts included (see :func:`emission_extent`).
    x_db:
        The x of the x-dB bandwidth (dB below the peak).
    beta:
        Fraction of power outside the occupied bandwidth.
    af_db_m:
        Antenna factor in dB/m (a number or a function of frequency in Hz); the field
        strength is computed only when the spectrum is calibrated (dBm).
    cable_loss_db:
        Cable loss between antenna and receiver, dB (added to the field strength).
    t_first_ns, t_last_ns:
        When the emission was seen (UTC ns); default the spectrum's time span.
    flags:
        Extra flags to record (e.g. ``"span_edge"``).

    Returns
    -------
    Emission
        Powers in ``spectrum.power_unit``; ``f_resolution_hz`` is the bin width.
    """
    floor = np.asarray(noise_floor_db, dtype=np.float64)
    if floor.shape != (spectrum.n_bins,):
        raise ValueError(f"noise_floor_db must have {spectrum.n_bins} values, got {floor.shape}")
    if not 0 <= start < stop <= spectrum.n_bins:
        raise ValueError(f"bin range [{start}, {stop}) outside 0..{spectrum.n_bins}")
    if not math.isfinite(cable_loss_db):
        raise ValueError(f"cable_loss_db must be finite, got {cable_loss_db!r}")
    enbw = enbw_bins(spectrum)
    f = spectrum.f_start_hz + np.arange(start, stop, dtype=np.float64) * spectrum.f_step_hz
    p_db = np.asarray(spectrum.power_db[start:stop], dtype=np.float64)
    lin = 10.0 ** (p_db / 10.0)
    n_lin = 10.0 ** (floor[start:stop] / 10.0)
    sig = lin - n_lin
    out_flags = list(flags)

    total = float(sig.sum())
    if not total > 0.01 * lin.sum():
        # the noise estimate swallows the emission: keep 1 % of the raw power as a floor
        total = 0.01 * float(lin.sum())
        sig = np.maximum(sig, 0.0) + 0.01 * lin
        out_flags.append("weak")
    power_lin = total / enbw
    f_low, f_high = occupied_bandwidth(f, sig, beta=beta)
    bw_99 = max(f_high - f_low, 0.0)
    weights = np.maximum(sig, 0.0)
    f_centroid = float(np.sum(f * weights) / np.sum(weights))
    x_low, x_high, limited = xdb_bandwidth(f, p_db, x_db)
    if limited:
        out_flags.append("xdb_limited")
    if start == 0 or stop == spectrum.n_bins:
        out_flags.append("span_edge")
    n0_lin = float(n_lin.mean())  # noise per bin = N0 * rbw_hz
    noise_in_bw = n0_lin * max(bw_99, spectrum.rbw_hz) / spectrum.rbw_hz
    power_db = 10.0 * math.log10(power_lin)
    snr_db = 10.0 * math.log10(power_lin / noise_in_bw) if noise_in_bw > 0 else math.inf
    if "no_noise_reference" in out_flags or not snr_db > 0:
        # no noise seen beside or under it, or none left after subtracting it: the
        # SNR is unknown, never a negative number
        snr_db = math.nan
    floor_db = 10.0 * math.log10(n0_lin) if n0_lin > 0 else -math.inf

    e_dbuv_m = None
    if af_db_m is not None and spectrum.calibrated:
        e_dbuv_m = float(field_strength_dbuv_m(
            power_db, _antenna_factor(af_db_m, f_centroid), cable_loss_db))
    return Emission(
        f_hz=f_centroid,
        bw_99_hz=float(bw_99),
        bw_xdb_hz=float(x_high - x_low),
        power_db=power_db,
        peak_power_db=float(p_db.max()),
        snr_db=float(snr_db),
        noise_floor_db=float(floor_db),
        power_unit=spectrum.power_unit,
        f_resolution_hz=float(spectrum.f_step_hz),
        t_first_ns=spectrum.t_start_ns if t_first_ns is None else int(t_first_ns),
        t_last_ns=spectrum.t_end_ns if t_last_ns is None else int(t_last_ns),
        f_xdb_mid_hz=float((x_low + x_high) / 2),
        x_db=float(x_db),
        station_id=spectrum.station_id,
        receiver_id=spectrum.receiver_id,
        e_dbuv_m=e_dbuv_m,
        flags=tuple(out_flags),
    )
