"""Typed values that travel between the layers: IQ blocks, spectra, emissions.

These are the contracts of DESIGN.md's "path of one measurement". They are frozen
dataclasses holding NumPy arrays; nothing here does I/O.

Conventions
-----------
- Frequencies are float64 Hz, times are int64 UTC nanoseconds (``t_*_ns``).
- Powers are dB quantities in the unit named by ``power_unit``: ``"dBFS"`` for an
  uncalibrated receiver (0 dBFS = a complex sinusoid of amplitude 1 after the
  uint8 -> [-1, 1) mapping), ``"dBm"`` once a calibration has been applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

__all__ = [
    "PowerUnit",
    "IQBlock",
    "Spectrum",
    "Emission",
    "GeoPosition",
    "TimeSlices",
    "EMISSION_FLAGS",
]

PowerUnit = Literal["dBFS", "dBm"]


@dataclass(frozen=True, slots=True)
class GeoPosition:
    """A point on the WGS-84 ellipsoid.

    ``lat_deg``/``lon_deg`` in decimal degrees (north/east positive),
    ``alt_m`` metres above mean sea level (``None`` if unknown).
    """

    lat_deg: float
    lon_deg: float
    alt_m: float | None = None


@dataclass(frozen=True, slots=True)
class IQBlock:
    """A block of raw samples from one receiver at one tuning.

    Attributes
    ----------
    samples:
        Either ``uint8`` interleaved I/Q as an RTL-SDR delivers it (length ``2 * N``,
        I first, 127.5 is zero) or ``complex64`` (length ``N``, full scale 1.0).
    f_center_hz:
        RF frequency at the centre of the baseband (the tuned frequency).
    sample_rate_hz:
        Complex sample rate.
    gain_db:
        Tuner gain in dB, or ``None`` when the tuner's AGC was on.
    t_start_ns:
        UTC time of the first sample, integer nanoseconds since the epoch.
    receiver_id:
        Stable id of the receiver (e.g. ``"rtlsdr:00000001"``).
    overload:
        True when the ADC clipped (raw samples at 0 or 255) in this block.
    dropped_samples:
        Samples known to be lost immediately before this block (0 if none).
    """

    samples: np.ndarray
    f_center_hz: float
    sample_rate_hz: float
    gain_db: float | None
    t_start_ns: int
    receiver_id: str
    overload: bool = False
    dropped_samples: int = 0

    @property
    def n_samples(self) -> int:
        """Number of complex samples in the block."""
        if self.samples.dtype == np.uint8:
            return int(self.samples.size // 2)
        return int(self.samples.size)

    @property
    def duration_ns(self) -> int:
        """Duration of the block in nanoseconds."""
        return int(round(self.n_samples * 1e9 / self.sample_rate_hz))

    @property
    def t_end_ns(self) -> int:
        """UTC time just after the last sample."""
        return self.t_start_ns + self.duration_ns


@dataclass(frozen=True, slots=True)
class Spectrum:
    """A power spectrum on a uniform frequency grid.

    ``power_db[i]`` is the mean power in bin ``i`` whose centre is
    ``f_start_hz + i * f_step_hz``, in ``power_unit`` (per bin, measured with a
    resolution bandwidth ``rbw_hz`` = the window's ENBW in Hz). A wideband sweep is
    one ``Spectrum`` stitched from many hops; ``hop_t_ns`` then keeps each hop's
    (first bin index, start time) so every bin has a coherent timestamp, and
    ``interpolated_bins`` lists the bins filled in from their neighbours (each hop's
    DC bin) so that nothing downstream mistakes them for a measurement.
    """

    f_start_hz: float
    f_step_hz: float
    power_db: np.ndarray
    power_unit: PowerUnit
    rbw_hz: float
    t_start_ns: int
    t_end_ns: int
    station_id: str = ""
    receiver_id: str = ""
    n_averages: int = 1
    window: str = "hann"
    hop_t_ns: tuple[tuple[int, int], ...] = ()
    overload: bool = False
    # Bins whose value was interpolated, not measured (a sweep's DC bins).
    interpolated_bins: tuple[int, ...] = ()

    @property
    def calibrated(self) -> bool:
        """True when powers are absolute (dBm), False for dBFS."""
        return self.power_unit == "dBm"

    @property
    def n_bins(self) -> int:
        return int(self.power_db.size)

    @property
    def f_stop_hz(self) -> float:
        """Centre of the last bin."""
        return self.f_start_hz + (self.n_bins - 1) * self.f_step_hz

    def f_hz(self) -> np.ndarray:
        """Bin centre frequencies (float64 Hz)."""
        return self.f_start_hz + np.arange(self.n_bins, dtype=np.float64) * self.f_step_hz


#: Flags an :class:`Emission` may carry, and what each means (the JSON keeps the codes).
EMISSION_FLAGS: dict[str, str] = {
    "span_edge": "touches the edge of the captured span: bandwidth and power are lower bounds",
    "coherent": "found by bins varying together over time, not by level over the floor",
    "intermittent": "seen in some sweeps or slices only",
    "no_noise_reference": "no noise visible beside or under it: SNR unknown",
    "overload_suspect": "the ADC clipped and this may be a distortion product: no finding",
    "at_lo_unverified": "at the tuned LO, not explained by the DC estimate: verify by retuning",
    "weak": "measured too close to the noise floor for the accuracy goals",
    "burst": "on for part of the block only (see duty_cycle)",
}


@dataclass(frozen=True, slots=True)
class TimeSlices:
    """Spectra of consecutive time slices of one IQ block, on the block spectrum's grid.

    The streaming pass of :mod:`dsp.iq_analysis` fills it; detection of bursts,
    duty cycle, ``t_first``/``t_last`` and the keyed-envelope tests of overload
    products and multi-component emissions read it.

    Attributes
    ----------
    power_db:
        ``(n_slices, n_bins)`` float32 mean power per bin in each slice, same unit,
        grid and RBW as the block's spectrum.
    t_start_ns:
        ``(n_slices,)`` int64 UTC start of each slice.
    slice_ns:
        Duration of one slice, ns.
    n_averages:
        FFT frames averaged in one slice.
    """

    power_db: np.ndarray
    t_start_ns: np.ndarray
    slice_ns: int
    n_averages: int

    @property
    def n_slices(self) -> int:
        return int(self.power_db.shape[0])


@dataclass(frozen=True, slots=True)
class Emission:
    """One emission found in a spectrum, with its ITU-R SM.443/SM.328 measurements.

    Powers are in ``power_unit`` (``dBFS`` or ``dBm``); ``e_dbuv_m`` is set only
    where the receiver has an antenna factor. ``f_resolution_hz`` (the bin width)
    bounds the uncertainty of every frequency and bandwidth value.
    """

    f_hz: float
    bw_99_hz: float
    bw_xdb_hz: float
    power_db: float
    peak_power_db: float
    snr_db: float
    noise_floor_db: float
    power_unit: PowerUnit
    f_resolution_hz: float
    t_first_ns: int
    t_last_ns: int
    f_xdb_mid_hz: float | None = None
    x_db: float = 26.0
    station_id: str = ""
    receiver_id: str = ""
    e_dbuv_m: float | None = None
    flags: tuple[str, ...] = field(default=())
    #: Fraction of the time slices (0-1) in which the emission was on; None = unknown.
    duty_cycle: float | None = None
    #: Mean power while on (``power_unit``), beside ``power_db`` (mean over the block).
    burst_power_db: float | None = None
    #: How ``f_hz`` was measured: ``"obw_centre"`` (centre of the 99 % bandwidth),
    #: ``"peak"``, ``"fm_demod"`` (mean instantaneous frequency of the demodulated
    #: carrier), ``"fm_pilot"`` (the 19 kHz pilot confirmed a stereo broadcast).
    f_method: str = "obw_centre"

    @property
    def f_low_hz(self) -> float:
        """Lower edge of the 99 % occupied bandwidth (centred on ``f_hz``)."""
        return self.f_hz - self.bw_99_hz / 2

    @property
    def f_high_hz(self) -> float:
        """Upper edge of the 99 % occupied bandwidth (centred on ``f_hz``)."""
        return self.f_hz + self.bw_99_hz / 2
