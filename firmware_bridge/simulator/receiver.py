"""``SimulatorReceiver``: a simulated RTL-SDR (R820T) receiving a scene.

It implements :class:`firmware_bridge.receiver.Receiver`, so everything above runs on it
unchanged. Time is virtual: each block's ``t_start_ns`` advances by the samples read
(plus dropped samples and a retune gap), never by the wall clock, so minutes of scene
time run as fast as the machine allows.

How a block is made (fast path, see bench/simulator.py):

- On (re)tuning, each emitter whose emission reaches the band gets one period of its
  waveform (about 2**19 samples, :func:`~firmware_bridge.simulator.model.loop_samples`)
  shifted by whole FFT bins to its apparent offset,
  with the anti-alias roll-off applied in the frequency domain (exact for a periodic
  signal, no aliasing of what lies outside the band). Cached per tuning (LRU by
  bytes, ``TUNING_CACHE_BYTES``), so a sweep that revisits its hops costs little.
- Thermal noise comes from a pre-filtered Gaussian buffer read at a random offset per
  block (seeded), scaled to kT0 B NF through the gain.
- A block is noise + the sum of the on-air emitters' looped waveforms (each switched
  on/off at the exact sample its schedule says), then IQ imbalance, DC offset and the
  8-bit ADC (:func:`~firmware_bridge.simulator.impairments.quantise_cu8`).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dsp.errors import ReceiverError, ReceiverLost, ReceiverNotFound
from dsp.types import GeoPosition, IQBlock
from firmware_bridge.receiver import R820T_GAINS_DB, Receiver, ReceiverCapabilities
from firmware_bridge.simulator.impairments import (
    anti_alias_gain,
    apply_iq_imbalance,
    dbm_to_dbfs_offset_db,
    quantise_cu8,
    thermal_noise_dbm,
)
from firmware_bridge.simulator.model import (
    LOOP_SAMPLES,
    Scene,
    _stable_seed,
    apparent_offset_hz,
    loop_samples,
)
from firmware_bridge.simulator.scene import EmitterConfig, FaultsConfig, ReceiverConfig
from firmware_bridge.simulator.truth import EmitterTruth, NoiseTruth

__all__ = ["SimulatorReceiver", "R820T_CAPABILITIES", "RETUNE_GAP_NS"]

#: What a simulated R820T dongle accepts (librtlsdr's rate ranges, DOMAIN.md E).
R820T_CAPABILITIES = ReceiverCapabilities(
    f_min_hz=24e6,
    f_max_hz=1766e6,
    gains_db=R820T_GAINS_DB,
    sample_rate_ranges_hz=((225_001.0, 300_000.0), (900_001.0, 3_200_000.0)),
    tuner="R820T (simulated)",
)
#: Virtual time lost on each retune or rate change (rtl_power waits 5 ms, then discards).
RETUNE_GAP_NS = 5_000_000
_NOISE_SAMPLES = 2**20
#: Memory kept per receiver for prepared tunings (emitter waveforms, ~4 MB each).
TUNING_CACHE_BYTES = 160 * 2**20


@dataclass(slots=True)
class _Prepared:
    emitter: EmitterConfig
    waveform: np.ndarray  # complex64, LOOP_SAMPLES, already filtered and shifted
    inband_fraction: float


class SimulatorReceiver(Receiver):
    """A simulated RTL-SDR on one receiver of a scene.

    Parameters
    ----------
    scene:
        The loaded :class:`Scene`.
    receiver_name:
        Id or name of the scene receiver (the first one when None).
    seed:
        Seed of the noise and of the per-block random choices (the emitters' content is
        seeded by the scene's own ``seed``). Same seed, same calls -> same bytes.
    t0_ns:
        Virtual UTC time of the first sample; defaults to the scene's ``start_time``.
    """

    def __init__(
        self,
        scene: Scene,
        receiver_name: str | None = None,
        seed: int | None = 0,
        t0_ns: int | None = None,
    ) -> None:
        seed = 0 if seed is None else int(seed)
        self.scene = scene
        self.config: ReceiverConfig = scene.receiver(receiver_name)
        self.receiver_id = f"simulator:{self.config.id}"
        self._seed = seed
        self._rng = np.random.default_rng(_stable_seed(seed, self.config.id, "blocks"))
        self._position = self.config.position.to_geo()
        self._f_center_hz = self.config.f_center_hz or 100e6
        self._rate_hz = self.config.sample_rate_hz or 2.4e6
        self._gain_req: float | None = (
            None
            if self.config.gain_db is None
            else R820T_CAPABILITIES.nearest_gain_db(self.config.gain_db)
        )
        self._ppm_correction = 0.0
        self._faults: FaultsConfig = self.config.faults
        self._open = False
        self._t_tune_ns = scene.start_ns if t0_ns is None else int(t0_ns)
        self._samples_since_tune = 0
        self._blocks_since_open = 0
        self._blocks_total = 0
        self._failures = 0
        self._lost = False
        self._tunings: OrderedDict[tuple, list[_Prepared]] = OrderedDict()
        self._noise: dict[float, np.ndarray] = {}
        self._antenna_az: float | None = None

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_scene_file(
        cls,
        path: str | Path,
        receiver_name: str | None = None,
        seed: int | None = 0,
        t0_ns: int | None = None,
    ) -> SimulatorReceiver:
        """Load a scene file and build the receiver (not opened yet)."""
        return cls(Scene.from_file(path), receiver_name, seed, t0_ns)

    @classmethod
    def from_scene(
        cls,
        scene: Scene,
        receiver_name: str | None = None,
        seed: int | None = 0,
        t0_ns: int | None = None,
    ) -> SimulatorReceiver:
        return cls(scene, receiver_name, seed, t0_ns)

    # ----------------------------------------------------------------- Receiver API
    @property
    def capabilities(self) -> ReceiverCapabilities:
        return R820T_CAPABILITIES

    def open(self) -> None:
        if self._lost and self._faults.lost_permanently:
            raise ReceiverNotFound(
                f"Không tìm thấy thiết bị / no device: simulated receiver {self.config.id!r} "
                "was lost permanently (scene faults.lost_permanently)"
            )
        self._open = True
        self._lost = False
        self._blocks_since_open = 0

    def close(self) -> None:
        self._open = False

    @property
    def is_open(self) -> bool:
        return self._open

    def tune(self, f_hz: float) -> None:
        caps = self.capabilities
        if not caps.f_min_hz <= f_hz <= caps.f_max_hz:
            raise ReceiverError(
                f"Tần số ngoài dải / frequency out of range: {f_hz:.0f} Hz not in "
                f"{caps.f_min_hz:.0f}..{caps.f_max_hz:.0f} Hz"
            )
        self._retune()
        self._f_center_hz = float(f_hz)

    @property
    def f_center_hz(self) -> float:
        return self._f_center_hz

    def set_sample_rate(self, rate_hz: float) -> None:
        if not self.capabilities.accepts_rate(rate_hz):
            raise ReceiverError(
                f"Tốc độ lấy mẫu không hỗ trợ / unsupported sample rate: {rate_hz:.0f} S/s"
            )
        self._retune()
        self._rate_hz = float(rate_hz)

    @property
    def sample_rate_hz(self) -> float:
        return self._rate_hz

    def set_gain(self, gain_db: float | None) -> None:
        self._gain_req = None if gain_db is None else self.capabilities.nearest_gain_db(gain_db)

    @property
    def gain_db(self) -> float | None:
        return self._gain_req

    @property
    def effective_gain_db(self) -> float:
        """The gain in effect now (the AGC's choice when ``gain_db`` is None)."""
        return self.scene.gain_for(
            self.config, self._f_center_hz, self._rate_hz, self.t_ns, self._gain_req,
            self._position,
        )

    def set_ppm(self, ppm: float) -> None:
        self._ppm_correction = float(ppm)

    # ----------------------------------------------------------------- simulator extras
    @staticmethod
    def dbm_to_dbfs_offset_db(f_hz: float, gain_db: float) -> float:
        """The exact calibration: dBFS at the ADC = dBm at the input connector + this."""
        return dbm_to_dbfs_offset_db(f_hz, gain_db)

    def set_faults(self, **changes: object) -> None:
        """Change the failures on request (the scene's ``faults`` fields), e.g.
        ``set_faults(fail_after_blocks=3)``; counts restart from now."""
        merged = {**self._faults.model_dump(), **changes}
        self._faults = FaultsConfig.model_validate(merged)
        self._failures = 0
        self._blocks_since_open = 0

    def set_antenna_azimuth(self, azimuth_deg: float) -> None:
        """Point the directional antenna (the simulated rotator calls this)."""
        self._antenna_az = float(azimuth_deg) % 360.0

    @property
    def antenna_azimuth_deg(self) -> float | None:
        if self.config.antenna is None:
            return None
        return self.config.antenna.azimuth_deg if self._antenna_az is None else self._antenna_az

    def set_position(self, position: GeoPosition) -> None:
        """Move the receiver (a field kit on the road); takes effect on the next block."""
        self._position = position

    @property
    def position(self) -> GeoPosition:
        return self._position

    @property
    def t_ns(self) -> int:
        """Virtual UTC time of the next sample to be read."""
        return self._t_tune_ns + int(round(self._samples_since_tune * 1e9 / self._rate_hz))

    def idle_until(self, t_ns: int) -> None:
        """Let virtual scene time pass to ``t_ns`` without producing samples.

        The clock otherwise advances only by samples read; a station that sleeps
        between tasks lets the scene go on meanwhile. Earlier times are ignored.
        """
        if t_ns > self.t_ns:
            self._t_tune_ns = int(t_ns)
            self._samples_since_tune = 0

    @property
    def ppm_residual(self) -> float:
        """Crystal error left after the correction set with :meth:`set_ppm` (ppm)."""
        return self.config.ppm_error - self._ppm_correction

    def truth(self, t_ns: int | None = None) -> list[EmitterTruth]:
        """Ground truth at the current tuning, gain and position (exact in-band powers)."""
        fractions = {p.emitter.id: p.inband_fraction for p in self._prepared()}
        return self.scene.truth(
            self.config.id, self._f_center_hz, self._rate_hz,
            self.t_ns if t_ns is None else t_ns,
            gain_db=self.effective_gain_db, position=self._position,
            ppm_correction=self._ppm_correction, inband_fractions=fractions,
            antenna_azimuth_deg=self._antenna_az,
        )

    def noise_truth(self, t_ns: int | None = None) -> NoiseTruth:
        """Noise floor at the current tuning and gain (see :class:`NoiseTruth`)."""
        fractions = {p.emitter.id: p.inband_fraction for p in self._prepared()}
        return self.scene.noise_truth(
            self.config.id, self._f_center_hz, self._rate_hz,
            self.t_ns if t_ns is None else t_ns,
            gain_db=self.effective_gain_db, position=self._position,
            inband_fractions=fractions,
        )

    # ----------------------------------------------------------------- reading
    def read(self, n_samples: int) -> IQBlock:
        if n_samples <= 0:
            raise ValueError("n_samples must be positive")
        if not self._open:
            raise ReceiverError(
                f"Máy thu chưa mở / receiver not open: {self.receiver_id} (call open())"
            )
        self._maybe_fail()
        faults = self._faults
        dropped = 0
        if faults.drop_every_blocks and (self._blocks_total + 1) % faults.drop_every_blocks == 0:
            dropped = faults.drop_samples
            self._samples_since_tune += dropped
        t_start_ns = self.t_ns
        iq = self._synthesise(n_samples, t_start_ns)
        samples, overload = quantise_cu8(iq)
        self._samples_since_tune += n_samples
        self._blocks_since_open += 1
        self._blocks_total += 1
        return IQBlock(
            samples=samples,
            f_center_hz=self._f_center_hz,
            sample_rate_hz=self._rate_hz,
            gain_db=self._gain_req,
            t_start_ns=t_start_ns,
            receiver_id=self.receiver_id,
            overload=overload,
            dropped_samples=dropped,
        )

    def _maybe_fail(self) -> None:
        faults = self._faults
        if faults.fail_after_blocks is None:
            return
        if self._failures > 0 and not faults.fail_repeat:
            return
        if self._blocks_since_open >= faults.fail_after_blocks:
            self._failures += 1
            self._lost = True
            self._open = False
            raise ReceiverLost(
                f"Mất thiết bị / device lost: simulated receiver {self.config.id!r} vanished "
                f"after {self._blocks_since_open} blocks (scene faults.fail_after_blocks)"
            )

    def _retune(self) -> None:
        # Keep the virtual clock: the new tuning starts after a retune gap.
        self._t_tune_ns = self.t_ns + RETUNE_GAP_NS
        self._samples_since_tune = 0

    def _eps(self) -> float:
        return self.ppm_residual * 1e-6

    def _prepared(self) -> list[_Prepared]:
        key = (self._f_center_hz, self._rate_hz, self._eps())
        hit = self._tunings.get(key)
        if hit is not None:
            self._tunings.move_to_end(key)
            return hit
        prepared = [p for e in self.scene.emitters if (p := self._prepare(e)) is not None]
        self._tunings[key] = prepared
        # LRU by bytes: a sweep revisits its hops, most of them empty (free to keep).
        while len(self._tunings) > 1 and self._tuning_bytes() > TUNING_CACHE_BYTES:
            self._tunings.popitem(last=False)
        return prepared

    def _tuning_bytes(self) -> int:
        return sum(p.waveform.nbytes for ps in self._tunings.values() for p in ps)

    def _prepare(self, e: EmitterConfig) -> _Prepared | None:
        n = loop_samples(self._rate_hz)
        fs = self._rate_hz
        eps = self._eps()
        fs_eff = fs * (1 + eps)
        off_hz = apparent_offset_hz(e.f_hz, self._f_center_hz, fs, eps, n)
        _, _, bw = self.scene.reference_spectrum(e)
        # Beyond 1.5x its 99 % band an emission is > 40 dB down: skip it when that
        # much does not reach the band.
        if abs(off_hz) - 0.75 * max(bw, e.modulation.nominal_bw_hz()) > fs / 2:
            return None
        fd, k = self.scene.baseband_fd(e, fs_eff, n)
        shift = int(round(off_hz * (1 + eps) / (fs_eff / n)))
        m = np.arange(-n // 2, n // 2)
        src = m - shift
        kn = k * n
        valid = (src >= -(kn // 2)) & (src < kn // 2)
        if not valid.any():
            return None
        spec = np.zeros(n, dtype=np.complex128)
        mv = m[valid]
        spec[mv % n] = fd[src[valid] % kn] * anti_alias_gain(mv * (fs / n), fs)
        wave = (np.fft.ifft(spec) / k).astype(np.complex64)
        frac = float(np.mean(np.abs(wave.astype(np.complex128)) ** 2))
        if frac <= 0:
            return None
        return _Prepared(emitter=e, waveform=wave, inband_fraction=frac)

    def _noise_buffer(self) -> np.ndarray:
        fs = self._rate_hz
        buf = self._noise.get(fs)
        if buf is None:
            rng = np.random.default_rng(_stable_seed(self._seed, self.config.id, "noise", fs))
            n = _NOISE_SAMPLES
            x = (rng.standard_normal(n) + 1j * rng.standard_normal(n)) / math.sqrt(2)
            f = np.fft.fftfreq(n, 1.0 / fs)
            buf = np.fft.ifft(np.fft.fft(x) * anti_alias_gain(f, fs)).astype(np.complex64)
            self._noise[fs] = buf
        return buf

    def _synthesise(self, n: int, t_start_ns: int) -> np.ndarray:
        fs = self._rate_hz
        gain = self.effective_gain_db
        offset_db = dbm_to_dbfs_offset_db(self._f_center_hz, gain)
        rx = self.config
        # Thermal noise, from the buffer at a random offset.
        noise = self._noise_buffer()
        noise_amp = np.float32(
            10 ** ((thermal_noise_dbm(fs, rx.noise_figure_db) + offset_db) / 20)
        )
        out = np.empty(n, dtype=np.complex64)
        scratch = np.empty(min(n, 2 * LOOP_SAMPLES), dtype=np.complex64)
        start = int(self._rng.integers(0, noise.size))
        _copy_looped(out, noise, start, 0, n, noise_amp)
        # Emitters, each switched at the sample its schedule says.
        t0_s = (t_start_ns - self.scene.start_ns) / 1e9
        t1_s = t0_s + n / fs
        n_tune0 = int(round((self._t_tune_ns - self.scene.start_ns) * fs / 1e9))
        first = n_tune0 + self._samples_since_tune
        for p in self._prepared():
            intervals = p.emitter.on_intervals_s(t0_s, t1_s)
            if not intervals:
                continue
            lb = self.scene.link_budget(p.emitter, rx, self._position,
                                        antenna_azimuth_deg=self._antenna_az)
            amp = np.float32(10 ** ((lb.power_dbm + offset_db) / 20))
            wave = p.waveform
            for a_s, b_s in intervals:
                a = max(0, min(n, math.ceil((a_s - t0_s) * fs - 1e-6)))
                b = max(0, min(n, math.ceil((b_s - t0_s) * fs - 1e-6)))
                if b > a:
                    _add_looped(out, wave, (first + a) % wave.size, a, b, amp, scratch)
        imb = rx.iq_imbalance
        apply_iq_imbalance(out, imb.amplitude_db, imb.phase_deg)
        if rx.dc_offset.i or rx.dc_offset.q:
            out += np.complex64(complex(rx.dc_offset.i, rx.dc_offset.q))
        return out


def _copy_looped(
    out: np.ndarray, src: np.ndarray, start: int, a: int, b: int, amp: np.float32
) -> None:
    """out[a:b] = amp * src[start:...] reading ``src`` as a loop."""
    pos = start
    i = a
    while i < b:
        take = min(b - i, src.size - pos)
        np.multiply(src[pos : pos + take], amp, out=out[i : i + take])
        i += take
        pos = 0


def _add_looped(
    out: np.ndarray,
    src: np.ndarray,
    start: int,
    a: int,
    b: int,
    amp: np.float32,
    scratch: np.ndarray,
) -> None:
    """out[a:b] += amp * src[start:...] reading ``src`` as a loop (no allocation)."""
    pos = start
    i = a
    while i < b:
        take = min(b - i, src.size - pos)
        tmp = scratch[:take]
        np.multiply(src[pos : pos + take], amp, out=tmp)
        seg = out[i : i + take]
        seg += tmp
        i += take
        pos = 0
