"""Schemas of alarms (the pending list and acknowledgements)."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["AckPublic", "AlarmPublic"]


class AlarmPublic(BaseModel):
    type: str
    case_id: str
    status: str
    emitter_class: str = Field(alias="class")
    f_hz: float
    severity: str
    finding_kinds: list[str]
    last_seen: str
    finding_id: int
    n_findings: int = 0

    model_config = {"populate_by_name": True}


class AckPublic(BaseModel):
    case_id: str
    finding_id: int
