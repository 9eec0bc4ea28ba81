"""Schemas of the registry: licences, foreign stations, channel plans, import results."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["ChannelPlanPublic", "ForeignPublic", "ImportPublic", "LicencePublic"]


class LicencePublic(BaseModel):
    """A licence as ``rfwatch licences list --json`` prints it."""

    model_config = ConfigDict(extra="allow")

    licence_id: str
    licensee: str
    station_name: str
    service: str
    f_hz: float
    emission: str
    status: str


class ForeignPublic(BaseModel):
    model_config = ConfigDict(extra="allow")

    licence_id: str
    station_name: str
    service: str
    f_hz: float
    emission: str
    country: str


class ChannelPlanPublic(BaseModel):
    """A channel plan with its channel centres (where it has a raster)."""

    id: str
    name: str
    service: str
    f_low_hz: float
    f_high_hz: float
    raster_hz: float | None
    channel_bw_hz: float | None
    max_power_w: float | None
    unsure: bool
    source: str
    centres_hz: list[float]


class ImportPublic(BaseModel):
    imported: int
    replaced: bool
