"""Licence and foreign-station records: the validated rows of the registry.

These pydantic models are what importers produce, what the rules read and what the
ORM rows (``compliance.models``) are built from. Field names are the CSV/XLSX column
names (see :data:`LICENCE_COLUMNS`, :data:`FOREIGN_COLUMNS`).
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from compliance.designator import EmissionDesignator, format_designator, parse_designator
from compliance.services import SERVICES, normalise_service
from dsp.errors import InputFormatError
from dsp.types import GeoPosition

__all__ = [
    "LICENCE_COLUMNS",
    "LICENCE_BLOCK_COLUMNS",
    "FOREIGN_COLUMNS",
    "COLUMN_ALIASES",
    "LICENCE_STATUSES",
    "MIN_RADIO_F_HZ",
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
#: Optional licence columns: a band licence (giấy phép băng tần) covers the block
#: ``f_low_hz``..``f_high_hz`` (both or neither; ``f_hz`` may then be left empty and is
#: the block's centre; ``emission`` is the designator of one carrier).
LICENCE_BLOCK_COLUMNS = ("f_low_hz", "f_high_hz")
LICENCE_STATUSES = ("valid", "suspended", "revoked")
#: The lowest frequency the Radio Regulations allocate (9 kHz): an ``f_hz`` below it
#: is a frequency written in MHz (or kHz), not in Hz.
MIN_RADIO_F_HZ = 9_000.0

#: Vietnamese column headers accepted as aliases of the fixed English ones (compared
#: without accents, case, spaces or underscores; see :func:`canonical_column`).
COLUMN_ALIASES: dict[str, str] = {
    "so giay phep": "licence_id",
    "ma giay phep": "licence_id",
    "giay phep so": "licence_id",
    "to chuc ca nhan": "licensee",
    "ten to chuc ca nhan": "licensee",
    "chu giay phep": "licensee",
    "don vi duoc cap phep": "licensee",
    "ten dai": "station_name",
    "ten tram": "station_name",
    "nghiep vu": "service",
    "tan so": "f_hz",
    "tan so hz": "f_hz",
    "tan so (hz)": "f_hz",
    "tan so thap hz": "f_low_hz",
    "tan so thap (hz)": "f_low_hz",
    "tan so cao hz": "f_high_hz",
    "tan so cao (hz)": "f_high_hz",
    "phuong thuc phat": "emission",
    "ky hieu phat xa": "emission",
    "loai phat xa": "emission",
    "cong suat erp w": "erp_w",
    "cong suat erp (w)": "erp_w",
    "cong suat (w)": "erp_w",
    "vi do": "lat",
    "kinh do": "lon",
    "do cao anten m": "antenna_height_m",
    "do cao anten (m)": "antenna_height_m",
    "do cao ang ten (m)": "antenna_height_m",
    "hieu luc tu": "valid_from",
    "ngay hieu luc": "valid_from",
    "hieu luc den": "valid_to",
    "ngay het han": "valid_to",
    "trang thai": "status",
    "quoc gia": "country",
    "nuoc": "country",
}


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.strip().lower().replace("đ", "d"))
    plain = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return " ".join(plain.replace("_", " ").replace("/", " ").split())


def canonical_column(header: str) -> str:
    """The English column name of ``header`` (itself if it is not a known alias).

    Examples
    --------
    >>> canonical_column("Tần số (Hz)"), canonical_column("Vĩ độ"), canonical_column("f_hz")
    ('f_hz', 'lat', 'f_hz')
    """
    name = header.strip()
    folded = _fold(name)
    return COLUMN_ALIASES.get(folded, name)


def _hz_value(value: object, field: str) -> object:
    """Refuse frequencies that cannot be in Hz, with a hint that they look like MHz."""
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip()
    if isinstance(value, str):
        if "," in text and text.replace(",", "", 1).isdigit():
            raise ValueError(f"{text!r} is not a number of Hz (decimal comma); it looks like "
                             f"MHz: write {float(text.replace(',', '.')) * 1e6:.0f}")
        try:
            number = float(text)
        except ValueError:
            return value  # pydantic names the bad number itself
    elif isinstance(value, int | float):
        number = float(value)
    else:
        return value
    if math.isfinite(number) and 0 < number < MIN_RADIO_F_HZ:
        raise ValueError(
            f"{text} Hz is below 9 kHz, the lowest radio frequency: it looks like MHz "
            f"(write {number * 1e6:.0f} for {text} MHz); {field} is in Hz")
    return value


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

    @field_validator("f_hz", mode="before")
    @classmethod
    def _f_in_hz(cls, value: object) -> object:
        return _hz_value(value, "f_hz")

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
    """One frequency licence (giấy phép sử dụng tần số), or a band licence (giấy phép
    băng tần) when ``f_low_hz`` and ``f_high_hz`` give its block."""

    licensee: str = Field(min_length=1, max_length=200)
    valid_from: dt.date
    valid_to: dt.date | None = None
    status: Literal["valid", "suspended", "revoked"]
    f_low_hz: float | None = Field(default=None, gt=0, description="band licence: lower "
                                   "edge of the block, Hz")
    f_high_hz: float | None = Field(default=None, gt=0, description="band licence: upper "
                                    "edge of the block, Hz")

    @model_validator(mode="before")
    @classmethod
    def _block_centre(cls, data: object) -> object:
        # A band licence may leave f_hz empty: it is then the centre of its block.
        if isinstance(data, dict) and data.get("f_hz") in (None, ""):
            try:
                low, high = float(data["f_low_hz"]), float(data["f_high_hz"])
            except (KeyError, TypeError, ValueError):
                return data
            if math.isfinite(low) and math.isfinite(high) and low >= MIN_RADIO_F_HZ:
                return {**data, "f_hz": (low + high) / 2.0}
        return data

    @field_validator("f_low_hz", "f_high_hz", mode="before")
    @classmethod
    def _block_in_hz(cls, value: object, info: object) -> object:
        return _hz_value(value, getattr(info, "field_name", "f_hz"))

    @field_validator("f_low_hz", "f_high_hz")
    @classmethod
    def _block_finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    @model_validator(mode="after")
    def _dates(self) -> Licence:
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError(f"valid_to is before valid_from ({self.valid_to} < "
                             f"{self.valid_from})")
        return self

    @model_validator(mode="after")
    def _block(self) -> Licence:
        if (self.f_low_hz is None) != (self.f_high_hz is None):
            raise ValueError("f_low_hz and f_high_hz must be given together")
        if self.f_low_hz is not None and self.f_high_hz is not None:
            if self.f_high_hz <= self.f_low_hz:
                raise ValueError("f_high_hz must be above f_low_hz")
            if not self.f_low_hz <= self.f_hz <= self.f_high_hz:
                raise ValueError(f"f_hz {self.f_hz:.0f} is outside the block "
                                 f"{self.f_low_hz:.0f}..{self.f_high_hz:.0f} Hz")
        return self

    @property
    def is_block(self) -> bool:
        """True for a band licence (a block ``f_low_hz``..``f_high_hz``)."""
        return self.f_low_hz is not None and self.f_high_hz is not None

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
