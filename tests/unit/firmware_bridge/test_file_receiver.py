"""FileReceiver: a recording replayed through the Receiver interface."""

from __future__ import annotations

import numpy as np
import pytest

from dsp.errors import ReceiverError
from firmware_bridge.file_receiver import FileReceiver, frequency_shift
from firmware_bridge.rawiq import cu8_to_complex64
from firmware_bridge.recording import IQRecording

FS = 1.024e6
FC = 100e6
N = 1 << 14
F_TONE = FS * 1024 / N  # 64 kHz, on an FFT bin of an N-point block


def _tone_recording(amplitude: float = 0.5) -> IQRecording:
    n = np.arange(N)
    x = amplitude * np.exp(2j * np.pi * F_TONE * n / FS)
    return IQRecording("tone", x.astype(np.complex64), FS, FC, t_start_ns=1_000)


def _peak_hz(samples: np.ndarray) -> float:
    if samples.dtype == np.uint8:
        samples = cu8_to_complex64(samples)
    spectrum = np.abs(np.fft.fft(samples)) ** 2
    return float(np.fft.fftfreq(samples.size, 1 / FS)[np.argmax(spectrum)])


@pytest.mark.parametrize("shift_hz", [0.0, 200e3, -300e3, 511e3])
def test_tuning_within_the_span_translates_the_tone(shift_hz):
    rx = FileReceiver(_tone_recording())
    with rx:
        rx.tune(FC + shift_hz)
        block = rx.read(N)
    assert block.f_center_hz == FC + shift_hz
    expected = (F_TONE - shift_hz + FS / 2) % FS - FS / 2  # aliases like a real ADC
    assert _peak_hz(block.samples) == pytest.approx(expected, abs=FS / N)


def test_tuning_outside_the_span_is_refused_and_keeps_the_old_tuning():
    rx = FileReceiver(_tone_recording())
    rx.open()
    rx.tune(FC + 100e3)
    with pytest.raises(ReceiverError, match="outside the recording's span"):
        rx.tune(FC + 600e3)
    assert rx.f_center_hz == FC + 100e3
    with pytest.raises(ReceiverError, match="only has"):
        rx.set_sample_rate(2.048e6)
    rx.set_sample_rate(FS)


def test_loops_and_keeps_time_monotonic():
    rec = _tone_recording()
    rx = FileReceiver(rec)
    rx.open()
    blocks = [rx.read(10_000) for _ in range(5)]  # 50,000 samples > 16,384: loops
    starts = [b.t_start_ns for b in blocks]
    assert starts[0] == 1_000
    assert np.diff(starts).tolist() == [round(10_000 * 1e9 / FS)] * 4
    joined = np.concatenate([b.samples for b in blocks])
    np.testing.assert_array_equal(joined[N : 2 * N], rec.samples)


def test_phase_is_continuous_across_blocks_after_a_retune():
    rx = FileReceiver(_tone_recording())
    rx.open()
    rx.tune(FC + 32e3)
    a = rx.read(1000).samples
    b = rx.read(1000).samples
    joined = np.concatenate([a, b])
    # Tone now at 64k - 32k = 32 kHz: constant phase step everywhere, seam included.
    steps = np.angle(joined[1:] * np.conj(joined[:-1]))
    np.testing.assert_allclose(steps, 2 * np.pi * 32e3 / FS, atol=1e-4)


def test_cu8_output_and_overload_flag():
    rx = FileReceiver(_tone_recording(amplitude=0.5), output="cu8")
    rx.open()
    block = rx.read(4096)
    assert block.samples.dtype == np.uint8 and block.samples.size == 8192
    assert not block.overload
    loud = FileReceiver(_tone_recording(amplitude=1.5), output="cu8")
    loud.open()
    assert loud.read(4096).overload


def test_no_loop_and_not_open():
    rx = FileReceiver(_tone_recording(), loop=False)
    with pytest.raises(ReceiverError, match="not open"):
        rx.read(10)
    rx.open()
    rx.read(N)
    with pytest.raises(ReceiverError, match="end of recording"):
        rx.read(1)


def test_pacing_uses_the_injected_clock():
    now = [0.0]
    slept = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    rx = FileReceiver(_tone_recording(), paced=True, clock=lambda: now[0], sleep=sleep)
    rx.open()
    for _ in range(4):
        rx.read(int(FS / 10))
    assert now[0] == pytest.approx(0.4, abs=1e-6)
    assert len(slept) == 4


def test_frequency_shift_moves_a_tone_down():
    n = np.arange(4096)
    x = np.exp(2j * np.pi * 0.125 * n).astype(np.complex64)
    y, phase = frequency_shift(x, 0.125, 1.0)
    np.testing.assert_allclose(y, 1, atol=1e-5)
    assert phase == pytest.approx(0.0)


def test_overload_flag_follows_the_clipped_blocks_of_a_real_capture(real_data):
    from firmware_bridge.rawiq import read_raw_iq

    path = real_data / "rtl_433/skylink_ha-434tl/g001_433.92M_250k.cu8"
    rec = read_raw_iq(path)
    raw = np.fromfile(path, dtype=np.uint8).reshape(-1, 2 * 8192)
    clipped = [bool(((row == 0) | (row == 255)).any()) for row in raw]
    rx = FileReceiver(rec)
    rx.open()
    flags = [rx.read(8192).overload for _ in range(len(clipped))]
    assert flags == clipped
    assert any(flags) and not all(flags)  # bursts clip, the gaps between them do not
