"""One streaming pass (dsp.stream): spectra and time slices against independent references.

The references are scipy.signal.welch and plain numpy frames; the streaming pass is
fed the same samples in chunks of awkward sizes (frames straddle chunk boundaries).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

import dsp.stream as stream_mod
from dsp.errors import ParameterError
from dsp.iq import overload_fraction, u8_to_complex64
from dsp.iq_analysis import analyze_iq, analyze_stream
from dsp.spectrum import welch_spectrum
from dsp.stream import SpectrumStream

RATE = 2.4e6
FC = 433.92e6


def noisy_u8(n: int, rng: np.random.Generator, *, tone_hz: float = 200e3,
             amp: float = 0.3) -> np.ndarray:
    t = np.arange(n) / RATE
    x = 0.05 * (rng.standard_normal(n) + 1j * rng.standard_normal(n))
    x += amp * np.exp(2j * np.pi * tone_hz * t) + (0.01 - 0.02j)
    iq = np.empty(2 * n)
    iq[0::2], iq[1::2] = x.real, x.imag
    return np.clip(np.round(iq * 128 + 127.5), 0, 255).astype(np.uint8)


def feed_in_chunks(s: SpectrumStream, data: np.ndarray, sizes: list[int]) -> None:
    """Feed ``data`` (uint8 interleaved or complex) cut at the given sample counts."""
    width = 2 if data.dtype == np.uint8 else 1
    a = 0
    for k in sizes:
        s.feed(data[a * width:(a + k) * width])
        a += k
    s.feed(data[a * width:])


def scipy_reference_db(x: np.ndarray, n: int) -> np.ndarray:
    """scipy.signal.welch, Hann, 50 %, power per bin, on the fftshifted grid, dB."""
    _, pxx = signal.welch(x, fs=RATE, window="hann", nperseg=n, noverlap=n // 2,
                          detrend=False, return_onesided=False, scaling="spectrum")
    return 10 * np.log10(np.fft.fftshift(pxx))


def off_dc(n: int) -> np.ndarray:
    """Bins away from DC (the spectrum takes the block's DC out of the 3 bins there)."""
    keep = np.ones(n, dtype=bool)
    keep[n // 2 - 2:n // 2 + 3] = False
    return keep


def test_chunked_coarse_spectrum_matches_scipy_welch() -> None:
    rng = np.random.default_rng(1)
    n_samples = 300_001
    raw = noisy_u8(n_samples, rng)
    s = SpectrumStream(sample_rate_hz=RATE, f_center_hz=FC, fft_size=1024)
    feed_in_chunks(s, raw, [1000, 77_777, 3, 50_000])
    out = s.finish()
    ref = scipy_reference_db(u8_to_complex64(raw).astype(np.complex128), 1024)
    keep = off_dc(1024)
    np.testing.assert_allclose(out.spectrum.power_db[keep], ref[keep], atol=2e-3)
    assert out.spectrum.n_averages == 1 + (n_samples - 1024) // 512
    assert out.n_samples == n_samples


def test_chunked_equals_one_chunk_and_welch_spectrum() -> None:
    rng = np.random.default_rng(2)
    raw = noisy_u8(500_000, rng)
    whole = welch_spectrum(raw, sample_rate_hz=RATE, f_center_hz=FC, fft_size=2048)
    outs = []
    for sizes in ([], [4097, 100_001, 20]):
        s = SpectrumStream(sample_rate_hz=RATE, f_center_hz=FC, fft_size=2048,
                           fine_fft_size=32768, expected_samples=500_000)
        feed_in_chunks(s, raw, sizes)
        outs.append(s.finish())
    one, many = outs
    # DC bins included: the DC removal is the block's, as in welch_spectrum
    np.testing.assert_allclose(one.spectrum.power_db, whole.power_db, atol=1e-4)
    np.testing.assert_allclose(many.spectrum.power_db, whole.power_db, atol=1e-4)
    np.testing.assert_allclose(many.fine.power_db, one.fine.power_db, atol=1e-3)
    np.testing.assert_allclose(many.slices.power_db, one.slices.power_db, atol=1e-3)
    fine_ref = welch_spectrum(raw, sample_rate_hz=RATE, f_center_hz=FC, fft_size=32768)
    np.testing.assert_allclose(one.fine.power_db, fine_ref.power_db, atol=1e-3)


def test_time_slices_match_scipy_per_slice() -> None:
    rng = np.random.default_rng(3)
    n_samples = 240_000  # 0.1 s
    x = (0.05 * (rng.standard_normal(n_samples) + 1j * rng.standard_normal(n_samples)))
    t = np.arange(n_samples) / RATE
    x += 0.2 * np.exp(2j * np.pi * -300e3 * t) * (t > 0.05)  # switched on half-way
    x = x.astype(np.complex64)
    s = SpectrumStream(sample_rate_hz=RATE, f_center_hz=FC, fft_size=1024, t_start_ns=10**18,
                       expected_samples=n_samples)
    feed_in_chunks(s, x, [12_345, 54_321])
    sl = s.finish().slices
    frames = sl.n_averages
    # <= 5 ms slices, so that a 10 ms burst fills one
    assert sl.slice_ns <= 5_000_000
    assert sl.slice_ns == round(frames * 512 / RATE * 1e9)
    assert sl.n_slices == (1 + (n_samples - 1024) // 512) // frames
    keep = off_dc(1024)
    for k in range(sl.n_slices):
        a = k * frames * 512
        part = x[a:a + (frames - 1) * 512 + 1024].astype(np.complex128)
        ref = scipy_reference_db(part, 1024)
        np.testing.assert_allclose(sl.power_db[k][keep], ref[keep], atol=2e-3)
        assert sl.t_start_ns[k] == 10**18 + round(a / RATE * 1e9)
    # the tone shows only in the slices after it switched on
    tone_bin = int(np.argmin(np.abs(np.arange(1024) - (512 - 128))))
    on = sl.power_db[:, tone_bin] > sl.power_db[:, 100] + 20
    t_mid = (sl.t_start_ns - 10**18) / 1e9 + sl.slice_ns / 2e9
    assert np.array_equal(on, t_mid > 0.05 + sl.slice_ns / 2e9) or np.array_equal(
        on, t_mid > 0.05 - sl.slice_ns / 2e9)


def test_long_input_caps_slices_and_merges_when_length_unknown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(stream_mod, "MAX_SLICE_CELLS", 16 * 256)  # 16 slices of 256 bins
    rng = np.random.default_rng(4)
    n_samples = 200_000
    raw = noisy_u8(n_samples, rng)
    known = SpectrumStream(sample_rate_hz=RATE, f_center_hz=FC, fft_size=256,
                           expected_samples=n_samples)
    unknown = SpectrumStream(sample_rate_hz=RATE, f_center_hz=FC, fft_size=256)
    feed_in_chunks(known, raw, [30_000] * 5)
    feed_in_chunks(unknown, raw, [30_000] * 5)
    a, b = known.finish().slices, unknown.finish().slices
    assert a.n_slices <= 16 and b.n_slices <= 16
    # the unknown-length stream doubled its slices until they fitted: each of its
    # slices is the mean of its frames, as a stream told that slice length up front
    ref = SpectrumStream(sample_rate_hz=RATE, f_center_hz=FC, fft_size=256,
                         slice_s=b.n_averages * 128 / RATE * 1.0001)
    feed_in_chunks(ref, raw, [])
    r = ref.finish().slices
    assert r.n_averages == b.n_averages
    m = min(r.n_slices, b.n_slices)
    assert m >= 8
    np.testing.assert_allclose(b.power_db[:m], r.power_db[:m], atol=1e-3)


def test_overload_fraction_over_chunks_and_none_for_complex() -> None:
    rng = np.random.default_rng(5)
    raw = noisy_u8(100_000, rng, amp=0.99)  # clips
    s = SpectrumStream(sample_rate_hz=RATE, f_center_hz=FC, fft_size=1024)
    feed_in_chunks(s, raw, [33_333, 1])
    out = s.finish()
    assert out.overload_fraction == pytest.approx(overload_fraction(raw), abs=1e-12)
    assert out.overload_fraction > 0.01 and out.spectrum.overload
    c = SpectrumStream(sample_rate_hz=RATE, f_center_hz=FC, fft_size=1024)
    c.feed(u8_to_complex64(raw))
    assert c.finish().overload_fraction is None


def test_fine_frames_spread_over_a_long_input() -> None:
    rng = np.random.default_rng(6)
    n_samples = 1_500_000  # 731 frames of 4096 at 50 % overlap: more than the cap
    x = (0.1 * (rng.standard_normal(n_samples) + 1j * rng.standard_normal(n_samples))
         ).astype(np.complex64)
    nf = 4096
    s = SpectrumStream(sample_rate_hz=RATE, f_center_hz=FC, fft_size=256, fine_fft_size=nf,
                       expected_samples=n_samples)
    feed_in_chunks(s, x, [70_000, 123_457])
    fine = s.finish().fine
    assert fine.n_averages == stream_mod.MAX_FINE_FRAMES
    step = (n_samples - nf) // (stream_mod.MAX_FINE_FRAMES - 1)
    # numpy reference: the same frames, windowed, transformed, averaged
    w = signal.get_window("hann", nf)
    starts = np.arange(stream_mod.MAX_FINE_FRAMES) * step
    assert starts[-1] + nf <= n_samples  # spread over the whole input
    frames = np.stack([x[a:a + nf] for a in starts]).astype(np.complex128)
    frames -= (frames * w).sum() / (w.sum() * len(starts))  # the block's DC, as ours
    p = np.mean(np.abs(np.fft.fft(frames * w, axis=1)) ** 2, axis=0) / w.sum() ** 2
    np.testing.assert_allclose(fine.power_db, 10 * np.log10(np.fft.fftshift(p)), atol=2e-3)


def test_analyze_stream_equals_analyze_iq() -> None:
    rng = np.random.default_rng(7)
    raw = noisy_u8(1_200_000, rng, tone_hz=-123_456.0)
    a = analyze_iq(raw, sample_rate_hz=RATE, f_center_hz=FC, t_start_ns=5)
    chunks = [raw[i:i + 2 * 100_003] for i in range(0, raw.size, 2 * 100_003)]
    b = analyze_stream(chunks, sample_rate_hz=RATE, f_center_hz=FC, t_start_ns=5,
                       n_samples=1_200_000)
    assert len(a.emissions) == len(b.emissions) >= 1
    for ea, eb in zip(a.emissions, b.emissions, strict=True):
        assert ea.f_hz == pytest.approx(eb.f_hz, abs=1e-3)
        assert ea.power_db == pytest.approx(eb.power_db, abs=1e-3)
        assert ea.bw_99_hz == pytest.approx(eb.bw_99_hz, abs=1e-3)
    tone = min(a.emissions, key=lambda e: abs(e.f_hz - (FC - 123_456.0)))
    assert tone.f_hz == pytest.approx(FC - 123_456.0, abs=tone.f_resolution_hz)
    assert a.overload_fraction == pytest.approx(overload_fraction(raw))


def test_bad_streams_are_refused() -> None:
    s = SpectrumStream(sample_rate_hz=RATE, f_center_hz=FC, fft_size=1024)
    with pytest.raises(ParameterError):
        s.feed(np.zeros(3, np.uint8))
    s.feed(np.zeros(10, np.uint8))
    with pytest.raises(ParameterError):
        s.feed(np.zeros(10, np.complex64))  # kinds cannot be mixed
    with pytest.raises(ParameterError, match="fewer than one frame"):
        s.finish()
    with pytest.raises(ParameterError):
        SpectrumStream(sample_rate_hz=1e-300 * 0, f_center_hz=FC, fft_size=1024)


def test_fftw_wisdom_round_trip() -> None:
    from dsp.spectrum import export_fftw_wisdom, import_fftw_wisdom

    welch_spectrum(np.zeros(2 * 70_000, np.uint8), sample_rate_hz=RATE, f_center_hz=FC,
                   fft_size=2048)  # a plan was measured
    data = export_fftw_wisdom()
    assert data is not None and len(data) > 24
    assert import_fftw_wisdom(data)
    assert not import_fftw_wisdom(b"\x05\x00")  # truncated


@pytest.mark.parametrize("rel", ["rtl_433/skylink_ha-434tl/g001_433.92M_250k.cu8",
                                 "rtl_433/radiohead_ask_03/g004_433.92M_250k.cu8",
                                 "dump1090/modes1.bin"])
def test_real_recordings_stream_like_the_whole_block(real_data, rel: str) -> None:
    # The rtl_433 and dump1090 captures, fed in 10 007-sample chunks: the coarse
    # spectrum is welch_spectrum's of the whole file, each slice scipy's of its frames,
    # and the clipped fraction that of the whole file's bytes.
    raw = np.fromfile(real_data / rel, dtype=np.uint8)
    rate = 2e6 if rel.endswith(".bin") else 250e3
    n_samples = raw.size // 2
    n = 256
    s = SpectrumStream(sample_rate_hz=rate, f_center_hz=FC, fft_size=n, slice_s=0.005,
                       expected_samples=n_samples)
    feed_in_chunks(s, raw, [10_007] * (n_samples // 10_007))
    out = s.finish()
    whole = welch_spectrum(raw, sample_rate_hz=rate, f_center_hz=FC, fft_size=n)
    np.testing.assert_allclose(out.spectrum.power_db, whole.power_db, atol=1e-3)
    assert out.overload_fraction == pytest.approx(overload_fraction(raw), abs=1e-12)
    sl = out.slices
    x = u8_to_complex64(raw).astype(np.complex128)
    keep = off_dc(n)
    for k in (0, sl.n_slices // 2, sl.n_slices - 1):
        a = k * sl.n_averages * (n // 2)
        part = x[a:a + (sl.n_averages - 1) * (n // 2) + n]
        _, pxx = signal.welch(part, fs=rate, window="hann", nperseg=n, noverlap=n // 2,
                              detrend=False, return_onesided=False, scaling="spectrum")
        ref = 10 * np.log10(np.fft.fftshift(pxx))
        np.testing.assert_allclose(sl.power_db[k][keep], ref[keep], atol=2e-3)
