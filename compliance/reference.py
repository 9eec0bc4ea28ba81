"""Reference data of compliance: channel plans, exempt bands, tolerances, coordination
triggers, the legal-basis catalogue, the bands that are not monitored, operators' band
licences and the border line, loaded from YAML and validated with pydantic.

The packaged files live in ``compliance/data/``; each cites its sources and marks with
``unsure: true`` what was not verified (DOMAIN.md). An operator edits them, or puts a
file of the same name in an override folder, which then replaces the packaged file
whole (``load_reference_data(override_dir)``).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from compliance.services import SERVICES
from dsp.errors import ConfigError

__all__ = [
    "FINDING_KINDS",
    "ChannelPlan",
    "ExemptBand",
    "ExemptBands",
    "FrequencyTolerance",
    "MeasurementMargins",
    "CaseFolding",
    "Tolerances",
    "CoordinationTrigger",
    "Coordination",
    "LegalBasis",
    "Amendment",
    "Instrument",
    "Citation",
    "LegalCatalogue",
    "ChannelRaster",
    "NotMonitoredBand",
    "NotMonitored",
    "BandLicence",
    "BandLicences",
    "BorderLine",
    "ReferenceData",
    "load_reference_data",
]

#: The stable finding kinds (issue 4); the legal catalogue must cover each.
FINDING_KINDS = (
    "unlicensed_emission",
    "frequency_out_of_tolerance",
    "bandwidth_exceeded",
    "off_channel_raster",
    "licence_not_valid",
    "power_exceeded",
    "cross_border_over_trigger",
    "exempt_limit_exceeded",
)

_FILES = (
    "channel_plans.yaml",
    "exempt_bands.yaml",
    "tolerances.yaml",
    "coordination.yaml",
    "legal_basis.yaml",
    "not_monitored.yaml",
    "band_licences.yaml",
    "border_vn_cn.yaml",
)

ServiceOrAny = str


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_service(value: str) -> str:
    if value != "*" and value not in SERVICES:
        raise ValueError(f"unknown service {value!r}; one of {', '.join(SERVICES)} or '*'")
    return value


class _Band(_Model):
    f_low_hz: float = Field(ge=0)
    f_high_hz: float = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> _Band:
        if self.f_high_hz <= self.f_low_hz:
            raise ValueError("f_high_hz must be above f_low_hz")
        return self

    def contains(self, f_hz: float) -> bool:
        return self.f_low_hz <= f_hz <= self.f_high_hz


class PlanRestriction(_Model):
    f_low_hz: float
    f_high_hz: float
    until: dt.date | None = None
    note: str = ""


class ChannelPlan(_Band):
    """One channel plan: a band, its raster (``None``: no raster known) and channel width."""

    id: str
    name: str
    service: str
    raster_hz: float | None = Field(default=None, gt=0)
    raster_offset_hz: float = 0.0
    first_centre_hz: float | None = None
    last_centre_hz: float | None = None
    first_channel_number: int | None = None
    channel_bw_hz: float | None = Field(default=None, gt=0)
    max_power_w: float | None = None
    preferred_f_low_hz: float | None = None
    preferred_f_high_hz: float | None = None
    restrictions: tuple[PlanRestriction, ...] = ()
    unsure: bool = False
    source: str
    note: str = ""

    @model_validator(mode="after")
    def _service_known(self) -> ChannelPlan:
        _check_service(self.service)
        return self

    def nearest_centre_hz(self, f_hz: float) -> float | None:
        """The channel centre nearest ``f_hz`` (``None`` when the plan has no raster)."""
        if self.raster_hz is None:
            return None
        k = round((f_hz - self.raster_offset_hz) / self.raster_hz)
        centre = self.raster_offset_hz + k * self.raster_hz
        lo = self.first_centre_hz if self.first_centre_hz is not None else self.f_low_hz
        hi = self.last_centre_hz if self.last_centre_hz is not None else self.f_high_hz
        if centre < lo:
            centre = lo
        if centre > hi:
            centre = hi
        return centre

    def channel_number(self, centre_hz: float) -> int | None:
        """The channel number of a centre frequency, where the plan numbers its channels."""
        if self.first_channel_number is None or self.raster_hz is None:
            return None
        first = self.first_centre_hz if self.first_centre_hz is not None else self.f_low_hz
        return self.first_channel_number + round((centre_hz - first) / self.raster_hz)


class ChannelPlans(_Model):
    plans: tuple[ChannelPlan, ...]


class ChannelRaster(_Model):
    """Channel centres ``first_centre_hz + n * raster_hz`` up to ``last_centre_hz``."""

    first_centre_hz: float = Field(gt=0)
    raster_hz: float = Field(gt=0)
    last_centre_hz: float = Field(gt=0)

    def nearest_centre_hz(self, f_hz: float) -> float:
        """The channel centre of this raster nearest ``f_hz``."""
        n_max = round((self.last_centre_hz - self.first_centre_hz) / self.raster_hz)
        n = min(max(round((f_hz - self.first_centre_hz) / self.raster_hz), 0), n_max)
        return self.first_centre_hz + n * self.raster_hz


class ExemptBand(_Band):
    """A licence-exempt band (TT 08/2021/TT-BTTTT, or ISM) with its conditions.

    ``max_erp_w`` (W ERP) and ``max_bw_hz`` are the conditions the rules check;
    ``channels`` (optional) are the rasters a device must sit on (PMR446);
    ``explains_bw_up_to_hz`` (optional) keeps an emission much wider than the device
    class from being taken for one (a wireless microphone band inside the DVB-T2 band
    must not explain an 8 MHz multiplex).
    """

    id: str
    name: str
    max_erp_w: float | None = Field(default=None, gt=0)
    max_bw_hz: float | None = Field(default=None, gt=0)
    channels: tuple[ChannelRaster, ...] = ()
    explains_bw_up_to_hz: float | None = Field(default=None, gt=0)
    classify_without_calibration: bool = True
    unsure: bool = False
    source: str
    note: str = ""

    def nearest_channel_hz(self, f_hz: float) -> float | None:
        """The nearest channel centre over all rasters (``None``: no rasters)."""
        centres = [r.nearest_centre_hz(f_hz) for r in self.channels]
        return min(centres, key=lambda c: abs(c - f_hz)) if centres else None


class ExemptBands(_Model):
    """The exempt bands and the distances their power limits are judged at.

    ``limit_reference_distance_m``: without a distance estimate, a field strength up
    to the free-space field of ``max_erp_w`` at this distance is taken as in order.
    ``min_device_distance_m``: the nearest a device is taken to be to a monitoring
    antenna without a distance estimate; a field stronger than ``max_erp_w`` gives
    there cannot be this device at all (the band does not explain the emission).
    In between, the emission is marked for verification (a distance estimate
    decides), never a case on its own.
    """

    limit_reference_distance_m: float = Field(gt=0)
    min_device_distance_m: float = Field(default=10.0, gt=0)
    bands: tuple[ExemptBand, ...]

    @model_validator(mode="after")
    def _distances(self) -> ExemptBands:
        if self.min_device_distance_m > self.limit_reference_distance_m:
            raise ValueError("min_device_distance_m must not exceed limit_reference_distance_m")
        return self


class FrequencyTolerance(_Band):
    """The frequency tolerance of a service in a band (RR Appendix 2; UNSURE values)."""

    service: str
    tolerance_hz: float | None = Field(default=None, ge=0)
    tolerance_ppm: float | None = Field(default=None, ge=0)
    unsure: bool = False
    note: str = ""

    @model_validator(mode="after")
    def _has_value(self) -> FrequencyTolerance:
        _check_service(self.service)
        if self.tolerance_hz is None and self.tolerance_ppm is None:
            raise ValueError("give tolerance_hz or tolerance_ppm")
        return self

    def at(self, f_hz: float) -> float:
        """The tolerance in Hz at ``f_hz`` (the larger of the absolute and ppm values)."""
        return max(self.tolerance_hz or 0.0, (self.tolerance_ppm or 0.0) * f_hz * 1e-6)


class MeasurementMargins(_Model):
    receiver_uncertainty_ppm: float = Field(ge=0)
    bandwidth_margin_fraction: float = Field(ge=0)
    power_margin_db: float = Field(ge=0)
    #: Neighbours searched for ``adjacent_licence``: licences within this many of their
    #: necessary bandwidths (or the service's fixed window) of the emission.
    match_window_factor: float = Field(gt=0)
    #: Per service, a fixed match window (Hz) replacing the default rule (registry.py).
    match_window_min_hz: dict[str, float] = Field(default_factory=dict)
    #: Default match window: max(this x the frequency tolerance, ...
    match_tolerance_factor: float = Field(default=3.0, gt=0)
    #: ... this x the channel raster of the service's plan) (issue 10 §2).
    match_raster_fraction: float = Field(default=0.25, ge=0)

    @model_validator(mode="after")
    def _services_known(self) -> MeasurementMargins:
        for service, window_hz in self.match_window_min_hz.items():
            _check_service(service)
            if not window_hz >= 0:
                raise ValueError(f"match_window_min_hz.{service} must be >= 0")
        return self


class CaseFolding(_Model):
    fold_min_hz: float = Field(gt=0)
    fold_bw_fraction: float = Field(ge=0)
    fold_window_s: float = Field(gt=0)
    finding_repeat_s: float = Field(ge=0)


class Tolerances(_Model):
    frequency_tolerances: tuple[FrequencyTolerance, ...]
    measurement: MeasurementMargins
    cases: CaseFolding

    def tolerance_hz(self, service: str, f_hz: float) -> float:
        """The tolerance in Hz of ``service`` at ``f_hz`` (first matching entry wins)."""
        for entry in self.frequency_tolerances:
            if entry.service in (service, "*") and entry.contains(f_hz):
                return entry.at(f_hz)
        raise ConfigError(
            f"không có dung sai cho {service} tại {f_hz:.0f} Hz / no frequency tolerance for "
            f"{service} at {f_hz:.0f} Hz in tolerances.yaml (add an entry or a '*' fallback)"
        )


class CoordinationTrigger(_Band):
    """A field-strength trigger for a foreign station at the border.

    ``basis`` says what the value is: ``interference_trigger`` (a permissible
    interfering field at the border) or ``coverage_level`` (a wanted-signal level, such
    as the BS.412 stereo FM figure, which is NOT an interference trigger: the finding
    then says so).
    """

    id: str
    service: str
    trigger_dbuv_m: float
    basis: Literal["interference_trigger", "coverage_level"] = "interference_trigger"
    unsure: bool = False
    note: str = ""

    @model_validator(mode="after")
    def _service_known(self) -> CoordinationTrigger:
        _check_service(self.service)
        return self


class Coordination(_Model):
    """Coordination triggers and where a measurement stands for the border.

    ``border_zone_km``: a trigger is a field *at the border line*; a site further than
    this from the line does not measure the border field, so no finding is raised
    there (the emission is marked for verification instead).
    """

    measurement_height_m: float = 10.0
    border_zone_km: float = Field(default=3.0, gt=0)
    triggers: tuple[CoordinationTrigger, ...]
    sources: tuple[str, ...] = ()

    def trigger_for(self, service: str, f_hz: float) -> CoordinationTrigger | None:
        """The first trigger matching the service (or ``*``) at ``f_hz``."""
        for trig in self.triggers:
            if trig.service in (service, "*") and trig.contains(f_hz):
                return trig
        return None


class NotMonitoredBand(_Band):
    """A band whose emissions are never ``unlicensed_emission`` by default.

    Aeronautical and maritime stations (foreign aircraft and ships are licence-exempt,
    Law on Radio Frequencies Art. 27; domestic ones are licensed nationally), amateur
    bands, and the operator's own list (defence, police, border guard). ``enabled``
    lets an operator monitor a band after all.
    """

    id: str
    name: str
    category: Literal["aeronautical", "maritime", "distress", "amateur", "restricted"]
    enabled: bool = True
    unsure: bool = False
    source: str
    note: str = ""


class NotMonitored(_Model):
    bands: tuple[NotMonitoredBand, ...]
    #: The operator's own list (defence, police, border guard): empty by default.
    restricted: tuple[NotMonitoredBand, ...] = ()

    def band_for(self, f_low_hz: float, f_high_hz: float,
                 slack_hz: float = 0.0) -> NotMonitoredBand | None:
        """The first enabled band containing ``[f_low_hz, f_high_hz]`` (restricted first)."""
        for band in (*self.restricted, *self.bands):
            if band.enabled and f_low_hz >= band.f_low_hz - slack_hz and (
                    f_high_hz <= band.f_high_hz + slack_hz):
                return band
        return None


class BandLicence(_Band):
    """A mobile operator's band licence (giấy phép băng tần): a frequency block."""

    id: str
    licensee: str
    service: str = "land_mobile"
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    unsure: bool = False
    source: str
    note: str = ""

    @model_validator(mode="after")
    def _service_known(self) -> BandLicence:
        _check_service(self.service)
        return self

    def in_force(self, on: dt.date) -> bool:
        """True when ``on`` lies within the validity period (open ends allowed)."""
        return (self.valid_from is None or on >= self.valid_from) and (
            self.valid_to is None or on <= self.valid_to)


class BandLicences(_Model):
    blocks: tuple[BandLicence, ...]
    sources: tuple[str, ...] = ()


class BorderLine(_Model):
    """A stretch of the national border as a polyline of (lat, lon) degrees.

    ``accuracy_m`` is the stated accuracy of the line; every distance to it carries
    that uncertainty and the findings say so.
    """

    id: str
    name: str
    points: tuple[tuple[float, float], ...] = Field(min_length=2)
    accuracy_m: float = Field(gt=0)
    source: str
    licence: str
    note: str = ""

    @model_validator(mode="after")
    def _in_range(self) -> BorderLine:
        for i, (lat, lon) in enumerate(self.points):
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValueError(f"points.{i}: ({lat}, {lon}) is not a latitude, longitude")
        return self


class LegalBasis(_Model):
    """The legal basis of one finding kind under one instrument.

    ``offence`` is false for kinds that are no administrative offence (off the channel
    raster: information for the inspector; a foreign station: a coordination matter).
    """

    article: str | None = None
    clause: str | None = None
    point: str | None = None
    severity: Literal["low", "medium", "high"]
    text_vi: str
    text_en: str
    offence: bool = True
    unsure: bool = False
    source: str = ""
    note: str = ""

    @model_validator(mode="after")
    def _offence_has_article(self) -> LegalBasis:
        if self.offence and not self.article:
            raise ValueError("an offence needs its article")
        if self.offence and not self.source.strip():
            raise ValueError("an offence needs its source")
        return self


class Amendment(_Model):
    id: str
    date: dt.date | None = None
    unsure: bool = False
    source: str


class Instrument(_Model):
    """One legal instrument (a sanctions decree, or the coordination framework) with the
    dates it is in force (``effective_to`` inclusive; ``None``: still in force)."""

    id: str
    kind: Literal["sanction", "coordination"]
    title_vi: str
    title_en: str
    short: str
    effective_from: dt.date
    effective_to: dt.date | None = None
    unsure: bool = False
    amendments: tuple[Amendment, ...] = ()
    sources: tuple[str, ...] = Field(min_length=1)
    kinds: dict[str, LegalBasis]

    @model_validator(mode="after")
    def _dates_and_kinds(self) -> Instrument:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError(f"{self.id}: effective_to is before effective_from")
        unknown = [k for k in self.kinds if k not in FINDING_KINDS]
        if unknown:
            raise ValueError(f"{self.id}: unknown finding kinds {unknown}; one of "
                             f"{', '.join(FINDING_KINDS)}")
        return self

    def in_force(self, on: dt.date) -> bool:
        """True when ``on`` lies within the instrument's effective dates."""
        return self.effective_from <= on and (self.effective_to is None
                                              or on <= self.effective_to)


@dataclass(frozen=True, slots=True)
class Citation:
    """The legal basis a finding cites, copied out of the catalogue when the finding is
    made (so a later edit of the catalogue never changes it).

    ``matter`` is what the finding can open: ``"sanction"`` (a violation case),
    ``"coordination"`` (a coordination matter with the neighbouring administration) or
    ``"information"`` (nothing on its own: a note for the inspector).
    """

    instrument: str
    instrument_title: str
    instrument_short: str
    article: str | None
    clause: str | None
    point: str | None
    severity: str
    text_vi: str
    text_en: str
    matter: Literal["sanction", "coordination", "information"]
    unsure: bool
    #: The catalogue's note (an alternative article, how a clause is chosen).
    note: str = ""
    #: The measurement date lies outside every instrument of the catalogue covering
    #: the kind (the nearest one in time is cited, UNSURE).
    outside_dates: bool = False

    @property
    def reference_vi(self) -> str:
        """"điểm a khoản 3 Điều 58" (the parts that are given), or "" when none."""
        return " ".join(p for p in (self.point, self.clause, self.article) if p)

    @property
    def text(self) -> str:
        """The one-line citation stored with the finding (``Finding.legal_basis``)."""
        if self.matter == "information":
            head = ("Thông tin cho thanh tra, tự nó không phải vi phạm / information for "
                    "the inspector, not an offence by itself")
            return f"{head}: {self.text_vi}"
        where = f"{self.reference_vi} {self.instrument_title}".strip()
        if self.matter == "coordination":
            where = ("Vấn đề phối hợp tần số, không phải vi phạm hành chính / coordination "
                     f"matter, not an administrative offence: {where}")
        if self.outside_dates:
            where += (" (ngày đo ngoài hiệu lực của văn bản / measured outside the "
                      "instrument's effective dates)")
        return where + (" (UNSURE)" if self.unsure else "")


class LegalCatalogue(_Model):
    """Several instruments with their effective dates; :meth:`citation` picks the one in
    force on a date (the transitional rule is in ``legal_basis.yaml``)."""

    instruments: tuple[Instrument, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _covers_kinds(self) -> LegalCatalogue:
        covered = {k for inst in self.instruments for k in inst.kinds}
        missing = [k for k in FINDING_KINDS if k not in covered]
        if missing:
            raise ValueError(f"no instrument covers the finding kinds {missing}")
        for kind in FINDING_KINDS:
            spans = sorted((i.effective_from, i.effective_to or dt.date.max, i.id)
                           for i in self.instruments if kind in i.kinds)
            for (_f1, t1, a), (f2, _t2, b) in zip(spans, spans[1:], strict=False):
                if f2 <= t1:
                    raise ValueError(f"{kind}: instruments {a} and {b} overlap in time")
        return self

    def instrument(self, instrument_id: str) -> Instrument:
        """The instrument of that id (``KeyError`` if none)."""
        for inst in self.instruments:
            if inst.id == instrument_id:
                return inst
        raise KeyError(instrument_id)

    def instrument_for(self, kind: str, on: dt.date) -> tuple[Instrument, bool]:
        """The instrument covering ``kind`` in force on ``on``, and whether it really is
        in force then (``False``: the date falls outside every instrument of the
        catalogue and the nearest one in time is returned)."""
        covering = [i for i in self.instruments if kind in i.kinds]
        for inst in covering:
            if inst.in_force(on):
                return inst, True

        def gap_days(inst: Instrument) -> int:
            if on < inst.effective_from:
                return (inst.effective_from - on).days
            return (on - (inst.effective_to or on)).days

        return min(covering, key=gap_days), False

    def citation(self, kind: str, on: dt.date) -> Citation:
        """The citation of ``kind`` for an offence (still) going on on ``on``."""
        inst, in_force = self.instrument_for(kind, on)
        basis = inst.kinds[kind]
        if inst.kind == "coordination":
            matter = "coordination"
        else:
            matter = "sanction" if basis.offence else "information"
        return Citation(
            instrument=inst.id, instrument_title=inst.title_vi, instrument_short=inst.short,
            article=basis.article,
            clause=basis.clause, point=basis.point, severity=basis.severity,
            text_vi=basis.text_vi, text_en=basis.text_en, matter=matter,  # type: ignore[arg-type]
            unsure=basis.unsure or inst.unsure or not in_force, note=basis.note,
            outside_dates=not in_force,
        )

    def basis(self, kind: str, on: dt.date) -> LegalBasis:
        """The catalogue entry of ``kind`` under the instrument in force on ``on``."""
        inst, _ = self.instrument_for(kind, on)
        return inst.kinds[kind]


@dataclass(frozen=True, slots=True)
class ReferenceData:
    """Everything the rules need besides the registry."""

    channel_plans: tuple[ChannelPlan, ...]
    exempt: ExemptBands
    tolerances: Tolerances
    coordination: Coordination
    legal: LegalCatalogue
    not_monitored: NotMonitored = NotMonitored(bands=())
    band_licences: BandLicences = BandLicences(blocks=())
    border: BorderLine | None = None

    def plans_at(self, f_hz: float) -> list[ChannelPlan]:
        """The channel plans whose band contains ``f_hz``."""
        return [p for p in self.channel_plans if p.contains(f_hz)]


def _read_yaml(name: str, override_dir: Path | None) -> tuple[object, str]:
    if override_dir is not None and (override_dir / name).is_file():
        path = override_dir / name
        text = path.read_text(encoding="utf-8")
        where = str(path)
    else:
        text = resources.files("compliance").joinpath("data", name).read_text(encoding="utf-8")
        where = f"compliance/data/{name}"
    try:
        return yaml.safe_load(text), where
    except yaml.YAMLError as err:
        raise ConfigError(f"{where}: YAML không đọc được / unreadable YAML: {err}") from err


def _validate(model: type[_Model], name: str, override_dir: Path | None) -> _Model:
    raw, where = _read_yaml(name, override_dir)
    try:
        return model.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"{where}: dữ liệu không hợp lệ / invalid data at {loc or '(top)'}: {first['msg']}"
            f" ({err.error_count()} error(s))"
        ) from err


def load_reference_data(override_dir: Path | None = None) -> ReferenceData:
    """Load and validate the reference data, files in ``override_dir`` winning.

    Raises
    ------
    ConfigError
        Naming the file and the field, when a file is unreadable or invalid.
    """
    if override_dir is not None and not override_dir.is_dir():
        raise ConfigError(f"không có thư mục / no such folder: {override_dir}")
    plans = _validate(ChannelPlans, "channel_plans.yaml", override_dir)
    exempt = _validate(ExemptBands, "exempt_bands.yaml", override_dir)
    tolerances = _validate(Tolerances, "tolerances.yaml", override_dir)
    coordination = _validate(Coordination, "coordination.yaml", override_dir)
    legal = _validate(LegalCatalogue, "legal_basis.yaml", override_dir)
    not_monitored = _validate(NotMonitored, "not_monitored.yaml", override_dir)
    band_licences = _validate(BandLicences, "band_licences.yaml", override_dir)
    border = _validate(BorderLine, "border_vn_cn.yaml", override_dir)
    assert isinstance(plans, ChannelPlans)
    for p in plans.plans:
        if p.raster_hz is not None and not math.isfinite(p.raster_hz):
            raise ConfigError(f"channel_plans.yaml: plan {p.id}: raster_hz must be finite")
    return ReferenceData(
        channel_plans=plans.plans,
        exempt=exempt,  # type: ignore[arg-type]
        tolerances=tolerances,  # type: ignore[arg-type]
        coordination=coordination,  # type: ignore[arg-type]
        legal=legal,  # type: ignore[arg-type]
        not_monitored=not_monitored,  # type: ignore[arg-type]
        band_licences=band_licences,  # type: ignore[arg-type]
        border=border,  # type: ignore[arg-type]
    )
