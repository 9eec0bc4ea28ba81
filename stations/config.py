"""Site configuration: one YAML file per border station or field kit.

The file is validated with pydantic; every error names the field at fault
(``tasks.1.f_stop_hz``) and the file, through :class:`dsp.errors.InputFormatError`.
Frequencies may be written as numbers in Hz or with a unit (``"87.5 MHz"``, ``"25k"``).

Example
-------
>>> cfg = parse_site_config('''
... station: {id: ls-hn, name: "Hữu Nghị", kind: fixed,
...           position: {lat_deg: 21.97, lon_deg: 106.70}}
... receivers: [{id: rx0, spec: "simulator:lang_son_demo"}]
... tasks: [{type: sweep, name: fm, f_start_hz: 87.5 MHz, f_stop_hz: 108 MHz, every_s: 10}]
... ''')
>>> cfg.tasks[0].f_stop_hz
108000000.0
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from dsp.errors import ConfigError, InputFormatError
from stations.batch import STATION_ID_PATTERN

__all__ = [
    "AntennaConfig",
    "BearingTask",
    "CentreConfig",
    "ChannelConfig",
    "ChannelWatchTask",
    "EvidenceTask",
    "GpsConfig",
    "LocateConfig",
    "OccupancyTask",
    "OutboxConfig",
    "PositionConfig",
    "PpmTrackingConfig",
    "ReceiverConfig",
    "SiteConfig",
    "StationInfo",
    "SweepTask",
    "TaskConfig",
    "load_site_config",
    "parse_site_config",
    "parse_frequency_hz",
]

_UNITS = {"": 1.0, "hz": 1.0, "k": 1e3, "khz": 1e3, "m": 1e6, "mhz": 1e6, "g": 1e9, "ghz": 1e9}
_FREQ_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Z]*)\s*$")

def parse_frequency_hz(value: object) -> object:
    """A number in Hz, or a string with a unit (``"87.5 MHz"``, ``"25k"``) -> float Hz.

    >>> parse_frequency_hz("87.5 MHz")
    87500000.0
    >>> parse_frequency_hz(12.5e3)
    12500.0
    """
    if isinstance(value, bool):
        return value  # let pydantic refuse it
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        m = _FREQ_RE.match(value)
        if m is None or m.group(2).lower() not in _UNITS:
            raise ValueError(f"not a frequency: {value!r} (use Hz, or e.g. '87.5 MHz')")
        return float(m.group(1)) * _UNITS[m.group(2).lower()]
    return value


FrequencyHz = Annotated[float, BeforeValidator(parse_frequency_hz), Field(gt=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PositionConfig(_Strict):
    """A fixed position (WGS-84 degrees, metres above sea level)."""

    lat_deg: float = Field(ge=-90, le=90)
    lon_deg: float = Field(ge=-180, le=180)
    alt_m: float | None = None


class StationInfo(_Strict):
    #: Lower-case letters, digits, hyphens (1-64): it names folders and tags.
    id: str = Field(pattern=STATION_ID_PATTERN)
    name: str = Field(min_length=1)
    kind: Literal["fixed", "field_kit"] = "fixed"
    position: PositionConfig | None = None


class AntennaConfig(_Strict):
    """Antenna and cable: gain, antenna factor (dB/m) for field strength, cable loss."""

    name: str = "unspecified"
    gain_dbi: float = 0.0
    antenna_factor_db_m: float | None = None
    cable_loss_db: float = Field(default=0.0, ge=0)


class PpmTrackingConfig(_Strict):
    """How the receiver's frequency error is estimated from ``reference_carriers_hz``.

    The estimate is made on the raw spectrum of every sweep that covers the
    references (at most once per ``every_s``), needs ``min_refs`` of them standing
    ``min_snr_db`` above their window and agreeing within ``max_residual_ppm``, and
    is smoothed: ``new = old + smoothing * (estimate - old)`` (the first is taken as is).
    """

    every_s: float = Field(default=60.0, ge=0)
    min_refs: int = Field(default=2, ge=1)
    min_snr_db: float = Field(default=15.0, ge=0)
    #: Half-width of the window around each reference, Hz: it must hold the whole
    #: carrier (an FM broadcast is ~200 kHz wide) and some floor on either side.
    search_hz: FrequencyHz = 300e3
    #: ``centroid`` for FM broadcast carriers, ``peak`` for CW/pilot carriers.
    method: Literal["centroid", "peak"] = "centroid"
    smoothing: float = Field(default=0.5, gt=0, le=1)
    #: FM carriers measured over ~0.2 s agree to a few ppm (the programme moves them).
    max_residual_ppm: float = Field(default=5.0, gt=0)
    #: Estimates beyond this are refused (a wrong carrier was taken), ppm.
    max_abs_ppm: float = Field(default=200.0, gt=0)


class ReceiverConfig(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,32}$")
    spec: str
    sample_rate_hz: FrequencyHz = 2.4e6
    gain_db: float | None = None
    #: A known, fixed frequency error (ppm) set in the hardware (``Receiver.set_ppm``);
    #: what is left of the error is estimated from ``reference_carriers_hz``.
    ppm: float = 0.0
    #: Calibration: dB added to dBFS to get dBm at the antenna port (None: uncalibrated).
    calibration_offset_db: float | None = None
    antenna: AntennaConfig = Field(default_factory=AntennaConfig)
    #: Carriers of known frequency (licensed broadcasters' assigned frequencies), Hz:
    #: the agent estimates this receiver's frequency error from them and corrects
    #: every later measurement (see :class:`PpmTrackingConfig`). Unset: the
    #: station's ``reference_carriers_hz``; empty there too: no estimate.
    reference_carriers_hz: list[FrequencyHz] | None = None
    ppm_tracking: PpmTrackingConfig = Field(default_factory=PpmTrackingConfig)

    @field_validator("spec")
    @classmethod
    def _check_spec(cls, value: str) -> str:
        # One parser for specs: the receivers' factory (it names what is wrong).
        from firmware_bridge.factory import parse_spec

        try:
            parse_spec(value)
        except ConfigError as err:
            raise ValueError(str(err)) from None
        return value


#: The FFT sizes a sweep uses (mirrors ``dsp.hops.fft_size_for_rbw``; a test
#: checks the two agree) and the Hann window's ENBW in bins.
FFT_SIZE_MIN = 64
FFT_SIZE_MAX = 65536
HANN_ENBW_BINS = 1.5


def rbw_range_hz(sample_rate_hz: float) -> tuple[float, float]:
    """The RBWs a sweep can honour at ``sample_rate_hz``: (finest, coarsest) in Hz.

    >>> [round(x) for x in rbw_range_hz(2.4e6)]
    [55, 56250]
    """
    return (sample_rate_hz * HANN_ENBW_BINS / FFT_SIZE_MAX,
            sample_rate_hz * HANN_ENBW_BINS / FFT_SIZE_MIN)


class _TaskBase(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,32}$")
    receiver: str | None = None  # default: the first receiver
    every_s: float = Field(gt=0)


class SweepTask(_TaskBase):
    """Wideband sweep from ``f_start_hz`` to ``f_stop_hz`` with about ``rbw_hz`` resolution."""

    type: Literal["sweep"]
    f_start_hz: FrequencyHz
    f_stop_hz: FrequencyHz
    rbw_hz: FrequencyHz = 10e3
    n_averages: int = Field(default=32, ge=1, le=1000)
    #: Tuner gain for this band, dB (strong broadcast bands want less than quiet
    #: ones); ``"agc"`` for the tuner's AGC; unset: the receiver's own setting.
    gain_db: float | Literal["agc"] | None = None
    #: ``per_hop``: find emissions in each hop on its own (each hop has one gain,
    #: so with AGC the noise floor has no steps); ``stitched``: in the whole sweep,
    #: for emissions wider than a hop (a DVB-T2 multiplex is ~7.6 MHz, a hop ~2 MHz),
    #: which needs a fixed ``gain_db`` so the hops' powers compare.
    analysis: Literal["per_hop", "stitched"] = "per_hop"

    @model_validator(mode="after")
    def _span(self) -> SweepTask:
        if self.f_stop_hz <= self.f_start_hz:
            raise ValueError("f_stop_hz must be above f_start_hz")
        if self.analysis == "stitched" and self.gain_db == "agc":
            raise ValueError(
                "analysis: stitched needs a fixed gain_db (with AGC each hop has its own "
                "gain, and the stitched spectrum steps at every seam)"
            )
        return self


class ChannelConfig(_Strict):
    name: str = Field(min_length=1, max_length=32)
    f_hz: FrequencyHz
    bw_hz: FrequencyHz


class ChannelWatchTask(_TaskBase):
    """Dwell on each channel in turn and measure its power."""

    type: Literal["channel_watch"]
    plan: str = "watch"
    channels: list[ChannelConfig] = Field(min_length=1)
    dwell_s: float = Field(default=0.05, gt=0, le=60)
    #: Tuner gain for the watch, dB (fixed, so powers compare over time and place).
    gain_db: float | Literal["agc"] | None = None


class OccupancyTask(_TaskBase):
    """Channel occupancy (ITU-R SM.1880) over ``interval_s``, sampled every ``every_s``."""

    type: Literal["occupancy"]
    f_start_hz: FrequencyHz
    f_stop_hz: FrequencyHz
    channel_bw_hz: FrequencyHz
    interval_s: float = Field(gt=0)
    threshold_db: float = Field(default=6.0, description="margin over the noise floor, dB")

    @model_validator(mode="after")
    def _span(self) -> OccupancyTask:
        if self.f_stop_hz <= self.f_start_hz:
            raise ValueError("f_stop_hz must be above f_start_hz")
        if self.interval_s < self.every_s:
            raise ValueError("interval_s must be at least every_s")
        return self


class EvidenceTask(_Strict):
    """On a new unknown emission, record ``seconds`` of IQ around it to SigMF."""

    type: Literal["evidence"]
    name: str = "evidence"
    receiver: str | None = None
    seconds: float = Field(default=0.5, gt=0, le=60)
    sample_rate_hz: FrequencyHz = 240e3
    max_per_hour: int = Field(default=12, ge=0)
    #: Frequencies (Hz) this station already knows are on air; never "new".
    known_f_hz: list[FrequencyHz] = Field(default_factory=list)
    #: How close (Hz) an emission must be to a known or earlier one to be "the same".
    match_hz: FrequencyHz = 50e3
    #: Emissions seen in the first ``baseline_s`` seconds are the baseline, not "new".
    baseline_s: float = Field(default=0.0, ge=0)


class BearingTask(_TaskBase):
    """Sweep a directional antenna on a GS-232 rotator and give the bearing of each target
    (:func:`stations.bearing.measure_bearing`); the site must have a position."""

    type: Literal["bearing"]
    #: The rotator controller's serial port: any pyserial URL (``/dev/ttyUSB0``,
    #: ``rfc2217://host:port``, a pty).
    rotator_url: str = Field(min_length=1, max_length=500)
    rotator_baudrate: int = Field(default=9600, gt=0)
    #: How close (deg) the rotator must come to each azimuth.
    tolerance_deg: float = Field(default=3.0, gt=0, le=30)
    #: The emissions to take bearings of (name, f_hz, bw_hz: the band whose power is swept).
    targets: list[ChannelConfig] = Field(min_length=1)
    azimuth_step_deg: float = Field(default=15.0, ge=1, le=90)
    #: The antenna's -3 dB beamwidth and front-to-back ratio (its datasheet).
    beamwidth_deg: float = Field(default=60.0, gt=0, le=180)
    front_to_back_db: float = Field(default=20.0, gt=0)
    gain_db: float = 30.0


TaskConfig = Annotated[
    SweepTask | ChannelWatchTask | OccupancyTask | EvidenceTask | BearingTask,
    Field(discriminator="type"),
]


class CentreConfig(_Strict):
    """Where batches go: the centre's base URL and the station's bearer token."""

    url: str = Field(pattern=r"^https?://")
    token: str | None = None
    token_env: str | None = "RFWATCH_STATION_TOKEN"
    timeout_s: float = Field(default=10.0, gt=0)
    backoff_initial_s: float = Field(default=1.0, gt=0)
    backoff_max_s: float = Field(default=300.0, gt=0)


class OutboxConfig(_Strict):
    path: Path | None = None  # default: <home>/stations/<station id>/outbox.sqlite
    max_bytes: int = Field(default=500_000_000, gt=0)
    items_per_batch: int = Field(default=200, ge=1)


class GpsConfig(_Strict):
    """A GPS receiver speaking NMEA 0183 on a serial port (any pyserial URL)."""

    port: str
    baud: int = 4800


class LocateConfig(_Strict):
    """Field kit: estimate emitters' positions from the drive test's channel powers."""

    every_s: float = Field(default=60.0, gt=0)
    #: Only these frequencies (Hz); empty: every emission seen often enough.
    targets_f_hz: list[FrequencyHz] = Field(default_factory=list)
    match_hz: FrequencyHz = 25e3
    min_points: int = Field(default=8, ge=4)
    min_spread_m: float = Field(default=300.0, ge=0)
    #: Sightings weaker than this (receiver's power unit) are left out of the fit.
    min_power_db: float | None = None


class SiteConfig(_Strict):
    station: StationInfo
    receivers: list[ReceiverConfig] = Field(min_length=1)
    tasks: list[TaskConfig] = Field(default_factory=list)
    centre: CentreConfig | None = None
    outbox: OutboxConfig = Field(default_factory=OutboxConfig)
    gps: GpsConfig | None = None
    locate: LocateConfig | None = None
    health_every_s: float = Field(default=60.0, gt=0)
    evidence_dir: Path | None = None
    #: Reference carriers (Hz) for every receiver that names none of its own.
    reference_carriers_hz: list[FrequencyHz] = Field(default_factory=list)

    @model_validator(mode="after")
    def _cross_checks(self) -> SiteConfig:
        ids = [r.id for r in self.receivers]
        if len(set(ids)) != len(ids):
            raise ValueError(f"receiver ids must be unique: {ids}")
        names = [t.name for t in self.tasks]
        if len(set(names)) != len(names):
            raise ValueError(f"task names must be unique: {names}")
        for task in self.tasks:
            if task.receiver is not None and task.receiver not in ids:
                raise ValueError(
                    f"task {task.name!r} names receiver {task.receiver!r}, not one of {ids}"
                )
        if self.station.kind == "fixed" and self.station.position is None:
            raise ValueError("a fixed station needs station.position")
        for k, task in enumerate(self.tasks):
            if isinstance(task, SweepTask):
                rx = self.receiver_for(task.receiver)
                low, high = rbw_range_hz(rx.sample_rate_hz)
                if not low <= task.rbw_hz <= high:
                    # Refused, not clamped: a 5 MHz RBW silently measured at 56 kHz is a
                    # different measurement from the one the inspector asked for.
                    raise ValueError(
                        f"tasks.{k}.rbw_hz: {task.rbw_hz:g} Hz cannot be honoured on receiver "
                        f"{rx.id!r} at {rx.sample_rate_hz:g} S/s: possible {low:.0f} Hz to "
                        f"{high:.0f} Hz (Hann window, FFT {FFT_SIZE_MIN}-{FFT_SIZE_MAX} bins)"
                    )
        return self

    def receiver_for(self, task_receiver: str | None) -> ReceiverConfig:
        """The receiver a task runs on (the first one when the task names none)."""
        if task_receiver is None:
            return self.receivers[0]
        return next(r for r in self.receivers if r.id == task_receiver)

    def reference_carriers_for(self, receiver: ReceiverConfig) -> list[float]:
        """The reference carriers (Hz) of ``receiver``: its own, else the station's."""
        if receiver.reference_carriers_hz is not None:
            return list(receiver.reference_carriers_hz)
        return list(self.reference_carriers_hz)


def _loc(loc: tuple[object, ...]) -> str:
    # pydantic puts the discriminator value into the location (tasks.0.sweep.f_hz); drop it.
    parts = [str(p) for p in loc if p not in ("sweep", "channel_watch", "occupancy", "evidence")]
    return ".".join(parts) or "(root)"


def parse_site_config(text: str, *, source: str = "<site config>") -> SiteConfig:
    """Parse and validate site-configuration YAML text.

    Raises
    ------
    InputFormatError
        Naming ``source``, the YAML line for syntax errors, and the first field at
        fault (all faults are listed in the message).
    """
    try:
        data = yaml.safe_load(text)
    except RecursionError as err:
        raise InputFormatError("YAML lồng nhau quá sâu / YAML nested too deeply",
                               source=source) from err
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InputFormatError(f"not valid YAML: {err}", source=source, line=line) from err
    if not isinstance(data, dict):
        raise InputFormatError("the file must hold a mapping (station:, receivers:, tasks:)",
                               source=source)
    try:
        return SiteConfig.model_validate(data)
    except ValidationError as err:
        errors = err.errors(include_url=False)
        first = _loc(errors[0]["loc"])
        msgs = "; ".join(f"{_loc(e['loc'])}: {e['msg']}" for e in errors)
        raise InputFormatError(
            f"cấu hình trạm không hợp lệ / invalid site configuration: {msgs}",
            source=source,
            field=first,
        ) from err


def load_site_config(path: Path | str) -> SiteConfig:
    """Read and validate a site configuration file (see :func:`parse_site_config`)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise InputFormatError(f"cannot read: {err.strerror}", source=str(path)) from err
    return parse_site_config(text, source=str(path))
