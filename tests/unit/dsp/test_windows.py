"""Windows: exact ENBW and coherent gain of known windows, caching, validation."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

from dsp.windows import WINDOW_NAMES, coherent_gain, enbw_bins, window


@pytest.mark.parametrize(
    ("name", "enbw", "gain", "tol"),
    [
        # Analytic values of the periodic windows (Harris 1978, Table 1).
        ("rect", 1.0, 1.0, 1e-12),
        ("hann", 1.5, 0.5, 1e-12),
        ("hamming", 1.36283, 0.54, 1e-4),
        ("blackman", 1.72676, 0.42, 1e-4),
        ("blackmanharris", 2.00435, 0.35875, 1e-4),
        ("flattop", 3.77, 0.2156, 2e-2),
    ],
)
def test_known_windows(name: str, enbw: float, gain: float, tol: float) -> None:
    w = window(name, 4096)
    assert enbw_bins(w) == pytest.approx(enbw, abs=tol)
    assert coherent_gain(w) == pytest.approx(gain, abs=tol)


def test_windows_are_scipys_periodic_windows() -> None:
    for name in WINDOW_NAMES:
        scipy_name = "boxcar" if name == "rect" else name
        expected = scipy.signal.get_window(scipy_name, 256, fftbins=True)
        np.testing.assert_allclose(window(name, 256), expected, rtol=0, atol=1e-15)


def test_window_is_cached_and_read_only() -> None:
    w = window("hann", 1024)
    assert window("HANN", 1024) is w
    with pytest.raises(ValueError, match="read-only"):
        w[0] = 1.0


def test_enbw_independent_of_scale() -> None:
    w = window("blackman", 512)
    assert enbw_bins(3.0 * w) == pytest.approx(enbw_bins(w), rel=1e-12)
    assert coherent_gain(2.0 * w) == pytest.approx(2.0 * coherent_gain(w), rel=1e-12)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("kaiser", 16), "window must be one of"),
        (("hann", 0), "n must be a positive integer"),
        (("hann", 2.5), "n must be a positive integer"),
    ],
)
def test_window_rejects_bad_arguments(args: tuple, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        window(*args)


def test_enbw_rejects_bad_windows() -> None:
    with pytest.raises(ValueError, match="w must be a non-empty 1-D array"):
        enbw_bins(np.array([]))
    with pytest.raises(ValueError, match="w must not sum to zero"):
        coherent_gain(np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match="finite"):
        enbw_bins(np.array([1.0, np.nan]))
