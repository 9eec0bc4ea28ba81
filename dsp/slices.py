"""Spectra of short time slices of one IQ block (in-memory reference).

Detection on a block's average misses what is on for a small part of it: a 10 ms
burst in a 1 s block is diluted 20 dB by its duty cycle. :func:`compute_time_slices`
cuts the samples into consecutive slices of :data:`DEFAULT_SLICE_NS` (5 ms, so a
10 ms burst fills at least one slice whatever its phase) and computes each slice's
Welch spectrum on the block spectrum's grid (same FFT size, window and overlap).

This is the reference the streaming pass of :mod:`dsp.iq_analysis` is checked
against: it holds the whole block in memory.
"""

from __future__ import annotations

import math

import numpy as np

from dsp.errors import ParameterError
from dsp.types import TimeSlices

__all__ = ["DEFAULT_SLICE_NS", "MIN_FRAMES_PER_SLICE", "slice_samples", "compute_time_slices"]

#: Default slice length, ns: a 10 ms burst covers at least one whole slice.
DEFAULT_SLICE_NS = 5_000_000
#: Fewest Welch frames (50 % overlap) in one slice; shorter slices are lengthened.
MIN_FRAMES_PER_SLICE = 3


def slice_samples(sample_rate_hz: float, fft_size: int, slice_ns: int) -> int:
    """Complex samples per slice: ``slice_ns`` worth, at least :data:`MIN_FRAMES_PER_SLICE`
    half-overlapped frames of ``fft_size``.

    Examples
    --------
    >>> slice_samples(2.4e6, 2048, 5_000_000)
    12000
    >>> slice_samples(250e3, 1024, 1_000_000)  # 250 samples < 3 frames of 1024
    2048
    """
    if not (math.isfinite(sample_rate_hz) and sample_rate_hz > 0):
        raise ParameterError(f"sample_rate_hz must be finite and > 0, got {sample_rate_hz!r}")
    if not (isinstance(slice_ns, int | np.integer) and slice_ns > 0):
        raise ParameterError(f"slice_ns must be a positive integer, got {slice_ns!r}")
    want = int(round(slice_ns * sample_rate_hz / 1e9))
    least = fft_size * (MIN_FRAMES_PER_SLICE + 1) // 2
    return max(want, least)


def compute_time_slices(
    samples: np.ndarray,
    *,
    sample_rate_hz: float,
    f_center_hz: float,
    fft_size: int,
    slice_ns: int = DEFAULT_SLICE_NS,
    t_start_ns: int = 0,
    calibration_offset_db: float | None = None,
) -> TimeSlices:
    """Welch spectra of consecutive slices of ``samples`` on one grid.

    Parameters
    ----------
    samples:
        ``uint8`` interleaved I/Q or complex samples (full scale 1.0), as for
        :func:`dsp.spectrum.welch_spectrum`.
    sample_rate_hz, f_center_hz:
        Complex sample rate and tuned centre, Hz.
    fft_size:
        FFT size of the block spectrum (the slices share its grid).
    slice_ns:
        Slice length, ns (lengthened to hold :data:`MIN_FRAMES_PER_SLICE` frames).
    t_start_ns:
        UTC time of the first sample, ns.
    calibration_offset_db:
        dB from dBFS to dBm, as for the block spectrum (``None``: dBFS).

    Returns
    -------
    TimeSlices
        ``power_db`` (n_slices, fft_size) float32. A last partial slice is kept when
        it holds at least half a slice (and :data:`MIN_FRAMES_PER_SLICE` frames), else
        dropped; its end is then the block's end, not ``t_start + slice_ns``. Zero
        slices when the block is shorter than one slice.
    """
    from dsp.spectrum import welch_spectrum

    x = np.asarray(samples)
    width = 2 if x.dtype == np.uint8 else 1
    n_samples = x.size // width
    per = slice_samples(sample_rate_hz, fft_size, slice_ns)
    n_slices = n_samples // per
    # A last partial slice counts when it holds half a slice (a burst at the very
    # end of a short recording is in it); its spectrum averages the frames it has.
    if n_samples - n_slices * per >= max(per // 2, fft_size * (MIN_FRAMES_PER_SLICE + 1) // 2):
        n_slices += 1
    frames = 2 * per // fft_size - 1  # whole half-overlapped frames in one slice
    power = np.empty((n_slices, fft_size), dtype=np.float32)
    starts = np.empty(n_slices, dtype=np.int64)
    for k in range(n_slices):
        part = x[k * per * width:(k + 1) * per * width]
        s = welch_spectrum(part, sample_rate_hz=sample_rate_hz, f_center_hz=f_center_hz,
                           fft_size=fft_size, calibration_offset_db=calibration_offset_db)
        power[k] = s.power_db
        starts[k] = t_start_ns + int(round(k * per * 1e9 / sample_rate_hz))
    return TimeSlices(power_db=power, t_start_ns=starts,
                      slice_ns=int(round(per * 1e9 / sample_rate_hz)), n_averages=int(frames))
