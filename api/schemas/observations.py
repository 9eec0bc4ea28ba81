"""Schemas of stations and their health, spectra and emissions."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["EmissionPublic", "SpectrumPublic", "StationPublic"]


class StationPublic(BaseModel):
    id: str
    name: str
    kind: str
    lat_deg: float
    lon_deg: float
    last_batch: str | None = Field(description="when the centre last took in a batch")
    batches: int
    health: dict[str, float | int | bool | str | None] = Field(
        description="the newest value of each station_health field")


class SpectrumPublic(BaseModel):
    """One stored spectrum (max-held to at most 256 bins by ingest)."""

    station: str
    band: str
    t: str
    t_ns: int
    unit: str
    f_hz: list[float]
    power_db: list[float]


class EmissionPublic(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    station: str
    emitter_class: str = Field(alias="class")
    t: str
    t_ns: int
    f_hz: float | None
    bw_hz: float | None
    power_db: float | None
    unit: str
    snr_db: float | None
