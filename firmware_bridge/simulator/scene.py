"""Scene files (YAML): emitters, receivers, propagation, start time.

A scene is validated with pydantic; any error becomes one
:class:`dsp.errors.InputFormatError` naming the file, the YAML line and the field
path (e.g. ``emitters[2].modulation.deviation_hz``). Schema (units in the names)::

    name: basic                       # optional
    start_time: 2026-01-05T08:00:00Z  # UTC (timezone required)
    seed: 1                           # optional, default 0
    propagation: {model: free_space}  # or {model: log_distance, exponent: 3.0,
                                      #     reference_distance_m: 100}
    receivers:
      - id: rx1                       # stable id; `name` optional (defaults to id)
        position: {lat: 21.85, lon: 106.76, alt_m: 300}
        antenna_gain_dbi: 0           # defaults shown
        noise_figure_db: 6
        cable_loss_db: 1
        ppm_error: 0                  # crystal error, ppm (apparent f = f / (1 + ppm))
        dc_offset: {i: 0.0, q: 0.0}   # full-scale units
        iq_imbalance: {amplitude_db: 0.0, phase_deg: 0.0}
        gain_db: 30                   # or null for AGC
        f_center_hz: 100e6            # optional initial tuning
        sample_rate_hz: 2.4e6         # optional initial rate
        faults: {fail_after_blocks: null, fail_repeat: false, lost_permanently: false,
                 drop_every_blocks: null, drop_samples: 4096}
    emitters:
      - id: fm-97-0
        position: {lat: 21.85, lon: 106.76, alt_m: 50}
        f_hz: 97.0e6
        modulation: {kind: wbfm}      # cw | am | nbfm | wbfm | ofdm | fsk4 (+ parameters)
        erp_w: 2000                   # or erp_dbm
        schedule: {kind: intermittent, period_s: 60, on_s: 15, offset_s: 5}
                  # or {kind: windows, windows: [[10, 40], [100, 130]]} (s from start)
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from dsp.errors import InputFormatError
from dsp.types import GeoPosition

__all__ = [
    "PositionConfig",
    "CwConfig",
    "AmConfig",
    "NbfmConfig",
    "WbfmConfig",
    "OfdmConfig",
    "Fsk4Config",
    "ModulationConfig",
    "IntermittentSchedule",
    "WindowsSchedule",
    "EmitterConfig",
    "ReceiverConfig",
    "FaultsConfig",
    "PropagationConfig",
    "SceneConfig",
    "parse_scene",
    "load_scene_config",
]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: pydantic puts the discriminator tag of a union into error locations; not a YAML key.
_TAGS = {"cw", "am", "nbfm", "wbfm", "ofdm", "fsk4", "intermittent", "windows"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PositionConfig(_Model):
    """WGS-84 position: ``lat``/``lon`` in degrees, ``alt_m`` metres above sea level."""

    lat: float = Field(ge=-90, le=90, validation_alias=AliasChoices("lat", "lat_deg"))
    lon: float = Field(ge=-180, le=180, validation_alias=AliasChoices("lon", "lon_deg"))
    alt_m: float = Field(default=0.0, validation_alias=AliasChoices("alt_m", "alt"))

    def to_geo(self) -> GeoPosition:
        return GeoPosition(lat_deg=self.lat, lon_deg=self.lon, alt_m=self.alt_m)


class CwConfig(_Model):
    kind: Literal["cw"]

    def nominal_bw_hz(self) -> float:
        return 100.0


class AmConfig(_Model):
    kind: Literal["am"]
    mod_index: float = Field(default=0.8, gt=0, le=1)
    audio_bw_hz: float = Field(default=3400.0, gt=500, le=20_000)

    def nominal_bw_hz(self) -> float:
        return 2 * self.audio_bw_hz


class NbfmConfig(_Model):
    kind: Literal["nbfm"]
    deviation_hz: float = Field(default=2500.0, gt=0, le=20_000)
    audio_bw_hz: float = Field(default=3400.0, gt=500, le=20_000)

    def nominal_bw_hz(self) -> float:
        return 2 * (self.deviation_hz + self.audio_bw_hz)


class WbfmConfig(_Model):
    kind: Literal["wbfm"]
    deviation_hz: float = Field(default=75_000.0, gt=0, le=200_000)
    stereo: bool = True

    def nominal_bw_hz(self) -> float:
        return 2 * (self.deviation_hz + 53_000.0)


class OfdmConfig(_Model):
    kind: Literal["ofdm"]
    occupied_bw_hz: float = Field(default=7.61e6, gt=10_000, le=20e6)

    def nominal_bw_hz(self) -> float:
        return self.occupied_bw_hz


class Fsk4Config(_Model):
    kind: Literal["fsk4"]
    symbol_rate_hz: float = Field(default=4800.0, gt=100, le=100_000)
    deviation_hz: float = Field(default=648.0, gt=0, le=20_000)

    def nominal_bw_hz(self) -> float:
        return self.symbol_rate_hz * 1.2 + 6 * self.deviation_hz


ModulationConfig = Annotated[
    CwConfig | AmConfig | NbfmConfig | WbfmConfig | OfdmConfig | Fsk4Config,
    Field(discriminator="kind"),
]


class IntermittentSchedule(_Model):
    """On for ``on_s`` out of every ``period_s`` seconds, starting ``offset_s`` after start."""

    kind: Literal["intermittent"]
    period_s: float = Field(gt=0)
    on_s: float = Field(gt=0)
    offset_s: float = 0.0

    @model_validator(mode="after")
    def _on_within_period(self) -> IntermittentSchedule:
        if self.on_s > self.period_s:
            raise ValueError("on_s must not exceed period_s")
        return self

    def on_intervals_s(self, t0_s: float, t1_s: float) -> list[tuple[float, float]]:
        """On intervals (s since scene start) overlapping [t0_s, t1_s)."""
        k0 = math.floor((t0_s - self.offset_s) / self.period_s) - 1
        out = []
        k = k0
        while True:
            a = self.offset_s + k * self.period_s
            if a >= t1_s:
                break
            b = a + self.on_s
            if b > t0_s:
                out.append((max(a, t0_s), min(b, t1_s)))
            k += 1
        return out


class WindowsSchedule(_Model):
    """On during the listed ``[start_s, stop_s]`` windows (s since scene start)."""

    kind: Literal["windows"]
    windows: list[tuple[float, float]] = Field(min_length=1)

    @field_validator("windows")
    @classmethod
    def _ordered(cls, v: list[tuple[float, float]]) -> list[tuple[float, float]]:
        for start_s, stop_s in v:
            if stop_s <= start_s:
                raise ValueError(f"window [{start_s}, {stop_s}]: stop_s must exceed start_s")
        return v

    def on_intervals_s(self, t0_s: float, t1_s: float) -> list[tuple[float, float]]:
        return [
            (max(a, t0_s), min(b, t1_s)) for a, b in self.windows if a < t1_s and b > t0_s
        ]


Schedule = Annotated[IntermittentSchedule | WindowsSchedule, Field(discriminator="kind")]


class EmitterConfig(_Model):
    id: str = Field(min_length=1)
    label: str = ""
    position: PositionConfig
    f_hz: float = Field(gt=0)
    modulation: ModulationConfig
    erp_w: float | None = Field(default=None, gt=0)
    erp_dbm: float | None = None
    schedule: Schedule | None = None

    @model_validator(mode="after")
    def _one_erp(self) -> EmitterConfig:
        if (self.erp_w is None) == (self.erp_dbm is None):
            raise ValueError("give exactly one of erp_w or erp_dbm")
        return self

    @property
    def erp_dbm_value(self) -> float:
        """ERP in dBm."""
        if self.erp_dbm is not None:
            return self.erp_dbm
        assert self.erp_w is not None
        return 10 * math.log10(self.erp_w * 1e3)

    def on_intervals_s(self, t0_s: float, t1_s: float) -> list[tuple[float, float]]:
        """On-air intervals (s since scene start) within [t0_s, t1_s)."""
        if self.schedule is None:
            return [(t0_s, t1_s)] if t1_s > t0_s else []
        return self.schedule.on_intervals_s(t0_s, t1_s)

    def on_air(self, t_s: float) -> bool:
        """True when on air at ``t_s`` seconds since scene start."""
        return bool(self.on_intervals_s(t_s, t_s + 1e-9))


class DcOffsetConfig(_Model):
    i: float = Field(default=0.0, ge=-0.5, le=0.5)
    q: float = Field(default=0.0, ge=-0.5, le=0.5)


class IqImbalanceConfig(_Model):
    amplitude_db: float = Field(default=0.0, ge=-6, le=6)
    phase_deg: float = Field(default=0.0, ge=-30, le=30)


class FaultsConfig(_Model):
    """Failures on request: device loss after N blocks, dropped samples every N blocks."""

    fail_after_blocks: int | None = Field(default=None, ge=0)
    fail_repeat: bool = False
    lost_permanently: bool = False
    drop_every_blocks: int | None = Field(default=None, ge=1)
    drop_samples: int = Field(default=4096, ge=1)


class AntennaPatternConfig(_Model):
    """A directional antenna on a rotator (a Yagi or log-periodic).

    Gain relative to boresight ``-min(12 (theta / beamwidth_deg)^2, front_to_back_db)``
    dB (the parabolic main lobe of 3GPP TR 36.814's sector pattern), added to the
    receiver's ``antenna_gain_dbi`` (the boresight gain).
    """

    beamwidth_deg: float = Field(default=60.0, gt=5, le=180)
    front_to_back_db: float = Field(default=20.0, ge=0, le=40)
    azimuth_deg: float = Field(default=0.0, ge=0, le=360)

    def relative_gain_db(self, off_boresight_deg: float) -> float:
        th = (off_boresight_deg + 180.0) % 360.0 - 180.0
        return -min(12.0 * (th / self.beamwidth_deg) ** 2, self.front_to_back_db)


class ReceiverConfig(_Model):
    id: str = Field(min_length=1)
    name: str | None = None
    position: PositionConfig
    antenna_gain_dbi: float = 0.0
    noise_figure_db: float = Field(default=6.0, ge=0, le=30)
    cable_loss_db: float = Field(default=1.0, ge=0, le=40)
    ppm_error: float = Field(default=0.0, ge=-500, le=500)
    dc_offset: DcOffsetConfig = DcOffsetConfig()
    iq_imbalance: IqImbalanceConfig = IqImbalanceConfig()
    gain_db: float | None = Field(default=30.0, ge=0, le=60)
    f_center_hz: float | None = Field(default=None, gt=0)
    sample_rate_hz: float | None = Field(default=None, gt=0)
    faults: FaultsConfig = FaultsConfig()
    #: A directional antenna (on a rotator); ``None`` = omnidirectional.
    antenna: AntennaPatternConfig | None = None


class PropagationConfig(_Model):
    model: Literal["free_space", "log_distance"] = "free_space"
    exponent: float = Field(default=2.0, ge=1.5, le=6)
    reference_distance_m: float = Field(default=100.0, gt=0)
    #: Log-normal shadowing, dB standard deviation: a fixed draw per emitter and
    #: receiver place (rounded to ``shadowing_cell_m``), seeded by the scene's seed.
    shadowing_db: float = Field(default=0.0, ge=0, le=20)
    shadowing_cell_m: float = Field(default=50.0, gt=0)


class SceneConfig(_Model):
    name: str = "scene"
    description: str = ""
    start_time: datetime
    seed: int = 0
    propagation: PropagationConfig = PropagationConfig()
    receivers: list[ReceiverConfig] = Field(min_length=1)
    emitters: list[EmitterConfig] = Field(default_factory=list)

    @field_validator("start_time")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        if v.tzinfo is None or v.utcoffset() is None:
            raise ValueError("start_time needs a timezone (write it in UTC with a trailing Z)")
        return v

    @model_validator(mode="after")
    def _unique_ids(self) -> SceneConfig:
        for what, items in (("receivers", self.receivers), ("emitters", self.emitters)):
            seen: set[str] = set()
            for item in items:
                if item.id in seen:
                    raise ValueError(f"duplicate {what} id {item.id!r}")
                seen.add(item.id)
        return self

    @property
    def start_ns(self) -> int:
        """Scene start as UTC nanoseconds since the epoch."""
        delta = self.start_time - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


def _yaml_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop pydantic's discriminator tags (they follow ``modulation``/``schedule``)."""
    out: list[Any] = []
    for item in loc:
        if out and out[-1] in ("modulation", "schedule") and item in _TAGS:
            continue
        out.append(item)
    return tuple(out)


def _loc_to_field(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def _line_of(root: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based YAML line of the deepest node that ``loc`` reaches."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for item in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = None
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(item):
                    nxt = value
                    line = key.start_mark.line + 1
                    break
            if nxt is None:
                continue
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(item, int):
            if item >= len(node.value):
                break
            node = node.value[item]
            line = node.start_mark.line + 1
    return line


def parse_scene(text: str, source: str = "<scene>") -> SceneConfig:
    """Validate scene YAML text; raise InputFormatError naming line and field."""
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise InputFormatError(
            f"YAML không hợp lệ / invalid YAML: {err}",
            source=source,
            line=mark.line + 1 if mark is not None else None,
        ) from err
    if not isinstance(data, dict):
        raise InputFormatError(
            "tệp cảnh phải là một ánh xạ YAML / a scene file must be a YAML mapping",
            source=source,
        )
    try:
        return SceneConfig.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        loc = _yaml_loc(tuple(first["loc"]))
        field = _loc_to_field(loc) or None
        msg = first["msg"]
        more = len(err.errors()) - 1
        if more:
            msg += f" (+{more} lỗi khác / more errors)"
        raise InputFormatError(
            f"cảnh không hợp lệ / invalid scene: {msg}",
            source=source,
            line=_line_of(root, loc),
            field=field,
        ) from err


def load_scene_config(path: str | Path) -> SceneConfig:
    """Read and validate a scene file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as err:
        raise InputFormatError(
            f"không đọc được tệp cảnh / cannot read scene file: {err.strerror}", source=str(p)
        ) from err
    return parse_scene(text, source=str(p))
