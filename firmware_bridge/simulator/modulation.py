"""Baseband signal generators for the RF-scene simulator.

Each generator returns one *period* of a complex baseband waveform centred on 0 Hz,
``n`` samples long at ``sample_rate_hz``, with mean power exactly 1. The waveform is
periodic by construction (FFT-synthesised audio, phase that returns to its start, symbol
counts that fit the period), so the receiver can loop it without a click and shift it
in frequency by whole FFT bins (see :mod:`firmware_bridge.simulator.receiver`).

Modulations (what a monitoring receiver sees; the content is random but seeded):

- ``cw``: an unmodulated carrier.
- ``am``: double-sideband full carrier, voice-like audio, peak modulation index ``m``.
- ``nbfm``: voice-like audio through a deviation limiter, peak ``deviation_hz``.
- ``wbfm``: FM broadcast: stereo multiplex (L+R, 19 kHz pilot at 10 %, L-R on a 38 kHz
  DSB-SC subcarrier), 50 us pre-emphasis, peak ``deviation_hz`` (75 kHz).
- ``ofdm``: DVB-T2-like: random QPSK on every FFT bin of a flat-top band of
  ``occupied_bw_hz`` (7.61 MHz = 6817 carriers x 1116 Hz of the 8k mode). The symbol
  structure is not modelled; its spectrum (flat top, sharp edges, Gaussian amplitude)
  is what spectrum monitoring measures.
- ``fsk4``: DMR-like 4FSK: 4800 symbols/s, deviations +-648 / +-1944 Hz, root
  raised-cosine (alpha 0.2) frequency pulse.

These are written here rather than taken from a library because they sit on the
simulator's hot set-up path and must be periodic and exactly normalised.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "voice_audio",
    "music_audio",
    "cw",
    "am",
    "nbfm",
    "wbfm",
    "ofdm",
    "fsk4",
    "fm_from_message",
    "bin_hz",
]

#: FM broadcast stereo pilot (ITU-R BS.450).
PILOT_HZ = 19_000.0
#: Pre-emphasis time constant of FM broadcast in Vietnam/Europe (50 us).
PREEMPHASIS_S = 50e-6


def bin_hz(f_hz: float, sample_rate_hz: float, n: int) -> float:
    """Round ``f_hz`` to the nearest frequency that is periodic in ``n`` samples."""
    step = sample_rate_hz / n
    return round(f_hz / step) * step


def _shaped_noise(
    sample_rate_hz: float,
    n: int,
    rng: np.random.Generator,
    f_low_hz: float,
    f_high_hz: float,
    tilt_corner_hz: float,
) -> np.ndarray:
    """Real Gaussian noise with a band-pass, 1/f-above-corner shape (FFT synthesis)."""
    f = np.fft.rfftfreq(n, 1.0 / sample_rate_hz)
    spec = rng.standard_normal(f.size) + 1j * rng.standard_normal(f.size)
    # Smooth band edges (cosine over 20 % of each edge frequency) so the 99 % band
    # does not end on a brick wall, as real audio processing does not.
    edge_lo = np.clip((f - 0.8 * f_low_hz) / (0.4 * f_low_hz), 0.0, 1.0)
    edge_hi = np.clip((1.1 * f_high_hz - f) / (0.2 * f_high_hz), 0.0, 1.0)
    shape = np.sin(0.5 * np.pi * edge_lo) * np.sin(0.5 * np.pi * edge_hi)
    shape /= np.sqrt(1.0 + (f / tilt_corner_hz) ** 2)
    spec *= shape
    spec[0] = 0.0
    x = np.fft.irfft(spec, n)
    std = x.std()
    return x / std if std > 0 else x


def _limit(x: np.ndarray, sigma_per_full_scale: float) -> np.ndarray:
    """Scale so full scale is ``sigma_per_full_scale`` standard deviations, then clip."""
    return np.clip(x / sigma_per_full_scale, -1.0, 1.0)


def voice_audio(
    sample_rate_hz: float, n: int, rng: np.random.Generator, audio_bw_hz: float = 3400.0
) -> np.ndarray:
    """Voice-like audio in [-1, 1]: 300 Hz..``audio_bw_hz``, tilted, syllabic envelope.

    Returns float64 of length ``n`` with zero mean (so FM phase stays periodic).
    """
    x = _shaped_noise(sample_rate_hz, n, rng, 300.0, audio_bw_hz, 800.0)
    # Syllabic envelope: |low-passed noise| around 4 Hz, never fully silent.
    env = np.abs(_shaped_noise(sample_rate_hz, n, rng, 1.0, 5.0, 10.0))
    x = x * (0.3 + env / env.max())
    # Speech through a deviation limiter: full scale at 2 sigma.
    x = _limit(x / x.std(), 2.0)
    return x - x.mean()


def music_audio(
    sample_rate_hz: float, n: int, rng: np.random.Generator, audio_bw_hz: float = 15000.0
) -> np.ndarray:
    """Programme-like audio in [-1, 1]: 30 Hz..``audio_bw_hz`` with 50 us pre-emphasis."""
    f = np.fft.rfftfreq(n, 1.0 / sample_rate_hz)
    x = _shaped_noise(sample_rate_hz, n, rng, 30.0, audio_bw_hz, 500.0)
    spec = np.fft.rfft(x) * (1.0 + 2j * np.pi * f * PREEMPHASIS_S)
    x = np.fft.irfft(spec, n)
    # Broadcast audio is heavily compressed: full scale at 1.5 sigma.
    x = _limit(x / x.std(), 1.5)
    return x - x.mean()


def fm_from_message(
    message: np.ndarray, deviation_hz: float, sample_rate_hz: float
) -> np.ndarray:
    """Frequency-modulate a real message in [-1, 1] (peak deviation ``deviation_hz``).

    The message mean is removed first so the phase returns to its start after ``n``
    samples (periodic waveform); that shifts the carrier by the removed mean, which for
    the generators here is below a hertz.
    """
    m = message - message.mean()
    phase = np.cumsum(m) * (2.0 * np.pi * deviation_hz / sample_rate_hz)
    return np.exp(1j * phase).astype(np.complex128)


def _unit_power(x: np.ndarray) -> np.ndarray:
    return (x / np.sqrt(np.mean(np.abs(x) ** 2))).astype(np.complex128)


def cw(sample_rate_hz: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """An unmodulated carrier (all ones)."""
    del sample_rate_hz, rng
    return np.ones(n, dtype=np.complex128)


def am(
    sample_rate_hz: float,
    n: int,
    rng: np.random.Generator,
    mod_index: float = 0.8,
    audio_bw_hz: float = 3400.0,
) -> np.ndarray:
    """DSB full-carrier AM with voice-like audio; ``mod_index`` is the peak index."""
    a = voice_audio(sample_rate_hz, n, rng, audio_bw_hz)
    return _unit_power(1.0 + mod_index * a)


def nbfm(
    sample_rate_hz: float,
    n: int,
    rng: np.random.Generator,
    deviation_hz: float = 2500.0,
    audio_bw_hz: float = 3400.0,
) -> np.ndarray:
    """Narrowband FM voice: peak deviation ``deviation_hz``."""
    a = voice_audio(sample_rate_hz, n, rng, audio_bw_hz)
    return fm_from_message(a, deviation_hz, sample_rate_hz)


def wbfm(
    sample_rate_hz: float,
    n: int,
    rng: np.random.Generator,
    deviation_hz: float = 75_000.0,
    stereo: bool = True,
) -> np.ndarray:
    """FM broadcast with the stereo multiplex; peak deviation ``deviation_hz``.

    Composite = 0.9 * ((L+R)/2 + (L-R)/2 * cos(2 w_p t)) + 0.1 * cos(w_p t), so its peak
    never exceeds 1. The pilot is rounded to the waveform's bin grid (periodicity);
    the simulator's loop lengths put 19 kHz exactly on the grid at whole-kHz rates.
    """
    left = music_audio(sample_rate_hz, n, rng)
    if not stereo:
        return fm_from_message(left, deviation_hz, sample_rate_hz)
    # Right channel: partly correlated with the left, as real programme is.
    right = 0.7 * left + 0.3 * music_audio(sample_rate_hz, n, rng)
    t = np.arange(n) / sample_rate_hz
    f_pilot = bin_hz(PILOT_HZ, sample_rate_hz, n)
    pilot = np.cos(2.0 * np.pi * f_pilot * t)
    sub = np.cos(4.0 * np.pi * f_pilot * t)
    composite = 0.9 * ((left + right) / 2 + (left - right) / 2 * sub) + 0.1 * pilot
    return fm_from_message(composite, deviation_hz, sample_rate_hz)


def ofdm(
    sample_rate_hz: float,
    n: int,
    rng: np.random.Generator,
    occupied_bw_hz: float = 7.61e6,
) -> np.ndarray:
    """Flat-top multicarrier (DVB-T2-like): random QPSK on every bin of the band."""
    if occupied_bw_hz >= sample_rate_hz:
        raise ValueError("sample_rate_hz must exceed occupied_bw_hz")
    f = np.fft.fftfreq(n, 1.0 / sample_rate_hz)
    inside = np.abs(f) <= occupied_bw_hz / 2
    k = int(inside.sum())
    qpsk = np.exp(1j * (np.pi / 4 + np.pi / 2 * rng.integers(0, 4, k)))
    spec = np.zeros(n, dtype=np.complex128)
    spec[inside] = qpsk
    return _unit_power(np.fft.ifft(spec))


def fsk4(
    sample_rate_hz: float,
    n: int,
    rng: np.random.Generator,
    symbol_rate_hz: float = 4800.0,
    deviation_hz: float = 648.0,
    rolloff: float = 0.2,
) -> np.ndarray:
    """DMR-like 4FSK: symbols {-3,-1,+1,+3} x ``deviation_hz`` through an RRC pulse.

    The number of symbols is rounded so that a whole number fits in ``n`` samples
    (symbol rate error below 1e-5 at typical lengths).
    """
    n_sym = max(1, round(n * symbol_rate_hz / sample_rate_hz))
    symbols = rng.choice(np.array([-3.0, -1.0, 1.0, 3.0]), n_sym)
    impulses = np.zeros(n)
    idx = np.round(np.arange(n_sym) * (n / n_sym)).astype(np.int64) % n
    impulses[idx] = symbols
    rate = n_sym * sample_rate_hz / n
    f = np.abs(np.fft.rfftfreq(n, 1.0 / sample_rate_hz))
    f1 = (1.0 - rolloff) * rate / 2
    f2 = (1.0 + rolloff) * rate / 2
    h = np.where(f <= f1, 1.0, 0.0)
    roll = (f > f1) & (f < f2)
    h[roll] = np.sqrt(0.5 * (1.0 + np.cos(np.pi * (f[roll] - f1) / (f2 - f1))))
    pulse_peak = np.fft.irfft(h, n)[0]
    freq_dev = np.fft.irfft(np.fft.rfft(impulses) * h, n) / pulse_peak
    # freq_dev is in symbol units (+-1, +-3 at the symbol instants).
    return fm_from_message(freq_dev / 3.0, 3.0 * deviation_hz, sample_rate_hz)
