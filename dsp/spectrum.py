"""Averaged power spectra (Welch's method) from raw or complex IQ, fast.

Scaling (what a number in ``Spectrum.power_db`` means)
------------------------------------------------------
Each frame of ``fft_size`` samples is multiplied by the window ``w`` and
transformed; the frames' ``|X|**2`` are averaged and divided by ``sum(w)**2``. So:

- a complex sinusoid of amplitude ``A`` centred on a bin reads ``20*log10(A)`` in
  that bin: 0 dBFS is a complex sinusoid of amplitude 1 after the uint8 -> [-1, 1)
  mapping of :mod:`dsp.iq` (the same convention as ``scipy.signal.welch(...,
  scaling='spectrum', return_onesided=False, detrend=False)``);
- white noise of total power ``sigma2`` (``E|x|**2``) reads
  ``sigma2 * enbw_bins / fft_size`` per bin, i.e. its PSD times the RBW. To integrate
  noise or a modulated emission over a band, sum the bins' linear power and divide
  by the ENBW in bins (:func:`band_power_db` does it), or work with the density
  :func:`psd_db_hz` (per Hz). The RBW (the window's ENBW in Hz) travels with every
  :class:`~dsp.types.Spectrum` as ``rbw_hz``.

With ``calibration_offset_db`` (from :class:`dsp.calibration.GainCalibration`)
the powers are dBm: ``dBm = dBFS + offset``.

DC removal
----------
``remove_dc=True`` removes the block's DC offset (the RTL-SDR's LO leakage and ADC
bias) by subtracting ``c * FFT(w)`` from every frame's transform, where ``c`` is the
window-weighted mean of the analysed samples (the frames' mean DC bin divided by
``sum(w)``). This is exactly ``FFT((x - c) * w)``, costs no extra pass over the
data, and touches only the few bins where ``FFT(w)`` is non-zero (3 for ``hann``).
The DC bin then holds the *fluctuation* of the DC term, about the noise level.

Speed
-----
The hot path never builds a complex copy of the input: overlapping frames are a
strided view (no copy) of the float32 data, or, for uint8, of a float32 copy of
just the samples a batch of frames covers (one exact conversion, cheaper than a
mixed-type multiply of overlapping uint8 frames); they are multiplied by a cached
interleaved float32 window (``w / 128`` for uint8, which folds in the scaling) into
a reused cache-sized buffer, transformed in place in single precision (FFTW through
pyFFTW with a measured plan per FFT size and thread when it is installed, else
``scipy.fft``'s pocketfft, one worker), squared in place and summed per batch into
a float64 accumulator. The 127.5 offset of uint8 samples is the constant ``c``
above. FFTW plans are made once per FFT size and thread; FFTW's wisdom can be kept
between processes by the caller (:func:`export_fftw_wisdom`,
:func:`import_fftw_wisdom`; ``rfwatch analyze`` keeps it under the home folder),
so a new process does not measure its plans again. ``bench/dsp.py`` measures the
throughput against the goals and against a C+FFTW program doing the same work.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType

import numpy as np
import scipy.fft

from dsp.errors import ParameterError
from dsp.types import IQBlock, Spectrum
from dsp.windows import WINDOW_NAMES, enbw_bins, window

__all__ = [
    "POWER_FLOOR_DB",
    "welch_spectrum",
    "spectrum_from_block",
    "psd_db_hz",
    "band_power_db",
    "export_fftw_wisdom",
    "import_fftw_wisdom",
]

POWER_FLOOR_DB = -300.0
"""Bins with zero power (digital silence) read this instead of ``-inf``."""

_U8_ZERO = 127.5 / 128.0  # the complex value (1+1j)*_U8_ZERO is raw (127.5, 127.5)
# Rows per chunk: about 1 MiB of complex64 per chunk stays inside the 2 MiB L2
# cache with room for the window and the accumulator.
_CHUNK_BYTES = 1 << 20

# FFTW batches are smaller: whole batches go through FFTW, so a block of 100 frames
# should hold some (64 frames of 1024 complex64 = 512 KiB, half the L2 of one core
# of the EPYC build machine; measured a little faster than 256 KiB and 1 MiB).
_FFTW_CHUNK_BYTES = 1 << 19

_local = threading.local()  # per-thread reusable frame buffers and FFTW plans
_PYFFTW: list[ModuleType | None] = []  # [module or None] once looked up


@dataclass(frozen=True, slots=True)
class _WindowPlan:
    """Everything about a (window, fft_size, input scale) that is computed once."""

    w2: np.ndarray  # float32, interleaved (w*scale, w*scale), length 2*n
    sum_w: float
    enbw_bins: float
    w_bins: np.ndarray  # int indices (FFT order) where FFT(w) is non-zero
    w_fft: np.ndarray  # complex128 FFT(w) at w_bins


@lru_cache(maxsize=32)
def _window_plan(name: str, n: int, scale: float) -> _WindowPlan:
    w = window(name, n)
    w2 = np.repeat(w * scale, 2).astype(np.float32)
    w2.setflags(write=False)
    wf = np.fft.fft(w)
    # Cosine-sum windows have a handful of non-zero DFT bins; the rest are rounding.
    bins = np.flatnonzero(np.abs(wf) > 1e-9 * np.abs(wf).max())
    w_fft = wf[bins]
    bins.setflags(write=False)  # shared through the cache
    w_fft.setflags(write=False)
    return _WindowPlan(
        w2=w2,
        sum_w=float(np.sum(w)),
        enbw_bins=enbw_bins(w),
        w_bins=bins,
        w_fft=w_fft,
    )


def _frame_buffer(rows: int, n: int) -> np.ndarray:
    cache = getattr(_local, "buffers", None)
    if cache is None:
        cache = _local.buffers = {}
    buf = cache.get((rows, n))
    if buf is None:
        if len(cache) > 8:
            cache.clear()
        buf = cache[(rows, n)] = np.empty((rows, 2 * n), dtype=np.float32)
    return buf


def _check_finite(value: float, name: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a number; got {type(value).__name__}")
    v = float(value)
    if not math.isfinite(v) or (positive and v <= 0):
        kind = "positive and finite" if positive else "finite"
        raise ParameterError(f"{name} must be {kind}; got {value!r}")
    return v


def _interleaved_view(samples: np.ndarray) -> tuple[np.ndarray, int, float, bool]:
    """(1-D real view I,Q,I,Q..., complex sample count, scale, is_u8)."""
    if not isinstance(samples, np.ndarray):
        raise TypeError(f"samples must be a numpy array; got {type(samples).__name__}")
    if samples.ndim != 1:
        raise ParameterError(f"samples must be 1-D; got shape {samples.shape}")
    if samples.dtype == np.uint8:
        if samples.size % 2:
            raise ParameterError(
                f"samples (uint8 interleaved I/Q) must have an even length; got {samples.size}"
            )
        return np.ascontiguousarray(samples), samples.size // 2, 1.0 / 128.0, True
    if samples.dtype in (np.complex64, np.complex128):
        flat = np.ascontiguousarray(samples)
        real = flat.view(np.float32 if samples.dtype == np.complex64 else np.float64)
        return real, samples.size, 1.0, False
    raise TypeError(f"samples must be uint8 interleaved I/Q or complex; got {samples.dtype}")


def _pyfftw() -> ModuleType | None:
    """pyFFTW if it is installed (imported on first use, not at import time)."""
    if not _PYFFTW:
        try:
            import pyfftw
        except ImportError:
            pyfftw = None
        _PYFFTW.append(pyfftw)
    return _PYFFTW[0]


def _fftw_rows(n: int) -> int:
    """Frames per FFTW batch: about :data:`_FFTW_CHUNK_BYTES` of complex64, >= 1."""
    return max(1, _FFTW_CHUNK_BYTES // (8 * n))


def _fftw_chunk(n: int) -> tuple[np.ndarray, Callable[[], object]]:
    """This thread's aligned (rows, 2n) float32 buffer and an FFTW plan that
    transforms it in place as (rows, n) complex64. One plan per FFT size and
    thread: FFTW_MEASURE planning takes ~0.2 s, then the plan runs about twice as
    fast as pocketfft. (pyFFTW serialises planning with its own lock.)"""
    cache = getattr(_local, "fftw", None)
    if cache is None:
        cache = _local.fftw = {}
    entry = cache.get(n)
    if entry is None:
        if len(cache) >= 8:  # a handful of FFT sizes per thread in practice
            cache.clear()
        pyfftw = _pyfftw()
        rows = _fftw_rows(n)
        buf = pyfftw.empty_aligned((rows, 2 * n), dtype=np.float32)
        cbuf = buf.view(np.complex64)
        plan = pyfftw.FFTW(
            cbuf,
            cbuf,
            axes=(-1,),
            direction="FFTW_FORWARD",
            flags=("FFTW_MEASURE", "FFTW_DESTROY_INPUT"),
            threads=1,
        )
        entry = cache[n] = (buf, plan.execute)
    return entry


def export_fftw_wisdom() -> bytes | None:
    """FFTW's wisdom (what it learnt measuring plans) as bytes; ``None`` without pyFFTW.

    Kept by the caller between processes and given back with
    :func:`import_fftw_wisdom`, a new process makes its plans at once instead of
    measuring them again (about 0.1-0.3 s per FFT size, more on a loaded machine).
    ``dsp`` does no I/O: where the bytes are kept is the caller's business.
    """
    pyfftw = _pyfftw()
    if pyfftw is None:
        return None
    parts = pyfftw.export_wisdom()  # (double, single, long double)
    return b"".join(len(w).to_bytes(8, "little") + w for w in parts)


def import_fftw_wisdom(data: bytes) -> bool:
    """Give FFTW wisdom made by :func:`export_fftw_wisdom`; False if it cannot be used."""
    pyfftw = _pyfftw()
    if pyfftw is None or not isinstance(data, bytes | bytearray):
        return False
    parts, i = [], 0
    for _ in range(3):
        if i + 8 > len(data):
            return False
        k = int.from_bytes(data[i:i + 8], "little")
        parts.append(bytes(data[i + 8:i + 8 + k]))
        i += 8 + k
    try:
        return bool(all(pyfftw.import_wisdom(tuple(parts))))
    except (TypeError, ValueError):
        return False


def _scratch(size: int) -> np.ndarray:
    """This thread's float32 scratch of at least ``size`` values (for uint8 frames)."""
    buf = getattr(_local, "scratch", None)
    if buf is None or buf.size < size:
        buf = _local.scratch = np.empty(size, dtype=np.float32)
    return buf


def _window_into(real: np.ndarray, first: int, rows: int, n: int, step: int,
                 plan: _WindowPlan, out: np.ndarray) -> None:
    """Frames ``first .. first+rows-1`` of ``real`` times the window, into ``out``."""
    item = real.itemsize
    a = 2 * first * step
    if real.dtype == np.uint8 and step <= n:
        # uint8 -> float32 once over the samples the frames cover (exact), then a
        # float32 multiply: cheaper than a mixed-type multiply of the overlapping
        # uint8 frames, which numpy casts through small buffers twice over.
        m = 2 * ((rows - 1) * step + n)
        scratch = _scratch(m)
        np.copyto(scratch[:m], real[a:a + m], casting="unsafe")
        src = np.ndarray((rows, 2 * n), dtype=np.float32, buffer=scratch,
                         strides=(2 * step * 4, 4))
    else:
        # A strided view, no copy: frame i starts 2*step values after frame i-1. Built
        # with np.ndarray on the buffer because as_strided costs ~20 us per call.
        src = np.ndarray((rows, 2 * n), dtype=real.dtype, buffer=real[a:],
                         strides=(2 * step * item, item))
    np.multiply(src, plan.w2, out=out)


def transform_frames(
    real: np.ndarray, n_frames: int, n: int, step: int, plan: _WindowPlan, backend: str,
    consume: Callable[[np.ndarray], object],
) -> None:
    """Window and transform ``n_frames`` frames of ``real`` (I, Q interleaved), in batches.

    ``consume`` gets each batch as a (rows, n) complex64 array, frames in order; it may
    overwrite it. With ``backend="fftw"`` whole batches go through a measured FFTW plan
    and the rest (fewer frames than a batch) through scipy.
    """
    start = 0
    if backend == "fftw":
        buf, execute = _fftw_chunk(n)
        rows = buf.shape[0]
        while n_frames - start >= rows:
            _window_into(real, start, rows, n, step, plan, buf)
            execute()
            consume(buf.view(np.complex64))
            start += rows
    if start < n_frames:
        rows = max(1, min(n_frames - start, _CHUNK_BYTES // (8 * n)))
        buf = _frame_buffer(rows, n)
        for first in range(start, n_frames, rows):
            k = min(rows, n_frames - first)
            b = buf[:k]
            _window_into(real, first, k, n, step, plan, b)
            consume(scipy.fft.fft(b.view(np.complex64), axis=-1, overwrite_x=True, workers=1))


def _accumulate(
    real: np.ndarray, n_frames: int, n: int, step: int, plan: _WindowPlan, backend: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sum over frames of |FFT(frame*w)|^2 (all bins), and for the bins where
    FFT(w) is non-zero also sum X and sum |X|^2 in double precision (for the DC
    correction)."""
    acc = np.zeros(2 * n, dtype=np.float64)
    sum_x = np.zeros(plan.w_bins.size, dtype=np.complex128)
    sum_x2 = np.zeros(plan.w_bins.size, dtype=np.float64)

    def consume(x: np.ndarray) -> None:
        # Transformed frames -> the running sums (x is overwritten with |X|^2 parts).
        xw = x[:, plan.w_bins].astype(np.complex128)
        np.add(sum_x, xw.sum(axis=0), out=sum_x)
        np.add(sum_x2, (xw.real**2 + xw.imag**2).sum(axis=0), out=sum_x2)
        f = x.view(np.float32)
        np.multiply(f, f, out=f)
        np.add(acc, np.add.reduce(f, axis=0), out=acc)

    transform_frames(real, n_frames, n, step, plan, backend, consume)
    return acc[0::2] + acc[1::2], sum_x, sum_x2


def welch_spectrum(
    samples: np.ndarray,
    *,
    sample_rate_hz: float,
    f_center_hz: float,
    fft_size: int = 1024,
    window: str = "hann",
    overlap: float = 0.5,
    n_averages: int | None = None,
    t_start_ns: int = 0,
    station_id: str = "",
    receiver_id: str = "",
    calibration_offset_db: float | None = None,
    remove_dc: bool = True,
    overload: bool = False,
    fft_backend: str = "auto",
) -> Spectrum:
    """Averaged power spectrum of a block of IQ samples on an fftshifted grid.

    Parameters
    ----------
    samples:
        1-D ``uint8`` interleaved I/Q (RTL-SDR, 127.5 is zero) or ``complex64`` /
        ``complex128`` (full scale 1.0).
    sample_rate_hz:
        Complex sample rate in Hz.
    f_center_hz:
        RF frequency of the baseband's 0 Hz, in Hz.
    fft_size:
        Samples per frame (bins), an even integer >= 4.
    window:
        Window name (see :data:`dsp.windows.WINDOW_NAMES`).
    overlap:
        Fraction of a frame shared with the next, in [0, 1).
    n_averages:
        Number of frames to average (the first ones); ``None`` averages every whole
        frame in ``samples``.
    t_start_ns:
        UTC time of the first sample, ns since the epoch.
    station_id, receiver_id:
        Copied into the result.
    calibration_offset_db:
        dB added to every bin to turn dBFS into dBm (``None``: stay in dBFS).
    remove_dc:
        Remove the DC offset (see the module notes). With ``False``, uint8 samples
        are still centred on 127.5.
    overload:
        Copied into the result (the ADC clipped while these samples were taken).
    fft_backend:
        ``"scipy"`` (pocketfft), ``"fftw"`` (pyFFTW; whole chunks of frames go
        through a measured FFTW plan, about twice as fast once planned, and the rest
        through scipy) or ``"auto"``: FFTW when pyFFTW is installed and the block
        holds at least one whole chunk (32 frames at FFT 1024), else scipy. Both
        give the same result to float32 rounding.

    Returns
    -------
    Spectrum
        ``f_start_hz = f_center_hz - (fft_size // 2) * f_step_hz``,
        ``f_step_hz = sample_rate_hz / fft_size``, ``power_db`` float32 per bin in
        ``dBFS`` (or ``dBm`` with a calibration), ``rbw_hz = enbw_bins *
        f_step_hz``, ``t_end_ns`` just after the last analysed sample.

    Raises
    ------
    TypeError
        If ``samples`` has an unsupported dtype or a numeric argument is not a number.
    dsp.errors.ParameterError
        If an argument is out of range or ``samples`` holds fewer than ``fft_size``
        samples (or fewer than ``n_averages`` frames).

    Examples
    --------
    A unit complex tone on bin +64 of a 1024-point FFT reads 0 dBFS there:

    >>> t = np.arange(8192)
    >>> x = np.exp(2j * np.pi * 64 * t / 1024).astype(np.complex64)
    >>> s = welch_spectrum(x, sample_rate_hz=1.024e6, f_center_hz=100e6)
    >>> round(float(s.power_db.max()), 4), float(s.f_hz()[s.power_db.argmax()])
    (0.0, 100064000.0)
    >>> s.rbw_hz, s.n_averages, s.power_unit
    (1500.0, 15, 'dBFS')
    """
    rate = _check_finite(sample_rate_hz, "sample_rate_hz", positive=True)
    fc = _check_finite(f_center_hz, "f_center_hz")
    if isinstance(fft_size, bool) or not isinstance(fft_size, int | np.integer):
        raise TypeError(f"fft_size must be an integer; got {fft_size!r}")
    n = int(fft_size)
    if n < 4 or n % 2:
        raise ParameterError(f"fft_size must be an even integer >= 4; got {fft_size}")
    ov = _check_finite(overlap, "overlap")
    if not 0.0 <= ov < 1.0:
        raise ParameterError(f"overlap must be in [0, 1); got {overlap!r}")
    step = n - int(round(ov * n))
    if step < 1:
        raise ParameterError(f"overlap={overlap!r} leaves no step between frames of {n}")
    cal = 0.0
    if calibration_offset_db is not None:
        cal = _check_finite(calibration_offset_db, "calibration_offset_db")
    if fft_backend not in ("auto", "scipy", "fftw"):
        raise ParameterError(f"fft_backend must be 'auto', 'scipy' or 'fftw'; got {fft_backend!r}")
    if fft_backend == "fftw" and _pyfftw() is None:
        raise ParameterError("fft_backend='fftw' needs pyFFTW (pip install pyfftw)")
    win = window.lower() if isinstance(window, str) else ""
    if win not in WINDOW_NAMES:
        raise ParameterError(f"window must be one of {', '.join(WINDOW_NAMES)}; got {window!r}")
    real, n_samples, scale, is_u8 = _interleaved_view(samples)
    if n_samples < n:
        raise ParameterError(f"samples holds {n_samples} complex samples, fewer than fft_size={n}")
    available = 1 + (n_samples - n) // step
    if n_averages is None:
        n_frames = available
    else:
        if isinstance(n_averages, bool) or not isinstance(n_averages, int | np.integer):
            raise TypeError(f"n_averages must be an integer or None; got {n_averages!r}")
        if n_averages < 1:
            raise ParameterError(f"n_averages must be >= 1; got {n_averages}")
        if n_averages > available:
            raise ParameterError(
                f"n_averages={n_averages} needs {n + (n_averages - 1) * step} samples; "
                f"samples holds {n_samples} ({available} frames)"
            )
        n_frames = int(n_averages)

    plan = _window_plan(win, n, scale)
    backend = fft_backend
    if backend == "auto":
        use_fftw = n_frames >= _fftw_rows(n) and _pyfftw() is not None
        backend = "fftw" if use_fftw else "scipy"
    power, sum_x, sum_x2 = _accumulate(real, n_frames, n, step, plan, backend)
    c = dc_estimate(sum_x, n_frames, plan) if remove_dc else (
        complex(_U8_ZERO, _U8_ZERO) if is_u8 else 0j)
    return spectrum_from_sums(
        power, sum_x, sum_x2, n_frames, plan, dc=c, sample_rate_hz=rate, f_center_hz=fc,
        t_start_ns=int(t_start_ns), used_samples=n + (n_frames - 1) * step,
        calibration_offset_db=cal if calibration_offset_db is not None else None,
        station_id=station_id, receiver_id=receiver_id, window=win, overload=overload,
    )


def dc_estimate(sum_x: np.ndarray, n_frames: int, plan: _WindowPlan) -> complex:
    """The window-weighted mean ``c`` of the samples (see "DC removal" above)."""
    return complex(sum_x[plan.w_bins == 0][0]) / (n_frames * plan.sum_w)


def dc_corrected(
    power: np.ndarray, sum_x: np.ndarray, sum_x2: np.ndarray, n_frames: int,
    plan: _WindowPlan, dc: complex,
) -> np.ndarray:
    """``power`` (FFT order, summed over ``n_frames`` frames) with ``dc`` taken out.

    sum_f |X_f - c W|^2 = sum|X|^2 - 2 Re(conj(cW) sum X) + F |cW|^2, on the few bins
    where FFT(w) is non-zero; ``power`` is changed in place and returned.
    """
    if dc != 0j:
        cw = dc * plan.w_fft
        fixed = sum_x2 - 2.0 * (np.conj(cw) * sum_x).real + n_frames * np.abs(cw) ** 2
        power[plan.w_bins] = np.maximum(fixed, 0.0)
    return power


def spectrum_from_sums(
    power: np.ndarray,
    sum_x: np.ndarray,
    sum_x2: np.ndarray,
    n_frames: int,
    plan: _WindowPlan,
    *,
    dc: complex,
    sample_rate_hz: float,
    f_center_hz: float,
    t_start_ns: int,
    used_samples: int,
    calibration_offset_db: float | None,
    station_id: str = "",
    receiver_id: str = "",
    window: str = "hann",
    overload: bool = False,
) -> Spectrum:
    """The :class:`Spectrum` of frame sums made by :func:`_accumulate` (or a stream).

    ``power`` is the sum over ``n_frames`` frames of ``|FFT(frame * w)|**2`` in FFT
    order (float64, changed in place); ``dc`` the complex value taken out of every
    sample (:func:`dc_estimate`, or the uint8 zero, or 0).
    """
    n = power.size
    dc_corrected(power, sum_x, sum_x2, n_frames, plan, dc)
    # fftshift by hand (np.fft.fftshift goes through np.roll, slower for one row),
    # scaled, then log10 in float32: plenty for dB and half the cost.
    half = n // 2
    shifted = np.empty(n, dtype=np.float32)
    scale_pw = 1.0 / (n_frames * plan.sum_w**2)
    np.multiply(power[half:], scale_pw, out=shifted[: n - half], casting="same_kind")
    np.multiply(power[:half], scale_pw, out=shifted[n - half :], casting="same_kind")
    with np.errstate(divide="ignore"):
        power_db = np.log10(shifted, out=shifted)
    power_db *= np.float32(10.0)
    np.maximum(power_db, np.float32(POWER_FLOOR_DB), out=power_db)
    unit = "dBFS"
    if calibration_offset_db is not None:
        power_db += np.float32(calibration_offset_db)
        unit = "dBm"
    f_step = sample_rate_hz / n
    t0 = int(t_start_ns)
    return Spectrum(
        f_start_hz=f_center_hz - (n // 2) * f_step,
        f_step_hz=f_step,
        power_db=power_db,
        power_unit=unit,
        rbw_hz=plan.enbw_bins * f_step,
        t_start_ns=t0,
        t_end_ns=t0 + int(round(used_samples * 1e9 / sample_rate_hz)),
        station_id=station_id,
        receiver_id=receiver_id,
        n_averages=n_frames,
        window=window,
        overload=bool(overload),
    )


def spectrum_from_block(block: IQBlock, **kw: object) -> Spectrum:
    """:func:`welch_spectrum` of an :class:`~dsp.types.IQBlock`.

    The block supplies ``sample_rate_hz``, ``f_center_hz``, ``t_start_ns``,
    ``receiver_id`` and ``overload``; every other keyword of
    :func:`welch_spectrum` may be given.

    Examples
    --------
    >>> raw = np.full(4096, 128, dtype=np.uint8)
    >>> b = IQBlock(raw, 433.92e6, 2.048e6, 20.7, 1_700_000_000_000_000_000, "sim")
    >>> s = spectrum_from_block(b, fft_size=256)
    >>> s.f_start_hz, s.f_step_hz, s.receiver_id, s.t_end_ns - s.t_start_ns
    (432896000.0, 8000.0, 'sim', 1000000)
    """
    if not isinstance(block, IQBlock):
        raise TypeError(f"block must be an IQBlock; got {type(block).__name__}")
    for key in ("sample_rate_hz", "f_center_hz", "t_start_ns", "receiver_id", "overload"):
        if key in kw:
            raise TypeError(f"{key} comes from the block; do not pass it")
    return welch_spectrum(
        block.samples,
        sample_rate_hz=block.sample_rate_hz,
        f_center_hz=block.f_center_hz,
        t_start_ns=block.t_start_ns,
        receiver_id=block.receiver_id,
        overload=block.overload,
        **kw,  # type: ignore[arg-type]
    )


def psd_db_hz(spectrum: Spectrum) -> np.ndarray:
    """Power spectral density per bin: ``power_db - 10*log10(rbw_hz)``.

    In dBFS/Hz, or dBm/Hz for a calibrated spectrum. Use it for noise and for
    emissions wider than a bin; a tone's level is ``power_db`` itself.

    Returns
    -------
    numpy.ndarray
        float32, one value per bin.

    Examples
    --------
    >>> s = Spectrum(0.0, 1000.0, np.zeros(2, np.float32), "dBm", 1500.0, 0, 0)
    >>> psd_db_hz(s).round(3)
    array([-31.761, -31.761], dtype=float32)
    """
    if not spectrum.rbw_hz > 0:
        raise ParameterError(f"spectrum.rbw_hz must be positive; got {spectrum.rbw_hz}")
    return (spectrum.power_db - np.float32(10.0 * math.log10(spectrum.rbw_hz))).astype(np.float32)


def band_power_db(spectrum: Spectrum, f_low_hz: float, f_high_hz: float) -> float:
    """Total power in the bins whose centres lie in ``[f_low_hz, f_high_hz]``.

    Sums the bins' linear power and divides by the ENBW in bins
    (``rbw_hz / f_step_hz``), so noise integrates to PSD x bandwidth and a tone
    (whose power the window spreads over a few bins) to its own power.

    Returns
    -------
    float
        Power in the spectrum's unit (dBFS or dBm).

    Raises
    ------
    dsp.errors.ParameterError
        If the band is empty or contains no bin centre.

    Examples
    --------
    >>> s = Spectrum(0.0, 1000.0, np.full(10, -30.0, np.float32), "dBm", 1000.0, 0, 0)
    >>> round(band_power_db(s, 0.0, 9000.0), 3)
    -20.0
    """
    lo = _check_finite(f_low_hz, "f_low_hz")
    hi = _check_finite(f_high_hz, "f_high_hz")
    if hi < lo:
        raise ParameterError(f"f_high_hz ({hi}) must be >= f_low_hz ({lo})")
    f0, df = spectrum.f_start_hz, spectrum.f_step_hz
    i0 = max(0, math.ceil((lo - f0) / df - 1e-9))
    i1 = min(spectrum.n_bins - 1, math.floor((hi - f0) / df + 1e-9))
    if i1 < i0:
        raise ParameterError(f"no bin centre in [{lo}, {hi}] Hz")
    lin = np.power(10.0, spectrum.power_db[i0 : i1 + 1].astype(np.float64) / 10.0)
    return float(10.0 * np.log10(lin.sum() * spectrum.f_step_hz / spectrum.rbw_hz))
