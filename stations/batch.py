"""The batch: what a station ships to the centre, validated with pydantic at both ends.

A batch is immutable once written to the outbox and is identified by ``batch_id``;
the centre drops a batch id it has seen before, so re-sending is always safe.
Spectra travel as base64 little-endian float32 (4 bytes a bin, a fraction of JSON
numbers' size and parse time — the ingest hot path).

Item kinds and what the disk-full policy may do with them (see :mod:`stations.outbox`):

========== ============================ =================
kind       what                         when disk is full
========== ============================ =================
spectrum   a (stitched) power spectrum  thinned first
channel    one channel's power          dropped second
occupancy  channel occupancy fraction   dropped second
health     station/receiver health      dropped second
emission   an emission found            never dropped
evidence   SigMF IQ around an emission  never dropped
location   emitter position estimate    never dropped
bearing    bearing to an emitter        never dropped
========== ============================ =================
"""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from typing import TYPE_CHECKING, Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dsp.errors import ParameterError
from dsp.types import Emission, Spectrum

if TYPE_CHECKING:
    from dsp.geolocation import BearingObservation

__all__ = [
    "Batch",
    "BearingItem",
    "ChannelPowerItem",
    "EmissionItem",
    "EvidenceItem",
    "HealthItem",
    "Item",
    "LocationItem",
    "OccupancyItem",
    "PositionTag",
    "SpectrumItem",
    "NEVER_DROPPED",
    "new_batch_id",
    "STATION_ID_PATTERN",
    "check_station_id",
]

#: Kinds the disk-full policy never drops.
NEVER_DROPPED = frozenset({"emission", "evidence", "location", "bearing"})

BATCH_ID_PATTERN = r"^[A-Za-z0-9_.-]{8,80}$"
#: Station ids: lower-case letters, digits and hyphens, 1-64, starting with a letter or
#: digit. They become folder names (evidence), time-series tags and URL parts.
STATION_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
#: Free text that becomes a time-series tag: no backslash, no control character.
TAG_TEXT_PATTERN = r"^[^\x00-\x1f\x7f-\x9f\\]+$"
MAX_SPECTRUM_BINS = 1 << 20
MAX_EVIDENCE_BYTES = 64 << 20
#: Largest integer an item may carry: well inside int64 (the stores' integers, and
#: time stamps in ns up to the year 2116), so that sums and offsets cannot overflow.
MAX_INT = 2**62
#: Non-negative integers that fit the stores (time stamps in ns, counters).
NonNegInt = Annotated[int, Field(ge=0, le=MAX_INT)]
_STATION_ID = re.compile(STATION_ID_PATTERN)


def check_station_id(station_id: str) -> str:
    """``station_id`` when it has the safe form (:data:`STATION_ID_PATTERN`).

    >>> check_station_id("huu-nghi")
    'huu-nghi'
    >>> check_station_id("../x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    dsp.errors.ParameterError: ... station id '../x' is not of the form ...
    """
    if not isinstance(station_id, str) or not _STATION_ID.fullmatch(station_id):
        raise ParameterError(
            f"mã trạm không hợp lệ / station id {str(station_id)[:70]!r} is not of the form "
            "lower-case letters, digits, hyphens (1-64)"
        )
    return station_id


def new_batch_id() -> str:
    """A fresh, globally unique batch id (UUID4 hex)."""
    return uuid.uuid4().hex


class _Model(BaseModel):
    # NaN and infinities never travel (JSON has no such numbers; stores refuse them).
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class PositionTag(_Model):
    """Where the measurement was taken (GPS for a field kit, the site for a border station)."""

    lat_deg: float = Field(ge=-90, le=90)
    lon_deg: float = Field(ge=-180, le=180)
    alt_m: float | None = None
    source: Literal["site", "gps"] = "site"
    hdop: float | None = Field(default=None, ge=0)


class SpectrumItem(_Model):
    kind: Literal["spectrum"] = "spectrum"
    band: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,32}$")
    receiver_id: str = Field(max_length=128, pattern=TAG_TEXT_PATTERN)
    f_start_hz: float = Field(gt=0)
    f_step_hz: float = Field(gt=0)
    n_bins: int = Field(ge=1, le=MAX_SPECTRUM_BINS)
    power_db_b64: str
    power_unit: Literal["dBFS", "dBm"]
    rbw_hz: float = Field(gt=0)
    t_start_ns: NonNegInt
    t_end_ns: NonNegInt
    n_averages: int = Field(default=1, ge=1, le=MAX_INT)
    overload: bool = False
    #: The estimated noise floor (power per bin, ``power_unit``), when the station knows it.
    noise_floor_db: float | None = None
    position: PositionTag | None = None

    @model_validator(mode="after")
    def _check_payload(self) -> SpectrumItem:
        try:
            raw = base64.b64decode(self.power_db_b64, validate=True)
        except ValueError as err:
            raise ValueError("power_db_b64 is not base64") from err
        if len(raw) != 4 * self.n_bins:
            raise ValueError(f"power_db_b64 holds {len(raw) // 4} bins, n_bins says {self.n_bins}")
        if not np.all(np.isfinite(np.frombuffer(raw, dtype="<f4"))):
            raise ValueError("power_db_b64 holds NaN or infinite values")
        if self.t_end_ns < self.t_start_ns:
            raise ValueError("t_end_ns is before t_start_ns")
        return self

    def power_db(self) -> np.ndarray:
        """Power per bin (float32, ``power_unit``)."""
        return np.frombuffer(base64.b64decode(self.power_db_b64), dtype="<f4").astype(np.float32)

    @classmethod
    def from_spectrum(
        cls,
        spectrum: Spectrum,
        *,
        band: str,
        position: PositionTag | None = None,
        noise_floor_db: float | None = None,
    ) -> SpectrumItem:
        power = np.ascontiguousarray(spectrum.power_db, dtype="<f4")
        return cls(
            band=band,
            receiver_id=spectrum.receiver_id,
            f_start_hz=spectrum.f_start_hz,
            f_step_hz=spectrum.f_step_hz,
            n_bins=int(power.size),
            power_db_b64=base64.b64encode(power.tobytes()).decode("ascii"),
            power_unit=spectrum.power_unit,
            rbw_hz=spectrum.rbw_hz,
            t_start_ns=spectrum.t_start_ns,
            t_end_ns=spectrum.t_end_ns,
            n_averages=spectrum.n_averages,
            overload=spectrum.overload,
            noise_floor_db=noise_floor_db,
            position=position,
        )

    def to_spectrum(self, station_id: str) -> Spectrum:
        return Spectrum(
            f_start_hz=self.f_start_hz,
            f_step_hz=self.f_step_hz,
            power_db=self.power_db(),
            power_unit=self.power_unit,
            rbw_hz=self.rbw_hz,
            t_start_ns=self.t_start_ns,
            t_end_ns=self.t_end_ns,
            station_id=station_id,
            receiver_id=self.receiver_id,
            n_averages=self.n_averages,
            overload=self.overload,
        )


class EmissionItem(_Model):
    kind: Literal["emission"] = "emission"
    band: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,32}$")
    receiver_id: str = Field(max_length=128, pattern=TAG_TEXT_PATTERN)
    f_hz: float = Field(gt=0)
    bw_99_hz: float = Field(ge=0)
    bw_xdb_hz: float = Field(ge=0)
    power_db: float
    peak_power_db: float
    snr_db: float
    noise_floor_db: float
    power_unit: Literal["dBFS", "dBm"]
    f_resolution_hz: float = Field(gt=0)
    t_first_ns: NonNegInt
    t_last_ns: NonNegInt
    e_dbuv_m: float | None = None
    flags: tuple[str, ...] = ()
    position: PositionTag | None = None

    @classmethod
    def from_emission(
        cls, emission: Emission, *, band: str, position: PositionTag | None = None
    ) -> EmissionItem:
        return cls(
            band=band,
            receiver_id=emission.receiver_id,
            f_hz=emission.f_hz,
            bw_99_hz=emission.bw_99_hz,
            bw_xdb_hz=emission.bw_xdb_hz,
            power_db=emission.power_db,
            peak_power_db=emission.peak_power_db,
            snr_db=emission.snr_db,
            noise_floor_db=emission.noise_floor_db,
            power_unit=emission.power_unit,
            f_resolution_hz=emission.f_resolution_hz,
            t_first_ns=emission.t_first_ns,
            t_last_ns=emission.t_last_ns,
            e_dbuv_m=emission.e_dbuv_m,
            flags=tuple(emission.flags),
            position=position,
        )

    def to_emission(self, station_id: str) -> Emission:
        return Emission(
            f_hz=self.f_hz,
            bw_99_hz=self.bw_99_hz,
            bw_xdb_hz=self.bw_xdb_hz,
            power_db=self.power_db,
            peak_power_db=self.peak_power_db,
            snr_db=self.snr_db,
            noise_floor_db=self.noise_floor_db,
            power_unit=self.power_unit,
            f_resolution_hz=self.f_resolution_hz,
            t_first_ns=self.t_first_ns,
            t_last_ns=self.t_last_ns,
            station_id=station_id,
            receiver_id=self.receiver_id,
            e_dbuv_m=self.e_dbuv_m,
            flags=self.flags,
        )


class ChannelPowerItem(_Model):
    kind: Literal["channel"] = "channel"
    plan: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,32}$")
    channel: str = Field(min_length=1, max_length=32, pattern=TAG_TEXT_PATTERN)
    receiver_id: str = Field(max_length=128, pattern=TAG_TEXT_PATTERN)
    f_hz: float = Field(gt=0)
    bw_hz: float = Field(gt=0)
    power_db: float
    power_unit: Literal["dBFS", "dBm"]
    e_dbuv_m: float | None = None
    t_ns: NonNegInt
    position: PositionTag | None = None


class OccupancyItem(_Model):
    kind: Literal["occupancy"] = "occupancy"
    band: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,32}$")
    channel: str = Field(min_length=1, max_length=32, pattern=TAG_TEXT_PATTERN)
    f_hz: float = Field(gt=0)
    fraction: float = Field(ge=0, le=1)
    threshold_db: float
    #: Unit of ``threshold_db``: the unit of the spectra the occupancy was measured on.
    power_unit: Literal["dBFS", "dBm"] = "dBFS"
    n_samples: int = Field(ge=1, le=MAX_INT)
    t_start_ns: NonNegInt
    t_end_ns: NonNegInt


class HealthItem(_Model):
    kind: Literal["health"] = "health"
    receiver_id: str = Field(max_length=128, pattern=TAG_TEXT_PATTERN)
    state: Literal["open", "reopening", "failed", "closed"]
    overloads: NonNegInt
    dropped_samples: NonNegInt
    failures: NonNegInt
    reopens: NonNegInt
    #: Total time (s) the receiver was not measuring because it had failed.
    gap_s: float = Field(ge=0)
    last_error: str | None = Field(default=None, max_length=500)
    cpu_percent: float | None = None
    temp_c: float | None = None
    gps_fix: bool | None = None
    outbox_depth: NonNegInt
    t_ns: NonNegInt
    position: PositionTag | None = None
    #: The receiver's frequency error estimated from reference carriers and applied
    #: to its measurements (apparent ppm: measured = true * (1 + ppm * 1e-6)); None:
    #: no estimate (yet).
    ppm_estimate: float | None = None


class EvidenceItem(_Model):
    """A SigMF recording (meta JSON and cu8 data) made around a new unknown emission."""

    kind: Literal["evidence"] = "evidence"
    f_hz: float = Field(gt=0)
    f_center_hz: float = Field(gt=0)
    sample_rate_hz: float = Field(gt=0)
    t_start_ns: NonNegInt
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    meta_json: str = Field(max_length=1 << 20)
    data_b64: str = Field(max_length=MAX_EVIDENCE_BYTES * 4 // 3 + 4)
    position: PositionTag | None = None

    @model_validator(mode="after")
    def _check_sha256(self) -> EvidenceItem:
        if hashlib.sha256(self.data()).hexdigest() != self.sha256:
            raise ValueError("evidence data does not match its sha256")
        return self

    @field_validator("data_b64")
    @classmethod
    def _b64(cls, value: str) -> str:
        try:
            base64.b64decode(value, validate=True)
        except ValueError as err:
            raise ValueError("data_b64 is not base64") from err
        return value

    def data(self) -> bytes:
        return base64.b64decode(self.data_b64)


class LocationItem(_Model):
    """An emitter position estimated from drive-test RSSI (see :mod:`stations.locate`)."""

    kind: Literal["location"] = "location"
    f_hz: float = Field(gt=0)
    lat_deg: float = Field(ge=-90, le=90)
    lon_deg: float = Field(ge=-180, le=180)
    radius_m: float = Field(ge=0)
    n_points: int = Field(ge=3, le=MAX_INT)
    path_loss_exponent: float
    rms_error_db: float = Field(ge=0)
    t_ns: NonNegInt


class BearingItem(_Model):
    """A bearing to an emitter from a directional antenna on a rotator (see
    :mod:`stations.bearing`), measured at the site ``lat_deg``/``lon_deg``.

    ``bearing_deg`` is clockwise from true north in [0, 360); ``sigma_deg`` its one
    standard deviation (a bearing cannot be known worse than a half turn).
    """

    kind: Literal["bearing"] = "bearing"
    f_hz: float = Field(gt=0)
    bearing_deg: float = Field(ge=0, lt=360)
    sigma_deg: float = Field(gt=0, le=180)
    t_ns: NonNegInt
    lat_deg: float = Field(ge=-90, le=90)
    lon_deg: float = Field(ge=-180, le=180)
    #: The band whose power was swept (the emission's bandwidth), when known.
    bw_hz: float | None = Field(default=None, gt=0)

    @classmethod
    def from_observation(
        cls, observation: BearingObservation, *, f_hz: float, t_ns: int,
        bw_hz: float | None = None,
    ) -> BearingItem:
        """The item of a measured bearing (``stations.bearing.BearingResult.observation``)."""
        return cls(
            f_hz=f_hz,
            bearing_deg=float(observation.bearing_deg) % 360.0,
            sigma_deg=float(observation.sigma_deg),
            t_ns=t_ns,
            lat_deg=observation.position.lat_deg,
            lon_deg=observation.position.lon_deg,
            bw_hz=bw_hz,
        )


Item = Annotated[
    SpectrumItem
    | EmissionItem
    | ChannelPowerItem
    | OccupancyItem
    | HealthItem
    | EvidenceItem
    | LocationItem
    | BearingItem,
    Field(discriminator="kind"),
]


class Batch(_Model):
    """One upload unit: a station's results, in order, under one id."""

    batch_id: str = Field(pattern=BATCH_ID_PATTERN)
    station_id: str = Field(pattern=STATION_ID_PATTERN)
    station_kind: Literal["fixed", "field_kit"] = "fixed"
    seq: NonNegInt = Field(description="the station's outbox sequence number")
    created_t_ns: NonNegInt
    #: How many items the disk-full policy removed from this batch before upload.
    thinned: NonNegInt = 0
    items: list[Item] = Field(default_factory=list, max_length=100_000)

    def count(self, kind: str) -> int:
        return sum(1 for item in self.items if item.kind == kind)
