"""The station's measurement tasks: sweep, channel watch, occupancy, evidence capture.

Each task is a callable ``task(receiver, ctx)`` run by the agent through the
receiver's supervisor; it measures with ``dsp`` and hands typed items to
``ctx.emit`` (the agent's sink). Tasks know nothing about storage or the network.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import logging
import math
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dsp.calibration import (
    PpmEstimate,
    apply_ppm,
    correct_spectrum_ppm,
    estimate_ppm_from_carriers,
)
from dsp.errors import ParameterError
from dsp.hops import (
    fft_size_for_rbw,
    image_suspects,
    median_floor,
    merge_hop_emissions,
)
from dsp.pipeline import analyze_spectrum
from dsp.spectrum import band_power_db, welch_spectrum
from dsp.sweep import Hop, plan_sweep, stitch
from dsp.types import Emission, GeoPosition, IQBlock, Spectrum
from firmware_bridge.receiver import Receiver
from stations.batch import (
    BearingItem,
    ChannelPowerItem,
    EmissionItem,
    EvidenceItem,
    Item,
    OccupancyItem,
    PositionTag,
    SpectrumItem,
)
from stations.config import (
    BearingTask,
    ChannelWatchTask,
    EvidenceTask,
    OccupancyTask,
    PpmTrackingConfig,
    ReceiverConfig,
    SweepTask,
)
from stations.health import ReceiverHealth

__all__ = [
    "BearingRunner",
    "ChannelWatchRunner",
    "EvidenceRecorder",
    "OccupancyRunner",
    "PpmTracker",
    "SweepRunner",
    "TaskContext",
    "corrected",
    "fft_size_for_rbw",
]

log = logging.getLogger(__name__)

NS = 1_000_000_000


class PpmTracker:
    """A receiver's frequency error, estimated from reference carriers and applied.

    :meth:`observe` takes the *raw* spectrum of a sweep that covers some of the
    ``reference_f_hz`` (licensed broadcasters' assigned frequencies) and, at most once
    per ``config.every_s``, estimates the apparent error with
    :func:`dsp.calibration.estimate_ppm_from_carriers`. An estimate counts only with
    ``min_refs`` carriers ``min_snr_db`` above their window, agreeing within
    ``max_residual_ppm`` (a reference off its frequency, or another station in its
    window, shows as disagreement); accepted ones are smoothed exponentially.
    :meth:`correct` puts a spectrum on its true frequency grid.

    The correction is applied in software to every spectrum
    (:func:`dsp.calibration.correct_spectrum_ppm`), not with ``Receiver.set_ppm``:
    the estimator then always sees the receiver's uncorrected spectra, so the estimate
    is of the whole error (no feedback loop, and it cannot be applied twice); it works
    on every receiver (a file replay or an rtl_tcp server cannot move its clock, and
    librtlsdr takes whole ppm only); and an update never retunes the dongle. A static
    ``ReceiverConfig.ppm`` still goes to the hardware; the tracker then estimates what
    is left of the error after it.

    Examples
    --------
    >>> t = PpmTracker([100e6], PpmTrackingConfig(min_refs=1, method="peak", search_hz=5e3))
    >>> p = np.full(2001, -90.0, np.float32); p[1000 + 5] = -20.0
    >>> t.observe(Spectrum(100e6 - 100e3, 100.0, p, "dBFS", 150.0, 0, 0), 0)
    True
    >>> round(t.ppm, 6), round(t.true_hz(100_000_500.0), 3)
    (5.0, 100000000.0)
    """

    def __init__(self, reference_f_hz: Sequence[float], config: PpmTrackingConfig) -> None:
        self.reference_f_hz = tuple(float(f) for f in reference_f_hz)
        self.config = config
        #: The smoothed apparent error (``measured = true * (1 + ppm * 1e-6)``);
        #: ``None`` until the first accepted estimate.
        self.ppm: float | None = None
        self.last: PpmEstimate | None = None
        self.n_estimates = 0
        self.n_rejected = 0
        self._last_t_ns: int | None = None

    def covers(self, spectrum: Spectrum) -> bool:
        """Whether some reference's search window lies inside ``spectrum``."""
        half = self.config.search_hz
        return any(
            spectrum.f_start_hz + half <= f <= spectrum.f_stop_hz - half
            for f in self.reference_f_hz
        )

    def observe(self, raw: Spectrum, t_ns: int) -> bool:
        """Estimate from an *uncorrected* spectrum when due; ``True`` if accepted."""
        cfg = self.config
        if not self.reference_f_hz or not self.covers(raw):
            return False
        if self._last_t_ns is not None and t_ns - self._last_t_ns < cfg.every_s * NS:
            return False
        try:
            est = estimate_ppm_from_carriers(
                raw, self.reference_f_hz, cfg.search_hz, method=cfg.method,
                min_snr_db=cfg.min_snr_db,
            )
        except ValueError:
            return False  # no reference stands above the floor in this sweep
        if (
            est.n_refs < cfg.min_refs
            or est.residual_ppm > cfg.max_residual_ppm
            or abs(est.ppm) > cfg.max_abs_ppm
        ):
            self.n_rejected += 1
            return False
        self.last = est
        self.n_estimates += 1
        self._last_t_ns = t_ns
        if self.ppm is None:
            self.ppm = est.ppm
        else:
            self.ppm += cfg.smoothing * (est.ppm - self.ppm)
        return True

    def correct(self, spectrum: Spectrum) -> Spectrum:
        """``spectrum`` on its true frequency grid (unchanged before any estimate)."""
        return spectrum if self.ppm is None else correct_spectrum_ppm(spectrum, self.ppm)

    def true_hz(self, measured_f_hz: float) -> float:
        """The true frequency of what the receiver shows at ``measured_f_hz``."""
        return measured_f_hz if self.ppm is None else float(apply_ppm(measured_f_hz, self.ppm))

    def tuned_hz(self, true_f_hz: float) -> float:
        """Where to tune the receiver so that its centre is ``true_f_hz`` really."""
        return true_f_hz if self.ppm is None else true_f_hz * (1.0 + self.ppm * 1e-6)


@dataclass
class TaskContext:
    """What a task may use besides its receiver."""

    station_id: str
    receiver: ReceiverConfig
    health: ReceiverHealth
    emit: Callable[[Item], None]
    position: Callable[[], PositionTag | None]
    clock: Callable[[], int]
    #: The receiver's frequency-error tracker (shared by its tasks); None: no correction.
    ppm: PpmTracker | None = None

    def emit_item(self, build: Callable[[], Item], what: str) -> None:
        """Build one item and emit it; an item the wire contract refuses is dropped.

        A NaN or out-of-range value in one measurement (a channel with no bins, a
        division by a zero band) must not cost the run its other items: the refused
        item is logged, counted in health (``items_refused``, ``last_error``) and the
        task goes on.
        """
        from pydantic import ValidationError

        try:
            item = build()
        except (ValidationError, ValueError) as err:
            text = " ".join(str(err).split())[:300]
            self.health.items_refused += 1
            self.health.last_error = f"{what}: {text}"
            log.warning("%s %s: item refused, dropped: %s", self.station_id, what, text)
            return
        self.emit(item)

    def read(self, rx: Receiver, n_samples: int) -> IQBlock:
        """Read a block and count its overload / dropped-sample flags in health."""
        block = rx.read(n_samples)
        self.health.observe(block)
        return block

    def correct(self, spectrum: Spectrum) -> Spectrum:
        """A raw spectrum on its true frequency grid (the one place ppm is applied)."""
        return spectrum if self.ppm is None else self.ppm.correct(spectrum)

    def true_hz(self, measured_f_hz: float) -> float:
        return measured_f_hz if self.ppm is None else self.ppm.true_hz(measured_f_hz)

    def tuned_hz(self, true_f_hz: float) -> float:
        return true_f_hz if self.ppm is None else self.ppm.tuned_hz(true_f_hz)


def _welch(block: IQBlock, fft_size: int, n_averages: int, ctx: TaskContext) -> Spectrum:
    return welch_spectrum(
        block.samples,
        sample_rate_hz=block.sample_rate_hz,
        f_center_hz=block.f_center_hz,
        fft_size=fft_size,
        n_averages=n_averages,
        t_start_ns=block.t_start_ns,
        station_id=ctx.station_id,
        receiver_id=block.receiver_id,
        calibration_offset_db=ctx.receiver.calibration_offset_db,
        overload=block.overload,
    )


def _samples_for(fft_size: int, n_averages: int) -> int:
    # Welch with 50 % overlap: n frames need (n + 1) / 2 frame lengths.
    return fft_size * (n_averages + 1) // 2 + fft_size


@dataclass(frozen=True)
class SweepMeasurement:
    """A stitched sweep and the hop spectra it was made of (each cropped to its kept bins)."""

    sweep: Spectrum
    hops: tuple[Spectrum, ...]
    #: Where each hop was tuned (for DC-spike and IQ-image rejection), Hz.
    hop_centres_hz: tuple[float, ...] = ()
    #: The receiver's sample rate (where distortion products fold), S/s.
    sample_rate_hz: float | None = None


def measure_sweep(
    rx: Receiver,
    ctx: TaskContext,
    f_start_hz: float,
    f_stop_hz: float,
    *,
    rbw_hz: float,
    n_averages: int,
) -> SweepMeasurement:
    """One stitched sweep of ``[f_start_hz, f_stop_hz]`` at the receiver's sample rate."""
    rate = rx.sample_rate_hz
    fft_size = fft_size_for_rbw(rbw_hz, rate)
    caps = rx.capabilities
    plan: list[Hop] = plan_sweep(
        f_start_hz,
        f_stop_hz,
        sample_rate_hz=rate,
        fft_size=fft_size,
        f_min_hz=caps.f_min_hz,
        f_max_hz=caps.f_max_hz,
    )
    hops = []
    n = _samples_for(fft_size, n_averages)
    for hop in plan:
        rx.tune(hop.f_center_hz)
        hops.append(_welch(ctx.read(rx, n), fft_size, n_averages, ctx))
    cropped = tuple(
        dataclasses.replace(
            s,
            f_start_hz=s.f_start_hz + hop.first_bin * s.f_step_hz,
            power_db=s.power_db[hop.first_bin : hop.first_bin + hop.n_bins].copy(),
        )
        for s, hop in zip(hops, plan, strict=True)
    )
    return SweepMeasurement(
        stitch(hops, plan), cropped, tuple(float(h.f_center_hz) for h in plan), float(rate)
    )


def corrected(m: SweepMeasurement, ctx: TaskContext) -> SweepMeasurement:
    """``m`` on its true frequency grid: the sweep, each hop and each hop's LO."""
    if ctx.ppm is None or ctx.ppm.ppm is None:
        return m
    return SweepMeasurement(
        ctx.correct(m.sweep),
        tuple(ctx.correct(h) for h in m.hops),
        tuple(ctx.true_hz(f) for f in m.hop_centres_hz),
        m.sample_rate_hz,
    )


#: dB the gain is stepped down (each time) to tell an overload product from a signal.
OVERLOAD_GAIN_STEP_DB = 6.0
#: Most steps down before giving up on a block that still clips.
MAX_GAIN_STEPS = 4


@dataclass(frozen=True)
class GainStepVerdict:
    """How much an emission's channel power fell when the gain was stepped down."""

    emission: Emission
    step_db: float
    drop_db: float

    @property
    def product(self) -> bool:
        """Fell about 3 dB per dB of gain: a third-order (or higher) product."""
        return self.drop_db >= 2.0 * self.step_db

    @property
    def real(self) -> bool:
        """Fell about 1 dB per dB of gain (or less, released from compression)."""
        return self.drop_db <= 1.5 * self.step_db


def gain_step_verifier(
    rx: Receiver, ctx: TaskContext, *, fft_size: int, n_averages: int,
    step_db: float = OVERLOAD_GAIN_STEP_DB,
):  # noqa: ANN201
    """``verify(suspects, f_center_hz) -> [GainStepVerdict]``: re-measure at the
    receiver's gain and ``step_db`` lower, again until the ADC stops clipping (dBFS,
    no calibration), then restore the gain.

    A real signal drops 1 dB per dB of gain; an ADC overload product of order n
    about n dB per dB (issue 9). Under AGC (no fixed gain) nothing is verified.
    """
    from dsp.measure import channel_power

    n = _samples_for(fft_size, n_averages)

    def spectrum_at(f_center_hz: float) -> Spectrum:
        rx.tune(ctx.tuned_hz(f_center_hz))
        block = ctx.read(rx, n)
        return ctx.correct(welch_spectrum(
            block.samples, sample_rate_hz=block.sample_rate_hz,
            f_center_hz=block.f_center_hz, fft_size=fft_size, n_averages=n_averages,
            t_start_ns=block.t_start_ns, overload=block.overload))

    def verify(suspects: Sequence[Emission], f_center_hz: float) -> list[GainStepVerdict]:
        g0 = rx.gain_db
        if g0 is None or not suspects:
            return []
        try:
            before = spectrum_at(f_center_hz)
            # step down until the ADC no longer clips (a hard-clipped signal's
            # products do not fall while it still clips), at most MAX_GAIN_STEPS
            after = before
            for _ in range(MAX_GAIN_STEPS):
                g = rx.gain_db if rx.gain_db is not None else g0
                rx.set_gain(g - step_db)
                if rx.gain_db is None or rx.gain_db >= g:
                    break  # the lowest gain already
                after = spectrum_at(f_center_hz)
                if not after.overload:
                    break
            step = g0 - (rx.gain_db if rx.gain_db is not None else g0)
            if step <= 0 or after is before:
                return []
        finally:
            rx.set_gain(g0)
        out = []
        for e in suspects:
            half = max(e.bw_99_hz, 3 * e.f_resolution_hz) / 2
            drop = (channel_power(before, e.f_hz - half, e.f_hz + half)
                    - channel_power(after, e.f_hz - half, e.f_hz + half))
            out.append(GainStepVerdict(e, float(step), float(drop)))
        return out

    return verify


def settle_overload(
    kept: list[Emission], verdicts: Sequence[GainStepVerdict]
) -> list[Emission]:
    """Drop the products, clear ``overload_suspect`` from the real signals."""
    by_id = {id(v.emission): v for v in verdicts}
    out = []
    for e in kept:
        v = by_id.get(id(e))
        if v is not None and v.product:
            continue
        if v is not None and v.real:
            e = dataclasses.replace(e, flags=tuple(f for f in e.flags if f != "overload_suspect"))
        out.append(e)
    return out


def analyze_sweep(
    m: SweepMeasurement,
    *,
    per_hop: bool,
    af_db_m: float | None,
    verify: Callable[[Emission, float], bool] | None = None,
    verify_overload: Callable[[Sequence[Emission], float], list[GainStepVerdict]] | None = None,
) -> list[Emission]:
    """Emissions of a sweep, found hop by hop (``per_hop``) or in the stitched sweep.

    ``verify(emission, f_center_hz)`` re-measures an image suspect; it is dropped
    when it does not stay at its RF frequency. ``verify_overload(suspects,
    f_center_hz)`` steps the gain down on a hop that clipped (see
    :func:`gain_step_verifier`): the emissions flagged ``overload_suspect`` that
    fall like a product are dropped, those that fall like a signal are reported
    without the flag. A stitched sweep is checked the same way, hop by hop.
    """
    if not per_hop:
        emissions = list(analyze_spectrum(m.sweep, af_db_m=af_db_m).emissions)
        if verify_overload is None:
            return emissions
        # The stitched spectrum has many LOs, so its products are judged hop by hop:
        # on each hop that clipped, the suspects about that hop's LO get the gain step,
        # and the stitched emissions where a product sits are dropped.
        for hop, centre in zip(m.hops, m.hop_centres_hz, strict=True):
            if not hop.overload:
                continue
            hop_result = analyze_spectrum(hop, af_db_m=af_db_m, tuned_centres_hz=[centre])
            suspects = [e for e in hop_result.emissions if "overload_suspect" in e.flags]
            if not suspects:
                continue
            products = [v.emission for v in verify_overload(suspects, centre) if v.product]
            emissions = [e for e in emissions
                         if not any(p.f_low_hz <= e.f_hz <= p.f_high_hz for p in products)]
        return emissions
    found: list[Emission] = []
    for hop, centre in zip(m.hops, m.hop_centres_hz, strict=True):
        result = analyze_spectrum(hop, af_db_m=af_db_m, tuned_centres_hz=[centre])
        kept = list(result.emissions)
        if verify is not None:
            for suspect in image_suspects(kept, centre, m.sample_rate_hz):
                if not verify(suspect, centre):
                    kept.remove(suspect)
        suspects = [e for e in kept if "overload_suspect" in e.flags]
        if verify_overload is not None and hop.overload and suspects:
            kept = settle_overload(kept, verify_overload(suspects, centre))
        found.extend(kept)
    return merge_hop_emissions(found)


def retune_verifier(rx: Receiver, ctx: TaskContext, *, fft_size: int, n_averages: int):  # noqa: ANN201
    """``verify(emission, f_center_hz)`` for :func:`analyze_sweep` on this receiver."""
    from dsp.artefacts import verify_by_retuning

    def remeasure(f_center_hz: float) -> Spectrum:
        # f_center_hz is a true frequency (the hops' LOs were corrected with the sweep).
        rx.tune(ctx.tuned_hz(f_center_hz))
        block = ctx.read(rx, _samples_for(fft_size, n_averages))
        return ctx.correct(_welch(block, fft_size, n_averages, ctx))

    def verify(e: Emission, f_center_hz: float) -> bool:
        return verify_by_retuning(e, remeasure, f_center_hz=f_center_hz).real

    return verify


class SweepRunner:
    """Wideband sweep: stitched spectrum and its emissions; new emissions to ``on_new``."""

    def __init__(
        self,
        task: SweepTask,
        *,
        on_emissions: Callable[[Receiver, Sequence[Emission], TaskContext], None] | None = None,
    ) -> None:
        self.task = task
        self.on_emissions = on_emissions

    def __call__(self, rx: Receiver, ctx: TaskContext) -> None:
        t = self.task
        if t.gain_db is not None:
            rx.set_gain(None if t.gain_db == "agc" else t.gain_db)
        try:
            m = measure_sweep(
                rx, ctx, t.f_start_hz, t.f_stop_hz, rbw_hz=t.rbw_hz, n_averages=t.n_averages
            )
            if ctx.ppm is not None:
                # The estimate is made on the raw sweep, then applied to it and to
                # everything measured later (this receiver's other tasks included).
                ctx.ppm.observe(m.sweep, ctx.clock())
            m = corrected(m, ctx)
            af = ctx.receiver.antenna.antenna_factor_db_m
            verify = retune_verifier(
                rx, ctx, fft_size=fft_size_for_rbw(t.rbw_hz, rx.sample_rate_hz),
                n_averages=t.n_averages,
            )
            emissions = analyze_sweep(
                m,
                per_hop=t.analysis == "per_hop",
                af_db_m=af if m.sweep.calibrated else None,
                verify=verify,
                verify_overload=gain_step_verifier(
                    rx, ctx, fft_size=fft_size_for_rbw(t.rbw_hz, rx.sample_rate_hz),
                    n_averages=t.n_averages,
                ),
            )
        finally:
            if t.gain_db is not None:
                rx.set_gain(ctx.receiver.gain_db)
        pos = ctx.position()
        floor = median_floor(m.hops)
        ctx.emit_item(lambda: SpectrumItem.from_spectrum(m.sweep, band=t.name, position=pos,
                                                         noise_floor_db=floor), "spectrum")
        for e in emissions:
            ctx.emit_item(lambda e=e: EmissionItem.from_emission(e, band=t.name, position=pos),
                          f"emission {e.f_hz / 1e6:.4f} MHz")
        if self.on_emissions is not None and emissions:
            self.on_emissions(rx, emissions, ctx)


def _field_strength(power_db: float, unit: str, rx_cfg: ReceiverConfig) -> float | None:
    """E (dBµV/m) = P (dBm) + 107 + AF (dB/m) + cable loss (dB), only when calibrated."""
    af = rx_cfg.antenna.antenna_factor_db_m
    if unit != "dBm" or af is None:
        return None
    return power_db + 107.0 + af + rx_cfg.antenna.cable_loss_db


class ChannelWatchRunner:
    """Dwell on each channel and measure its power (a drive test's RSSI in a field kit)."""

    def __init__(self, task: ChannelWatchTask) -> None:
        self.task = task

    def __call__(self, rx: Receiver, ctx: TaskContext) -> None:
        rate = rx.sample_rate_hz
        fft_size = 1024
        n = max(int(self.task.dwell_s * rate), 2 * fft_size)
        n_avg = max(1, 2 * n // fft_size - 1)
        if self.task.gain_db is not None:
            rx.set_gain(None if self.task.gain_db == "agc" else self.task.gain_db)
        try:
            self._watch(rx, ctx, fft_size, n, n_avg)
        finally:
            if self.task.gain_db is not None:
                rx.set_gain(ctx.receiver.gain_db)

    def _watch(self, rx: Receiver, ctx: TaskContext, fft_size: int, n: int, n_avg: int) -> None:
        rate = rx.sample_rate_hz
        for ch in self.task.channels:
            # Tune a quarter of the rate away so the channel sits clear of the DC spike.
            rx.tune(ctx.tuned_hz(ch.f_hz - rate / 4))
            block = ctx.read(rx, n)
            spectrum = ctx.correct(_welch(block, fft_size, n_avg, ctx))
            power = band_power_db(spectrum, ch.f_hz - ch.bw_hz / 2, ch.f_hz + ch.bw_hz / 2)
            ctx.emit_item(
                lambda ch=ch, block=block, spectrum=spectrum, power=power: ChannelPowerItem(
                    plan=self.task.plan,
                    channel=ch.name,
                    receiver_id=block.receiver_id,
                    f_hz=ch.f_hz,
                    bw_hz=ch.bw_hz,
                    power_db=float(power),
                    power_unit=spectrum.power_unit,
                    e_dbuv_m=_field_strength(power, spectrum.power_unit, ctx.receiver),
                    t_ns=block.t_start_ns,
                    position=ctx.position(),
                ),
                f"channel power {ch.name}",
            )


class BearingRunner:
    """Take a bearing of each target with the rotator site's directional antenna.

    The rotator's port is opened for one run and closed after it (the task runs every
    ``every_s``, minutes apart; a port held between runs would outlive a replugged
    controller). One :class:`~stations.batch.BearingItem` per target, from the site's
    position; a station without a position cannot give a bearing and says so.
    """

    def __init__(self, task: BearingTask, *, site_id: str = "") -> None:
        self.task = task
        self.site_id = site_id

    def __call__(self, rx: Receiver, ctx: TaskContext) -> None:
        from firmware_bridge.rotator import Gs232Rotator  # pyserial only for a rotator site
        from stations.bearing import measure_bearing

        t = self.task
        where = ctx.position()
        if where is None:
            raise ParameterError(
                f"tác vụ {t.name}: trạm chưa có vị trí, không đo được hướng / task {t.name}: "
                "the station has no position, so a bearing cannot be placed"
            )
        site = GeoPosition(where.lat_deg, where.lon_deg, where.alt_m)
        n_steps = max(4, int(round(360.0 / t.azimuth_step_deg)))
        azimuths = [k * 360.0 / n_steps for k in range(n_steps)]
        with Gs232Rotator(t.rotator_url, baudrate=t.rotator_baudrate,
                          tolerance_deg=t.tolerance_deg) as rotator:
            for target in t.targets:
                t_ns = ctx.clock()
                result = measure_bearing(
                    rx, rotator, site_position=site, f_hz=ctx.tuned_hz(target.f_hz),
                    bw_hz=target.bw_hz, azimuths_deg=azimuths, gain_db=t.gain_db,
                    beamwidth_deg=t.beamwidth_deg, front_to_back_db=t.front_to_back_db,
                    site_id=self.site_id or ctx.station_id,
                )
                ctx.emit(BearingItem.from_observation(
                    result.observation, f_hz=target.f_hz, t_ns=t_ns, bw_hz=target.bw_hz))


class OccupancyRunner:
    """Channel occupancy: the fraction of samples (one per ``every_s``) above threshold.

    The threshold of each sample is the noise power in a channel (the sweep's median
    noise floor per bin scaled to the channel's bandwidth) plus ``threshold_db``
    (ITU-R SM.1880's "noise + margin" method); after ``interval_s / every_s`` samples
    one :class:`OccupancyItem` per channel is emitted and the counts restart.
    """

    def __init__(self, task: OccupancyTask) -> None:
        self.task = task
        t = task
        n_ch = max(1, int(round((t.f_stop_hz - t.f_start_hz) / t.channel_bw_hz)))
        self.f_centres_hz = t.f_start_hz + (np.arange(n_ch) + 0.5) * t.channel_bw_hz
        self._above = np.zeros(n_ch, dtype=np.int64)
        self._n = 0
        self._t_start_ns: int | None = None
        self._threshold_db = 0.0

    def __call__(self, rx: Receiver, ctx: TaskContext) -> None:
        t = self.task
        sweep = ctx.correct(measure_sweep(
            rx, ctx, t.f_start_hz, t.f_stop_hz, rbw_hz=t.channel_bw_hz / 4, n_averages=4
        ).sweep)
        result = analyze_spectrum(sweep)
        floor = float(np.nanmedian(result.noise_floor_db))
        half = t.channel_bw_hz / 2
        powers = np.array(
            [band_power_db(sweep, f - half, f + half) for f in self.f_centres_hz]
        )
        if self._t_start_ns is None:
            self._t_start_ns = sweep.t_start_ns
        # Channel power of noise alone is floor + 10 log10(bins in channel / ENBW bins).
        noise_in_channel = floor + 10 * math.log10(
            max(1.0, t.channel_bw_hz / max(sweep.rbw_hz, 1.0))
        )
        self._threshold_db = noise_in_channel + t.threshold_db
        self._above += powers > self._threshold_db
        self._n += 1
        # One sample per run: the interval is complete after interval_s / every_s runs.
        if self._n >= max(1, round(t.interval_s / t.every_s)):
            for k, f in enumerate(self.f_centres_hz):
                ctx.emit_item(
                    lambda k=k, f=f: OccupancyItem(
                        band=t.name,
                        channel=f"{f / 1e6:.4f}",
                        f_hz=float(f),
                        fraction=float(self._above[k] / self._n),
                        threshold_db=float(self._threshold_db),
                        n_samples=self._n,
                        t_start_ns=self._t_start_ns,
                        t_end_ns=sweep.t_end_ns,
                    ),
                    f"occupancy {f / 1e6:.4f} MHz",
                )
            self._above[:] = 0
            self._n = 0
            self._t_start_ns = None


class EvidenceRecorder:
    """Record IQ around each *new unknown* emission to SigMF and emit it as evidence.

    An emission is known when it lies within ``match_hz`` of a configured
    ``known_f_hz`` or of an emission seen before (by this recorder), or was seen
    during the first ``baseline_s`` seconds. At most ``max_per_hour`` recordings.
    The receiver is tuned a quarter of the evidence rate below the emission so it
    sits clear of the DC spike; the sweep's rate is restored afterwards.
    """

    def __init__(
        self, task: EvidenceTask, *, folder: Path | None, clock: Callable[[], int]
    ) -> None:
        self.task = task
        self.folder = folder
        self._clock = clock
        self._known = list(task.known_f_hz)
        self._seen: list[float] = []
        self._recent_ns: list[int] = []
        self._t0_ns: int | None = None
        self.recorded: list[Path] = []

    def is_new(self, f_hz: float) -> bool:
        tol = self.task.match_hz
        return not any(abs(f_hz - k) <= tol for k in self._known + self._seen)

    def __call__(self, rx: Receiver, emissions: Sequence[Emission], ctx: TaskContext) -> None:
        now = self._clock()
        if self._t0_ns is None:
            self._t0_ns = now
        in_baseline = now - self._t0_ns < int(self.task.baseline_s * NS)
        for e in emissions:
            if not self.is_new(e.f_hz):
                continue
            self._seen.append(e.f_hz)
            if in_baseline:
                continue
            self._recent_ns = [t for t in self._recent_ns if now - t < 3600 * NS]
            if len(self._recent_ns) >= self.task.max_per_hour:
                continue
            self._recent_ns.append(now)
            self._record(rx, e, ctx)

    def _record(self, rx: Receiver, e: Emission, ctx: TaskContext) -> None:
        from firmware_bridge.sigmf_io import SigMFWriter

        rate = self.task.sample_rate_hz
        old_rate = rx.sample_rate_hz
        # ``f_center`` is true RF (e.f_hz is corrected): the LO is put there, and the
        # SigMF file says so. (The sample rate's own ppm error, ~6 Hz at 240 kS/s for
        # 25 ppm, is left in the recording.)
        f_center = e.f_hz - rate / 4
        rx.set_sample_rate(rate)
        try:
            rx.tune(ctx.tuned_hz(f_center))
            block = ctx.read(rx, int(self.task.seconds * rate))
        finally:
            rx.set_sample_rate(old_rate)
        folder = self.folder or Path(tempfile.mkdtemp(prefix="rfwatch-evidence-"))
        folder.mkdir(parents=True, exist_ok=True)
        stem = folder / f"{ctx.station_id}-{block.t_start_ns}-{int(e.f_hz)}"
        pos = ctx.position()
        writer = SigMFWriter(
            stem,
            sample_rate_hz=rate,
            f_center_hz=f_center,
            t_start_ns=block.t_start_ns,
            datatype="cu8",
            description=f"Bằng chứng / evidence: new emission at {e.f_hz / 1e6:.4f} MHz",
            receiver_id=block.receiver_id,
            station_id=ctx.station_id,
            gain_db=block.gain_db,
            position=None if pos is None else GeoPosition(pos.lat_deg, pos.lon_deg, pos.alt_m),
            overwrite=True,
        )
        writer.write_block(block)
        # The annotation spans the recording (the sweep saw it earlier).
        writer.annotate([dataclasses.replace(e, t_first_ns=block.t_start_ns,
                                             t_last_ns=block.t_end_ns)])
        meta_path = writer.close()
        data_path = meta_path.with_name(meta_path.name.replace(".sigmf-meta", ".sigmf-data"))
        data = data_path.read_bytes()
        self.recorded.append(meta_path)
        ctx.emit(
            EvidenceItem(
                f_hz=e.f_hz,
                f_center_hz=f_center,
                sample_rate_hz=rate,
                t_start_ns=block.t_start_ns,
                sha256=hashlib.sha256(data).hexdigest(),
                meta_json=meta_path.read_text(encoding="utf-8"),
                data_b64=base64.b64encode(data).decode("ascii"),
                position=pos,
            )
        )
