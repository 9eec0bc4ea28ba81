"""The bin response of a survey's hops, estimated from its noise, and equalised.

A survey tool such as ``rtl_power`` covers a span in hops and keeps every FFT bin of
each hop (by default it crops nothing). The receiver's filters roll off towards each
hop's edges (the RTL2832U's decimation filter, rtl_power's own downsampling filter,
the window's scalloping): the same few dB of ripple across every hop, and a dip where
two hops meet (the *seam*). Analysed as is, the dip pulls the percentile noise floor
down for hundreds of kHz either side, a station on a seam reads several dB low, and
the hops' flat middles stand "above the floor" as hop-wide false candidates.

The response is the same in every hop (one FFT size, one filter chain), so it can be
measured from the survey itself: average each bin over the sweeps (linear mean), take
each hop's level out, and at each bin position take a low quantile over the hops.
Signals occupy a few hops at any one bin position and only raise values, so the low
quantile over hops is the noise's response. Bin positions whose estimate is not
significantly different from the hops' middle (within 3 standard errors, from the
scatter over hops) are left alone, so equalising a flat survey changes nothing.

Assumption (stated where it is used): the noise passes the same filters as the
signals. That holds where the noise enters before the filters (thermal noise of the
tuner, and rtl_power's downsampling filter acts on both). Where a white floor added
after the filter is a large share of the noise (8-bit requantisation at low gain),
the signal's dip is deeper than the noise's and a station on a seam is still read
low by the difference; ``white_floor_db`` removes that floor first when it is known.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dsp.errors import ParameterError
from dsp.types import Spectrum

__all__ = ["HopResponse", "hop_extents", "estimate_hop_response", "equalise_hops"]

#: Fewest hops of the common length needed to tell the response from the signals.
MIN_HOPS = 4
#: Quantile over hops (0-1) taken at each bin position: low, because signals only
#: raise values, and not the minimum, whose noise bias grows with the hop count.
HOP_QUANTILE = 0.3
#: Largest correction applied to one bin (dB): deeper dips hold no usable signal.
MAX_BOOST_DB = 20.0


@dataclass(frozen=True, slots=True)
class HopResponse:
    """The power response of a hop's bins, relative to the hop's middle.

    Attributes
    ----------
    response_db:
        ``(hop_bins,)`` dB per bin position within a hop (0 = as the middle; a seam
        dip is negative). Positions not significantly different from 0 are 0.
    n_hops:
        Hops of the common length that entered the estimate.
    n_sweeps:
        Sweeps averaged.
    white_floor_db:
        The white floor removed before the response was measured, dB in the
        spectra's unit per bin, or ``None``.
    """

    response_db: np.ndarray
    n_hops: int
    n_sweeps: int
    white_floor_db: float | None = None

    @property
    def hop_bins(self) -> int:
        return int(self.response_db.size)

    @property
    def depth_db(self) -> float:
        """Deepest dip of the response, dB (>= 0)."""
        return float(-min(0.0, float(np.min(self.response_db))))


def hop_extents(spectrum: Spectrum) -> list[tuple[int, int]]:
    """``(first, end)`` bin ranges of the hops of a stitched spectrum.

    From ``spectrum.hop_t_ns``: a hop runs from its first bin to the next hop's first
    bin, less any unmeasured (NaN) bins at its end (the gaps a survey file leaves
    between hops). One range covering everything when there is no hop layout.
    """
    n = spectrum.n_bins
    firsts = sorted({b for b, _ in spectrum.hop_t_ns if 0 <= b < n})
    if not firsts:
        return [(0, n)]
    finite = np.isfinite(np.asarray(spectrum.power_db))
    out = []
    for a, b in zip(firsts, [*firsts[1:], n], strict=True):
        while b > a and not finite[b - 1]:
            b -= 1
        if b > a:
            out.append((a, b))
    return out


def _check_spectra(spectra: Sequence[Spectrum]) -> list[Spectrum]:
    spectra = list(spectra)
    if not spectra:
        raise ParameterError("spectra must not be empty")
    for i, s in enumerate(spectra):
        if not isinstance(s, Spectrum):
            raise ParameterError(f"spectra[{i}] is not a Spectrum: {type(s).__name__}")
        if s.n_bins != spectra[0].n_bins:
            raise ParameterError(f"spectra[{i}] has {s.n_bins} bins, spectra[0] "
                                 f"{spectra[0].n_bins}")
    return spectra


def estimate_hop_response(
    spectra: Sequence[Spectrum],
    *,
    white_floor_db: float | None = None,
    min_hops: int = MIN_HOPS,
) -> HopResponse | None:
    """Estimate the bin response shared by the hops of a survey (see the module notes).

    Parameters
    ----------
    spectra:
        The sweeps, on one grid, with the hop layout in ``hop_t_ns`` (as
        :func:`firmware_bridge.survey_csv.read_survey_csv` and
        :func:`dsp.sweep.stitch` give it).
    white_floor_db:
        Level per bin (dB, the spectra's unit) of a white floor added after the
        hop's filters, if known; it is removed before the response is measured and
        restored by :func:`equalise_hops`.
    min_hops:
        Fewest hops of the common (most frequent) length needed.

    Returns
    -------
    HopResponse or None
        ``None`` when the survey has fewer than ``min_hops`` hops of one length (a
        single-hop survey cannot tell its response from a signal filling it).
    """
    spectra = _check_spectra(spectra)
    if isinstance(min_hops, bool) or not isinstance(min_hops, int) or min_hops < 3:
        raise ParameterError(f"min_hops must be an integer >= 3, got {min_hops!r}")
    if white_floor_db is not None and not math.isfinite(white_floor_db):
        raise ParameterError(f"white_floor_db must be finite or None, got {white_floor_db!r}")
    extents = hop_extents(spectra[0])
    lengths = [b - a for a, b in extents]
    k = max(set(lengths), key=lambda n: (lengths.count(n), n))
    rows = [(a, b) for a, b in extents if b - a == k]
    if len(rows) < min_hops or k < 8:
        return None
    # Linear mean over the sweeps, one sweep at a time (a long survey does not fit
    # in memory as one array); a bin not measured in a sweep (NaN) averages the rest.
    total = np.zeros((len(rows), k))
    count = np.zeros((len(rows), k))
    for s in spectra:
        lin = np.stack([10.0 ** (np.asarray(s.power_db[a:b], dtype=np.float64) / 10.0)
                        for a, b in rows])
        ok = np.isfinite(lin)
        total += np.where(ok, lin, 0.0)
        count += ok
    with np.errstate(divide="ignore", invalid="ignore"):
        m = total / count  # (hops, k) linear; NaN where never measured
    if white_floor_db is not None:
        # Where the noise is all white floor (deep in a seam), the remainder is noise
        # about zero: keep it above the largest correction applied.
        m = np.maximum(m - 10.0 ** (white_floor_db / 10.0), 10.0 ** (-MAX_BOOST_DB / 10.0) * m)
    with np.errstate(divide="ignore", invalid="ignore"):
        m_db = 10.0 * np.log10(m)
    if not np.isfinite(m_db).all():
        return None  # gaps inside hops, or the white floor above the noise
    response = np.zeros(k)
    for _ in range(3):
        level = np.quantile(m_db - response, HOP_QUANTILE, axis=1, keepdims=True)
        response = np.quantile(m_db - level, HOP_QUANTILE, axis=0)
        middle = response[k // 4 : k - k // 4]
        response -= np.median(middle)
    # Standard error per position from the scatter over hops (MAD, robust to signals).
    resid = m_db - level - response
    mad = np.median(np.abs(resid - np.median(resid, axis=0)), axis=0)
    se = 1.4826 * mad * math.sqrt(math.pi / 2.0) / math.sqrt(len(rows))
    se_typical = float(np.median(se))
    significant = np.abs(response) > 3.0 * np.maximum(se, se_typical)
    response = np.where(significant, np.clip(response, -MAX_BOOST_DB, MAX_BOOST_DB), 0.0)
    return HopResponse(response_db=response.astype(np.float64), n_hops=len(rows),
                       n_sweeps=len(spectra), white_floor_db=white_floor_db)


def equalise_hops(spectrum: Spectrum, response: HopResponse) -> Spectrum:
    """Divide each hop of ``spectrum`` by the hop response (dB: subtract it).

    Every hop is corrected from its first bin; a hop shorter than the response (the
    last of a survey that ends early) takes the response's first bins. A hop longer
    than the response is left as is. With a ``white_floor_db`` the floor is taken
    out before the division and put back after, so the noise stays flat at its
    mid-hop level and a signal's power is restored.
    """
    if not isinstance(spectrum, Spectrum):
        raise ParameterError(f"spectrum must be a Spectrum, got {type(spectrum).__name__}")
    if not isinstance(response, HopResponse):
        raise ParameterError(f"response must be a HopResponse, got {type(response).__name__}")
    p = np.asarray(spectrum.power_db, dtype=np.float64).copy()
    gain = 10.0 ** (-response.response_db / 10.0)
    white = 0.0 if response.white_floor_db is None else 10.0 ** (response.white_floor_db / 10.0)
    for a, b in hop_extents(spectrum):
        if b - a > response.hop_bins:
            continue
        lin = 10.0 ** (p[a:b] / 10.0)
        lin = np.maximum(lin - white, 1e-3 * lin) * gain[: b - a] + white
        p[a:b] = 10.0 * np.log10(lin)
    return dataclasses.replace(spectrum, power_db=p.astype(np.float32))
