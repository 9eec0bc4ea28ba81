"""Spectral-analysis windows and the two numbers that come with each.

A window tapers each FFT frame to control leakage. It costs two things that every
power reading must account for:

- its *coherent gain* ``sum(w) / n`` scales a tone's amplitude, so a tone's power is
  read correctly only after dividing by ``sum(w)**2`` (what :mod:`dsp.spectrum` does);
- its *equivalent noise bandwidth* ``n * sum(w**2) / sum(w)**2`` (in bins) is how much
  noise one bin collects, so the resolution bandwidth of a spectrum is
  ``enbw_bins(w) * sample_rate_hz / n`` Hz.

Windows are the periodic ("DFT-even") forms that ``scipy.signal.get_window`` returns
by default, the ones meant for spectral analysis and the ones ``scipy.signal.welch``
uses, so our spectra can be checked against scipy bin for bin.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from dsp.errors import ParameterError

__all__ = ["WINDOW_NAMES", "window", "enbw_bins", "coherent_gain"]

# Our names -> scipy.signal.get_window names.
_SCIPY_NAMES = {
    "hann": "hann",
    "hamming": "hamming",
    "blackman": "blackman",
    "blackmanharris": "blackmanharris",
    "flattop": "flattop",
    "rect": "boxcar",
}
WINDOW_NAMES: tuple[str, ...] = tuple(_SCIPY_NAMES)
"""Window names accepted by :func:`window` (and ``window=`` of the spectrum functions)."""


def _check_name(name: str) -> str:
    if not isinstance(name, str) or name.lower() not in _SCIPY_NAMES:
        raise ParameterError(f"window must be one of {', '.join(WINDOW_NAMES)}; got {name!r}")
    return name.lower()


@lru_cache(maxsize=64)
def _window_cached(name: str, n: int) -> np.ndarray:
    # Imported here: scipy.signal takes about a second to import, and most processes
    # need one or two windows (the Hann window itself is a cosine, built by numpy).
    if name == "hann" and n > 1:
        w = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)
        w.setflags(write=False)
        return w
    import scipy.signal

    w = scipy.signal.get_window(_SCIPY_NAMES[name], n, fftbins=True).astype(np.float64)
    w.setflags(write=False)  # shared by every caller through the cache
    return w


def window(name: str, n: int) -> np.ndarray:
    """Return the periodic window ``name`` of length ``n`` (float64, read-only).

    Parameters
    ----------
    name:
        One of ``hann``, ``hamming``, ``blackman``, ``blackmanharris``, ``flattop``,
        ``rect`` (case-insensitive).
    n:
        Number of samples (the FFT size), at least 1.

    Returns
    -------
    numpy.ndarray
        The window, float64, shape ``(n,)``. It is cached and shared, hence read-only;
        copy it before changing it.

    Raises
    ------
    dsp.errors.ParameterError
        If ``name`` is unknown or ``n`` is not a positive integer.

    Examples
    --------
    >>> window("hann", 4)
    array([0. , 0.5, 1. , 0.5])
    >>> window("rect", 3)
    array([1., 1., 1.])
    """
    key = _check_name(name)
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ParameterError(f"n must be a positive integer; got {n!r}")
    return _window_cached(key, int(n))


def _check_w(w: np.ndarray) -> np.ndarray:
    arr = np.asarray(w, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ParameterError(f"w must be a non-empty 1-D array; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ParameterError("w must contain only finite values")
    if arr.sum() == 0.0:
        raise ParameterError("w must not sum to zero")
    return arr


def enbw_bins(w: np.ndarray) -> float:
    """Equivalent noise bandwidth of a window, in FFT bins.

    ``n * sum(w**2) / sum(w)**2``: the width of the rectangular filter that passes
    the same white-noise power as one bin of the windowed FFT. Multiply by the bin
    width ``sample_rate_hz / n`` for the resolution bandwidth in Hz.

    Parameters
    ----------
    w:
        The window, 1-D.

    Returns
    -------
    float
        ENBW in bins (1.0 for ``rect``, 1.5 for ``hann``, about 3.77 for ``flattop``).

    Examples
    --------
    >>> enbw_bins(window("rect", 1024))
    1.0
    >>> round(enbw_bins(window("hann", 1024)), 6)
    1.5
    """
    arr = _check_w(w)
    return float(arr.size * np.sum(arr * arr) / np.sum(arr) ** 2)


def coherent_gain(w: np.ndarray) -> float:
    """Coherent gain of a window: ``sum(w) / n`` (amplitude ratio, not dB).

    A tone on a bin centre keeps this fraction of its amplitude in its peak bin;
    dividing the FFT by ``sum(w)`` undoes it.

    Parameters
    ----------
    w:
        The window, 1-D.

    Returns
    -------
    float
        Coherent gain (1.0 for ``rect``, 0.5 for ``hann``).

    Examples
    --------
    >>> coherent_gain(window("hann", 1024))
    0.5
    """
    arr = _check_w(w)
    return float(np.sum(arr) / arr.size)
