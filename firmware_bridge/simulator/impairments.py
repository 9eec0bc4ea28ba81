"""The RTL-SDR front end as the simulator models it, and its power reference.

Signal path of one sample block (all in the receiver's complex baseband)::

    power at the receiver's input connector, dBm (after antenna gain and cable loss)
      + thermal noise  kT0 * B * NF  over the sample rate B (referred to the input)
      -> tuner gain (dB, from the R820T table) and ADC scaling     [dbm_to_dbfs_offset_db]
      -> anti-alias roll-off on the outer 10 % of each band edge  [anti_alias_gain]
      -> IQ imbalance (amplitude dB, phase deg: the mirror image)  [apply_iq_imbalance]
      -> DC offset (LO leakage), complex, in full-scale units
      -> 8-bit quantisation with clipping: uint8 = clip(floor(128 x + 128), 0, 255)
                                                                    [quantise_cu8]

Power reference (the exact calibration the simulator obeys)
-----------------------------------------------------------
``P(dBFS) = P(dBm at the input connector) + gain_db + ADC_REFERENCE_DB + tuner_response_db(f)``

with ``ADC_REFERENCE_DB = 20`` dB and ``tuner_response_db`` 0 dB up to 1 GHz, falling
linearly to -3 dB at 1766 MHz (the R820T is weaker up there). 0 dBFS is a complex
sinusoid of amplitude 1 after the uint8 -> [-1, 1) mapping ``(u - 127.5) / 128``.
Why 20 dB: a broadcast carrier of -60 dBm at 20 dB gain lands at -20 dBFS, a -40 dBm
one at 20 dB gain hits full scale (RTL-SDRs do overload near FM transmitters); the
thermal noise of a 6 dB NF receiver at 2.4 MS/s (-104.2 dBm) sits at -34.6 dBFS at
49.6 dB gain, 15 dB above the 8-bit quantisation noise (-49.9 dBFS).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "ADC_REFERENCE_DB",
    "KT0_DBM_HZ",
    "QUANTISATION_NOISE_DBFS",
    "ANTI_ALIAS_FLAT_FRACTION",
    "ANTI_ALIAS_EDGE_DB",
    "tuner_response_db",
    "dbm_to_dbfs_offset_db",
    "thermal_noise_dbm",
    "anti_alias_gain",
    "iq_imbalance_coefficients",
    "image_rejection_db",
    "apply_iq_imbalance",
    "quantise_cu8",
    "noise_floor_power_dbfs",
]

#: dBFS = dBm + gain_db + ADC_REFERENCE_DB (+ tuner_response_db(f)).
ADC_REFERENCE_DB = 20.0
#: Thermal noise density at T0 = 290 K, dBm/Hz.
KT0_DBM_HZ = 10 * math.log10(1.380649e-23 * 290.0 * 1e3)
#: Uniform quantisation noise of 8-bit I and Q with step 1/128, total power in dBFS.
QUANTISATION_NOISE_DBFS = 10 * math.log10(2 * (1 / 128) ** 2 / 12)
#: Fraction of the sample rate (centred) that the anti-alias filter leaves flat.
ANTI_ALIAS_FLAT_FRACTION = 0.8
#: Attenuation (dB) of the anti-alias filter at +-sample_rate/2.
ANTI_ALIAS_EDGE_DB = 20.0


def tuner_response_db(f_hz: float) -> float:
    """Gain of the tuner relative to mid-band (dB): 0 to 1 GHz, -3 dB at 1766 MHz."""
    if f_hz <= 1e9:
        return 0.0
    return -3.0 * min(1.0, (f_hz - 1e9) / (1766e6 - 1e9))


def dbm_to_dbfs_offset_db(f_hz: float, gain_db: float) -> float:
    """Add this to dBm at the receiver's input connector to get dBFS at the ADC.

    Examples
    --------
    >>> dbm_to_dbfs_offset_db(100e6, 30.0)
    50.0
    """
    return gain_db + ADC_REFERENCE_DB + tuner_response_db(f_hz)


def thermal_noise_dbm(sample_rate_hz: float, noise_figure_db: float) -> float:
    """Thermal noise kT0 B NF over the complex bandwidth ``sample_rate_hz`` (dBm)."""
    return KT0_DBM_HZ + 10 * math.log10(sample_rate_hz) + noise_figure_db


def anti_alias_gain(f_offset_hz: np.ndarray, sample_rate_hz: float) -> np.ndarray:
    """Amplitude gain of the anti-alias roll-off at baseband offsets ``f_offset_hz``.

    Flat (1.0) over the central ``ANTI_ALIAS_FLAT_FRACTION`` of the band, then a
    raised-cosine in dB down to ``-ANTI_ALIAS_EDGE_DB`` at +-``sample_rate_hz``/2.
    """
    x = np.abs(np.asarray(f_offset_hz, dtype=np.float64)) / sample_rate_hz
    half_flat = ANTI_ALIAS_FLAT_FRACTION / 2
    u = np.clip((x - half_flat) / (0.5 - half_flat), 0.0, 1.0)
    atten_db = ANTI_ALIAS_EDGE_DB * 0.5 * (1.0 - np.cos(np.pi * u))
    return 10.0 ** (-atten_db / 20.0)


def iq_imbalance_coefficients(amplitude_db: float, phase_deg: float) -> tuple[complex, complex]:
    """(mu, nu) with y = mu x + nu conj(x) for the model y = I + j g (Q cos p - I sin p)."""
    g = 10 ** (amplitude_db / 20)
    p = math.radians(phase_deg)
    mu = (1 + g * complex(math.cos(p), -math.sin(p))) / 2
    nu = (1 - g * complex(math.cos(p), math.sin(p))) / 2
    return mu, nu


def image_rejection_db(amplitude_db: float, phase_deg: float) -> float:
    """Image rejection ratio |mu|^2/|nu|^2 (dB); ``inf`` for a perfect mixer.

    Examples
    --------
    >>> round(image_rejection_db(0.5, 3.0), 1)
    28.2
    """
    mu, nu = iq_imbalance_coefficients(amplitude_db, phase_deg)
    if abs(nu) == 0:
        return math.inf
    return 10 * math.log10(abs(mu) ** 2 / abs(nu) ** 2)


def apply_iq_imbalance(iq: np.ndarray, amplitude_db: float, phase_deg: float) -> None:
    """In place on complex64 ``iq``: Q' = g (Q cos p - I sin p), I' = I."""
    if amplitude_db == 0 and phase_deg == 0:
        return
    g = 10 ** (amplitude_db / 20)
    p = math.radians(phase_deg)
    v = iq.view(np.float32)
    q = v[1::2]
    q *= np.float32(g * math.cos(p))
    q -= np.float32(g * math.sin(p)) * v[0::2]


def quantise_cu8(iq: np.ndarray, out: np.ndarray | None = None) -> tuple[np.ndarray, bool]:
    """8-bit ADC: complex64 full-scale-1 samples -> interleaved uint8, overload flag.

    ``u = clip(floor(128 x + 128), 0, 255)``, so ``(u - 127.5) / 128`` is within half a
    step of ``x``. ``iq`` is used as scratch (overwritten). Overload = any 0 or 255.
    """
    v = iq.view(np.float32)
    v *= np.float32(128.0)
    v += np.float32(128.0)
    np.floor(v, out=v)
    np.clip(v, 0.0, 255.0, out=v)
    if out is None:
        out = np.empty(v.size, dtype=np.uint8)
    out[...] = v  # float32 -> uint8 (values already integral and in range)
    overload = bool(out.min() == 0 or out.max() == 255)
    return out, overload


def noise_floor_power_dbfs(thermal_dbfs: float, signal_dbfs: float = -math.inf) -> float:
    """Noise power (dBFS over the whole band) after the 8-bit ADC.

    The ADC output of a Gaussian input with per-component standard deviation sigma
    (in steps of 1/128) has variance ``E[Q(x)^2]`` (mid-rise levels k + 1/2); the part
    that is not signal is the floor: ``E[Q(x)^2] - sigma_signal^2``. For sigma >= 1
    step this is the thermal noise plus the uniform 1/12 step^2; for a tiny input every
    sample is +-1/2 step and the floor rises to 1/4 step^2 (-45.2 dBFS in total).
    """
    from scipy.special import ndtr

    to_steps2 = 128.0**2 / 2  # complex dBFS power -> per-component variance in steps^2
    var_th = 10 ** (thermal_dbfs / 10) * to_steps2
    var_sig = 10 ** (signal_dbfs / 10) * to_steps2 if math.isfinite(signal_dbfs) else 0.0
    sigma = math.sqrt(var_th + var_sig)
    if sigma > 8.0:
        floor = var_th + 1.0 / 12.0
    else:
        kmax = int(10 * sigma) + 2
        k = np.arange(-kmax, kmax)
        edges = np.arange(-kmax, kmax + 1, dtype=np.float64) / max(sigma, 1e-12)
        p = np.diff(ndtr(edges))
        e_q2 = float(np.sum((k + 0.5) ** 2 * p))
        floor = max(e_q2 - var_sig, 1e-12)
    return 10 * math.log10(floor / to_steps2)
