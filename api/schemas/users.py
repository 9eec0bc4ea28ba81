"""Schemas of users and the audit log."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = ["AuditPublic", "UserCreate", "UserPublic"]


class UserCreate(BaseModel):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9._-]+$")
    role: Literal["admin", "inspector", "field", "official"]
    password: str = Field(min_length=8, max_length=200)


class UserPublic(BaseModel):
    name: str
    role: str
    active: bool
    created: str
    disabled: str | None = None


class AuditPublic(BaseModel):
    id: int
    t: str
    actor: str
    action: str
    subject: str | None
    detail: dict[str, Any] | None
