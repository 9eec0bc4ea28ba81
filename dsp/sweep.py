"""Wideband sweeps: a tune plan on one common frequency grid, and stitching.

A receiver that sees ``sample_rate_hz`` at a time covers a wide span by hopping.
Each hop's spectrum is good only in its middle (the tuner's and the RTL2832U's
anti-alias filters roll off towards +-rate/2, and aliases fold in there), so each
hop keeps a centred ``usable_fraction`` of its bins and the next hop starts where
that ends.

The grid: bin ``i`` of the sweep is centred on ``f_start_hz + i * f_step_hz`` with
``f_step_hz = sample_rate_hz / fft_size``. Every hop is tuned to a frequency *on
that grid*, a whole number of bins from ``f_start_hz``, and the hops step by a
whole number of bins, so every FFT bin of every hop lands exactly on a sweep bin.
Stitching is then a copy: no resampling, no averaging of overlaps, no seam.

What we do not repeat from ``rtl_power``: it writes one bin too many per hop
(129 values for 128 bins in the real files under shared/data/real), stamps rows
with local time, shows dips where hops meet (by default it crops nothing, keeping
the bins where the filters roll off), and calls dBFS "dBm". Here
bins are unique, each hop's UTC start is kept (``Spectrum.hop_t_ns``), seams fall
well inside each hop's flat passband, and the unit is what the hops say.

The DC bin of every hop (LO leakage) and, by default, its two neighbours are
replaced by interpolation from the bins either side and listed in
``Spectrum.interpolated_bins``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dsp.calibration import GainCalibration
from dsp.errors import ParameterError
from dsp.spectrum import spectrum_from_block
from dsp.types import IQBlock, Spectrum

__all__ = ["Hop", "plan_sweep", "sweep_grid", "stitch", "sweep_spectrum"]

R820T_F_MIN_HZ = 24e6
R820T_F_MAX_HZ = 1766e6


@dataclass(frozen=True, slots=True)
class Hop:
    """One tuning of a sweep and which of its bins the sweep keeps.

    Attributes
    ----------
    f_center_hz:
        Frequency to tune to (on the sweep grid).
    first_bin:
        Index, in this hop's own fftshifted spectrum of ``fft_size`` bins, of the
        first bin kept.
    n_bins:
        Number of consecutive bins kept.
    out_first_bin:
        Index in the stitched sweep where the first kept bin goes.
    fft_size:
        Bins per hop spectrum.
    sample_rate_hz:
        Complex sample rate of the hop.
    """

    f_center_hz: float
    first_bin: int
    n_bins: int
    out_first_bin: int
    fft_size: int
    sample_rate_hz: float

    @property
    def f_step_hz(self) -> float:
        """Bin width in Hz."""
        return self.sample_rate_hz / self.fft_size

    @property
    def dc_bin(self) -> int:
        """Index of the DC (tuned-frequency) bin in this hop's spectrum."""
        return self.fft_size // 2

    @property
    def out_dc_bin(self) -> int | None:
        """Index in the sweep of this hop's DC bin, or ``None`` if it is not kept."""
        offset = self.dc_bin - self.first_bin
        return self.out_first_bin + offset if 0 <= offset < self.n_bins else None


def _num(value: float, name: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ParameterError(f"{name} must be a number; got {type(value).__name__}")
    v = float(value)
    if not math.isfinite(v) or (positive and v <= 0):
        kind = "positive and finite" if positive else "finite"
        raise ParameterError(f"{name} must be {kind}; got {value!r}")
    return v


def plan_sweep(
    f_start_hz: float,
    f_stop_hz: float,
    *,
    sample_rate_hz: float,
    fft_size: int,
    usable_fraction: float = 0.75,
    f_min_hz: float = R820T_F_MIN_HZ,
    f_max_hz: float = R820T_F_MAX_HZ,
) -> list[Hop]:
    """Plan the hops that cover ``[f_start_hz, f_stop_hz]`` on one grid.

    Parameters
    ----------
    f_start_hz, f_stop_hz:
        The span in Hz; the sweep's first bin is centred on ``f_start_hz`` and its
        last bin on the grid point nearest ``f_stop_hz``. Both must lie in the
        tuner's range ``[f_min_hz, f_max_hz]``.
    sample_rate_hz:
        Complex sample rate of each hop, Hz.
    fft_size:
        Bins per hop (even, >= 8).
    usable_fraction:
        Fraction of each hop's bins kept (centred), in (0, 1]. The hop step is this
        fraction of the sample rate, rounded down to an even number of bins.
    f_min_hz, f_max_hz:
        Tuning range of the receiver (R820T: 24-1766 MHz). Every hop's centre lies
        inside it; near the ends a hop is tuned off-centre rather than outside.

    Returns
    -------
    list[Hop]
        In increasing frequency. Their kept bins tile the sweep grid exactly: no
        gap, no overlap, no duplicated bin.

    Raises
    ------
    ParameterError
        If an argument is out of range (the message names it).

    Examples
    --------
    >>> hops = plan_sweep(88e6, 108e6, sample_rate_hz=2.4e6, fft_size=1024)
    >>> len(hops), hops[0].f_center_hz, hops[0].n_bins, hops[1].out_first_bin
    (12, 88900000.0, 768, 768)
    """
    f0 = _num(f_start_hz, "f_start_hz")
    f1 = _num(f_stop_hz, "f_stop_hz")
    rate = _num(sample_rate_hz, "sample_rate_hz", positive=True)
    fmin = _num(f_min_hz, "f_min_hz")
    fmax = _num(f_max_hz, "f_max_hz")
    frac = _num(usable_fraction, "usable_fraction")
    if isinstance(fft_size, bool) or not isinstance(fft_size, int | np.integer):
        raise ParameterError(f"fft_size must be an integer; got {fft_size!r}")
    n = int(fft_size)
    if n < 8 or n % 2:
        raise ParameterError(f"fft_size must be an even integer >= 8; got {fft_size}")
    if not 0.0 < frac <= 1.0:
        raise ParameterError(f"usable_fraction must be in (0, 1]; got {usable_fraction!r}")
    if fmax <= fmin:
        raise ParameterError(f"f_max_hz ({fmax}) must be above f_min_hz ({fmin})")
    if f1 <= f0:
        raise ParameterError(f"f_stop_hz ({f1}) must be above f_start_hz ({f0})")
    if f0 < fmin or f1 > fmax:
        raise ParameterError(
            f"span [{f0}, {f1}] Hz (f_start_hz, f_stop_hz) must lie in the tuner range "
            f"[{fmin}, {fmax}] Hz"
        )
    usable = 2 * int(frac * n / 2)  # even, so the kept bins sit symmetric about DC
    if usable < 4:
        raise ParameterError(
            f"usable_fraction={usable_fraction!r} keeps {usable} of {n} bins; need >= 4"
        )
    step = rate / n
    n_out = math.floor((f1 - f0) / step + 0.5) + 1  # nearest grid point, ties up
    half = usable // 2
    lowest_kept = n // 2 - half  # first usable bin of a hop's fftshifted spectrum
    c_min = math.ceil((fmin - f0) / step - 1e-9)  # grid index of the lowest legal centre
    c_max = math.floor((fmax - f0) / step + 1e-9)
    hops: list[Hop] = []
    a = 0
    while a < n_out:
        # The hop's DC sits half a usable span above its first kept bin; near the top
        # of the tuner range it is pulled down (its lower usable half still covers a).
        c = min(max(a + half, c_min), c_max)
        if c - half > a:  # cannot happen when f_start_hz >= f_min_hz; guard anyway
            raise ParameterError(f"f_start_hz ({f0}) is below what the tuner range can cover")
        end = min(n_out, c + half)
        if end <= a:
            raise ParameterError(f"f_stop_hz ({f1}) is above what the tuner range can cover")
        hops.append(
            Hop(
                f_center_hz=f0 + c * step,
                first_bin=lowest_kept + (a - (c - half)),
                n_bins=end - a,
                out_first_bin=a,
                fft_size=n,
                sample_rate_hz=rate,
            )
        )
        a = end
    return hops


def sweep_grid(plan: Sequence[Hop]) -> tuple[float, float, int]:
    """``(f_start_hz, f_step_hz, n_bins)`` of the sweep a plan produces.

    Examples
    --------
    >>> sweep_grid(plan_sweep(88e6, 108e6, sample_rate_hz=2.4e6, fft_size=1024))
    (88000000.0, 2343.75, 8534)
    """
    if not plan:
        raise ParameterError("plan must hold at least one hop")
    first = plan[0]
    step = first.f_step_hz
    f_start = first.f_center_hz + (first.first_bin - first.dc_bin - first.out_first_bin) * step
    last = max(plan, key=lambda h: h.out_first_bin)
    return f_start, step, last.out_first_bin + last.n_bins


def stitch(
    hop_spectra: Sequence[Spectrum], plan: Sequence[Hop], *, dc_guard_bins: int = 2
) -> Spectrum:
    """Stitch hop spectra (in plan order) into one sweep on the plan's grid.

    Each hop's kept bins are copied to their place; the DC bin of each hop (and
    ``dc_guard_bins - 1`` bins either side) is then replaced by linear
    interpolation, in linear power, between the nearest measured bins on either
    side, and listed in ``interpolated_bins``.

    Parameters
    ----------
    hop_spectra:
        One :class:`~dsp.types.Spectrum` per hop, ``plan[i]``'s spectrum at index
        ``i``, each with ``fft_size`` bins at the hop's tuning. A receiver that
        rounds the tuned frequency to 1 Hz is fine: a hop may sit up to 1 % of a bin
        off the grid.
    plan:
        The hops from :func:`plan_sweep`.
    dc_guard_bins:
        Half-width of the replaced region around each DC bin: 1 replaces the DC bin
        only, 2 (the default) also its two neighbours, because a Hann window spreads
        a DC offset over bins -1..+1 (at -6 dB) and the RTL-SDR's offset drifts
        during a block, so DC removal leaves a residue there. 0 replaces nothing.

    Returns
    -------
    Spectrum
        The sweep: unit, RBW, window, station and receiver of the hops; its time
        spans all hops; ``hop_t_ns`` holds ``(out_first_bin, t_start_ns)`` per hop;
        ``n_averages`` is the smallest of the hops'; ``overload`` if any hop clipped.

    Raises
    ------
    ParameterError
        If the spectra do not match the plan (count, bins, grid, unit, RBW).

    Examples
    --------
    >>> plan = plan_sweep(100e6, 102e6, sample_rate_hz=1.024e6, fft_size=64)
    >>> hops = [Spectrum(h.f_center_hz - 32 * 16e3, 16e3, np.zeros(64, np.float32),
    ...                  "dBFS", 24e3, 10 * i, 10 * i + 5) for i, h in enumerate(plan)]
    >>> s = stitch(hops, plan)
    >>> s.n_bins, s.f_start_hz, s.f_stop_hz, s.hop_t_ns[:2], s.interpolated_bins
    (126, 100000000.0, 102000000.0, ((0, 0), (48, 10)), (23, 24, 25, 71, 72, 73, 119, 120, 121))
    """
    if len(hop_spectra) != len(plan):
        raise ParameterError(
            f"hop_spectra has {len(hop_spectra)} spectra but plan has {len(plan)} hops"
        )
    if not plan:
        raise ParameterError("plan must hold at least one hop")
    if isinstance(dc_guard_bins, bool) or not isinstance(dc_guard_bins, int) or dc_guard_bins < 0:
        raise ParameterError(f"dc_guard_bins must be an integer >= 0; got {dc_guard_bins!r}")
    f_start, step, n_out = sweep_grid(plan)
    ref = hop_spectra[0]
    out = np.empty(n_out, dtype=np.float32)
    filled = np.zeros(n_out, dtype=bool)
    for i, (spec, hop) in enumerate(zip(hop_spectra, plan, strict=True)):
        where = f"hop_spectra[{i}]"
        if spec.n_bins != hop.fft_size:
            raise ParameterError(f"{where} has {spec.n_bins} bins; the plan expects {hop.fft_size}")
        if abs(spec.f_step_hz - step) > 1e-9 * step:
            raise ParameterError(f"{where} has f_step_hz {spec.f_step_hz}; the plan expects {step}")
        expected = hop.f_center_hz - hop.dc_bin * step
        if abs(spec.f_start_hz - expected) > 0.01 * step:
            raise ParameterError(
                f"{where} starts at {spec.f_start_hz} Hz; the plan's hop starts at {expected} Hz"
            )
        if spec.power_unit != ref.power_unit:
            raise ParameterError(f"{where} is in {spec.power_unit}, hop 0 in {ref.power_unit}")
        if abs(spec.rbw_hz - ref.rbw_hz) > 1e-6 * ref.rbw_hz or spec.window != ref.window:
            raise ParameterError(f"{where} has a different window or RBW from hop 0")
        sl = slice(hop.out_first_bin, hop.out_first_bin + hop.n_bins)
        if filled[sl].any():
            raise ParameterError(f"plan hop {i} overlaps an earlier hop")
        out[sl] = spec.power_db[hop.first_bin : hop.first_bin + hop.n_bins]
        filled[sl] = True
    if not filled.all():
        raise ParameterError(f"plan leaves {int((~filled).sum())} sweep bins uncovered")

    interpolated = _fill_dc_bins(out, plan, dc_guard_bins)
    order = sorted(range(len(plan)), key=lambda i: plan[i].out_first_bin)
    return Spectrum(
        f_start_hz=f_start,
        f_step_hz=step,
        power_db=out,
        power_unit=ref.power_unit,
        rbw_hz=ref.rbw_hz,
        t_start_ns=min(s.t_start_ns for s in hop_spectra),
        t_end_ns=max(s.t_end_ns for s in hop_spectra),
        station_id=ref.station_id,
        receiver_id=ref.receiver_id,
        n_averages=min(s.n_averages for s in hop_spectra),
        window=ref.window,
        hop_t_ns=tuple((plan[i].out_first_bin, hop_spectra[i].t_start_ns) for i in order),
        overload=any(s.overload for s in hop_spectra),
        interpolated_bins=interpolated,
    )


def _fill_dc_bins(out: np.ndarray, plan: Sequence[Hop], guard: int) -> tuple[int, ...]:
    """Replace each hop's DC region in ``out`` (dB, in place); return the bins."""
    if guard == 0:
        return ()
    n_out = out.size
    bad = np.zeros(n_out, dtype=bool)
    for hop in plan:
        dc = hop.out_dc_bin
        if dc is not None:
            bad[max(0, dc - guard + 1) : min(n_out, dc + guard)] = True
    idx = np.flatnonzero(bad)
    good = np.flatnonzero(~bad)
    if idx.size == 0:
        return ()
    if good.size == 0:
        raise ParameterError("dc_guard_bins leaves no measured bin to interpolate from")
    lin = np.power(10.0, out[good].astype(np.float64) / 10.0)
    # np.interp holds the end values, so a DC bin at the sweep's edge copies its neighbour.
    out[idx] = (10.0 * np.log10(np.interp(idx, good, lin))).astype(np.float32)
    return tuple(int(i) for i in idx)


def sweep_spectrum(
    blocks: Sequence[IQBlock],
    plan: Sequence[Hop],
    *,
    gain_calibration: GainCalibration | None = None,
    dc_guard_bins: int = 2,
    **welch_kw: object,
) -> Spectrum:
    """One sweep from the IQ blocks a receiver captured at the plan's hops.

    Each block becomes a spectrum (:func:`dsp.spectrum.spectrum_from_block` with the
    plan's ``fft_size``), calibrated to dBm at the hop's centre frequency and the
    block's gain when ``gain_calibration`` is given, and the spectra are stitched.

    Parameters
    ----------
    blocks:
        ``blocks[i]`` captured at ``plan[i]``.
    plan:
        From :func:`plan_sweep`.
    gain_calibration:
        The receiver's gain table (all blocks must then have a manual gain).
    dc_guard_bins:
        As for :func:`stitch`.
    **welch_kw:
        Other keywords of :func:`dsp.spectrum.welch_spectrum` (``window``,
        ``overlap``, ``n_averages``, ``station_id``, ``remove_dc``).

    Raises
    ------
    ParameterError
        If a block's tuning or sample rate does not match its hop.
    """
    if len(blocks) != len(plan):
        raise ParameterError(f"blocks has {len(blocks)} blocks but plan has {len(plan)} hops")
    for key in ("fft_size", "calibration_offset_db"):
        if key in welch_kw:
            raise ParameterError(f"{key} comes from the plan / gain_calibration; do not pass it")
    spectra = []
    for i, (block, hop) in enumerate(zip(blocks, plan, strict=True)):
        if abs(block.sample_rate_hz - hop.sample_rate_hz) > 1e-9 * hop.sample_rate_hz:
            raise ParameterError(
                f"blocks[{i}] has sample_rate_hz {block.sample_rate_hz}; "
                f"the plan expects {hop.sample_rate_hz}"
            )
        if abs(block.f_center_hz - hop.f_center_hz) > 0.01 * hop.f_step_hz:
            raise ParameterError(
                f"blocks[{i}] is tuned to {block.f_center_hz} Hz; the plan's hop is at "
                f"{hop.f_center_hz} Hz"
            )
        offset = (
            None
            if gain_calibration is None
            else float(gain_calibration.offset_db(hop.f_center_hz, block.gain_db))
        )
        spectra.append(
            spectrum_from_block(
                block, fft_size=hop.fft_size, calibration_offset_db=offset, **welch_kw
            )
        )
    return stitch(spectra, plan, dc_guard_bins=dc_guard_bins)
