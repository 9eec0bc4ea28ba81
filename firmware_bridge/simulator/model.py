"""A loaded scene: its configuration, emitter waveforms, link budgets and ground truth.

``Scene`` is what ``SimulatorReceiver`` runs on and what tests ask for the truth::

    scene = Scene.from_file("scenes/basic.yaml")
    scene.truth("rx1", f_center_hz=100e6, sample_rate_hz=2.4e6, t_ns=scene.start_ns)
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dsp.errors import ReceiverNotFound
from dsp.types import GeoPosition
from firmware_bridge.receiver import R820T_GAINS_DB
from firmware_bridge.simulator import modulation as mod
from firmware_bridge.simulator.impairments import (
    ANTI_ALIAS_FLAT_FRACTION,
    QUANTISATION_NOISE_DBFS,
    anti_alias_gain,
    dbm_to_dbfs_offset_db,
    image_rejection_db,
    iq_imbalance_coefficients,
    noise_floor_power_dbfs,
    thermal_noise_dbm,
)
from firmware_bridge.simulator.propagation import (
    distance_m,
    field_strength_dbuv_m,
    free_space_loss_db,
    log_distance_loss_db,
)
from firmware_bridge.simulator.scene import (
    AmConfig,
    CwConfig,
    EmitterConfig,
    Fsk4Config,
    NbfmConfig,
    OfdmConfig,
    ReceiverConfig,
    SceneConfig,
    WbfmConfig,
    load_scene_config,
    parse_scene,
)
from firmware_bridge.simulator.truth import EmitterTruth, NoiseTruth, occupied_bandwidth_hz

__all__ = [
    "Scene",
    "LinkBudget",
    "LOOP_SAMPLES",
    "AGC_TARGET_DBFS",
    "resolve_scene_path",
    "apparent_offset_hz",
    "loop_samples",
]

#: Nominal length of each emitter's looped waveform (samples at the receiver's rate);
#: see :func:`loop_samples` for the exact length at a given rate.
LOOP_SAMPLES = 2**19
#: The simulated AGC picks the highest table gain keeping the total power below this.
AGC_TARGET_DBFS = -20.0
#: Samples of the reference spectrum each emitter's 99 % bandwidth is computed from.
_REF_SAMPLES = 2**18


@dataclass(frozen=True, slots=True)
class LinkBudget:
    """Emitter -> receiver input connector: geometry and powers."""

    distance_m: float
    path_loss_db: float
    eirp_dbm: float
    power_dbm: float  # at the receiver's input connector
    e_dbuv_m: float


def _stable_seed(*parts: object) -> int:
    """A seed from values, stable across runs and Python versions (not ``hash()``)."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def _shadowing_draw(seed: int, emitter_id: str, rx_pos: GeoPosition, cell_m: float) -> float:
    """A standard normal draw, fixed for one emitter and one receiver place."""
    cell_deg = cell_m / 111_000.0
    key = (round(rx_pos.lat_deg / cell_deg), round(rx_pos.lon_deg / cell_deg))
    rng = np.random.default_rng(_stable_seed(seed, emitter_id, "shadowing", *key))
    return float(rng.standard_normal())


def generate_baseband(
    cfg: CwConfig | AmConfig | NbfmConfig | WbfmConfig | OfdmConfig | Fsk4Config,
    sample_rate_hz: float,
    n: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """One period (``n`` samples) of the modulation at ``sample_rate_hz``, unit power."""
    if isinstance(cfg, CwConfig):
        return mod.cw(sample_rate_hz, n, rng)
    if isinstance(cfg, AmConfig):
        return mod.am(sample_rate_hz, n, rng, cfg.mod_index, cfg.audio_bw_hz)
    if isinstance(cfg, NbfmConfig):
        return mod.nbfm(sample_rate_hz, n, rng, cfg.deviation_hz, cfg.audio_bw_hz)
    if isinstance(cfg, WbfmConfig):
        return mod.wbfm(sample_rate_hz, n, rng, cfg.deviation_hz, cfg.stereo)
    if isinstance(cfg, OfdmConfig):
        return mod.ofdm(sample_rate_hz, n, rng, cfg.occupied_bw_hz)
    if isinstance(cfg, Fsk4Config):
        return mod.fsk4(sample_rate_hz, n, rng, cfg.symbol_rate_hz, cfg.deviation_hz)
    raise TypeError(f"unknown modulation {cfg!r}")


def oversampling(cfg: object, sample_rate_hz: float) -> int:
    """Integer factor so the generator's rate holds the whole emission (>= 4x its width)."""
    need_hz = 4.0 * cfg.nominal_bw_hz()  # type: ignore[attr-defined]
    if isinstance(cfg, OfdmConfig):
        need_hz = 1.25 * cfg.occupied_bw_hz
    return max(1, math.ceil(need_hz / sample_rate_hz))


class Scene:
    """A validated scene with caches for waveforms (safe to share between threads)."""

    def __init__(self, config: SceneConfig, source: str = "<scene>") -> None:
        self.config = config
        self.source = source
        self._ref_cache: dict[str, tuple[np.ndarray, np.ndarray, float]] = {}
        self._fd_cache: OrderedDict[tuple, np.ndarray] = OrderedDict()
        # Entries are 4 MB (16 MB for OFDM); 48 covers 4 receivers x 12 emitters.
        self._fd_cache_max = 48
        self._lock = threading.Lock()

    # ----------------------------------------------------------------- loading
    @classmethod
    def from_file(cls, path: str | Path) -> Scene:
        """Load and validate a scene file (InputFormatError names line and field).

        A path that does not exist but names a scene shipped in the package
        (``basic``, ``lang_son_demo``, with or without ``.yaml``) loads that scene.
        """
        p = resolve_scene_path(path)
        return cls(load_scene_config(p), source=str(p))

    @classmethod
    def from_text(cls, text: str, source: str = "<scene>") -> Scene:
        return cls(parse_scene(text, source=source), source=source)

    # ----------------------------------------------------------------- lookup
    @property
    def name(self) -> str:
        return self.config.name

    @property
    def start_ns(self) -> int:
        """Scene start, UTC ns."""
        return self.config.start_ns

    @property
    def emitters(self) -> list[EmitterConfig]:
        return list(self.config.emitters)

    @property
    def receivers(self) -> list[ReceiverConfig]:
        return list(self.config.receivers)

    def emitter(self, emitter_id: str) -> EmitterConfig:
        for e in self.config.emitters:
            if e.id == emitter_id:
                return e
        raise KeyError(emitter_id)

    def receiver(self, name: str | None = None) -> ReceiverConfig:
        """The receiver with this id or name (the first one when ``name`` is None)."""
        if name is None:
            return self.config.receivers[0]
        for r in self.config.receivers:
            if name in (r.id, r.name):
                return r
        known = ", ".join(r.id for r in self.config.receivers)
        raise ReceiverNotFound(
            f"Không có máy thu {name!r} trong cảnh / no receiver {name!r} in scene "
            f"{self.source} (có / known: {known})"
        )

    # ----------------------------------------------------------------- physics
    def link_budget(
        self, emitter: EmitterConfig, rx: ReceiverConfig, position: GeoPosition | None = None,
        *, antenna_azimuth_deg: float | None = None,
    ) -> LinkBudget:
        """Path loss and power at ``rx``'s input connector (ERP + 2.15 dB = EIRP).

        With ``propagation.shadowing_db`` the loss carries a fixed log-normal draw per
        emitter and receiver place; with a directional ``rx.antenna`` the power carries
        the pattern's gain towards the emitter for the antenna pointing at
        ``antenna_azimuth_deg`` (default: the configured azimuth).
        """
        rx_pos = position if position is not None else rx.position.to_geo()
        tx_pos = emitter.position.to_geo()
        d_m = distance_m(tx_pos, rx_pos)
        prop = self.config.propagation
        if prop.model == "free_space":
            loss_db = free_space_loss_db(d_m, emitter.f_hz)
        else:
            loss_db = log_distance_loss_db(
                d_m, emitter.f_hz, prop.exponent, prop.reference_distance_m
            )
        if prop.shadowing_db > 0:
            loss_db += prop.shadowing_db * _shadowing_draw(
                self.config.seed, emitter.id, rx_pos, prop.shadowing_cell_m)
        eirp_dbm = emitter.erp_dbm_value + 2.15
        p_iso_dbm = eirp_dbm - loss_db
        pattern_db = 0.0
        if rx.antenna is not None:
            from dsp.geo import bearing_deg

            az = rx.antenna.azimuth_deg if antenna_azimuth_deg is None else antenna_azimuth_deg
            pattern_db = rx.antenna.relative_gain_db(bearing_deg(rx_pos, tx_pos) - az)
        return LinkBudget(
            distance_m=d_m,
            path_loss_db=loss_db,
            eirp_dbm=eirp_dbm,
            power_dbm=p_iso_dbm + rx.antenna_gain_dbi + pattern_db - rx.cable_loss_db,
            e_dbuv_m=field_strength_dbuv_m(p_iso_dbm, emitter.f_hz),
        )

    def reference_spectrum(self, emitter: EmitterConfig) -> tuple[np.ndarray, np.ndarray, float]:
        """(f_hz ascending, normalised power per bin, bw_99_hz) of the whole emission.

        Computed once from one period of the generator at a rate holding the emission
        (the periodogram of a periodic signal is exact: no leakage, no window).
        """
        with self._lock:
            hit = self._ref_cache.get(emitter.id)
        if hit is not None:
            return hit
        cfg = emitter.modulation
        fs = max(50e3, 4.0 * cfg.nominal_bw_hz())
        if isinstance(cfg, OfdmConfig):
            fs = 1.25 * cfg.occupied_bw_hz
        n = _REF_SAMPLES * (4 if isinstance(cfg, OfdmConfig) else 1)
        rng = np.random.default_rng(_stable_seed(self.config.seed, emitter.id, "ref"))
        x = generate_baseband(cfg, fs, n, rng)
        p = np.abs(np.fft.fftshift(np.fft.fft(x))) ** 2
        p /= p.sum()
        f = np.fft.fftshift(np.fft.fftfreq(n, 1.0 / fs))
        bw = occupied_bandwidth_hz(f, p)
        with self._lock:
            self._ref_cache[emitter.id] = (f, p, bw)
        return f, p, bw

    def baseband_fd(
        self, emitter: EmitterConfig, sample_rate_hz: float, n: int
    ) -> tuple[np.ndarray, int]:
        """FFT of one period generated at ``k * sample_rate_hz`` (k = oversampling).

        Returned as complex64 of length ``k * n`` (bin spacing ``sample_rate_hz / n``),
        normalised so the whole emission has unit power, with ``k``. Cached (LRU).
        """
        k = oversampling(emitter.modulation, sample_rate_hz)
        key = (emitter.id, round(sample_rate_hz, 6), n)
        with self._lock:
            hit = self._fd_cache.get(key)
            if hit is not None:
                self._fd_cache.move_to_end(key)
                return hit, k
        rng = np.random.default_rng(_stable_seed(self.config.seed, emitter.id, key[1], n))
        x = generate_baseband(emitter.modulation, k * sample_rate_hz, k * n, rng)
        fd = np.fft.fft(x).astype(np.complex64)
        with self._lock:
            self._fd_cache[key] = fd
            while len(self._fd_cache) > self._fd_cache_max:
                self._fd_cache.popitem(last=False)
        return fd, k

    # ----------------------------------------------------------------- truth
    def gain_for(
        self,
        rx: ReceiverConfig,
        f_center_hz: float,
        sample_rate_hz: float,
        t_ns: int,
        gain_db: float | None,
        position: GeoPosition | None = None,
    ) -> float:
        """The gain in effect: ``gain_db`` if given, else the AGC's choice.

        The simulated AGC picks the highest R820T table gain that keeps the total mean
        power (thermal noise + on-air in-band emitters) at or below ``AGC_TARGET_DBFS``.
        """
        if gain_db is not None:
            return gain_db
        n_dbm = thermal_noise_dbm(sample_rate_hz, rx.noise_figure_db)
        total_mw = 10 ** (n_dbm / 10)
        t_s = (t_ns - self.start_ns) / 1e9
        for e in self.config.emitters:
            if abs(e.f_hz - f_center_hz) < sample_rate_hz / 2 and e.on_air(t_s):
                total_mw += 10 ** (self.link_budget(e, rx, position).power_dbm / 10)
        total_dbm = 10 * math.log10(total_mw)
        best = R820T_GAINS_DB[0]
        for g in R820T_GAINS_DB:
            if total_dbm + dbm_to_dbfs_offset_db(f_center_hz, g) <= AGC_TARGET_DBFS:
                best = g
        return best

    def truth(
        self,
        receiver_id: str,
        f_center_hz: float,
        sample_rate_hz: float,
        t_ns: int,
        *,
        gain_db: float | None = None,
        position: GeoPosition | None = None,
        ppm_correction: float = 0.0,
        inband_fractions: dict[str, float] | None = None,
        antenna_azimuth_deg: float | None = None,
    ) -> list[EmitterTruth]:
        """Ground truth of every emitter for one receiver, tuning and time.

        ``gain_db`` defaults to the receiver's configured gain (AGC when that is null).
        ``inband_fractions`` (emitter id -> linear power fraction reaching the ADC) is
        passed by :class:`SimulatorReceiver` from its own waveforms; without it the
        fraction comes from the emitter's reference spectrum (the same to within the
        randomness of the two periods, and exact for emitters in the flat band).
        """
        rx = self.receiver(receiver_id)
        g = self.gain_for(
            rx, f_center_hz, sample_rate_hz, t_ns,
            rx.gain_db if gain_db is None else gain_db, position,
        )
        eps = (rx.ppm_error - ppm_correction) * 1e-6
        mu, _ = iq_imbalance_coefficients(rx.iq_imbalance.amplitude_db, rx.iq_imbalance.phase_deg)
        irr_db = image_rejection_db(rx.iq_imbalance.amplitude_db, rx.iq_imbalance.phase_deg)
        mu_db = 10 * math.log10(abs(mu) ** 2)
        t_s = (t_ns - self.start_ns) / 1e9
        half = sample_rate_hz / 2
        out: list[EmitterTruth] = []
        for e in self.config.emitters:
            lb = self.link_budget(e, rx, position, antenna_azimuth_deg=antenna_azimuth_deg)
            off_hz = apparent_offset_hz(e.f_hz, f_center_hz, sample_rate_hz, eps)
            f_app = f_center_hz + off_hz
            in_band = abs(off_hz) < half
            _, _, bw = self.reference_spectrum(e)
            if inband_fractions is not None:
                frac = inband_fractions.get(e.id, 0.0)
            else:
                frac = self._inband_fraction_ref(e, off_hz, sample_rate_hz)
            if frac > 0:
                p_dbfs = (
                    lb.power_dbm + dbm_to_dbfs_offset_db(f_center_hz, g)
                    + 10 * math.log10(frac) + mu_db
                )
            else:
                p_dbfs = -math.inf
            flat = ANTI_ALIAS_FLAT_FRACTION * half
            out.append(
                EmitterTruth(
                    emitter_id=e.id,
                    label=e.label,
                    modulation=e.modulation.kind,
                    f_hz=e.f_hz,
                    f_apparent_hz=f_app,
                    bw_99_hz=bw,
                    power_dbm=lb.power_dbm,
                    power_antenna_dbm=lb.power_dbm + rx.cable_loss_db,
                    power_dbfs=p_dbfs,
                    e_dbuv_m=lb.e_dbuv_m,
                    distance_m=lb.distance_m,
                    path_loss_db=lb.path_loss_db,
                    on_air=e.on_air(t_s),
                    in_band=in_band,
                    fully_in_band=abs(off_hz) + bw / 2 <= flat,
                    image_f_hz=2 * f_center_hz - f_app,
                    image_power_dbfs=p_dbfs - irr_db,
                )
            )
        return out

    def _inband_fraction_ref(
        self, e: EmitterConfig, off_hz: float, sample_rate_hz: float
    ) -> float:
        f, p, _ = self.reference_spectrum(e)
        fb = f + off_hz
        inside = np.abs(fb) < sample_rate_hz / 2
        if not inside.any():
            return 0.0
        h2 = anti_alias_gain(fb[inside], sample_rate_hz) ** 2
        return float(np.sum(p[inside] * h2))

    def noise_truth(
        self,
        receiver_id: str,
        f_center_hz: float,
        sample_rate_hz: float,
        t_ns: int | None = None,
        *,
        gain_db: float | None = None,
        position: GeoPosition | None = None,
        inband_fractions: dict[str, float] | None = None,
    ) -> NoiseTruth:
        """Noise floor densities (dBFS/Hz) at mid-band for this receiver and tuning."""
        rx = self.receiver(receiver_id)
        t_ns = self.start_ns if t_ns is None else t_ns
        g = self.gain_for(
            rx, f_center_hz, sample_rate_hz, t_ns,
            rx.gain_db if gain_db is None else gain_db, position,
        )
        thermal_dbm_hz = thermal_noise_dbm(1.0, rx.noise_figure_db)
        thermal_dbfs_hz = thermal_dbm_hz + dbm_to_dbfs_offset_db(f_center_hz, g)
        bw_db = 10 * math.log10(sample_rate_hz)
        signal_mw = sum(
            10 ** (t.power_dbfs / 10)
            for t in self.truth(
                receiver_id, f_center_hz, sample_rate_hz, t_ns, gain_db=g, position=position,
                inband_fractions=inband_fractions,
            )
            if t.on_air and t.in_band and math.isfinite(t.power_dbfs)
        )
        signal_dbfs = 10 * math.log10(signal_mw) if signal_mw > 0 else -math.inf
        floor_dbfs = noise_floor_power_dbfs(thermal_dbfs_hz + bw_db, signal_dbfs)
        total = floor_dbfs - bw_db
        quant_lin = 10 ** (total / 10) - 10 ** (thermal_dbfs_hz / 10)
        quant_dbfs_hz = 10 * math.log10(quant_lin) if quant_lin > 0 else (
            QUANTISATION_NOISE_DBFS - bw_db
        )
        return NoiseTruth(
            thermal_dbm_hz=thermal_dbm_hz,
            thermal_dbfs_hz=thermal_dbfs_hz,
            quantisation_dbfs_hz=quant_dbfs_hz,
            total_dbfs_hz=total,
            gain_db=g,
            sample_rate_hz=sample_rate_hz,
        )


def resolve_scene_path(path: str | Path) -> Path:
    """``path`` itself, or the shipped scene of that name when no such file exists."""
    p = Path(path)
    if p.exists():
        return p
    shipped = Path(__file__).with_name("scenes") / (p.stem + ".yaml")
    if p.parent == Path(".") and p.suffix in ("", ".yaml") and shipped.exists():
        return shipped
    return p


def loop_samples(sample_rate_hz: float) -> int:
    """Loop length (about 2**19) at this rate: a multiple of ``rate / 1 kHz`` if whole.

    Then the waveform's bin grid divides 1 kHz, so offsets in whole kHz and the FM
    stereo pilot (19 kHz) are exact (with no crystal error). The multiplier is an
    FFT-friendly size (scipy's ``next_fast_len``).
    """
    from scipy.fft import next_fast_len

    q = sample_rate_hz / 1000.0
    if q != int(q) or q < 1:
        return LOOP_SAMPLES
    q = int(q)
    m = max(1, round(LOOP_SAMPLES / q))
    while not _smooth(q * m):
        m = next_fast_len(m + 1)
    return q * m


def _smooth(n: int) -> bool:
    for p in (2, 3, 5, 7):
        while n % p == 0:
            n //= p
    return n == 1


def apparent_offset_hz(
    f_hz: float, f_center_hz: float, sample_rate_hz: float, eps: float, n: int | None = None
) -> float:
    """Baseband offset (Hz, nominal clock) where the receiver shows an emitter at ``f_hz``.

    Crystal error ``eps`` (relative) moves the LO to ``f_center (1 + eps)`` and the sample
    clock to ``rate (1 + eps)``; the true offset ``f - f_center (1 + eps)`` is rounded to
    the waveform's bin grid ``rate (1 + eps) / n`` and read with the nominal clock, so the
    apparent RF frequency is ``f / (1 + eps)`` to within half a bin.
    """
    if n is None:
        n = loop_samples(sample_rate_hz)
    fs_eff = sample_rate_hz * (1 + eps)
    step = fs_eff / n
    true_off = f_hz - f_center_hz * (1 + eps)
    return round(true_off / step) * step / (1 + eps)
