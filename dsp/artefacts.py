"""RTL-SDR receiver artefacts, rejected before anything is reported as an emission.

Three artefacts of a zero-IF 8-bit receiver look like emissions:

- **DC spike**: LO leakage and ADC offset put a narrow peak at the tuned centre.
  Rule: a narrow emission (99 % bandwidth at most ``dc_max_bw_hz``, default 4 bins)
  whose centre is within ``dc_tolerance_bins`` bins of a tuned centre.
- **IQ image**: gain/phase imbalance between I and Q mirrors every signal about the
  tuned centre, weaker by the image-rejection ratio (typically 25-45 dB on an
  R820T). Rule: an emission within ``max(2 bins, 5 % of its bandwidth)`` of the
  mirror ``2 fc - f`` of a stronger one, with a similar bandwidth (ratio 0.5-2)
  and ``image_rejection_db[0]`` to ``image_rejection_db[1]`` dB weaker.
- **Overload products**: when the ADC clips (``Spectrum.overload``), odd-order
  products of the strong signals appear: third-order intermodulation at
  ``2 f1 - f2`` and, since I and Q clip separately, mirrored and tripled offsets
  ``-d``, ``+-3 d`` about the centre (wrapped into the sampled band). Rule: on an
  overloaded spectrum, an emission at least ``overload_below_db`` dB below the
  strongest one and within ``max(3 bins, its bandwidth)`` of such a product. This
  fixed-level rule is kept for callers of this function; :func:`dsp.analysis.
  analyze_spectrum` passes ``overload=False`` and tells products by structure and
  keying instead (:mod:`dsp.overload`), with no level difference.

These rules can reject a real but unlucky emission (one that sits exactly on the
mirror of a stronger one); :func:`verify_by_retuning` settles it: re-measure with
the LO shifted; a real emission stays at its RF frequency, an artefact moves with
the LO.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from dsp.types import Emission, Spectrum

__all__ = [
    "REASON_DC",
    "REASON_IMAGE",
    "REASON_OVERLOAD",
    "RetuneVerdict",
    "reject_artefacts",
    "verify_by_retuning",
]

REASON_DC = "dc_spike"
REASON_IMAGE = "iq_image"
REASON_OVERLOAD = "overload_product"


def _near(f_hz: float, targets: np.ndarray, tol_hz: float) -> bool:
    return bool(targets.size) and bool(np.min(np.abs(targets - f_hz)) <= tol_hz)


def _wrap(offsets_hz: np.ndarray, span_hz: float) -> np.ndarray:
    """Offsets from the tuned centre folded into the sampled band [-span/2, span/2)."""
    return (offsets_hz + span_hz / 2) % span_hz - span_hz / 2


def reject_artefacts(
    emissions: Sequence[Emission],
    spectrum: Spectrum,
    *,
    tuned_centres_hz: Sequence[float] = (),
    dc_tolerance_bins: float = 2.0,
    dc_max_bw_hz: float | None = None,
    image_rejection_db: tuple[float, float] = (15.0, 70.0),
    overload_below_db: float = 20.0,
    overload: bool | None = None,
) -> tuple[tuple[Emission, ...], tuple[tuple[Emission, str], ...]]:
    """Split ``emissions`` into (kept, rejected-with-reason).

    Parameters
    ----------
    emissions:
        Emissions measured on ``spectrum``.
    spectrum:
        The spectrum they were measured on (bin width, span, overload flag).
    tuned_centres_hz:
        The LO frequencies the spectrum was taken at (one for an IQ spectrum, one per
        hop for a sweep). Without them no DC or image rule applies.
    dc_tolerance_bins:
        How close to a tuned centre, in bins, a DC spike is.
    dc_max_bw_hz:
        Widest 99 % bandwidth of a DC spike (default 4 bins).
    image_rejection_db:
        (min, max) dB by which an image is weaker than its original.
    overload_below_db:
        How much weaker than the strongest emission an overload product is, dB.
    overload:
        Whether the ADC clipped; default ``spectrum.overload``.

    Returns
    -------
    (tuple of Emission, tuple of (Emission, str))
        The emissions to report and the rejected ones with their reason
        (:data:`REASON_DC`, :data:`REASON_IMAGE`, :data:`REASON_OVERLOAD`).
    """
    lo_db, hi_db = image_rejection_db
    if not (0 <= lo_db < hi_db):
        raise ValueError(f"image_rejection_db must be (min, max) with 0 <= min < max, got "
                         f"{image_rejection_db!r}")
    if not dc_tolerance_bins >= 0:
        raise ValueError(f"dc_tolerance_bins must be >= 0, got {dc_tolerance_bins!r}")
    step = spectrum.f_step_hz
    centres = np.asarray(list(tuned_centres_hz), dtype=np.float64)
    if not np.all(np.isfinite(centres)):
        raise ValueError("tuned_centres_hz must be finite")
    dc_bw = 4 * step if dc_max_bw_hz is None else dc_max_bw_hz
    overload = spectrum.overload if overload is None else overload
    span_hz = spectrum.n_bins * step
    ems = list(emissions)
    reasons: list[str | None] = [None] * len(ems)
    if not ems or centres.size == 0:
        return tuple(ems), ()
    f = np.array([e.f_hz for e in ems])
    bw = np.array([e.bw_99_hz for e in ems])
    power = np.array([e.power_db for e in ems])
    # Each emission was measured at the tuning nearest to it (one hop of a sweep);
    # its DC spike, image partner and overload products belong to that tuning.
    centres = np.sort(centres)
    k = np.clip(np.searchsorted(centres, f), 1, max(centres.size - 1, 1))
    if centres.size == 1:
        near_c = np.full(f.size, centres[0])
    else:
        left, right = centres[k - 1], centres[k]
        near_c = np.where(np.abs(f - left) <= np.abs(f - right), left, right)

    is_dc = (bw <= dc_bw) & (np.abs(f - near_c) <= dc_tolerance_bins * step)
    for i in np.flatnonzero(is_dc):
        reasons[i] = REASON_DC

    order = np.argsort(f)
    f_sorted = f[order]
    for i in range(len(ems)):
        if reasons[i] is not None:
            continue
        mirror = 2 * near_c[i] - f[i]  # where the original of an image would be
        tol = max(2 * step, 0.05 * bw[i])
        lo = np.searchsorted(f_sorted, mirror - tol - 0.05 * bw.max(), side="left")
        hi = np.searchsorted(f_sorted, mirror + tol + 0.05 * bw.max(), side="right")
        for j in order[lo:hi]:
            if j == i or reasons[j] == REASON_DC:
                continue
            if abs(f[j] - mirror) > max(tol, 0.05 * bw[j]):
                continue
            if not lo_db <= power[j] - power[i] <= hi_db:
                continue
            if 0.5 <= (bw[i] + step) / (bw[j] + step) <= 2.0:
                reasons[i] = REASON_IMAGE
                break

    if overload and len(ems) > 1:
        for c in np.unique(near_c):
            members = np.flatnonzero(near_c == c)
            if members.size < 2:
                continue
            strongest = float(power[members].max())
            strong = members[power[members] >= strongest - 10.0]
            d = f[strong] - c
            prods = [-d, 3 * d, -3 * d, (2 * d[:, None] - d[None, :])[~np.eye(d.size, dtype=bool)]]
            prod_f = c + _wrap(np.concatenate(prods), span_hz)
            for i in members:
                if reasons[i] is None and power[i] <= strongest - overload_below_db:
                    if _near(f[i], prod_f, max(3 * step, bw[i])):
                        reasons[i] = REASON_OVERLOAD

    kept = tuple(e for e, r in zip(ems, reasons, strict=True) if r is None)
    rejected = tuple((e, r) for e, r in zip(ems, reasons, strict=True) if r is not None)
    return kept, rejected


@dataclass(frozen=True, slots=True)
class RetuneVerdict:
    """Outcome of re-measuring an emission with the LO shifted.

    ``real`` is True when the power at the emission's RF frequency stayed within
    ``tolerance_db`` of the original measurement after retuning; ``power_after``
    is the channel power found at the same RF frequency in the shifted spectrum
    (same unit), ``excess_after_db`` how far that stands above the shifted
    spectrum's floor.
    """

    real: bool
    power_before: float
    power_after: float
    excess_after_db: float
    shift_hz: float


def verify_by_retuning(
    emission: Emission,
    remeasure: Callable[[float], Spectrum],
    *,
    f_center_hz: float,
    shift_hz: float | None = None,
    tolerance_db: float = 6.0,
    min_excess_db: float = 3.0,
) -> RetuneVerdict:
    """Re-measure a suspicious emission with the LO moved by ``shift_hz``.

    A real emission stays at its RF frequency; a DC spike, IQ image or overload
    product moves with the LO (by ``shift``, ``2 shift`` or more), so the power at
    the old RF frequency collapses to the noise.

    Parameters
    ----------
    emission:
        The emission (measured with the LO at ``f_center_hz``).
    remeasure:
        ``remeasure(f_center_hz) -> Spectrum``: tune to the given centre and return a
        fresh spectrum (same unit as the first).
    f_center_hz:
        The LO frequency of the original measurement.
    shift_hz:
        LO shift (default: ``4 * max(bw_99, 10 bins)``, so the emission's old and
        new positions do not overlap).
    tolerance_db:
        A real emission's power may differ by this much after retuning.
    min_excess_db:
        The re-measured channel must stand this much above the new floor.

    Returns
    -------
    RetuneVerdict
    """
    # Local import: the floor estimator is only needed here, and dsp.noise does not
    # import this module.
    from dsp.measure import channel_power
    from dsp.noise import estimate_noise_floor

    if not math.isfinite(f_center_hz):
        raise ValueError(f"f_center_hz must be finite, got {f_center_hz!r}")
    bw = max(emission.bw_99_hz, emission.f_resolution_hz * 3)
    if shift_hz is None:
        shift_hz = 4.0 * max(emission.bw_99_hz, 10 * emission.f_resolution_hz)
    if not (math.isfinite(shift_hz) and shift_hz != 0):
        raise ValueError(f"shift_hz must be finite and non-zero, got {shift_hz!r}")
    shifted = remeasure(f_center_hz + shift_hz)
    if not isinstance(shifted, Spectrum):
        raise TypeError(f"remeasure must return a Spectrum, got {type(shifted).__name__}")
    f_lo, f_hi = emission.f_hz - bw / 2, emission.f_hz + bw / 2
    if not (shifted.f_start_hz <= emission.f_hz <= shifted.f_stop_hz):
        raise ValueError(
            f"the shifted spectrum ({shifted.f_start_hz:.0f}-{shifted.f_stop_hz:.0f} Hz) does "
            f"not cover the emission at {emission.f_hz:.0f} Hz; use a smaller shift_hz"
        )
    after = channel_power(shifted, f_lo, f_hi)
    floor = estimate_noise_floor(shifted)
    sel = (shifted.f_hz() >= f_lo) & (shifted.f_hz() <= f_hi)
    n_bins = max(int(sel.sum()), 1)
    floor_lin = float(np.mean(10 ** (floor[sel] / 10))) if sel.any() else 10 ** (floor.min() / 10)
    noise_channel = 10 * math.log10(floor_lin * n_bins * shifted.f_step_hz / shifted.rbw_hz)
    excess = after - noise_channel
    before = 10 * math.log10(10 ** (emission.power_db / 10) + 10 ** (noise_channel / 10))
    real = excess >= min_excess_db and abs(after - before) <= tolerance_db
    return RetuneVerdict(bool(real), float(before), float(after), float(excess), float(shift_hz))
