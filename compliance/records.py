"""Licence and foreign-station records: the validated rows of the registry.

These pydantic models are what importers produce, what the rules read and what the
ORM rows (``compliance.models``) are built from. Field names are the CSV/XLSX column
names (see :data:`LICENCE_COLUMNS`, :data:`FOREIGN_COLUMNS`).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from compliance.designator import EmissionDesignator, format_designator, parse_designator
from compliance.services import SERVICES, normalise_service
from dsp.errors import InputFormatError
from dsp.types import GeoPosition

__all__ = [
    "LICENCE_COLUMNS",
    "FOREIGN_COLUMNS",
    "LICENCE_STATUSES",
    "Licence",
    "ForeignStation",
]

#: The exact header of the licence CSV/XLSX (extra columns are ignored on import).
LICENCE_COLUMNS = (
    "licence_id",
    "licensee",
    "station_name",
    "service",
    "f_hz",
    "emission",
    "erp_w",
    "lat",
    "lon",
    "antenna_height_m",
    "valid_from",
    "valid_to",
    "status",
)
#: The foreign-station header: the licence header minus licensee, status and valid_*,
#: plus country.
FOREIGN_COLUMNS = (
    "licence_id",
    "station_name",
    "service",
    "f_hz",
    "emission",
    "erp_w",
    "lat",
    "lon",
    "antenna_height_m",
    "country",
)
LICENCE_STATUSES = ("valid", "suspended", "revoked")


class _Station(BaseModel):
    """Fields shared by licences and foreign stations."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)

    licence_id: str = Field(min_length=1, max_length=64)
    station_name: str = Field(min_length=1, max_length=200)
    service: str
    f_hz: float = Field(gt=0, description="assigned frequency, Hz")
    emission: str = Field(description="ITU RR Appendix 1 designator, e.g. 16K0F3E")
    erp_w: float | None = Field(default=None, ge=0, description="maximum ERP, W")
    lat: float | None = Field(default=None, ge=-90, le=90, description="antenna latitude, deg")
    lon: float | None = Field(default=None, ge=-180, le=180, description="antenna longitude, deg")
    antenna_height_m: float | None = Field(default=None, ge=0)

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        if isinstance(value, str) and value.strip() == "":
            return None
        return value

    @field_validator("f_hz", "erp_w", "lat", "lon", "antenna_height_m")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    @field_validator("service", mode="before")
    @classmethod
    def _service(cls, value: object) -> object:
        if value is None:
            return value
        canonical = normalise_service(str(value))
        if canonical is None:
            raise ValueError(f"unknown service {value!r}; one of {', '.join(SERVICES)}")
        return canonical

    @field_validator("emission", mode="before")
    @classmethod
    def _emission(cls, value: object) -> object:
        if value is None:
            return value
        try:
            return format_designator(parse_designator(str(value)))
        except InputFormatError as err:
            raise ValueError(err.message) from err

    @model_validator(mode="after")
    def _position_pair(self) -> _Station:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon must be given together")
        return self

    @property
    def designator(self) -> EmissionDesignator:
        """The parsed emission designator."""
        return parse_designator(self.emission)

    @property
    def necessary_bw_hz(self) -> float:
        """Necessary bandwidth of the designator, Hz."""
        return self.designator.necessary_bw_hz

    @property
    def position(self) -> GeoPosition | None:
        """The antenna position, or ``None`` if not given."""
        if self.lat is None or self.lon is None:
            return None
        return GeoPosition(self.lat, self.lon, None)


class Licence(_Station):
    """One frequency licence (giấy phép sử dụng tần số)."""

    licensee: str = Field(min_length=1, max_length=200)
    valid_from: dt.date
    valid_to: dt.date | None = None
    status: Literal["valid", "suspended", "revoked"]

    @model_validator(mode="after")
    def _dates(self) -> Licence:
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        return self

    def in_force(self, on: dt.date) -> bool:
        """True when the status is ``valid`` and ``on`` lies within the validity period."""
        if self.status != "valid" or on < self.valid_from:
            return False
        return self.valid_to is None or on <= self.valid_to

    def why_not_in_force(self, on: dt.date) -> str | None:
        """``None`` if in force on ``on``, else ``"expired"``, ``"not_yet_valid"``,
        ``"suspended"`` or ``"revoked"``."""
        if self.status != "valid":
            return self.status
        if on < self.valid_from:
            return "not_yet_valid"
        if self.valid_to is not None and on > self.valid_to:
            return "expired"
        return None


class ForeignStation(_Station):
    """A neighbouring country's station near the border (coordination list)."""

    country: str = Field(min_length=2, max_length=64)
