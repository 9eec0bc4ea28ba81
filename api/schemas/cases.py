"""Schemas of cases: the list item (the keys of ``rfwatch cases list --json``), the
detail, and the bodies of assign / transition / note."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AssignCreate",
    "CaseDetailPublic",
    "CaseLocationPublic",
    "CasePublic",
    "EvidencePublic",
    "FindingPublic",
    "HistoryPublic",
    "LocationPublic",
    "NoteCreate",
    "SitePublic",
    "TransitionCreate",
]


class CaseLocationPublic(BaseModel):
    """Where the emitter is, with its 95 % region and the border verdict
    (``compliance.location.location_json``; the ``location`` of ``cases list --json``)."""

    model_config = ConfigDict(extra="allow")

    lat_deg: float
    lon_deg: float
    semi_major_m: float = Field(description="95 % ellipse, semi-major axis, m")
    semi_minor_m: float
    orientation_deg: float = Field(description="major axis, degrees clockwise from north")
    confidence: float
    verdict: Literal["vietnam", "foreign", "undetermined"]
    p_vietnam: float | None
    n_sites: int
    method: str
    drive_to: dict[str, float] | None = Field(
        default=None, description="where a field kit should measure next (undetermined)")
    outliers: list[str] = []
    note: str = ""


class CasePublic(BaseModel):
    """One case as ``rfwatch cases list --json`` prints it (``class`` is the emitter class)."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    id: str
    status: str
    dismiss_reason: str | None
    emitter_class: str = Field(alias="class", serialization_alias="class")
    f_hz: float
    bw_hz: float
    licence_id: str | None
    foreign_id: str | None
    licence_linked: bool
    severity: str
    assignee: str | None
    first_seen: str
    last_seen: str
    finding_kinds: list[str]
    stations: list[str]
    n_findings: int
    kind: str = "sanction"
    instrument: str | None = None
    location: CaseLocationPublic | None = None


class FindingPublic(BaseModel):
    id: int
    kind: str
    station: str
    t: str
    f_hz: float
    bw_hz: float
    measured: float | None
    permitted: float | None
    unit: str
    severity: str
    legal_basis: str
    licence_id: str | None
    detail: str


class EvidencePublic(BaseModel):
    id: int
    kind: str
    sha256: str
    size_bytes: int | None
    added_by: str
    added: str
    note: str
    stored: bool = Field(description="the file is in the centre's store (downloadable)")
    download: str | None


class HistoryPublic(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    t: str
    actor: str
    action: str
    from_status: str | None = Field(alias="from")
    to_status: str | None = Field(alias="to")
    detail: str


class LocationPublic(BaseModel):
    """A field kit's own drive-test fit of the emitter's position (one input of the
    case's ``location``)."""

    lat_deg: float
    lon_deg: float
    radius_m: float
    n_points: int | None = None
    station: str | None = None


class SitePublic(BaseModel):
    id: str
    name: str
    lat_deg: float
    lon_deg: float
    heard: bool


class CaseDetailPublic(CasePublic):
    findings: list[FindingPublic]
    evidence: list[EvidencePublic]
    history: list[HistoryPublic]
    audit: list[dict[str, Any]]
    allowed_transitions: list[str]
    drive_fit: LocationPublic | None
    location_note: str | None = None
    sites: list[SitePublic]


class AssignCreate(BaseModel):
    assignee: str = Field(min_length=1, max_length=200)
    reason: str = Field(default="", max_length=2000)


class TransitionCreate(BaseModel):
    to_status: str = Field(min_length=1, max_length=24)
    reason: str = Field(min_length=1, max_length=2000)
    dismiss_reason: str | None = Field(default=None, max_length=32)


class NoteCreate(BaseModel):
    text: str = Field(min_length=1, max_length=10000)
