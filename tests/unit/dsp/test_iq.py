"""IQ conversion: exact mapping, buffer reuse, DC removal, overload."""

from __future__ import annotations

import numpy as np
import pytest

from dsp.iq import block_to_complex64, overload_fraction, remove_dc, u8_to_complex64
from dsp.types import IQBlock


def test_every_uint8_value_maps_exactly() -> None:
    values = np.arange(256, dtype=np.uint8)
    raw = np.empty(512, dtype=np.uint8)
    raw[0::2] = values
    raw[1::2] = values[::-1]
    x = u8_to_complex64(raw)
    assert x.dtype == np.complex64
    expected = ((values.astype(np.float64) - 127.5) / 128.0) + 1j * (
        (values[::-1].astype(np.float64) - 127.5) / 128.0
    )
    np.testing.assert_array_equal(x, expected.astype(np.complex64))
    assert x.real.min() == -127.5 / 128 and x.real.max() == 127.5 / 128


def test_output_buffer_is_reused_not_reallocated() -> None:
    rng = np.random.default_rng(3)
    out = np.empty(1000, dtype=np.complex64)
    for _ in range(3):
        raw = rng.integers(0, 256, 2000, dtype=np.uint8)
        got = u8_to_complex64(raw, out)
        assert got is out
        np.testing.assert_array_equal(got, u8_to_complex64(raw))


def test_conversion_with_dc_removal_has_zero_mean() -> None:
    rng = np.random.default_rng(4)
    raw = rng.integers(100, 200, 20000, dtype=np.uint8)  # mean well off 127.5
    x = u8_to_complex64(raw, remove_dc=True)
    assert abs(complex(x.mean(dtype=np.complex128))) < 1e-6
    plain = u8_to_complex64(raw)
    np.testing.assert_allclose(x, plain - plain.mean(dtype=np.complex128), atol=1e-6)


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_remove_dc_preserves_dtype_and_works_in_place(dtype: type) -> None:
    x = (np.arange(10) + 0.5 + 2j).astype(dtype)
    y = remove_dc(x)
    assert y.dtype == dtype and y is not x
    assert abs(y.mean()) < 1e-6
    z = remove_dc(x, out=x)
    assert z is x
    np.testing.assert_allclose(x, y)


def test_remove_dc_keeps_a_tone() -> None:
    t = np.arange(1024)
    tone = np.exp(2j * np.pi * 8 * t / 1024)
    y = remove_dc(tone + (0.3 - 0.2j))
    np.testing.assert_allclose(y, tone, atol=1e-12)


def test_overload_fraction_counts_samples_on_a_rail() -> None:
    raw = np.full(2000, 128, dtype=np.uint8)
    assert overload_fraction(raw) == 0.0
    raw[0] = 0  # sample 0: I on the lower rail
    raw[3] = 255  # sample 1: Q on the upper rail
    raw[4], raw[5] = 255, 0  # sample 2: both, counts once
    raw[7] = 254  # not a rail
    assert overload_fraction(raw) == pytest.approx(3 / 1000)
    assert overload_fraction(np.empty(0, np.uint8)) == 0.0


def test_block_to_complex64() -> None:
    raw = np.array([0, 255, 128, 127], dtype=np.uint8)
    b = IQBlock(raw, 100e6, 2.4e6, 20.7, 0, "r")
    np.testing.assert_array_equal(block_to_complex64(b), u8_to_complex64(raw))
    c = np.array([1 + 1j, 2], dtype=np.complex64)
    assert block_to_complex64(IQBlock(c, 100e6, 2.4e6, None, 0, "r")) is c
    d = block_to_complex64(IQBlock(c.astype(np.complex128), 100e6, 2.4e6, None, 0, "r"))
    assert d.dtype == np.complex64
    with pytest.raises(TypeError, match="uint8 or complex"):
        block_to_complex64(IQBlock(np.zeros(4, np.int16), 100e6, 2.4e6, None, 0, "r"))


def test_bad_input_is_refused_with_the_argument_named() -> None:
    with pytest.raises(ValueError, match="raw must hold an even number of bytes"):
        u8_to_complex64(np.zeros(3, np.uint8))
    with pytest.raises(TypeError, match="raw must have dtype uint8"):
        u8_to_complex64(np.zeros(4, np.int8))
    with pytest.raises(ValueError, match="raw must be 1-D"):
        u8_to_complex64(np.zeros((2, 2), np.uint8))
    with pytest.raises(ValueError, match=r"out must be C-contiguous with shape \(2,\)"):
        u8_to_complex64(np.zeros(4, np.uint8), np.empty(3, np.complex64))
    with pytest.raises(TypeError, match="out must be a complex64"):
        u8_to_complex64(np.zeros(4, np.uint8), np.empty(2, np.complex128))
    with pytest.raises(ValueError, match="x must not be empty"):
        remove_dc(np.empty(0, np.complex64))
    with pytest.raises(ValueError, match="x must be a 1-D complex"):
        remove_dc(np.zeros(4))
    with pytest.raises(ValueError, match="raw_u8 must hold an even number"):
        overload_fraction(np.zeros(5, np.uint8))
