"""Calibration: receiver gain tables, antenna factors, and frequency (ppm) error.

Power: ``dBm = dBFS + GainCalibration.offset_db(f_hz, gain_db)``. The offset is
what a signal generator of known level shows: ``offset = P_generator(dBm) -
reading(dBFS)`` at each frequency and tuner gain, tabulated per receiver.

Field strength (DOMAIN.md A): ``E(dBuV/m) = P(dBm) + 10 log10(Z) + 90 + AF(dB/m) +
cable loss(dB)``, about ``P + 107 + AF + loss`` at 50 ohm.

Frequency. An RTL-SDR derives its LO *and* its sample clock from one crystal. If
that crystal runs fast by ``e`` (fraction), a carrier at true ``f`` appears at
``f / (1 + e)``: every measured frequency is scaled by the same factor. We
describe this by the *apparent* error ``ppm``: ``measured = true * (1 + ppm *
1e-6)`` (so ``ppm`` is about ``-e * 1e6``), estimate it from carriers whose true
frequency is known (:func:`estimate_ppm_from_carriers`), and undo it on later
measurements with :func:`apply_ppm` / :func:`correct_spectrum_ppm`. To make the
tuner itself correct it (librtlsdr's ``set_freq_correction``, ``rtl_sdr -p``),
pass ``-ppm``.

What the FM stereo pilot tells, and what it does not. A broadcast FM station's
19 kHz pilot is generated from the *transmitter's audio clock*, allowed to be off
by +-2 Hz (ITU-R BS.450), i.e. +-105 ppm of 19 kHz. After FM demodulation we see
it scaled by our sample-clock error, which is 0.019 Hz per ppm: far below the
transmitter's own tolerance, so the pilot cannot calibrate our ppm. It does
prove that a carrier is a stereo broadcast FM station (nothing else puts a tone at
19 kHz +- a few Hz in the MPX), and its precise frequency is a fingerprint of the
transmitter. The RF frequency error is measured on the *carrier*: the mean of the
demodulated instantaneous frequency is the carrier's offset from the tuned
frequency (audio has no DC), which :func:`estimate_pilot_offset_hz` also returns.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from dsp.errors import InputFormatError, ParameterError
from dsp.types import Spectrum
from dsp.units import SPEED_OF_LIGHT_M_S, dbm_to_dbuv

__all__ = [
    "GainCalibration",
    "AntennaFactor",
    "field_strength_dbuv_m",
    "estimate_ppm",
    "apply_ppm",
    "correct_spectrum_ppm",
    "PpmEstimate",
    "estimate_ppm_from_carriers",
    "fm_demodulate",
    "PilotEstimate",
    "estimate_pilot_offset_hz",
    "FM_PILOT_HZ",
]

FM_PILOT_HZ = 19_000.0
"""Nominal FM stereo pilot frequency (ITU-R BS.450: 19 kHz +- 2 Hz)."""

# Gains within this many dB of a tabulated gain count as that gain (the R820T
# reports gains in tenths of a dB).
_GAIN_TOL_DB = 0.05


def _table_axis(values: Any, name: str, source: str | None) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise InputFormatError(
            f"{name} must be a list of numbers", source=source, field=name
        ) from err
    if arr.ndim != 1 or arr.size == 0:
        raise InputFormatError(f"{name} must be a non-empty list", source=source, field=name)
    if not np.all(np.isfinite(arr)):
        raise InputFormatError(f"{name} must hold finite numbers", source=source, field=name)
    if np.any(np.diff(arr) <= 0):
        raise InputFormatError(f"{name} must be strictly increasing", source=source, field=name)
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True)
class GainCalibration:
    """Per-receiver table of dB offsets (dBm - dBFS) vs frequency and tuner gain.

    Parameters
    ----------
    f_hz:
        Frequencies of the table's columns, strictly increasing, Hz.
    gain_db:
        Tuner gains of the table's rows, strictly increasing, dB.
    table_db:
        ``table_db[i][j]`` is the offset for ``gain_db[i]`` and ``f_hz[j]``, dB
        (``"offset_db"`` in :meth:`to_dict` / :meth:`from_dict`).
    receiver_id:
        The receiver this table belongs to.
    note:
        Free text: who measured it, how, when.

    Notes
    -----
    Lookups interpolate linearly in frequency and gain. Outside the table's
    frequency range the edge value holds (the tuner response is smooth, and a sweep
    should not fail at its ends); a gain outside the table's gain range is an error,
    because a wrong gain is off by tens of dB.

    Examples
    --------
    >>> cal = GainCalibration([100e6, 200e6], [10.0, 20.0], [[-60.0, -58.0], [-70.0, -68.0]])
    >>> cal.offset_db(150e6, 15.0)
    -64.0
    >>> GainCalibration.from_dict(cal.to_dict()) == cal
    True
    """

    f_hz: np.ndarray
    gain_db: np.ndarray
    table_db: np.ndarray
    receiver_id: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        self._validate(None)

    def _validate(self, source: str | None) -> None:
        f = _table_axis(self.f_hz, "f_hz", source)
        g = _table_axis(self.gain_db, "gain_db", source)
        try:
            off = np.array(self.table_db, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise InputFormatError(
                "offset_db must be a table of numbers", source=source, field="offset_db"
            ) from err
        if off.shape != (g.size, f.size):
            raise InputFormatError(
                f"offset_db must have {g.size} rows (gains) of {f.size} values (frequencies); "
                f"got shape {off.shape}",
                source=source,
                field="offset_db",
            )
        if not np.all(np.isfinite(off)):
            raise InputFormatError(
                "offset_db must hold finite numbers", source=source, field="offset_db"
            )
        off.setflags(write=False)
        object.__setattr__(self, "f_hz", f)
        object.__setattr__(self, "gain_db", g)
        object.__setattr__(self, "table_db", off)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GainCalibration):
            return NotImplemented
        return (
            np.array_equal(self.f_hz, other.f_hz)
            and np.array_equal(self.gain_db, other.gain_db)
            and np.array_equal(self.table_db, other.table_db)
            and self.receiver_id == other.receiver_id
            and self.note == other.note
        )

    __hash__ = None  # type: ignore[assignment]

    def offset_db(self, f_hz: ArrayLike, gain_db: float | None) -> float | np.ndarray:
        """dB to add to a dBFS reading at ``f_hz`` and tuner gain ``gain_db`` for dBm.

        Parameters
        ----------
        f_hz:
            Frequency or array of frequencies, Hz.
        gain_db:
            Tuner gain in dB; ``None`` (AGC) cannot be calibrated.

        Returns
        -------
        float or numpy.ndarray
            The offset(s) in dB, shaped like ``f_hz``.

        Raises
        ------
        ParameterError
            If ``gain_db`` is ``None`` or outside the table's gains, or ``f_hz`` is
            not finite.
        """
        if gain_db is None:
            raise ParameterError(
                "gain_db is None (tuner AGC on): an AGC reading cannot be calibrated")
        g = float(gain_db)
        lo, hi = float(self.gain_db[0]), float(self.gain_db[-1])
        if not (math.isfinite(g) and lo - _GAIN_TOL_DB <= g <= hi + _GAIN_TOL_DB):
            raise ParameterError(
                f"gain_db={gain_db!r} is outside the calibrated gains [{lo}, {hi}] dB")
        f = np.asarray(f_hz, dtype=np.float64)
        if not np.all(np.isfinite(f)):
            raise ParameterError("f_hz must be finite")
        table = self.table_db
        rows = [np.interp(f, self.f_hz, table[i]) for i in range(self.gain_db.size)]
        if self.gain_db.size == 1:
            out = rows[0]
        else:
            i = int(np.clip(np.searchsorted(self.gain_db, g) - 1, 0, self.gain_db.size - 2))
            g0, g1 = self.gain_db[i], self.gain_db[i + 1]
            t = float(np.clip((g - g0) / (g1 - g0), 0.0, 1.0))
            out = rows[i] * (1.0 - t) + rows[i + 1] * t
        return float(out) if np.ndim(out) == 0 else out

    def to_dict(self) -> dict[str, Any]:
        """Plain data (lists, floats, str) for YAML/JSON."""
        return {
            "receiver_id": self.receiver_id,
            "note": self.note,
            "f_hz": [float(v) for v in self.f_hz],
            "gain_db": [float(v) for v in self.gain_db],
            "offset_db": [[float(v) for v in row] for row in self.table_db],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str | None = None) -> GainCalibration:
        """Build from :meth:`to_dict`'s shape; bad data raises :class:`InputFormatError`."""
        if not isinstance(data, Mapping):
            raise InputFormatError("a gain calibration must be a mapping", source=source)
        for key in ("f_hz", "gain_db", "offset_db"):
            if key not in data:
                raise InputFormatError("missing", source=source, field=key)
        obj = cls.__new__(cls)
        object.__setattr__(obj, "f_hz", data["f_hz"])
        object.__setattr__(obj, "gain_db", data["gain_db"])
        object.__setattr__(obj, "table_db", data["offset_db"])
        object.__setattr__(obj, "receiver_id", str(data.get("receiver_id", "")))
        object.__setattr__(obj, "note", str(data.get("note", "")))
        obj._validate(source)
        return obj


@dataclass(frozen=True)
class AntennaFactor:
    """Antenna factor table AF(f) in dB/m, interpolated linearly in log-frequency.

    ``E(dBuV/m) = V(dBuV) + AF``. AF grows about 20 dB per decade for a given
    antenna, which is why we interpolate against log f.

    Parameters
    ----------
    f_hz:
        Frequencies, strictly increasing, Hz.
    af_db_m:
        Antenna factor at each frequency, dB/m.
    name:
        The antenna (model, serial).

    Examples
    --------
    >>> af = AntennaFactor([100e6, 1000e6], [10.0, 30.0])
    >>> round(af.at(math.sqrt(100e6 * 1000e6)), 6)
    20.0
    >>> af.covers(50e6)
    False
    """

    f_hz: np.ndarray
    af_db_m: np.ndarray
    name: str = ""

    def __post_init__(self) -> None:
        self._validate(None)

    def _validate(self, source: str | None) -> None:
        f = _table_axis(self.f_hz, "f_hz", source)
        if f[0] <= 0:
            raise InputFormatError("f_hz must be positive", source=source, field="f_hz")
        try:
            af = np.array(self.af_db_m, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise InputFormatError(
                "af_db_m must be a list of numbers", source=source, field="af_db_m"
            ) from err
        if af.shape != f.shape or not np.all(np.isfinite(af)):
            raise InputFormatError(
                f"af_db_m must hold {f.size} finite values, one per f_hz",
                source=source,
                field="af_db_m",
            )
        af.setflags(write=False)
        object.__setattr__(self, "f_hz", f)
        object.__setattr__(self, "af_db_m", af)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AntennaFactor):
            return NotImplemented
        return (
            np.array_equal(self.f_hz, other.f_hz)
            and np.array_equal(self.af_db_m, other.af_db_m)
            and self.name == other.name
        )

    __hash__ = None  # type: ignore[assignment]

    def covers(self, f_hz: float) -> bool:
        """True when ``f_hz`` lies within the table's frequency range."""
        return bool(self.f_hz[0] <= f_hz <= self.f_hz[-1])

    def at(self, f_hz: ArrayLike) -> float | np.ndarray:
        """AF in dB/m at ``f_hz`` (Hz).

        Raises
        ------
        ParameterError
            Outside the table's range: an antenna factor is not extrapolated.
        """
        f = np.asarray(f_hz, dtype=np.float64)
        if np.any(~(f >= self.f_hz[0])) or np.any(~(f <= self.f_hz[-1])):
            raise ParameterError(
                f"f_hz outside the antenna factor table [{self.f_hz[0]}, {self.f_hz[-1]}] Hz"
            )
        out = np.interp(np.log(f), np.log(self.f_hz), self.af_db_m)
        return float(out) if np.ndim(out) == 0 else out

    @classmethod
    def from_gain_dbi(
        cls, f_hz: ArrayLike, gain_dbi: ArrayLike, *, name: str = "", impedance_ohm: float = 50.0
    ) -> AntennaFactor:
        """AF of a matched antenna of known gain: ``AF = 20 log10(9.73 / (lambda sqrt(G)))``.

        The 9.73 is ``sqrt(480 pi^2 / Z)`` at 50 ohm (DOMAIN.md A). A half-wave
        dipole (2.15 dBi) at 100 MHz has an AF of about 8.1 dB/m.

        Examples
        --------
        >>> round(float(AntennaFactor.from_gain_dbi([100e6], [2.15]).af_db_m[0]), 2)
        8.08
        """
        f = np.asarray(f_hz, dtype=np.float64)
        g = np.broadcast_to(np.asarray(gain_dbi, dtype=np.float64), f.shape)
        lam = SPEED_OF_LIGHT_M_S / f
        k = math.sqrt(480.0 * math.pi**2 / impedance_ohm)
        af = 20.0 * np.log10(k / (lam * np.sqrt(10.0 ** (g / 10.0))))
        return cls(f, af, name)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for YAML/JSON."""
        return {
            "name": self.name,
            "f_hz": [float(v) for v in self.f_hz],
            "af_db_m": [float(v) for v in self.af_db_m],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str | None = None) -> AntennaFactor:
        """Build from :meth:`to_dict`'s shape; bad data raises :class:`InputFormatError`."""
        if not isinstance(data, Mapping):
            raise InputFormatError("an antenna factor table must be a mapping", source=source)
        for key in ("f_hz", "af_db_m"):
            if key not in data:
                raise InputFormatError("missing", source=source, field=key)
        obj = cls.__new__(cls)
        object.__setattr__(obj, "f_hz", data["f_hz"])
        object.__setattr__(obj, "af_db_m", data["af_db_m"])
        object.__setattr__(obj, "name", str(data.get("name", "")))
        obj._validate(source)
        return obj


def field_strength_dbuv_m(
    power_dbm: ArrayLike,
    af_db_m: ArrayLike,
    cable_loss_db: ArrayLike = 0.0,
    impedance_ohm: float = 50.0,
) -> float | np.ndarray:
    """Field strength at the antenna from the power at the receiver input.

    ``E = P + 10 log10(Z) + 90 + AF + cable_loss`` (= P + 106.99 + AF + loss at 50 ohm).

    Parameters
    ----------
    power_dbm:
        Power measured at the receiver input, dBm.
    af_db_m:
        Antenna factor, dB/m.
    cable_loss_db:
        Loss of the cable between antenna and receiver, dB (positive).
    impedance_ohm:
        Receiver input impedance.

    Examples
    --------
    >>> round(field_strength_dbuv_m(-60.0, 12.0, 1.5), 2)
    60.49
    """
    return dbm_to_dbuv(
        np.asarray(power_dbm, dtype=np.float64)
        + np.asarray(af_db_m, dtype=np.float64)
        + np.asarray(cable_loss_db, dtype=np.float64),
        impedance_ohm,
    )


def estimate_ppm(measured_f_hz: float, true_f_hz: float) -> float:
    """Apparent frequency error in ppm: ``(measured - true) / true * 1e6``.

    Examples
    --------
    >>> round(estimate_ppm(100_000_500.0, 100e6), 9)
    5.0
    """
    m, t = float(measured_f_hz), float(true_f_hz)
    if not (math.isfinite(m) and math.isfinite(t)) or t <= 0:
        raise ParameterError(
            f"true_f_hz must be positive and both finite; got {measured_f_hz}, {true_f_hz}"
        )
    return (m - t) / t * 1e6


def apply_ppm(f_hz: ArrayLike, ppm: float) -> float | np.ndarray:
    """Correct measured frequencies for an apparent error of ``ppm``: ``f / (1 + ppm*1e-6)``.

    Examples
    --------
    >>> apply_ppm(100_000_500.0, 5.0)
    100000000.0
    """
    if not math.isfinite(ppm):
        raise ParameterError(f"ppm must be finite; got {ppm!r}")
    out = np.asarray(f_hz, dtype=np.float64) / (1.0 + ppm * 1e-6)
    return float(out) if np.ndim(out) == 0 else out


def correct_spectrum_ppm(spectrum: Spectrum, ppm: float) -> Spectrum:
    """The spectrum on its true frequency grid (every bin, the step and the RBW scaled).

    Examples
    --------
    >>> s = Spectrum(100_000_500.0, 1000.005, np.zeros(3, np.float32), "dBFS", 1500.0, 0, 0)
    >>> c = correct_spectrum_ppm(s, 5.0)
    >>> round(c.f_start_hz, 3), round(c.f_step_hz, 6)
    (100000000.0, 1000.0)
    """
    if not math.isfinite(ppm):
        raise ParameterError(f"ppm must be finite; got {ppm!r}")
    k = 1.0 / (1.0 + ppm * 1e-6)
    return replace(
        spectrum,
        f_start_hz=spectrum.f_start_hz * k,
        f_step_hz=spectrum.f_step_hz * k,
        rbw_hz=spectrum.rbw_hz * k,
    )


@dataclass(frozen=True, slots=True)
class PpmEstimate:
    """Result of :func:`estimate_ppm_from_carriers`.

    Attributes
    ----------
    ppm:
        Apparent frequency error (``measured = true * (1 + ppm * 1e-6)``), the
        least-squares fit over the carriers used.
    n_refs:
        Number of reference carriers found and used.
    residual_ppm:
        RMS of the carriers' individual ppm about the fit (0 for one carrier); a
        large value means a reference is off its licensed frequency or mis-found.
    used_f_hz:
        The reference frequencies used.
    measured_f_hz:
        Where each was measured.
    """

    ppm: float
    n_refs: int
    residual_ppm: float
    used_f_hz: tuple[float, ...] = field(default=())
    measured_f_hz: tuple[float, ...] = field(default=())

    @property
    def residual(self) -> float:
        """Same as ``residual_ppm``."""
        return self.residual_ppm


def _peak_offset_bins(db: np.ndarray, k: int) -> float:
    """Sub-bin offset of a peak at ``k`` by a parabola through the dB values of
    bins k-1, k, k+1 (a Gaussian fit to the power), in [-0.5, 0.5]."""
    if k <= 0 or k >= db.size - 1:
        return 0.0
    a, b, c = (float(v) for v in db[k - 1 : k + 2])
    den = a - 2.0 * b + c
    if den >= 0.0:
        return 0.0
    return float(np.clip(0.5 * (a - c) / den, -0.5, 0.5))


def estimate_ppm_from_carriers(
    spectrum: Spectrum,
    reference_f_hz: Sequence[float],
    search_hz: float = 20e3,
    *,
    method: Literal["peak", "centroid"] = "peak",
    min_snr_db: float = 15.0,
) -> PpmEstimate:
    """Estimate the apparent frequency error from carriers of known frequency.

    For each reference inside the spectrum, the strongest bin within
    ``+-search_hz`` is taken as the carrier if it stands ``min_snr_db`` above the
    median of that window. Its frequency is refined by ``method``:

    - ``"peak"``: a parabola through the log-power of the peak and its two
      neighbours (Gaussian interpolation) -- for unmodulated or narrow carriers
      (pilot tones, TV carriers, CW beacons); accurate to a few % of a bin;
    - ``"centroid"``: the power-weighted mean frequency of the bins above the
      window's median -- for FM broadcast carriers, whose power-weighted mean is
      the carrier frequency (the audio has no DC).

    The fitted ``ppm`` minimises ``sum((measured - true * (1 + ppm*1e-6))**2)``.

    Parameters
    ----------
    spectrum:
        A spectrum with fine bins (use a long FFT: 1 ppm at 100 MHz is 100 Hz).
    reference_f_hz:
        True frequencies of carriers expected in the spectrum, Hz.
    search_hz:
        Half-width of the window searched around each reference, Hz; larger than
        the worst expected error (100 ppm at 1 GHz is 100 kHz).
    method:
        ``"peak"`` or ``"centroid"``.
    min_snr_db:
        How far above the window's median the carrier must stand.

    Returns
    -------
    PpmEstimate

    Raises
    ------
    ParameterError
        If no reference carrier is found, or an argument is invalid.

    Examples
    --------
    A carrier at 100 MHz seen 500 Hz high (+5 ppm):

    >>> p = np.full(2001, -90.0, np.float32); p[1000 + 5] = -20.0
    >>> s = Spectrum(100e6 - 100e3, 100.0, p, "dBFS", 150.0, 0, 0)
    >>> est = estimate_ppm_from_carriers(s, [100e6], 5e3)
    >>> round(est.ppm, 6), est.n_refs
    (5.0, 1)
    """
    if method not in ("peak", "centroid"):
        raise ParameterError(f"method must be 'peak' or 'centroid'; got {method!r}")
    if not (math.isfinite(search_hz) and search_hz > 0):
        raise ParameterError(f"search_hz must be positive; got {search_hz!r}")
    refs = [float(f) for f in reference_f_hz]
    if not refs or not all(math.isfinite(f) and f > 0 for f in refs):
        raise ParameterError("reference_f_hz must hold at least one positive frequency")
    db = spectrum.power_db.astype(np.float64)
    f0, df = spectrum.f_start_hz, spectrum.f_step_hz
    half = max(2, int(math.ceil(search_hz / df)))
    used: list[float] = []
    measured: list[float] = []
    for ref in refs:
        centre = int(round((ref - f0) / df))
        lo, hi = centre - half, centre + half + 1
        if lo < 0 or hi > db.size:
            continue
        win = db[lo:hi]
        k = int(np.argmax(win))
        floor_db = float(np.median(win))
        if win[k] - floor_db < min_snr_db:
            continue
        if method == "peak":
            pos = lo + k + _peak_offset_bins(db, lo + k)
        else:
            lin = np.power(10.0, win / 10.0) - 10.0 ** (floor_db / 10.0)
            lin = np.where(lin > 0.0, lin, 0.0)
            pos = lo + float(np.sum(np.arange(win.size) * lin) / np.sum(lin))
        used.append(ref)
        measured.append(f0 + pos * df)
    if not used:
        raise ParameterError(
            f"no reference carrier found {min_snr_db} dB above the floor within "
            f"+-{search_hz} Hz of reference_f_hz inside the spectrum"
        )
    t = np.asarray(used)
    m = np.asarray(measured)
    ppm = float(np.sum(t * (m - t)) / np.sum(t * t) * 1e6)
    each = (m - t) / t * 1e6
    residual = float(np.sqrt(np.mean((each - ppm) ** 2))) if t.size > 1 else 0.0
    return PpmEstimate(ppm, int(t.size), residual, tuple(used), tuple(measured))


def fm_demodulate(iq: np.ndarray, sample_rate_hz: float) -> np.ndarray:
    """Instantaneous frequency of complex baseband, in Hz (length ``N - 1``).

    ``angle(x[n+1] * conj(x[n])) * rate / (2 pi)``: the quadricorrelator
    discriminator, exact for any signal whose phase moves less than half a turn
    per sample.

    Examples
    --------
    >>> t = np.arange(8)
    >>> fm_demodulate(np.exp(2j * np.pi * 0.125 * t), 8000.0).round(6)
    array([1000., 1000., 1000., 1000., 1000., 1000., 1000.])
    """
    x = np.asarray(iq)
    if x.ndim != 1 or not np.iscomplexobj(x):
        raise ParameterError("iq must be a 1-D complex array")
    if x.size < 2:
        raise ParameterError(f"iq must hold at least 2 samples; got {x.size}")
    if not (math.isfinite(sample_rate_hz) and sample_rate_hz > 0):
        raise ParameterError(f"sample_rate_hz must be positive; got {sample_rate_hz!r}")
    prod = x[1:] * np.conj(x[:-1])
    return np.angle(prod).astype(np.float64) * (sample_rate_hz / (2.0 * math.pi))


@dataclass(frozen=True, slots=True)
class PilotEstimate:
    """Result of :func:`estimate_pilot_offset_hz` (see the module notes).

    Attributes
    ----------
    pilot_f_hz:
        Measured frequency of the stereo pilot in the demodulated signal, Hz
        (``nan`` if no pilot stands out).
    pilot_offset_hz:
        ``pilot_f_hz - 19000``: the transmitter's pilot error plus 0.019 Hz per
        ppm of our sample clock.
    pilot_snr_db:
        Pilot power over the median of the MPX spectrum from 16.5 to 21.5 kHz.
    carrier_offset_hz:
        Mean instantaneous frequency: the carrier's offset from the tuned
        frequency (RF error of transmitter and receiver together).
    is_stereo_fm:
        The pilot stands ``min_snr_db`` out within ``tolerance_hz`` of 19 kHz.
    """

    pilot_f_hz: float
    pilot_offset_hz: float
    pilot_snr_db: float
    carrier_offset_hz: float
    is_stereo_fm: bool


def estimate_pilot_offset_hz(
    iq: np.ndarray,
    *,
    sample_rate_hz: float,
    pilot_hz: float = FM_PILOT_HZ,
    min_snr_db: float = 20.0,
    tolerance_hz: float = 4.0,
) -> PilotEstimate:
    """Find the 19 kHz stereo pilot of an FM broadcast station, and its carrier offset.

    Parameters
    ----------
    iq:
        Complex baseband with the station near 0 Hz, at least 0.1 s of it (the
        pilot's frequency resolution is about 0.02 / duration Hz). Above 300 kS/s
        it is first low-passed and decimated to 150-300 kS/s (one station's
        channel).
    sample_rate_hz:
        Sample rate of ``iq``, Hz.
    pilot_hz:
        Nominal pilot frequency.
    min_snr_db:
        Pilot-to-MPX-floor ratio needed to call the station stereo FM.
    tolerance_hz:
        Largest pilot error accepted: 2 Hz (BS.450) plus our clock (100 ppm of
        19 kHz is 1.9 Hz).

    Returns
    -------
    PilotEstimate

    Raises
    ------
    ParameterError
        If ``iq`` is too short or an argument is invalid.

    Notes
    -----
    The carrier offset, the mean of the demodulated frequency, is biased by
    audio whose phase excursion does not average out over the block: at most
    ``deviation / (pi * f_audio * duration)`` Hz, so use a second or more of
    signal when it is used for ppm.
    """
    x = np.asarray(iq)
    if x.ndim != 1 or not np.iscomplexobj(x):
        raise ParameterError("iq must be a 1-D complex array")
    if not (math.isfinite(sample_rate_hz) and sample_rate_hz > 0):
        raise ParameterError(f"sample_rate_hz must be positive; got {sample_rate_hz!r}")
    if sample_rate_hz < 4.0 * (pilot_hz + 3e3):
        raise ParameterError(
            f"sample_rate_hz={sample_rate_hz} is too low to see a {pilot_hz} Hz pilot")
    import scipy.fft

    rate = float(sample_rate_hz)
    q = int(rate // 150e3) if rate > 300e3 else 1
    if q > 1:
        # scipy.signal takes about a second to import: imported only where it is used.
        import scipy.signal

        x = scipy.signal.resample_poly(x.astype(np.complex128), 1, q)
        rate /= q
    if x.size < int(0.1 * rate):
        raise ParameterError(f"iq must hold at least 0.1 s of signal; got {x.size / rate:.3f} s")
    d = fm_demodulate(x, rate)
    carrier_offset = float(np.mean(d))
    d = d - carrier_offset
    w = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(d.size) / d.size)  # periodic Hann
    nfft = scipy.fft.next_fast_len(4 * d.size, real=True)
    spec = np.abs(np.fft.rfft(d * w, nfft)) ** 2
    df = rate / nfft
    f_axis = np.arange(spec.size) * df
    # The MPX is quiet between mono audio (<= 15 kHz) and the stereo subcarrier
    # (>= 23 kHz): the median there is the floor the pilot must stand above.
    floor = float(np.median(spec[np.abs(f_axis - pilot_hz) <= 2500.0]))
    search = np.abs(f_axis - pilot_hz) <= max(tolerance_hz * 4, 8 * df)
    idx = np.flatnonzero(search)
    k = int(idx[np.argmax(spec[idx])])
    snr_db = float(10.0 * np.log10(spec[k] / floor)) if floor > 0 else math.inf
    db = 10.0 * np.log10(np.maximum(spec[k - 1 : k + 2], 1e-300))
    f_pilot = (k + _peak_offset_bins(db, 1)) * df if 0 < k < spec.size - 1 else k * df
    stereo = snr_db >= min_snr_db and abs(f_pilot - pilot_hz) <= tolerance_hz
    if snr_db < min_snr_db:
        f_pilot = math.nan
    return PilotEstimate(
        pilot_f_hz=float(f_pilot),
        pilot_offset_hz=float(f_pilot - pilot_hz),
        pilot_snr_db=snr_db,
        carrier_offset_hz=carrier_offset,
        is_stereo_fm=bool(stereo),
    )
